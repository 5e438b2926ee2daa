"""Training recipes of the binarized baselines: Adam, plateau schedule, progressive binarization, distillation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._validation import as_array, check_positive_int, check_real, check_seed
from ..threads import single_thread
from .models import clip_shadow_weights

__all__ = ["TrainConfig", "train_classifier", "evaluate"]


@dataclass
class TrainConfig:
    """Options of :func:`train_classifier` (epochs, batch, Adam lr and weight decay, schedule, distillation).

    Parameters
    ----------
    epochs : int, default 20
        Passes over the training split.
    batch_size : int, default 100
        Mini-batch size.
    lr : float, default 1e-3
        Adam learning rate.
    weight_decay : float, default 0.0
        Adam weight decay.
    val_fraction : float, default 0.1
        Seeded validation split (best-validation weights are kept).
    seed : int, default 0
        Split, shuffling and stochastic quantizers.
    binarize_activations_from : int, optional
        Progressive binarization: activations are binarized from this epoch on (None: from the start).
    distill_alpha : float, default 0.0
        Distillation weight a: loss = (1 - a) CE + a T^2 KL(teacher_T || student_T).
    distill_temperature : float, default 4.0
        T.
    history : list
        Filled by training: one dict per epoch.
    """

    epochs: int = 20
    batch_size: int = 100
    lr: float = 1e-3
    weight_decay: float = 0.0
    val_fraction: float = 0.1
    seed: int = 0
    # progressive binarization: activations are binarized from this epoch on (None: from the start)
    binarize_activations_from: int | None = None
    # distillation from a float teacher: loss = (1-a) CE + a T^2 KL(teacher_T || student_T)
    distill_alpha: float = 0.0
    distill_temperature: float = 4.0
    history: list = field(default_factory=list)


def evaluate(model: nn.Module, X, y, batch_size: int = 1000) -> float:
    """Accuracy of ``model``, in evaluation mode.

    Parameters
    ----------
    model : torch.nn.Module
        Returns logits ``(batch, n_classes)``.
    X : array_like, float, shape (n, d)
        Inputs.
    y : array_like, integer, shape (n,)
        Labels.
    batch_size : int, default 1000
        Inputs per forward pass.

    Returns
    -------
    float
        Fraction correct, in [0, 1].
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module (e.g. a BinaryMLP), got {type(model).__name__}")
    batch_size = check_positive_int(batch_size, "batch_size")
    X = torch.as_tensor(as_array(X, "X", dtype_kind="f", ndim=2, finite=True, dtype=np.float32))
    y = torch.as_tensor(as_array(y, "y", dtype_kind="iu", ndim=1))
    if len(y) != len(X):
        raise ValueError(f"y: expected {len(X)} labels (one per row of X), got {len(y)}")
    if len(X) == 0:
        raise ValueError("X: expected at least one sample to evaluate, got 0 (accuracy of an empty set is undefined)")
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            correct += (model(X[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item()
    return correct / max(len(X), 1)


def train_classifier(model: nn.Module, X, y, cfg: TrainConfig, *, teacher: nn.Module | None = None,
                     progress_desc: str | None = None) -> nn.Module:
    """Adam + ReduceLROnPlateau on a seeded validation split; keeps the best-validation weights.

    Parameters
    ----------
    model : torch.nn.Module
        A :class:`BinaryMLP` (trained in place).
    X : array_like, float, shape (n, d)
        Training inputs.
    y : array_like, integer, shape (n,)
        Labels.
    cfg : TrainConfig
        Options; ``cfg.history`` is filled (epoch, train loss, val acc).
    teacher : torch.nn.Module, optional
        Float teacher for distillation (``cfg.distill_alpha > 0``).
    progress_desc : str, optional
        Progress bar label.

    Returns
    -------
    torch.nn.Module
        ``model``, with its best-validation weights, in evaluation mode.
    """

    from ..progress import progress

    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module (e.g. a BinaryMLP), got {type(model).__name__}")
    _check_train_config(cfg)
    X = as_array(X, "X", dtype_kind="f", ndim=2, finite=True, dtype=np.float32)
    y = as_array(y, "y", dtype_kind="iu", ndim=1)
    if len(X) != len(y):
        raise ValueError(f"X, y: {len(X)} samples vs {len(y)} labels")
    if cfg.distill_alpha and teacher is None:
        raise ValueError("distill_alpha > 0 needs a teacher model")
    rng = np.random.default_rng(cfg.seed)
    perm = rng.permutation(len(X))
    n_val = int(round(cfg.val_fraction * len(X)))
    val, tr = perm[:n_val], perm[n_val:]
    Xtr, ytr = torch.from_numpy(X[tr]), torch.from_numpy(y[tr]).long()
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=3)
    clip = getattr(model, "recipe", "fp32") in {"binaryconnect", "binaryconnect_stochastic", "binarynet", "xnor"}
    bar = progress(range(cfg.epochs), desc=progress_desc or f"train {getattr(model, 'recipe', '')}")
    # Small MLPs: one torch thread is faster than several (thread hand-offs dominate, badly so on a
    # loaded machine) and makes the trained weights independent of the machine's core count.

    with single_thread():
        _train_epochs(model, bar, cfg, X, y, Xtr, ytr, val, gen, opt, sched, clip, teacher)
    model.eval()
    return model


def _check_train_config(cfg) -> None:
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg: expected a gnetlab.bnn.TrainConfig, got {type(cfg).__name__}")
    check_positive_int(cfg.epochs, "cfg.epochs")
    check_positive_int(cfg.batch_size, "cfg.batch_size")
    check_real(cfg.lr, "cfg.lr", minimum=0, low_open=True)
    check_real(cfg.weight_decay, "cfg.weight_decay", minimum=0)
    check_real(cfg.val_fraction, "cfg.val_fraction", minimum=0, maximum=1, high_open=True)
    check_seed(cfg.seed, "cfg.seed")
    if cfg.binarize_activations_from is not None:
        check_positive_int(cfg.binarize_activations_from, "cfg.binarize_activations_from", minimum=0)
    check_real(cfg.distill_alpha, "cfg.distill_alpha", minimum=0, maximum=1)
    check_real(cfg.distill_temperature, "cfg.distill_temperature", minimum=0, low_open=True)


def _train_epochs(model, bar, cfg, X, y, Xtr, ytr, val, gen, opt, sched, clip, teacher):
    import copy

    n_val = len(val)
    best, best_state = -1.0, None
    for epoch in bar:
        if cfg.binarize_activations_from is not None and epoch == cfg.binarize_activations_from:
            model.set_activation_quantizer("clipped_ste")
            best, best_state = -1.0, None  # earlier checkpoints have real activations
        model.train()
        order = torch.randperm(len(Xtr), generator=gen)
        total = 0.0
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            xb, yb = Xtr[idx], ytr[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            if cfg.distill_alpha:
                with torch.no_grad():
                    teacher.eval()
                    soft = F.softmax(teacher(xb) / cfg.distill_temperature, dim=1)
                kd = F.kl_div(F.log_softmax(logits / cfg.distill_temperature, dim=1), soft, reduction="batchmean")
                loss = (1 - cfg.distill_alpha) * loss + cfg.distill_alpha * cfg.distill_temperature**2 * kd
            opt.zero_grad()
            loss.backward()
            opt.step()
            if clip:
                clip_shadow_weights(model)
            total += loss.item() * len(idx)
        acc = evaluate(model, X[val], y[val]) if n_val else float("nan")
        sched.step(acc)
        cfg.history.append((epoch, total / len(order), acc))
        if acc >= best:
            best, best_state = acc, copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)

