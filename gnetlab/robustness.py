"""Adversarial attacks (L-infinity FGSM and PGD) on differentiable classifiers.

Models are torch modules mapping inputs in [0, 1] to logits. Binarized networks are attacked through
their straight-through pseudo-gradients (whatever their quantizers' ``backward`` defines), which is
the standard white-box attack on them. Non-differentiable models (the EHD G-Net) are attacked by
transfer from a differentiable surrogate or with BPDA (Athalye et al. 2018): run the true forward pass
and backpropagate through a differentiable approximation; pass ``grad_model`` for that.

All attacks keep inputs in [0, 1] and within the epsilon ball of the clean input.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from ._validation import as_array, check_choice, check_positive_int, check_real, check_seed

__all__ = ["fgsm", "pgd", "accuracy", "attack_accuracy"]


def _check(X, y, eps):
    X = torch.as_tensor(as_array(X, "X", dtype_kind="f", finite=True, dtype=np.float32))
    if y is None:
        raise TypeError("y: expected integer labels (n,), got None")
    y = torch.as_tensor(as_array(y, "y", dtype_kind="iu", ndim=1)).long()
    if X.ndim < 2:
        raise ValueError(f"X: expected a batch of inputs (n, ...), got shape {tuple(X.shape)} "
                         "(for one sample use X[None])")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X, y: {X.shape[0]} inputs vs {y.shape[0]} labels")
    check_real(eps, "eps", minimum=0)
    if X.numel() and (X.min() < 0 or X.max() > 1):
        raise ValueError("X: attacks expect inputs scaled to [0, 1]")
    return X, y


def _check_model(model, name: str) -> None:
    if not callable(model):
        raise TypeError(f"{name}: expected a torch module or a callable returning logits, got "
                        f"{type(model).__name__}")


def _grad(model, x, y):
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y)
    (g,) = torch.autograd.grad(loss, x)
    return g


def fgsm(model, X, y, eps: float, *, grad_model=None) -> torch.Tensor:
    """Fast gradient sign method: x + eps * sign(grad_x loss), clipped to [0, 1].

    Parameters
    ----------
    model : torch.nn.Module or callable
        Returns logits ``(batch, n_classes)`` for a float tensor ``(batch, ...)``.
    X : array_like or torch.Tensor, float, values in [0, 1], shape (n, ...)
        Inputs.
    y : array_like or torch.Tensor, integer, shape (n,)
        Labels.
    eps : float
        L-infinity budget.
    grad_model : torch.nn.Module, optional
        Module whose gradient is used (BPDA/transfer surrogate); default ``model``.

    Returns
    -------
    torch.Tensor, float32, shape of ``X``
        Adversarial inputs.
    """
    X, y = _check(X, y, eps)
    _check_model(model, "model")
    if grad_model is not None:
        _check_model(grad_model, "grad_model")
    gm = grad_model or model
    gm.eval()
    g = _grad(gm, X, y)
    return (X + eps * g.sign()).clamp(0, 1).detach()


def pgd(model, X, y, eps: float, *, steps: int = 10, step_size: float | None = None, seed: int = 0,
        random_start: bool = True, grad_model=None) -> torch.Tensor:
    """Projected gradient descent (Madry et al. 2018), L-infinity ball of radius ``eps``.

    ``steps`` iterations of x <- proj(x + step_size * sign(grad)), step_size default 2.5 eps / steps,
    from a uniform random start in the ball (seeded) when ``random_start``.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Returns logits ``(batch, n_classes)`` for a float tensor ``(batch, ...)``.
    X : array_like or torch.Tensor, float, values in [0, 1], shape (n, ...)
        Inputs.
    y : array_like or torch.Tensor, integer, shape (n,)
        Labels.
    eps : float
        L-infinity radius.
    steps : int, default 10
        Iterations.
    step_size : float, optional
        Default ``2.5 eps / steps``.
    seed : int, default 0
        Random start.
    random_start : bool, default True
        Start from a uniform point of the ball.
    grad_model : torch.nn.Module, optional
        Module whose gradient is used; default ``model``.

    Returns
    -------
    torch.Tensor, float32, shape of ``X``
        Adversarial inputs.
    """
    X, y = _check(X, y, eps)
    steps = check_positive_int(steps, "steps")
    if step_size is not None:
        step_size = check_real(step_size, "step_size", minimum=0, low_open=True)
    seed = check_seed(seed)
    _check_model(model, "model")
    if grad_model is not None:
        _check_model(grad_model, "grad_model")
    gm = grad_model or model
    gm.eval()
    alpha = 2.5 * eps / steps if step_size is None else float(step_size)
    x = X.clone()
    if random_start and eps > 0:
        gen = torch.Generator().manual_seed(int(seed))
        x = (x + (torch.rand(x.shape, generator=gen) * 2 - 1) * eps).clamp(0, 1)
    for _ in range(steps):
        g = _grad(gm, x, y)
        x = x + alpha * g.sign()
        x = torch.min(torch.max(x, X - eps), X + eps).clamp(0, 1).detach()
    return x


@torch.no_grad()
def accuracy(model, X, y, batch_size: int = 1000) -> float:
    """Accuracy (fraction) of a torch model or any callable returning logits/scores.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Returns logits ``(batch, n_classes)`` for a float tensor ``(batch, ...)``.
    X : array_like or torch.Tensor, float, values in [0, 1], shape (n, ...)
        Inputs.
    y : array_like or torch.Tensor, integer, shape (n,)
        Labels.
    batch_size : int, default 1000
        Inputs per call.

    Returns
    -------
    float
        In [0, 1].
    """
    _check_model(model, "model")
    batch_size = check_positive_int(batch_size, "batch_size")
    X = torch.as_tensor(as_array(X, "X", dtype_kind="fiu", finite=True, dtype=np.float32))
    y = torch.as_tensor(as_array(y, "y", dtype_kind="iu", ndim=1)).long()
    if X.ndim < 2 or X.shape[0] != y.shape[0]:
        raise ValueError(f"y: expected one label per input of X {tuple(X.shape)}, got shape {tuple(y.shape)}")
    if X.shape[0] == 0:
        raise ValueError("X: expected at least one input, got 0 (accuracy of an empty set is undefined)")
    if hasattr(model, "eval"):
        model.eval()
    correct = 0
    for i in range(0, len(X), batch_size):
        out = model(X[i:i + batch_size])
        out = torch.as_tensor(np.asarray(out)) if not torch.is_tensor(out) else out
        correct += int((out.argmax(1) == y[i:i + batch_size]).sum())
    return correct / max(len(X), 1)


def attack_accuracy(model, X, y, eps: float, *, attack: str = "fgsm", grad_model=None, batch_size: int = 500,
                    **kwargs) -> float:
    """Accuracy of ``model`` on adversarial examples built (batch by batch) against ``grad_model``.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Returns logits ``(batch, n_classes)`` for a float tensor ``(batch, ...)``.
    X : array_like or torch.Tensor, float, values in [0, 1], shape (n, ...)
        Inputs.
    y : array_like or torch.Tensor, integer, shape (n,)
        Labels.
    eps : float
        L-infinity budget.
    attack : {"fgsm", "pgd"}, default "fgsm"
        The attack.
    grad_model : torch.nn.Module, optional
        Module whose gradient is used; default ``model``.
    batch_size : int, default 500
        Inputs per attack batch.
    **kwargs
        Options of :func:`pgd`.

    Returns
    -------
    float
        In [0, 1].
    """
    check_choice(attack, "attack", ("fgsm", "pgd"))
    batch_size = check_positive_int(batch_size, "batch_size")
    fn = fgsm if attack == "fgsm" else pgd
    X, y = _check(X, y, eps)
    advs = [fn(model, X[i:i + batch_size], y[i:i + batch_size], eps, grad_model=grad_model, **kwargs)
            for i in range(0, len(X), batch_size)]
    return accuracy(model, torch.cat(advs) if advs else X, y)
