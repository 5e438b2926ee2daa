"""Experiments of the one-bit random-features paper (the notebooks call these), with their metrics."""

from __future__ import annotations

import math
import time
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from .._deprecation import renamed_argument
from .._validation import as_array, check_choice, check_positive_int, check_real, check_widths, resolve_rng
from ..progress import progress
from ..protocol import child_rng
from ..threads import blas_threads
from .features import RandomFeatures
from .readouts import InterpolationResult, min_norm_interpolate, min_norm_teacher_averaged_mse

__all__ = ["draw_teacher", "mse", "one_hot", "accuracy", "synthetic_experiment", "mnist_experiment"]


def draw_teacher(p: int, *, seed) -> np.ndarray:
    """Teacher readout ``a* ~ N(0, I/p)`` (the paper's setting; labels y = Phi a*).

    Parameters
    ----------
    p : int
        Feature dimension.
    seed : int or numpy.random.Generator
        Source of the draw.

    Returns
    -------
    ndarray, float64, shape (p,)
        The teacher.
    """
    p = check_positive_int(p, "p")
    return resolve_rng(seed).standard_normal(p) / math.sqrt(p)


def mse(pred, target) -> float:
    """Mean squared error averaged over samples (and outputs).

    Parameters
    ----------
    pred : array_like, shape (n,) or (n, k)
        Predictions.
    target : array_like, same shape
        Targets.

    Returns
    -------
    float
        The mean of the squared differences (float64).
    """
    pred = as_array(pred, "pred", dtype_kind="fiu", allow_empty=False).astype(np.float64)
    target = as_array(target, "target", dtype_kind="fiu", allow_empty=False).astype(np.float64)
    if pred.shape != target.shape:
        raise ValueError(f"pred: shape {pred.shape} does not match target shape {target.shape}")
    return float(np.mean((pred - target) ** 2))


