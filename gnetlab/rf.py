"""Deep random-features models with Gaussian or one-bit hidden weights, and their trained readouts.

Reference: arXiv 2510.16250 (one-bit quantisation of random features); notation of NOTES.md section 3.

Model
-----
``x^(0) = x`` in R^d, ``x^(l) = phi(W_l x^(l-1))`` for l = 1..L, ``W_l`` of shape ``(d_l, d_(l-1))``:

- ``weights="gaussian"``: ``W_l = G_l / sqrt(d_(l-1))``, ``G_l`` i.i.d. N(0, 1) (variance 1/fan-in);
- ``weights="onebit"``: ``W_l = sign(G_l) / sqrt(d_(l-1))`` (sign(0) = +1), the one-bit quantisation
  of *the same* Gaussian draw, so a Gaussian and a one-bit model built with the same seed are paired.
  (The paper's reference table calls these weights "rademacher".)

Only the hidden layers are random and fixed; a linear readout ``a^T x^(L)`` is trained. The
one-bit forward pass runs on the packed sign kernels (``gnetlab.sign_weight_matmul``,
``backend="kernel"``) or on the obviously-correct float reference ``x @ (sign(W)/sqrt(fan_in)).T``
(``backend="reference"``); the Gaussian one on float32 BLAS.

Readouts
--------
- :func:`min_norm_interpolate`: ``a = Phi^T (Phi Phi^T)^-1 y``, the limit of (S)GD from 0; Cholesky of
  the n x n Gram in float64; needs n < p.
- :func:`mirror_interpolate`: the limit of stochastic mirror descent from ``init`` with potential psi
  (Azizan & Hassibi, ICLR 2019): ``argmin D_psi(a, init)`` subject to ``Phi a = y``. Solved on the n-dim
  dual by damped Newton: ``a = grad psi*(grad psi(init) + Phi^T lam)`` with ``Phi a = y``.
  Mirrors (separable, :class:`Mirror`): ``"l2"`` (psi = |a|^2/2), ``"lq"`` (psi = sum |a_i|^q / q, q > 1)
  and ``"negentropy"``.

Negative entropy: the paper writes psi(a) = sum |a_i| log |a_i|, which is not convex on R (and its
gradient is -inf at 0 from both sides), so some domain choice is needed. We use the *hypentropy*
psi_beta(a) = sum a_i arcsinh(a_i / beta) - sqrt(a_i^2 + beta^2) (Ghai, Hazan, Singer, ALT 2020), which
is strictly convex on all of R, equals beta-scaled l2 for |a| << beta and ``|a| log|a|`` (up to linear
terms) for |a| >> beta. It is *exactly* the symmetric split a = u - v, u, v > 0 with the negative
entropy sum u log u + v log v on the positive orthant (exponentiated gradient +-) started at
u0 = v0 = beta/2: both give the interpolant ``a = beta sinh(grad psi(init) + Phi^T lam)``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import scipy.linalg

from ._validation import as_array, check_choice, check_positive_int, check_real, resolve_rng

__all__ = [
    "ACTIVATIONS",
    "resolve_activation",
    "RandomFeatures",
    "InterpolationResult",
    "min_norm_interpolate",
    "min_norm_teacher_averaged_mse",
    "teacher_averaged_mse_by_depth",
    "Mirror",
    "L2Mirror",
    "LqMirror",
    "NegEntropyMirror",
    "resolve_mirror",
    "mirror_interpolate",
    "stochastic_mirror_descent",
    "draw_teacher",
    "mse",
    "one_hot",
    "accuracy",
    "synthetic_experiment",
    "mnist_experiment",
]

# --------------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------------


def _relu(x):
    return np.maximum(x, 0.0)


def _linear(x):
    return x


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "relu": _relu,
    "linear": _linear,
}


def resolve_activation(activation) -> tuple[str, Callable[[np.ndarray], np.ndarray]]:
    """``(name, function)`` for a registered name or a vectorised callable (its name is its __name__)."""
    if isinstance(activation, str):
        check_choice(activation, "activation", ACTIVATIONS)
        return activation, ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"activation: expected one of {', '.join(map(repr, ACTIVATIONS))} or a callable "
                        f"acting elementwise on numpy arrays, got {activation!r} ({type(activation).__name__})")
    return getattr(activation, "__name__", "custom"), activation


def _check_widths(widths, name: str = "widths") -> tuple[int, ...]:
    if isinstance(widths, (int, np.integer)) and not isinstance(widths, bool):
        widths = (widths,)
    if isinstance(widths, (str, bytes)):
        raise TypeError(f"{name}: expected a sequence of positive integers, got {widths!r} (str)")
    try:
        widths = tuple(widths)
    except TypeError:
        raise TypeError(f"{name}: expected a sequence of positive integers, got {widths!r}") from None
    if not widths:
        raise ValueError(f"{name}: expected at least one value, got an empty sequence")
    return tuple(check_positive_int(w, f"{name}[{i}]") for i, w in enumerate(widths))


def _kernels():
    """The bit kernels (issue 3). Imported lazily so that this module works without them."""
    try:
        from . import pack_signs, sign_weight_matmul  # type: ignore[attr-defined]
    except ImportError as exc:  # pragma: no cover - depends on the kernels being installed
        raise ImportError("backend='kernel' needs gnetlab.pack_signs and gnetlab.sign_weight_matmul (bit "
                          "kernels); use backend='reference' for the float reference path") from exc
    return pack_signs, sign_weight_matmul


_THREADPOOL_CONTROLLER = None


def _blas_threads_now() -> int:
    """BLAS threads currently allowed in this process (threadpoolctl's view)."""
    info = [i["num_threads"] for i in _controller().info() if i.get("user_api") == "blas"]
    return max(info, default=1)


def _controller():
    global _THREADPOOL_CONTROLLER
    if _THREADPOOL_CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _THREADPOOL_CONTROLLER = ThreadpoolController()
    return _THREADPOOL_CONTROLLER


def _blas_threads(n: int):
    """Context capping BLAS/LAPACK threads at n. Small n x n factorisations and matrix-vector products
    run single-threaded: OpenBLAS's threads cost far more than they save there, and on a busy 2-core
    machine waking them made a 200 x 200 Cholesky take 0.3 s instead of 0.7 ms."""
    return _controller().limit(limits=int(n), user_api="blas")


# --------------------------------------------------------------------------------------------------
# The random-features map
# --------------------------------------------------------------------------------------------------


class RandomFeatures:
    """A fixed random network ``x -> x^(L)`` of depth ``L = len(widths)``.

    Parameters
    ----------
    input_dim: d.
    widths: hidden widths (d_1, ..., d_L).
    activation: "tanh", "relu", "linear" or a callable acting elementwise on float32 arrays.
    weights: "gaussian" or "onebit" (see the module docstring). Same seed -> paired draws.
    seed: int or numpy Generator (required).
    backend: forward pass of one-bit layers: "kernel" (packed sign kernels) or "reference"
        (float32 ``x @ (sign(W)/sqrt(fan_in)).T``). Ignored for Gaussian weights (float32 BLAS).

    Shapes: ``transform(X (n, d)) -> (n, d_L)`` float32 (or a list over layers).
    """

    def __init__(self, input_dim: int, widths: Sequence[int], *, activation="tanh",
                 weights: str = "gaussian", seed, backend: str = "kernel"):
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.widths = _check_widths(widths)
        self.activation_name, self._phi = resolve_activation(activation)
        self.activation = activation
        self.weights = check_choice(weights, "weights", ("gaussian", "onebit"))
        self.backend = check_choice(backend, "backend", ("kernel", "reference"))
        rng = resolve_rng(seed)
        dims = (self.input_dim, *self.widths)
        self._dense: list[np.ndarray | None] = []
        self._signs: list[np.ndarray | None] = []
        self._packed: list[np.ndarray | None] = []
        for i in range(self.depth):
            g = rng.standard_normal((dims[i + 1], dims[i]), dtype=np.float32)
            if self.weights == "gaussian":
                g *= np.float32(1.0 / math.sqrt(dims[i]))
                self._dense.append(g)
                self._signs.append(None)
            else:
                self._dense.append(None)
                self._signs.append(np.where(g >= 0, np.int8(1), np.int8(-1)))
            self._packed.append(None)

    def to_onebit(self) -> "RandomFeatures":
        """The one-bit quantisation of this Gaussian model: ``sign(W_l)/sqrt(fan_in)`` of the same draw.

        Identical to ``RandomFeatures(..., weights="onebit")`` with the same seed, without redrawing."""
        if self.weights != "gaussian":
            raise ValueError("to_onebit: the model already has one-bit weights")
        new = object.__new__(RandomFeatures)
        new.__dict__.update(self.__dict__)
        new.weights = "onebit"
        new._dense = [None] * self.depth
        new._signs = [np.where(w >= 0, np.int8(1), np.int8(-1)) for w in self._dense]
        new._packed = [None] * self.depth
        return new

    def _check_layer(self, layer) -> int:
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < self.depth:
            raise ValueError(f"layer: expected a hidden-layer index in [0, {self.depth}) (0-based), got {layer!r}")
        return int(layer)

    @property
    def depth(self) -> int:
        return len(self.widths)

    @property
    def dims(self) -> tuple[int, ...]:
        return (self.input_dim, *self.widths)

    def __repr__(self) -> str:
        return (f"RandomFeatures(input_dim={self.input_dim}, widths={self.widths}, "
                f"activation={self.activation_name!r}, weights={self.weights!r})")

    def scale(self, layer: int) -> float:
        """The weight scale 1/sqrt(fan_in) of hidden layer ``layer`` (0-based)."""
        layer = self._check_layer(layer)
        return 1.0 / math.sqrt(self.dims[layer])

    def layer_weight(self, layer: int) -> np.ndarray:
        """Dense float32 ``W_l`` (d_l, d_(l-1)) of hidden layer ``layer`` (0-based), scale included."""
        layer = self._check_layer(layer)
        if self._dense[layer] is not None:
            return self._dense[layer]
        return self._signs[layer].astype(np.float32) * np.float32(self.scale(layer))

    def layer_signs(self, layer: int) -> np.ndarray:
        """int8 +-1 signs of a one-bit layer (d_l, d_(l-1))."""
        layer = self._check_layer(layer)
        if self._signs[layer] is None:
            raise ValueError("layer_signs: only one-bit models store signs")
        return self._signs[layer]

    def packed_weights(self, layer: int):
        """:class:`gnetlab.bits.PackedBits` of a one-bit layer: words (d_l, ceil(d_(l-1)/64)) uint64."""
        layer = self._check_layer(layer)
        if self._packed[layer] is None:
            pack_signs, _ = _kernels()
            self._packed[layer] = pack_signs(self.layer_signs(layer))
        return self._packed[layer]

    def _linear(self, x: np.ndarray, layer: int, backend: str) -> np.ndarray:
        if self.weights == "gaussian":
            return x @ self._dense[layer].T
        if backend == "kernel":
            _, matmul = _kernels()
            out = matmul(x, self.packed_weights(layer), scale=self.scale(layer))
            return np.asarray(out, dtype=np.float32)
        # float reference: sign(W)/sqrt(fan_in) materialised in float32
        return x @ self.layer_weight(layer).T

    def transform(self, X, *, all_layers: bool = False, backend: str | None = None):
        """Features of X (n, d): ``x^(L)`` (n, d_L) float32, or ``[x^(1), ..., x^(L)]`` if all_layers."""
        backend = self.backend if backend is None else check_choice(backend, "backend", ("kernel", "reference"))
        X = as_array(X, "X", dtype_kind="f", ndim=2, finite=True)
        if X.shape[1] != self.input_dim:
            raise ValueError(f"X: expected {self.input_dim} columns (input_dim), got shape {X.shape}")
        with np.errstate(over="ignore"):  # overflow is reported below, by name
            x = np.ascontiguousarray(X, dtype=np.float32)
        if not np.isfinite(x).all():
            raise ValueError(f"X: values beyond the float32 range (max |X| = {float(np.abs(X).max()):.3g}); "
                             "features are computed in float32, rescale X first")
        outs = []
        for i in range(self.depth):
            h = self._linear(x, i, backend)
            if self.activation_name == "tanh" and self._phi is np.tanh:
                np.tanh(h, out=h)
            elif self._phi is _relu:
                np.maximum(h, 0.0, out=h)
            else:
                res = np.asarray(self._phi(h))
                if res.shape != h.shape:
                    raise ValueError(f"activation: expected an elementwise function, output shape {res.shape} "
                                     f"!= input shape {h.shape}")
                h = res.astype(np.float32, copy=False)
            if not np.isfinite(h).all():
                raise FloatingPointError(f"transform: layer {i + 1} produced non-finite features")
            x = h
            outs.append(x)
        return outs if all_layers else outs[-1]


# --------------------------------------------------------------------------------------------------
# Readouts: min-norm and mirror-descent interpolation
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InterpolationResult:
    """A fitted readout and its tolerance report.

    coef: (p,) or (p, k) float64. relative_residual: |Phi coef - y|_2 / |y|_2 (computed in float64).
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

    features: Phi (n, p) with n < p; targets: y (n,) or (n, k) (one-hot for classification).
    The Gram matrix is formed and Cholesky-factored in float64 (stable for float32 features); a
    singular or numerically singular Gram raises ValueError.
    """
    Phi, y = _check_design(features, targets)
    n, p = Phi.shape
    P = Phi.astype(np.float64, copy=False)
    big = n * n * p > 2e8
    with _blas_threads(_blas_threads_now() if big else 1):
        gram = P @ P.T
    with _blas_threads(1):
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
    relative per trial at d_L = 4096 vs 0.2% here). train_features (n, p), test_features (m, p);
    gram_cholesky: the lower Cholesky factor of ``Phi Phi^T`` if already computed, e.g.
    ``min_norm_interpolate(...).info["gram_cholesky"]`` (only its lower triangle is read).
    """
    Phi = as_array(train_features, "train_features", dtype_kind="f", ndim=2, finite=True, allow_empty=False)
    T = as_array(test_features, "test_features", dtype_kind="f", ndim=2, finite=True, allow_empty=False)
    n, p = Phi.shape
    if T.shape[1] != p:
        raise ValueError(f"test_features: expected {p} columns like train_features, got {T.shape[1]}")
    if n >= p:
        raise ValueError(f"train_features: interpolation needs n < p, got n = {n}, p = {p}")
    threads = _blas_threads_now()
    with _blas_threads(threads):
        cross = (Phi.astype(np.float32, copy=False) @ T.astype(np.float32, copy=False).T).astype(np.float64)
    if gram_cholesky is None:
        P = Phi.astype(np.float64, copy=False)
        with _blas_threads(threads):
            gram = P @ P.T
        with _blas_threads(1):
            try:
                c = scipy.linalg.cholesky(gram, lower=True, check_finite=False)
            except np.linalg.LinAlgError as exc:
                raise ValueError("train_features: the Gram matrix Phi Phi^T is singular") from exc
    else:
        c = as_array(gram_cholesky, "gram_cholesky", dtype_kind="f", ndim=2, finite=True).astype(np.float64)
        if c.shape != (n, n):
            raise ValueError(f"gram_cholesky: expected shape ({n}, {n}), got {c.shape}")
    with _blas_threads(threads):
        K = scipy.linalg.solve_triangular(c, cross, lower=True, check_finite=False)
    total = float(np.einsum("ij,ij->", T, T, dtype=np.float64))
    return (total - float(np.einsum("ij,ij->", K, K))) / (p * T.shape[0])


def teacher_averaged_mse_by_depth(model: "RandomFeatures", X_train, X_test, *, backend: str | None = None) -> np.ndarray:
    """:func:`min_norm_teacher_averaged_mse` of the depth-l readout of ``model`` for l = 1..L, on the
    given training and test inputs (any input distribution: Gaussian, images, ...). Returns (L,) float64."""
    if not isinstance(model, RandomFeatures):
        raise TypeError(f"model: expected a gnetlab.rf.RandomFeatures, got {type(model).__name__}")
    X_train = as_array(X_train, "X_train", dtype_kind="f", ndim=2, finite=True, allow_empty=False)
    X_test = as_array(X_test, "X_test", dtype_kind="f", ndim=2, finite=True, allow_empty=False)
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_test: expected {X_train.shape[1]} columns like X_train, got shape {X_test.shape}")
    n = X_train.shape[0]
    feats = model.transform(np.concatenate([X_train, X_test]).astype(np.float32), all_layers=True, backend=backend)
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
    """psi = sum |a_i|^q / q, q > 1 (q -> 1: sparse, q = 2: l2, large q: spread-out solutions)."""

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
    """A :class:`Mirror` from an instance or a name: "l2", "lq" (needs q), "negentropy" (needs beta)."""
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
    with _blas_threads(threads):
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

    features (n, p), n < p; targets (n,) or (n, k) (columns solved independently); init (p,) default 0.
    mirror: "l2", "lq" (with q), "negentropy" (with beta; default ``beta = 1/p``, i.e. exponentiated
        gradient +- from the uniform u0 = v0 = 1/(2p)) or a :class:`Mirror`.
    Stops when ``|Phi a - y|_2 <= rtol |y|_2`` (``converged=True``), or when no descent step is left
    (float64 floor) or max_iter is hit (``converged=False``, no exception: read the report).
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

    threads = _blas_threads_now()
    with _blas_threads(1):
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
    Returns the final readout (p,). Used to check that :func:`mirror_interpolate` is SMD's limit.
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


# --------------------------------------------------------------------------------------------------
# Teacher, metrics
# --------------------------------------------------------------------------------------------------


def draw_teacher(p: int, *, seed) -> np.ndarray:
    """Teacher readout ``a* ~ N(0, I/p)`` (p,) float64 (the paper's setting; labels y = Phi a*)."""
    p = check_positive_int(p, "p")
    return resolve_rng(seed).standard_normal(p) / math.sqrt(p)


def mse(pred, target) -> float:
    """Mean squared error averaged over samples (and outputs)."""
    pred = as_array(pred, "pred", dtype_kind="fiu", allow_empty=False).astype(np.float64)
    target = as_array(target, "target", dtype_kind="fiu", allow_empty=False).astype(np.float64)
    if pred.shape != target.shape:
        raise ValueError(f"pred: shape {pred.shape} does not match target shape {target.shape}")
    return float(np.mean((pred - target) ** 2))


def one_hot(labels, num_classes: int) -> np.ndarray:
    """(n,) int labels -> (n, num_classes) float64 one-hot targets (1 for the class, 0 elsewhere)."""
    labels = as_array(labels, "labels", dtype_kind="iu", ndim=1)
    num_classes = check_positive_int(num_classes, "num_classes")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels: expected values in [0, {num_classes}), got range [{labels.min()}, {labels.max()}]")
    out = np.zeros((labels.size, num_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


def accuracy(scores, labels) -> float:
    """Fraction of rows whose argmax equals the label (ties: the lowest index, numpy's argmax)."""
    scores = as_array(scores, "scores", dtype_kind="fiu", ndim=2, allow_empty=False)
    labels = as_array(labels, "labels", dtype_kind="iu", ndim=1)
    if labels.shape[0] != scores.shape[0]:
        raise ValueError(f"labels: expected shape ({scores.shape[0]},) to match scores {scores.shape}, "
                         f"got shape {labels.shape}")
    if scores.shape[1] == 0:
        raise ValueError(f"scores: expected at least one class column, got shape {scores.shape}")
    if np.isnan(scores).any() if scores.dtype.kind == "f" else False:
        raise ValueError("scores: contains NaN (argmax of a NaN row is meaningless)")
    return float(np.mean(np.argmax(scores, axis=1) == labels))


# --------------------------------------------------------------------------------------------------
# Experiments (the notebooks call these)
# --------------------------------------------------------------------------------------------------


def _child_seed(seed, *key: int) -> np.random.Generator:
    """Independent, order-free stream for (seed, key...) so every trial is reproducible on its own."""
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**63))
    resolve_rng(seed)  # validates
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key)))


