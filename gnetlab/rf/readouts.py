"""Trained readouts of random features: min-norm and mirror-descent interpolation.

See :mod:`gnetlab.rf` for the maths (mirrors, the hypentropy choice for the negative entropy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from .._deprecation import renamed_argument
from .._validation import as_array, check_choice, check_positive_int, check_real, resolve_rng
from ..threads import blas_threads, blas_threads_now

__all__ = ["InterpolationResult", "min_norm_interpolate", "min_norm_teacher_averaged_mse",
           "teacher_averaged_mse_by_depth", "Mirror", "L2Mirror", "LqMirror", "NegEntropyMirror",
           "resolve_mirror", "mirror_interpolate", "stochastic_mirror_descent"]


@dataclass(frozen=True)
class InterpolationResult:
    """A fitted readout and its tolerance report.

    Parameters
    ----------
    coef : ndarray, float64, shape (p,) or (p, k)
        The readout.
    method : str
        Which solver produced it.
    converged : bool
        Whether the tolerance was met.
    iterations : int
        Solver iterations.
    relative_residual : float
        ``|Phi coef - y|_2 / |y|_2`` (computed in float64).
    max_abs_residual : float
        ``max |Phi coef - y|``.
    info : dict
        Solver extras (e.g. ``gram_cholesky``).
    """

    coef: np.ndarray
    method: str
    converged: bool
    iterations: int
    relative_residual: float
    max_abs_residual: float
    info: dict = field(default_factory=dict)


def _check_design(features, targets) -> tuple[np.ndarray, np.ndarray]:
    Phi = as_array(features, "features", dtype_kind="f", ndim=2, finite=True, allow_empty=False)
    y = as_array(targets, "targets", dtype_kind="fiu", ndim=(1, 2), finite=True)
    if y.shape[0] != Phi.shape[0]:
        raise ValueError(f"targets: expected {Phi.shape[0]} rows (one per feature row), got shape {y.shape}")
    n, p = Phi.shape
    if n >= p:
        raise ValueError(f"features: interpolation needs fewer samples than features (n < p), got n = {n}, "
                         f"p = {p}; widen the last layer or use fewer samples")
    return Phi, y.astype(np.float64)


def _residual(Phi64: np.ndarray, coef: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    r = Phi64 @ coef - y
    ny = float(np.linalg.norm(y))
    return float(np.linalg.norm(r) / (ny if ny > 0 else 1.0)), float(np.abs(r).max())


def min_norm_interpolate(features, targets) -> InterpolationResult:
    """Minimum-l2-norm interpolant ``a = Phi^T (Phi Phi^T)^-1 y``.

    The Gram matrix is formed and Cholesky-factored in float64 (stable for float32 features); a
    singular or numerically singular Gram raises ValueError.

    Parameters
    ----------
    features : array_like, float, shape (n, p), n < p
        Phi.
    targets : array_like, float, shape (n,) or (n, k)
        y (one-hot for classification).

    Returns
    -------
    InterpolationResult
        ``coef`` float64 (p,) or (p, k); ``info["gram_cholesky"]`` the lower factor of Phi Phi^T.
    """
    Phi, y = _check_design(features, targets)
    n, p = Phi.shape
    P = Phi.astype(np.float64, copy=False)
    big = n * n * p > 2e8
    with blas_threads(blas_threads_now() if big else 1):
        gram = P @ P.T
    with blas_threads(1):
        try:
            c, lower = scipy.linalg.cho_factor(gram, lower=True, check_finite=False)
        except np.linalg.LinAlgError as exc:
            raise ValueError(f"features: the Gram matrix Phi Phi^T ({n} x {n}) is singular; the rows of Phi are "
                             "linearly dependent (duplicate samples or rank < n)") from exc
        d = np.diag(c)
        scale = float(np.diag(gram).max())
        if d.min() ** 2 <= n * np.finfo(np.float64).eps * scale:
            raise ValueError(f"features: the Gram matrix Phi Phi^T is numerically singular (pivot ratio "
                             f"{d.min() ** 2 / scale:.2e}); the rows of Phi are (nearly) linearly dependent")
        coef = P.T @ scipy.linalg.cho_solve((c, lower), y, check_finite=False)
        rel, mx = _residual(P, coef, y)
    return InterpolationResult(coef=coef, method="min_l2", converged=True, iterations=1,
                               relative_residual=rel, max_abs_residual=mx,
                               info={"gram_pivot_ratio": float(d.min() ** 2 / scale), "gram_cholesky": c})


def min_norm_teacher_averaged_mse(train_features, test_features, *, gram_cholesky=None) -> float:
    """Test MSE of min-l2 interpolation averaged *exactly* over the teacher ``a* ~ N(0, I/p)``.

    The min-norm readout is linear in the labels, ``a = Phi^+ Phi a*``, so the error ``a - a*`` is
    ``-(I - Phi^+ Phi) a*`` and, with ``M = Phi_test^T Phi_test / n_test``,

        E_a* MSE = (1/p) Tr[M (I - Phi^+ Phi)]
                 = (|Phi_test|_F^2 - |C^-1 Phi Phi_test^T|_F^2) / (p n_test),   C C^T = Phi Phi^T.

    Same expectation as the paper's one-teacher-per-trial estimate (on the same features and test
    points) without the teacher's sampling noise, which dominates the trial-to-trial spread (about 5%
    relative per trial at d_L = 4096 vs 0.2% here).

    Parameters
    ----------
    train_features : array_like, float, shape (n, p)
        Phi.
    test_features : array_like, float, shape (m, p)
        Phi_test.
    gram_cholesky : ndarray, shape (n, n), optional
        The lower Cholesky factor of ``Phi Phi^T`` if already computed, e.g.
        ``min_norm_interpolate(...).info["gram_cholesky"]`` (only its lower triangle is read).

    Returns
    -------
    float
        The teacher-averaged test MSE.
    """
    Phi = as_array(train_features, "train_features", dtype_kind="f", ndim=2, finite=True, allow_empty=False)
    T = as_array(test_features, "test_features", dtype_kind="f", ndim=2, finite=True, allow_empty=False)
    n, p = Phi.shape
    if T.shape[1] != p:
        raise ValueError(f"test_features: expected {p} columns like train_features, got {T.shape[1]}")
    if n >= p:
        raise ValueError(f"train_features: interpolation needs n < p, got n = {n}, p = {p}")
    threads = blas_threads_now()
    with blas_threads(threads):
        cross = (Phi.astype(np.float32, copy=False) @ T.astype(np.float32, copy=False).T).astype(np.float64)
    if gram_cholesky is None:
        P = Phi.astype(np.float64, copy=False)
        with blas_threads(threads):
            gram = P @ P.T
        with blas_threads(1):
            try:
                c = scipy.linalg.cholesky(gram, lower=True, check_finite=False)
            except np.linalg.LinAlgError as exc:
                raise ValueError("train_features: the Gram matrix Phi Phi^T is singular") from exc
    else:
        c = as_array(gram_cholesky, "gram_cholesky", dtype_kind="f", ndim=2, finite=True).astype(np.float64)
        if c.shape != (n, n):
            raise ValueError(f"gram_cholesky: expected shape ({n}, {n}), got {c.shape}")
    with blas_threads(threads):
        K = scipy.linalg.solve_triangular(c, cross, lower=True, check_finite=False)
    total = float(np.einsum("ij,ij->", T, T, dtype=np.float64))
    return (total - float(np.einsum("ij,ij->", K, K))) / (p * T.shape[0])


def teacher_averaged_mse_by_depth(model, X_train, X_test, *, method: str | None = None,
                                  backend: str | None = None) -> np.ndarray:
    """:func:`min_norm_teacher_averaged_mse` of the depth-l readout of ``model`` for l = 1..L, on the
    given training and test inputs (any input distribution: Gaussian, images, ...).

    Parameters
    ----------
    model : gnetlab.rf.RandomFeatures
        The random-features map.
    X_train : array_like, float, shape (n, d)
        Training inputs.
    X_test : array_like, float, shape (m, d)
        Test inputs.
    method : {"kernel", "reference"}, optional
        The one-bit forward pass for this call (default: the model's).
    backend : {"kernel", "reference"}, optional
        Deprecated name of ``method``.

    Returns
    -------
    ndarray, float64, shape (L,)
        One MSE per depth.
    """
    method = renamed_argument(method, backend, old="backend", new="method",
                              where="teacher_averaged_mse_by_depth", default=None)
    if not all(hasattr(model, a) for a in ("transform", "depth")):
        raise TypeError(f"model: expected a gnetlab.rf.RandomFeatures, got {type(model).__name__}")
    X_train = as_array(X_train, "X_train", dtype_kind="f", ndim=2, finite=True, allow_empty=False)
    X_test = as_array(X_test, "X_test", dtype_kind="f", ndim=2, finite=True, allow_empty=False)
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_test: expected {X_train.shape[1]} columns like X_train, got shape {X_test.shape}")
    n = X_train.shape[0]
    feats = model.transform(np.concatenate([X_train, X_test]).astype(np.float32), all_layers=True, method=method)
    return np.array([min_norm_teacher_averaged_mse(F[:n], F[n:]) for F in feats])


class Mirror:
    """A separable strictly convex potential psi(a) = sum_i psi_i(a_i) on R.

    grad: psi'; grad_conj: (psi*)' = (psi')^-1; conj: psi*; hess_conj: (psi*)'' (all elementwise).
    """

    name = "mirror"

    def grad(self, w): raise NotImplementedError
    def grad_conj(self, t): raise NotImplementedError
    def conj(self, t): raise NotImplementedError
    def hess_conj(self, t): raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class L2Mirror(Mirror):
    """psi = |a|^2 / 2: mirror descent is plain SGD; the interpolant is init + min-norm correction."""

    name = "l2"

    def grad(self, w): return np.asarray(w, dtype=np.float64)
    def grad_conj(self, t): return t
    def conj(self, t): return 0.5 * t * t
    def hess_conj(self, t): return np.ones_like(t)


class LqMirror(Mirror):
    """psi = sum |a_i|^q / q, q > 1 (q -> 1: sparse, q = 2: l2, large q: spread-out solutions).

    Parameters
    ----------
    q : float
        Exponent, > 1.
    """

    name = "lq"

    def __init__(self, q: float):
        if not (isinstance(q, (int, float)) and not isinstance(q, bool)) or not q > 1 or not math.isfinite(q):
            raise ValueError(f"q: expected a finite number > 1, got {q!r}")
        self.q = float(q)
        self.qs = self.q / (self.q - 1.0)  # dual exponent

    def __repr__(self) -> str:
        return f"LqMirror(q={self.q:g})"

    def grad(self, w):
        w = np.asarray(w, dtype=np.float64)
        return np.sign(w) * np.abs(w) ** (self.q - 1.0)

    def grad_conj(self, t): return np.sign(t) * np.abs(t) ** (self.qs - 1.0)
    def conj(self, t): return np.abs(t) ** self.qs / self.qs

    def hess_conj(self, t):
        a = np.abs(t)
        if self.qs < 2:  # infinite at 0: clip (the Newton step is damped anyway)
            a = np.maximum(a, 1e-12)
        return (self.qs - 1.0) * a ** (self.qs - 2.0)


class NegEntropyMirror(Mirror):
    """Negative entropy on R via the hypentropy psi_beta (see the module docstring).

    psi'(a) = arcsinh(a / beta), (psi*)'(t) = beta sinh t, psi*(t) = beta cosh t.
    beta sets where the potential switches from l2 (|a| << beta) to entropy (|a| >> beta).

    Parameters
    ----------
    beta : float
        Scale, > 0.
    """

    name = "negentropy"

    def __init__(self, beta: float):
        if not (isinstance(beta, (int, float)) and not isinstance(beta, bool)) or not beta > 0 or not math.isfinite(beta):
            raise ValueError(f"beta: expected a finite number > 0, got {beta!r}")
        self.beta = float(beta)

    def __repr__(self) -> str:
        return f"NegEntropyMirror(beta={self.beta:g})"

    def grad(self, w): return np.arcsinh(np.asarray(w, dtype=np.float64) / self.beta)
    def grad_conj(self, t): return self.beta * np.sinh(t)
    def conj(self, t): return self.beta * np.cosh(t)
    def hess_conj(self, t): return self.beta * np.cosh(t)


def resolve_mirror(mirror, *, q: float | None = None, beta: float | None = None) -> Mirror:
    """A :class:`Mirror` from an instance or a name.

    Parameters
    ----------
    mirror : {"l2", "lq", "negentropy"} or Mirror
        The potential.
    q : float, optional
        Exponent of "lq" (required there).
    beta : float, optional
        Scale of "negentropy" (required there).

    Returns
    -------
    Mirror
        The potential.
    """
    if isinstance(mirror, Mirror):
        return mirror
    check_choice(mirror, "mirror", ("l2", "lq", "negentropy"))
    if mirror == "l2":
        return L2Mirror()
    if mirror == "lq":
        if q is None:
            raise TypeError("q: the 'lq' mirror needs q > 1, e.g. mirror_interpolate(..., 'lq', q=3)")
        return LqMirror(q)
    if beta is None:
        raise TypeError("beta: the 'negentropy' mirror needs its scale beta > 0 (see NegEntropyMirror)")
    return NegEntropyMirror(beta)


def _weighted_gram(P32: np.ndarray, h: np.ndarray, threads: int = 1) -> np.ndarray:
    """``P diag(h) P^T`` (n x n, float64) via a float32 SYRK of ``P * sqrt(h)`` (half the flops of a GEMM;
    the Newton direction tolerates float32 rounding because the residual is always evaluated in float64)."""
    from scipy.linalg.blas import ssyrk

    A = np.asarray(P32 * np.sqrt(h, dtype=np.float64).astype(np.float32), order="C")
    # A is C-contiguous (n, p) == Fortran (p, n); SYRK with trans=1 gives A^T A of the Fortran view = A A^T.
    with blas_threads(threads):
        G = ssyrk(1.0, A.T, trans=1, lower=0).astype(np.float64)
    iu = np.triu_indices_from(G, 1)
    G[(iu[1], iu[0])] = G[iu]
    return G


def mirror_interpolate(features, targets, mirror="l2", *, q: float | None = None, beta: float | None = None,
                       init=None, rtol: float = 1e-8, max_iter: int = 100) -> InterpolationResult:
    """The interpolant stochastic mirror descent converges to: ``argmin D_psi(a, init) s.t. Phi a = y``.

    Solved by damped Newton on the dual: with ``theta = grad psi(init) + Phi^T lam``, minimise the
    convex ``sum psi*(theta) - y^T lam`` over lam in R^n; its gradient is the residual
    ``Phi grad psi*(theta) - y`` and its Hessian ``Phi diag(psi*''(theta)) Phi^T`` (n x n, float32
    SYRK, float64 Cholesky, Levenberg damping when needed). Armijo backtracking makes every step a
    descent step, so the iteration converges globally, and quadratically near the solution.

    Stops when ``|Phi a - y|_2 <= rtol |y|_2`` (``converged=True``), or when no descent step is left
    (float64 floor) or max_iter is hit (``converged=False``, no exception: read the report).

    Parameters
    ----------
    features : array_like, float, shape (n, p), n < p
        Phi.
    targets : array_like, float, shape (n,) or (n, k)
        y (columns solved independently).
    mirror : {"l2", "lq", "negentropy"} or Mirror, default "l2"
        The potential; "lq" needs ``q``; "negentropy" takes ``beta`` (default ``1/p``, i.e.
        exponentiated gradient +- from the uniform u0 = v0 = 1/(2p)).
    q : float, optional
        Exponent of "lq".
    beta : float, optional
        Scale of "negentropy".
    init : array_like, shape (p,), optional
        Starting point of the mirror descent (default 0).
    rtol : float, default 1e-8
        Relative residual tolerance.
    max_iter : int, default 100
        Newton iterations at most.

    Returns
    -------
    InterpolationResult
        ``coef`` float64 (p,) or (p, k) and the tolerance report.
    """
    Phi, y = _check_design(features, targets)
    n, p = Phi.shape
    if mirror == "negentropy" and beta is None:
        beta = 1.0 / p
    mir = resolve_mirror(mirror, q=q, beta=beta)
    rtol = check_real(rtol, "rtol", minimum=0, low_open=True)
    max_iter = check_positive_int(max_iter, "max_iter")
    P = Phi.astype(np.float64, copy=False)
    P32 = Phi.astype(np.float32, copy=False)
    if init is None:
        theta0 = mir.grad(np.zeros(p))
    else:
        a0 = as_array(init, "init", dtype_kind="f", ndim=1, finite=True).astype(np.float64)
        if a0.shape != (p,):
            raise ValueError(f"init: expected shape ({p},), got {a0.shape}")
        theta0 = mir.grad(a0)
    if y.ndim == 2:
        cols = [mirror_interpolate(P, y[:, j], mir, init=init, rtol=rtol, max_iter=max_iter)
                for j in range(y.shape[1])]
        coef = np.stack([c.coef for c in cols], axis=1)
        rel, mx = _residual(P, coef, y)
        return InterpolationResult(coef=coef, method=mir.name, converged=all(c.converged for c in cols),
                                   iterations=max(c.iterations for c in cols), relative_residual=rel,
                                   max_abs_residual=mx, info={"mirror": repr(mir)})

    threads = blas_threads_now()
    with blas_threads(1):
        return _mirror_newton(P, P32, y, mir, theta0, rtol, max_iter, threads)


def _mirror_newton(P, P32, y, mir, theta0, rtol, max_iter, threads) -> InterpolationResult:
    n = P.shape[0]
    ny = float(np.linalg.norm(y)) or 1.0
    lam = np.zeros(n)

    def dual(lmb):
        th = theta0 + P.T @ lmb
        with np.errstate(over="ignore", invalid="ignore"):
            val = float(mir.conj(th).sum() - y @ lmb)
        return val, th

    g_val, theta = dual(lam)
    damping = 0.0
    converged = False
    stalled = False
    it = 0
    while True:
        w = mir.grad_conj(theta)
        r = P @ w - y
        if np.linalg.norm(r) <= rtol * ny:
            converged = True
            break
        if it >= max_iter or stalled:
            break
        it += 1
        H = _weighted_gram(P32, mir.hess_conj(theta), threads)
        diag_scale = float(np.trace(H)) / n or 1.0
        step = None
        for _ in range(40):
            try:
                Hd = H if damping == 0 else H + damping * diag_scale * np.eye(n)
                c = scipy.linalg.cho_factor(Hd, lower=True, check_finite=False)
                step = -scipy.linalg.cho_solve(c, r, check_finite=False)
                break
            except np.linalg.LinAlgError:
                damping = max(1e-10, 10 * damping)
        if step is None:
            stalled = True
            continue
        slope = float(r @ step)
        t = 1.0
        accepted = False
        for _ in range(50):
            new_val, new_theta = dual(lam + t * step)
            if math.isfinite(new_val) and new_val <= g_val + 1e-4 * t * slope:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            # no descent along the (damped) Newton direction: either rounding floor or a bad Hessian
            if damping >= 1e6:
                stalled = True
            damping = max(1e-8, 100 * damping)
            continue
        lam = lam + t * step
        g_val, theta = new_val, new_theta
        if t == 1.0:
            damping /= 10
            if damping < 1e-10:
                damping = 0.0
    coef = mir.grad_conj(theta)
    rel, mx = _residual(P, coef, y)
    return InterpolationResult(coef=coef, method=mir.name, converged=converged, iterations=it,
                               relative_residual=rel, max_abs_residual=mx,
                               info={"mirror": repr(mir), "dual_objective": g_val, "stalled": stalled})


def stochastic_mirror_descent(features, targets, mirror="l2", *, q: float | None = None,
                              beta: float | None = None, init=None, lr: float, epochs: int,
                              seed) -> np.ndarray:
    """Plain SMD on the square loss, one sample per step (a readable reference for small problems).

    ``grad psi(a) <- grad psi(a) - lr (phi_i^T a - y_i) phi_i`` over a random permutation per epoch.
    Used to check that :func:`mirror_interpolate` is SMD's limit.

    Parameters
    ----------
    features : array_like, float, shape (n, p)
        Phi.
    targets : array_like, float, shape (n,)
        y.
    mirror : {"l2", "lq", "negentropy"} or Mirror, default "l2"
        The potential (:func:`resolve_mirror`).
    q : float, optional
        Exponent of "lq".
    beta : float, optional
        Scale of "negentropy" (default ``1/p``).
    init : array_like, shape (p,), optional
        Starting point (default 0).
    lr : float
        Step size.
    epochs : int
        Passes over the data.
    seed : int or numpy.random.Generator
        Order of the samples.

    Returns
    -------
    ndarray, float64, shape (p,)
        The final readout.
    """
    Phi, y = _check_design(features, targets)
    if y.ndim != 1:
        raise ValueError("targets: stochastic_mirror_descent takes one output column")
    if mirror == "negentropy" and beta is None:
        beta = 1.0 / Phi.shape[1]  # the same default as mirror_interpolate
    mir = resolve_mirror(mirror, q=q, beta=beta)
    rng = resolve_rng(seed)
    lr = check_real(lr, "lr", minimum=0, low_open=True)
    P = Phi.astype(np.float64)
    n, p = P.shape
    if init is not None:
        init = as_array(init, "init", dtype_kind="fiu", ndim=1, finite=True).astype(np.float64)
        if init.shape != (p,):
            raise ValueError(f"init: expected shape ({p},) (one weight per feature), got {init.shape}")
    theta = mir.grad(np.zeros(p) if init is None else init)
    for _ in range(check_positive_int(epochs, "epochs")):
        for i in rng.permutation(n):
            w = mir.grad_conj(theta)
            theta = theta - lr * (P[i] @ w - y[i]) * P[i]
    return mir.grad_conj(theta)