def one_hot(labels, num_classes: int) -> np.ndarray:
    """One-hot targets (1 for the class, 0 elsewhere).

    Parameters
    ----------
    labels : array_like, integer, shape (n,)
        Values in ``0 .. num_classes - 1``.
    num_classes : int
        Number of classes.

    Returns
    -------
    ndarray, float64, shape (n, num_classes)
        The targets.
    """
    labels = as_array(labels, "labels", dtype_kind="iu", ndim=1)
    num_classes = check_positive_int(num_classes, "num_classes")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels: expected values in [0, {num_classes}), got range [{labels.min()}, {labels.max()}]")
    out = np.zeros((labels.size, num_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


def accuracy(scores, labels) -> float:
    """Fraction of rows whose argmax equals the label (ties: the lowest index, numpy's argmax).

    Parameters
    ----------
    scores : array_like, shape (n, k)
        Class scores.
    labels : array_like, integer, shape (n,)
        True classes.

    Returns
    -------
    float
        Accuracy in [0, 1].
    """
    scores = as_array(scores, "scores", dtype_kind="fiu", ndim=2, allow_empty=False)
    labels = as_array(labels, "labels", dtype_kind="iu", ndim=1)
    if labels.shape[0] != scores.shape[0]:
        raise ValueError(f"labels: expected shape ({scores.shape[0]},) to match scores {scores.shape}, "
                         f"got shape {labels.shape}")
    if scores.shape[1] == 0:
        raise ValueError(f"scores: expected at least one class column, got shape {scores.shape}")
    if scores.dtype.kind == "f" and np.isnan(scores).any():
        raise ValueError("scores: contains NaN (argmax of a NaN row is meaningless)")
    return float(np.mean(np.argmax(scores, axis=1) == labels))




Interpolator = Callable[[np.ndarray, np.ndarray], InterpolationResult]


def synthetic_experiment(*, input_dim: int, widths: Sequence[int], n_train: int, n_test: int, trials: int,
                         seed, weights: Iterable[str] = ("gaussian", "onebit"), activation="tanh",
                         input_var: float = 1.0, interpolators: Mapping[str, Interpolator] | None = None,
                         method: str | None = None, teacher_average: bool = True, show_progress: bool = True,
                         backend: str | None = None):
    """Teacher-student test MSE of random-features readouts (the paper's Figs. 1 and 2).

    Per trial: inputs ``x ~ N(0, input_var I)`` (n_train + n_test), one network of depth L =
    len(widths) per weight type (paired: the one-bit weights are the signs of the Gaussian ones), and
    for every depth l = 1..L the teacher ``y = x^(l) a*_l``, ``a*_l ~ N(0, I/d_l)`` (shared by both
    weight types), each interpolator fitted on the training part and scored on the test part. The
    depth-l model is the first l layers of the depth-L network (nested; each depth's statistics are
    those of an independent depth-l network).

    Parameters
    ----------
    input_dim : int
        d.
    widths : sequence of int
        Hidden widths (d_1, ..., d_L), each > n_train.
    n_train, n_test : int
        Training and test samples per trial.
    trials : int
        Independent trials.
    seed : int or numpy.random.Generator
        Every trial's streams derive from it (:func:`gnetlab.protocol.child_rng`).
    weights : iterable of {"gaussian", "onebit"}, default ("gaussian", "onebit")
        Weight types.
    activation : str or callable, default "tanh"
        As :class:`RandomFeatures`.
    input_var : float, default 1.0
        Input variance.
    interpolators : mapping of str to callable, optional
        Name -> ``f(Phi, y) -> InterpolationResult``; default ``{"min_l2": min_norm_interpolate}``.
    method : {"kernel", "reference"}, optional
        One-bit forward pass, as :class:`RandomFeatures`.
    teacher_average : bool, default True
        For ``min_norm_interpolate`` also record :func:`min_norm_teacher_averaged_mse` (the same
        trial's test MSE averaged exactly over the teacher; NaN for other interpolators).
    show_progress : bool, default True
        Show a progress bar.
    backend : {"kernel", "reference"}, optional
        Deprecated name of ``method``.

    Returns
    -------
    pandas.DataFrame
        Tidy: trial, weights, depth, interpolator, test_mse (one teacher per trial, the paper's
        procedure), teacher_avg_mse, relative_residual, converged, iterations, fit_seconds.
    """
    import pandas as pd

    method = renamed_argument(method, backend, old="backend", new="method", where="synthetic_experiment",
                              default="kernel")
    widths = check_widths(widths)
    input_dim = check_positive_int(input_dim, "input_dim")
    n_train = check_positive_int(n_train, "n_train")
    n_test = check_positive_int(n_test, "n_test")
    trials = check_positive_int(trials, "trials")
    if isinstance(weights, str):
        weights = (weights,)
    weights = [check_choice(w, "weights", ("gaussian", "onebit")) for w in weights]
    input_var = check_real(input_var, "input_var", minimum=0, low_open=True)
    resolve_rng(seed)
    if min(widths) <= n_train:
        raise ValueError(f"widths: every width must exceed n_train = {n_train} to interpolate, got {widths}")
    if interpolators is None:
        interpolators = {"min_l2": min_norm_interpolate}
    rows = []
    bar = progress(total=trials * len(weights), desc="rf synthetic", disable=not show_progress)
    for t in range(trials):
        data_rng = child_rng(seed, t, 0)
        X = data_rng.standard_normal((n_train + n_test, input_dim), dtype=np.float32)
        if input_var != 1.0:
            X *= np.float32(math.sqrt(input_var))
        teachers = [draw_teacher(w, seed=child_rng(seed, t, 1, l)) for l, w in enumerate(widths)]
        gauss = RandomFeatures(input_dim, widths, activation=activation, weights="gaussian",
                               seed=child_rng(seed, t, 2), method=method)
        for wt in weights:
            model = gauss if wt == "gaussian" else gauss.to_onebit()
            feats = model.transform(X, all_layers=True)
            del model
            for l, F in enumerate(feats, start=1):
                a_star = teachers[l - 1]
                # float32 products on the float32 features (relative error ~1e-7 on labels, predictions)
                y = (F @ a_star.astype(np.float32)).astype(np.float64)
                for name, fit in interpolators.items():
                    t0 = time.perf_counter()
                    res = fit(F[:n_train], y[:n_train])
                    dt = time.perf_counter() - t0
                    pred = (F[n_train:] @ res.coef.astype(np.float32)).astype(np.float64)
                    avg = (min_norm_teacher_averaged_mse(F[:n_train], F[n_train:],
                                                         gram_cholesky=res.info.get("gram_cholesky"))
                           if teacher_average and fit is min_norm_interpolate else float("nan"))
                    rows.append(dict(trial=t, weights=wt, depth=l, interpolator=name,
                                     test_mse=mse(pred, y[n_train:]), teacher_avg_mse=avg,
                                     relative_residual=res.relative_residual,
                                     converged=bool(res.converged), iterations=int(res.iterations),
                                     fit_seconds=dt))
            del feats
            bar.update(1)
    bar.close()
    return pd.DataFrame(rows)


def mnist_experiment(X_train, y_train, X_test, y_test, *, widths: Sequence[int], depths: Sequence[int],
                     per_class: int = 20, n_test: int = 200, trials: int = 20, seed,
                     weights: Iterable[str] = ("gaussian", "onebit"), activation="relu",
                     method: str | None = None, show_progress: bool = True, backend: str | None = None):
    """Few-shot classification with random features and a min-l2 one-hot readout (the paper's MNIST runs).

    Per trial: ``per_class`` training images of every class and ``n_test`` random test images; for each
    width w, one network of depth max(depths) with all widths w per weight type (paired Gaussian /
    one-bit), and the readout of every depth in ``depths`` (nested, as in :func:`synthetic_experiment`)
    fitted by :func:`min_norm_interpolate` on one-hot targets; prediction = argmax.

    Parameters
    ----------
    X_train, X_test : array_like, float, shape (n, d)
        Images as rows.
    y_train, y_test : array_like, integer, shape (n,)
        Labels.
    widths : sequence of int
        Hidden widths to sweep.
    depths : sequence of int
        Readout depths.
    per_class : int, default 20
        Training images per class and trial.
    n_test : int, default 200
        Test images per trial.
    trials : int, default 20
        Independent trials.
    seed : int or numpy.random.Generator
        Every trial's streams derive from it.
    weights : iterable of {"gaussian", "onebit"}, default ("gaussian", "onebit")
        Weight types.
    activation : str or callable, default "relu"
        As :class:`RandomFeatures`.
    method : {"kernel", "reference"}, optional
        One-bit forward pass, as :class:`RandomFeatures`.
    show_progress : bool, default True
        Show a progress bar.
    backend : {"kernel", "reference"}, optional
        Deprecated name of ``method``.

    Returns
    -------
    pandas.DataFrame
        Tidy: trial, weights, width, depth, test_accuracy, train_accuracy.
    """
    import pandas as pd

    method = renamed_argument(method, backend, old="backend", new="method", where="mnist_experiment",
                              default="kernel")
    Xtr = as_array(X_train, "X_train", dtype_kind="f", ndim=2, finite=True)
    Xte = as_array(X_test, "X_test", dtype_kind="f", ndim=2, finite=True)
    ytr = as_array(y_train, "y_train", dtype_kind="iu", ndim=1)
    yte = as_array(y_test, "y_test", dtype_kind="iu", ndim=1)
    if Xtr.shape[0] != ytr.shape[0] or Xte.shape[0] != yte.shape[0]:
        raise ValueError("y_train/y_test: expected one label per image")
    if Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(f"X_test: expected {Xtr.shape[1]} columns like X_train, got {Xte.shape[1]}")
    widths = check_widths(widths)
    depths = check_widths(depths, "depths")
    per_class = check_positive_int(per_class, "per_class")
    n_test = check_positive_int(n_test, "n_test")
    trials = check_positive_int(trials, "trials")
    resolve_rng(seed)
    if ytr.size == 0 or yte.size == 0:
        raise ValueError(f"y_train/y_test: expected non-empty splits, got {ytr.size} and {yte.size} labels")
    if isinstance(weights, str):
        weights = (weights,)
    weights = [check_choice(w, "weights", ("gaussian", "onebit")) for w in weights]
    classes = np.unique(ytr)
    n_classes = int(max(ytr.max(), yte.max())) + 1
    if n_test > Xte.shape[0]:
        raise ValueError(f"n_test: only {Xte.shape[0]} test images, asked for {n_test}")
    rows = []
    bar = progress(total=trials * len(widths) * len(weights), desc="rf mnist", disable=not show_progress)
    for t in range(trials):
        rng = child_rng(seed, t, 0)
        idx = np.concatenate([rng.choice(np.flatnonzero(ytr == c), per_class, replace=False) for c in classes])
        tidx = rng.choice(Xte.shape[0], n_test, replace=False)
        X = np.concatenate([Xtr[idx], Xte[tidx]]).astype(np.float32)
        Y = one_hot(ytr[idx], n_classes)
        ntr = idx.size
        for wi, w in enumerate(widths):
            gauss = RandomFeatures(Xtr.shape[1], (w,) * max(depths), activation=activation, weights="gaussian",
                                   seed=child_rng(seed, t, 1, wi), method=method)
            for wt in weights:
                model = gauss if wt == "gaussian" else gauss.to_onebit()
                feats = model.transform(X, all_layers=True)
                for L in depths:
                    F = feats[L - 1]
                    res = min_norm_interpolate(F[:ntr], Y)
                    with blas_threads(1):
                        scores = F.astype(np.float64) @ res.coef
                    rows.append(dict(trial=t, weights=wt, width=w, depth=L,
                                     test_accuracy=accuracy(scores[ntr:], yte[tidx]),
                                     train_accuracy=accuracy(scores[:ntr], ytr[idx])))
                bar.update(1)
    bar.close()
    return pd.DataFrame(rows)