Interpolator = Callable[[np.ndarray, np.ndarray], InterpolationResult]


def synthetic_experiment(*, input_dim: int, widths: Sequence[int], n_train: int, n_test: int, trials: int,
                         seed, weights: Iterable[str] = ("gaussian", "onebit"), activation="tanh",
                         input_var: float = 1.0, interpolators: Mapping[str, Interpolator] | None = None,
                         backend: str = "kernel", teacher_average: bool = True, show_progress: bool = True):
    """Teacher-student test MSE of random-features readouts (the paper's Figs. 1 and 2).

    Per trial: inputs ``x ~ N(0, input_var I)`` (n_train + n_test), one network of depth L =
    len(widths) per weight type (paired: the one-bit weights are the signs of the Gaussian ones), and
    for every depth l = 1..L the teacher ``y = x^(l) a*_l``, ``a*_l ~ N(0, I/d_l)`` (shared by both
    weight types), each interpolator fitted on the training part and scored on the test part. The
    depth-l model is the first l layers of the depth-L network (nested; each depth's statistics are
    those of an independent depth-l network).

    interpolators: name -> ``f(Phi, y) -> InterpolationResult``; default ``{"min_l2": min_norm_interpolate}``.
    teacher_average: for ``min_norm_interpolate`` also record :func:`min_norm_teacher_averaged_mse`
        (the same trial's test MSE averaged exactly over the teacher; NaN for other interpolators).
    Returns a tidy DataFrame: trial, weights, depth, interpolator, test_mse (one teacher per trial, the
    paper's procedure), teacher_avg_mse, relative_residual, converged, iterations, fit_seconds.
    """
    import pandas as pd

    from .progress import progress

    widths = _check_widths(widths)
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
        data_rng = _child_seed(seed, t, 0)
        X = data_rng.standard_normal((n_train + n_test, input_dim), dtype=np.float32)
        if input_var != 1.0:
            X *= np.float32(math.sqrt(input_var))
        teachers = [draw_teacher(w, seed=_child_seed(seed, t, 1, l)) for l, w in enumerate(widths)]
        gauss = RandomFeatures(input_dim, widths, activation=activation, weights="gaussian",
                               seed=_child_seed(seed, t, 2), backend=backend)
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
                     backend: str = "kernel", show_progress: bool = True):
    """Few-shot classification with random features and a min-l2 one-hot readout (the paper's MNIST runs).

    Per trial: ``per_class`` training images of every class and ``n_test`` random test images; for each
    width w, one network of depth max(depths) with all widths w per weight type (paired Gaussian /
    one-bit), and the readout of every depth in ``depths`` (nested, as in :func:`synthetic_experiment`)
    fitted by :func:`min_norm_interpolate` on one-hot targets; prediction = argmax.
    Returns a tidy DataFrame: trial, weights, width, depth, test_accuracy, train_accuracy.
    """
    import pandas as pd

    from .progress import progress

    Xtr = as_array(X_train, "X_train", dtype_kind="f", ndim=2, finite=True)
    Xte = as_array(X_test, "X_test", dtype_kind="f", ndim=2, finite=True)
    ytr = as_array(y_train, "y_train", dtype_kind="iu", ndim=1)
    yte = as_array(y_test, "y_test", dtype_kind="iu", ndim=1)
    if Xtr.shape[0] != ytr.shape[0] or Xte.shape[0] != yte.shape[0]:
        raise ValueError("y_train/y_test: expected one label per image")
    if Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(f"X_test: expected {Xtr.shape[1]} columns like X_train, got {Xte.shape[1]}")
    widths = _check_widths(widths)
    depths = _check_widths(depths, "depths")
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
        rng = _child_seed(seed, t, 0)
        idx = np.concatenate([rng.choice(np.flatnonzero(ytr == c), per_class, replace=False) for c in classes])
        tidx = rng.choice(Xte.shape[0], n_test, replace=False)
        X = np.concatenate([Xtr[idx], Xte[tidx]]).astype(np.float32)
        Y = one_hot(ytr[idx], n_classes)
        ntr = idx.size
        for wi, w in enumerate(widths):
            gauss = RandomFeatures(Xtr.shape[1], (w,) * max(depths), activation=activation, weights="gaussian",
                                   seed=_child_seed(seed, t, 1, wi), backend=backend)
            for wt in weights:
                model = gauss if wt == "gaussian" else gauss.to_onebit()
                feats = model.transform(X, all_layers=True)
                for L in depths:
                    F = feats[L - 1]
                    res = min_norm_interpolate(F[:ntr], Y)
                    with _blas_threads(1):
                        scores = F.astype(np.float64) @ res.coef
                    rows.append(dict(trial=t, weights=wt, width=w, depth=L,
                                     test_accuracy=accuracy(scores[ntr:], yte[tidx]),
                                     train_accuracy=accuracy(scores[:ntr], ytr[idx])))
                bar.update(1)
    bar.close()
    return pd.DataFrame(rows)
