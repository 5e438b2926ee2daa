"""Adversarial attacks (L-infinity): FGSM and PGD on differentiable classifiers, and the gradient-free,
score-based Square Attack on any classifier that returns scores.

Models are torch modules mapping inputs in [0, 1] to logits. Binarized networks are attacked through
their straight-through pseudo-gradients (whatever their quantizers' ``backward`` defines), which is
the standard white-box attack on them. Non-differentiable models (the EHD G-Net) are attacked by
transfer from a differentiable surrogate or with BPDA (Athalye et al. 2018): run the true forward pass
and backpropagate through a differentiable approximation; pass ``grad_model`` for that.

The Square Attack (:func:`square_attack`, Andriushchenko et al. 2020) uses only the model's scores: a
random search over the vertices of the epsilon ball, so gradient masking cannot hide a weakness from it.
It takes a score function (any callable), which is how the EHD G-Net's integer scores are attacked here
without importing any model module.

All attacks keep inputs in [0, 1] and within the epsilon ball of the clean input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from ._validation import as_array, check_choice, check_positive_int, check_real, check_seed, resolve_rng
from .progress import progress

__all__ = ["fgsm", "pgd", "accuracy", "attack_accuracy", "square_attack", "SquareAttackResult",
           "square_fraction"]


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


def _loss(out, y, loss):
    if loss == "ce":
        return F.cross_entropy(out, y)
    own = out.gather(1, y[:, None])[:, 0]
    other = out.masked_fill(F.one_hot(y, out.shape[1]).bool(), float("-inf")).amax(1)
    return (other - own).sum()


def _grad(model, x, y, loss="ce"):
    x = x.clone().requires_grad_(True)
    value = _loss(model(x), y, loss)
    (g,) = torch.autograd.grad(value, x)
    return g


def _grad_models(grad_model, model):
    """The gradient model(s): ``model``, one module, or a list (an EOT sample)."""
    if grad_model is None:
        return [model]
    if isinstance(grad_model, (list, tuple)):
        if not grad_model:
            raise ValueError("grad_model: expected at least one model in the list, got an empty list")
        for i, g in enumerate(grad_model):
            _check_model(g, f"grad_model[{i}]")
        return list(grad_model)
    _check_model(grad_model, "grad_model")
    return [grad_model]


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
        random_start: bool = True, grad_model=None, loss: str = "ce", eot_samples: int | None = None) -> torch.Tensor:
    """Projected gradient descent (Madry et al. 2018), L-infinity ball of radius ``eps``.

    ``steps`` iterations of x <- proj(x + step_size * sign(grad)), step_size default 2.5 eps / steps,
    from a uniform random start in the ball (seeded) when ``random_start``. With a list of gradient
    models (expectation over transformation, Athalye et al. 2018: e.g. one model per random draw of a
    randomised network), each step averages the gradients of ``eot_samples`` of them, taken in turn.

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
    grad_model : torch.nn.Module or callable or list of them, optional
        Whose gradient is used (BPDA/transfer surrogate); a list is a sample of models for expectation
        over transformation. Default ``model``.
    loss : {"ce", "margin"}, default "ce"
        Loss ascended: cross-entropy of the outputs, or the margin ``max_{k != y} s_k - s_y`` (Carlini-
        Wagner; independent of the outputs' scale, e.g. for cosine or arcsine logits).
    eot_samples : int, optional
        Gradient models averaged per step when ``grad_model`` is a list (step t uses the members
        ``t * eot_samples + j`` modulo the list's length); default all of them.

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
    check_choice(loss, "loss", ("ce", "margin"))
    _check_model(model, "model")
    gms = _grad_models(grad_model, model)
    k = len(gms) if eot_samples is None else check_positive_int(eot_samples, "eot_samples")
    for gm in gms:
        if hasattr(gm, "eval"):
            gm.eval()
    alpha = 2.5 * eps / steps if step_size is None else float(step_size)
    x = X.clone()
    if random_start and eps > 0:
        gen = torch.Generator().manual_seed(int(seed))
        x = (x + (torch.rand(x.shape, generator=gen) * 2 - 1) * eps).clamp(0, 1)
    for t in range(steps):
        g = sum(_grad(gms[(t * k + j) % len(gms)], x, y, loss) for j in range(k)) / k
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


# -- Square Attack (L-infinity) ----------------------------------------------------------------------
# Iteration marks of the square-size schedule, stated for a 10,000-query run (Andriushchenko et al. 2020):
# the fraction p of pixels a square covers is halved after each mark; shorter runs rescale the marks.
_SCHEDULE_MARKS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


def square_fraction(p_init: float, iteration: int, iterations: int) -> float:
    """The Square Attack's fraction of pixels per square at ``iteration`` (1-based) of ``iterations``.

    Piecewise constant: ``p_init`` halved after each of the marks 10, 50, 200, 500, 1000, 2000, 4000,
    6000, 8000 of a 10,000-iteration run, the marks rescaled to ``iterations`` (so a short budget still
    ends with small squares).

    Parameters
    ----------
    p_init : float
        Initial fraction, in (0, 1].
    iteration : int
        Current iteration, 1 <= iteration <= iterations.
    iterations : int
        Number of iterations of the run.

    Returns
    -------
    float
        The fraction, ``p_init / 2**k`` with k the number of marks passed.
    """
    p_init = check_real(p_init, "p_init", minimum=0, maximum=1, low_open=True)
    iterations = check_positive_int(iterations, "iterations")
    iteration = check_positive_int(iteration, "iteration")
    if iteration > iterations:
        raise ValueError(f"iteration: expected an integer in [1, {iterations}], got {iteration}")
    t = int(iteration / iterations * 10000)
    return p_init / 2 ** sum(t > m for m in _SCHEDULE_MARKS)


@dataclass(frozen=True)
class SquareAttackResult:
    """What :func:`square_attack` returns.

    Parameters
    ----------
    x_adv : numpy.ndarray, float32, shape of ``X``
        The best point found per input (the clean input where it was misclassified already or eps = 0).
    fooled : numpy.ndarray, bool, shape (n,)
        Whether the model misclassifies ``x_adv`` (argmax of the scores, ties to the lowest class).
    queries : numpy.ndarray, int64, shape (n,)
        Score queries spent per input, the clean one included; for a fooled input, the query that
        fooled it (so ``queries <= q`` for a fooled input means a budget of ``q`` sufficed).
    margin : numpy.ndarray, float64, shape (n,)
        Final margin loss ``s_y - max_{k != y} s_k`` at ``x_adv``.
    """

    x_adv: np.ndarray
    fooled: np.ndarray
    queries: np.ndarray
    margin: np.ndarray

    @property
    def robust_accuracy(self) -> float:
        """Fraction of inputs not fooled."""
        return float(1.0 - self.fooled.mean()) if self.fooled.size else float("nan")

    def accuracy_at(self, budget: int) -> float:
        """Robust accuracy had the attack stopped after ``budget`` queries per input.

        Parameters
        ----------
        budget : int
            Queries per input (>= 1; the clean query is the first).

        Returns
        -------
        float
            Fraction of inputs not fooled within ``budget`` queries.
        """
        budget = check_positive_int(budget, "budget")
        return float(1.0 - (self.fooled & (self.queries <= budget)).mean())


def _image_shape(X: np.ndarray, image_shape):
    if image_shape is None:
        if X.ndim == 3:
            return (1, *X.shape[1:])
        if X.ndim == 4:
            return X.shape[1:]
        raise ValueError(f"image_shape: required for inputs of shape {X.shape} (flat or other layouts); "
                         "pass (H, W) or (C, H, W), e.g. image_shape=(28, 28) for flat MNIST")
    if isinstance(image_shape, (str, bytes)) or not isinstance(image_shape, (tuple, list)):
        raise TypeError(f"image_shape: expected a tuple (H, W) or (C, H, W), got {image_shape!r}")
    if len(image_shape) not in (2, 3):
        raise ValueError(f"image_shape: expected (H, W) or (C, H, W), got {tuple(image_shape)}")
    shape = tuple(check_positive_int(v, f"image_shape[{i}]") for i, v in enumerate(image_shape))
    shape = (1, *shape) if len(shape) == 2 else shape
    if int(np.prod(shape)) != int(np.prod(X.shape[1:])):
        raise ValueError(f"image_shape: {tuple(image_shape)} has {int(np.prod(shape))} values, each input of X "
                         f"has {int(np.prod(X.shape[1:]))} (shape {X.shape[1:]})")
    return shape


def _margin(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Margin loss s_y - max_{k != y} s_k and whether the argmax misses y."""
    rows = np.arange(len(y))
    own = scores[rows, y]
    other = scores.copy()
    other[rows, y] = -np.inf
    return own - other.max(1), scores.argmax(1) != y


def square_attack(score_fn, X, y, eps, *, queries: int = 1000, p_init: float = 0.8, seed,
                  image_shape=None) -> SquareAttackResult:
    """Square Attack, L-infinity (Andriushchenko et al. 2020): gradient-free random search on the scores.

    Per input: query the clean input; start from vertical stripes (each column of each channel moved by
    +eps or -eps, clipped to [0, 1]); then, per iteration, set one random square window (side
    ``round(sqrt(p H W))``, p from :func:`square_fraction`) of every channel to ``x +- eps`` (one random
    sign per channel) and keep the candidate if it lowers the margin loss ``s_y - max_{k != y} s_k`` (or
    fools the model). An input stops costing queries once it is misclassified. Every point stays a vertex
    of the eps-ball (clipped to [0, 1]). A proposal that would change nothing (the window already holds
    those signs) has its signs negated, so no query is wasted: our reading of the paper's resampling.

    Parameters
    ----------
    score_fn : callable
        Maps a float32 torch tensor ``(k, *X.shape[1:])`` to scores ``(k, n_classes)`` (torch tensor or
        numpy array; higher is more likely). Called under ``torch.no_grad()``; a torch module is put in
        eval mode. It must treat inputs independently (no batch statistics).
    X : array_like or torch.Tensor, float, values in [0, 1], shape (n, ...)
        Clean inputs.
    y : array_like or torch.Tensor, integer, shape (n,)
        Labels.
    eps : float or array_like of float, shape (n,)
        L-infinity radius, one for all inputs or one per input (>= 0; eps = 0 spends only the clean query).
    queries : int, default 1000
        Score queries per input, the clean query and the stripes start included (>= 2).
    p_init : float, default 0.8
        Initial fraction of pixels per square (the paper's MNIST value; 0.05 for larger images).
    seed : int or numpy.random.Generator
        Draws of stripes, square positions and signs (required). Every iteration draws for all n inputs,
        fooled or not, so the draws of input i depend only on the seed, n and i.
    image_shape : tuple of int, optional
        ``(H, W)`` or ``(C, H, W)`` of one input; required when X is flat ``(n, d)``. Default: X's own
        ``(H, W)`` for ``(n, H, W)``, ``(C, H, W)`` for ``(n, C, H, W)``. H and W must be >= 2.

    Returns
    -------
    SquareAttackResult
        ``x_adv`` (float32, shape of X), ``fooled`` (bool, n), ``queries`` (int64, n), ``margin`` (n).
    """
    if not callable(score_fn):
        raise TypeError(f"score_fn: expected a callable returning scores (n, n_classes), got "
                        f"{type(score_fn).__name__}")
    X = as_array(X, "X", dtype_kind="f", finite=True, dtype=np.float32)
    if X.ndim < 2:
        raise ValueError(f"X: expected a batch of inputs (n, ...), got shape {X.shape} (for one sample use X[None])")
    if X.size and (X.min() < 0 or X.max() > 1):
        raise ValueError("X: attacks expect inputs scaled to [0, 1]")
    if y is None:
        raise TypeError("y: expected integer labels (n,), got None")
    y = as_array(y, "y", dtype_kind="iu", ndim=1).astype(np.int64)
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"X, y: {n} inputs vs {y.shape[0]} labels")
    if n == 0:
        raise ValueError("X: expected at least one input, got 0")
    if np.ndim(eps) == 0:
        eps_v = np.full(n, check_real(eps, "eps", minimum=0), np.float32)
    else:
        eps_v = as_array(eps, "eps", dtype_kind="fiu", ndim=1, finite=True).astype(np.float32)
        if eps_v.shape[0] != n:
            raise ValueError(f"eps: expected a scalar or one radius per input ({n}), got shape {eps_v.shape}")
        if (eps_v < 0).any():
            raise ValueError(f"eps: expected radii >= 0, got minimum {float(eps_v.min())}")
    queries = check_positive_int(queries, "queries", minimum=2)
    p_init = check_real(p_init, "p_init", minimum=0, maximum=1, low_open=True)
    rng = resolve_rng(seed)
    C, H, W = _image_shape(X, image_shape)
    if H < 2 or W < 2:
        raise ValueError(f"image_shape: squares need H, W >= 2, got (C, H, W) = {(C, H, W)}")
    if hasattr(score_fn, "eval"):
        score_fn.eval()

    x0 = X.reshape(n, C, H, W)
    e4 = eps_v[:, None, None, None]
    up, down = np.clip(x0 + e4, 0, 1), np.clip(x0 - e4, 0, 1)  # the two vertex values of every pixel
    n_classes = None

    def ask(idx, xs):
        nonlocal n_classes
        with torch.no_grad():
            out = score_fn(torch.from_numpy(np.ascontiguousarray(xs.reshape((len(idx), *X.shape[1:])))))
        out = as_array(out, "score_fn output", dtype_kind="fiu", ndim=2, finite=True).astype(np.float64)
        if out.shape[0] != len(idx) or (n_classes is not None and out.shape[1] != n_classes):
            raise ValueError(f"score_fn: returned shape {out.shape} for {len(idx)} inputs")
        n_classes = out.shape[1]
        if y[idx].max() >= n_classes:
            raise ValueError(f"y: label {int(y[idx].max())} out of range for {n_classes} scores")
        return _margin(out, y[idx])

    best = x0.copy()
    used = np.ones(n, np.int64)
    margin, fooled = ask(np.arange(n), x0)
    # start: vertical stripes (one sign per channel and column, for every input: the stream does not
    # depend on which inputs are still alive)
    stripes = rng.integers(0, 2, size=(n, C, 1, W)).astype(bool)
    act = np.flatnonzero(~fooled & (eps_v > 0))
    if act.size:
        cand = np.where(stripes[act], up[act], down[act])
        m, f = ask(act, cand)
        used[act] += 1
        best[act], margin[act], fooled[act] = cand, m, f
    iterations = queries - 2
    rows, cols = np.arange(H), np.arange(W)
    for it in progress(range(1, iterations + 1), desc="square attack", total=iterations):
        u = rng.random((n, 2))
        signs = rng.integers(0, 2, size=(n, C)).astype(bool)
        act = np.flatnonzero(~fooled & (eps_v > 0))
        if act.size == 0:
            break
        side = int(round(np.sqrt(square_fraction(p_init, it, iterations) * H * W)))
        side = min(max(side, 1), min(H, W) - 1)
        r0 = np.floor(u[act, 0] * (H - side + 1)).astype(np.int64)
        c0 = np.floor(u[act, 1] * (W - side + 1)).astype(np.int64)
        window = (((rows >= r0[:, None]) & (rows < r0[:, None] + side))[:, :, None]
                  & ((cols >= c0[:, None]) & (cols < c0[:, None] + side))[:, None, :])[:, None]  # (k, 1, H, W)
        s = signs[act][:, :, None, None]
        cand = np.where(window, np.where(s, up[act], down[act]), best[act])
        same = (cand == best[act]).all(axis=(1, 2, 3))
        if same.any():  # the window holds these signs already: propose the opposite ones
            cand[same] = np.where(window[same], np.where(~s[same], up[act[same]], down[act[same]]), best[act[same]])
        m, f = ask(act, cand)
        used[act] += 1
        keep = (m < margin[act]) | f
        k = act[keep]
        best[k], margin[k], fooled[k] = cand[keep], m[keep], f[keep]
    return SquareAttackResult(x_adv=best.reshape(X.shape), fooled=fooled, queries=used, margin=margin)
