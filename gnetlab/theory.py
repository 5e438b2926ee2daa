"""Gaussian-equivalence theory of deep random features and deterministic test-error predictions.

Reference: arXiv 2510.16250 (one-bit random features). The model is ``x^(l) = phi(W_l x^(l-1))``, ``W_l`` of shape ``(d_l, d_(l-1))`` with entries of
variance ``1/d_(l-1)`` (Gaussian, or one-bit ``sign(.)/sqrt(d_(l-1))``); only the readout ``a`` is
trained.

Gaussian equivalence (GE)
-------------------------
Conditionally on the weights, each layer's features are replaced by a Gaussian vector with the same
first two moments. A neuron whose pre-activation ``h_i = (W_l x^(l-1))_i`` has mean ``m_i`` and variance
``s_i`` is linearised as

    phi(h_i) ~ mu_i + rho1_i (h_i - m_i) + rho2_i xi_i,      xi_i ~ N(0, 1) independent,
    mu_i = E phi(h_i),  rho1_i = E[(h_i - m_i) phi(h_i)] / s_i,  rho2_i^2 = Var phi(h_i) - rho1_i^2 s_i,

(expectations by Gauss-Hermite quadrature, :func:`gaussian_expectation`), so that

    mu_l = E phi(h),   Sigma_l = D1 W_l Sigma_(l-1) W_l^T D1 + D2,     D1 = diag(rho1), D2 = diag(rho2^2).

For an odd activation (tanh) and centred input every ``m_i = 0``, ``mu_l = 0`` and the per-neuron
variances concentrate at ``s2 = Tr(Sigma_(l-1)) / d_(l-1)``, which is the scalar recursion
``Sigma_l = rho1^2 W Sigma W^T + rho2^2 I``.

Mean terms (non-odd activations such as ReLU). The first hidden layer then has a constant mean
``mu_1 = E phi(z) 1``; the next pre-activations have per-neuron means ``m = W_2 mu_1`` that do *not*
concentrate (``m_i ~ N(0, |mu_1|^2 / d_1)``), so each neuron gets its own ``(mu_i, rho1_i, rho2_i)``
evaluated at ``N(m_i, s_i)``. This is the per-neuron linearisation used in the multi-layer
Gaussian-equivalence literature for non-centred activations (e.g. Schroder, Cui, Dmitriev, Loureiro,
ICML 2023, "Deterministic equivalent and error universality of deep random features learning", who
centre the activation and track the mean separately). A readout ``a^T x`` without intercept then sees
the second-moment matrix ``M_L = Sigma_L + mu_L mu_L^T``; the predictions below use ``M_L`` in place of
``Sigma_L`` (one spiked direction; an approximation, checked against simulation in notebook 07).

Deterministic prediction of minimum-l2-norm interpolation
---------------------------------------------------------
For features ``x ~ N(0, Sigma)`` in ``R^p``, ``n < p`` samples, teacher ``y = a*^T x (+ noise)``,
``a* ~ N(0, I/p)``, the min-norm interpolant has, as ``n, p -> inf`` with ``n/p`` fixed (Hastie,
Montanari, Rosset, Tibshirani, Ann. Statist. 2022, Thm. 2 / CGMT),

    solve  Tr Sigma (Sigma + kappa)^-1 = n  for kappa > 0,        A = Tr Sigma^2 (Sigma + kappa)^-2,
    bias = kappa^2 (1/p) Tr Sigma (Sigma + kappa)^-2 / (1 - A/n),  variance = sigma^2 (A/n) / (1 - A/n).

The paper's own scalar system (its eq. 36) cannot be evaluated as printed (n is absent, it divides by
``1 - d_(i+1)/d_i = 0`` for equal widths, and indices are undefined for L <= 2); the formula above is
the standard equivalent that we solve instead.

Everything depends on ``Sigma_L`` only through ``G(kappa) = (1/p) Tr (Sigma_L + kappa)^-1`` and its
derivative, which we get either

- from realised weights (:func:`covariance_recursion` then eigenvalues, :class:`EigenSpectrum`), or
- without any matrix (:class:`DeterministicEquivalent`): the deterministic equivalent of
  ``B = W Sigma W^T`` (``W`` with i.i.d. entries of variance ``1/k``; the same limit for Gaussian and
  one-bit weights) chained through the layers, evaluated exactly along a one-parameter curve, so an
  L = 5, d = 8192, widths 4096 prediction costs milliseconds.

For other interpolators (mirror descent) there is no closed form here; :func:`ge_monte_carlo` draws
Gaussian-equivalent features from the linearised network and computes the exact test error of each
interpolant, i.e. the universality theorem's Gaussian model evaluated by Monte Carlo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from ._validation import (as_array, check_callable, check_choice, check_index, check_positive_int, check_real,
                          check_sequence, check_widths, resolve_rng)
from .activations import resolve_activation
from .threads import blas_threads

__all__ = [
    "gaussian_expectation",
    "Linearization",
    "linearize",
    "scalar_recursion",
    "LayerMoments",
    "covariance_recursion",
    "EigenSpectrum",
    "DeterministicEquivalent",
    "RiskPrediction",
    "ridgeless_risk",
    "predict_min_norm_mse",
    "GaussianEquivalentNetwork",
    "ge_monte_carlo",
]


# --------------------------------------------------------------------------------------------------
# Gauss-Hermite expectations and the per-neuron linearisation
# --------------------------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _hermite_rule(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss-Hermite nodes and weights normalised to a N(0, 1) expectation."""
    if order > 300:  # numpy's hermegauss overflows a little beyond this
        raise ValueError(f"order: expected at most 300 Gauss-Hermite nodes, got {order}")
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    return nodes, weights / math.sqrt(2.0 * math.pi)


def _resolve_activation(activation) -> tuple[str, Callable[[np.ndarray], np.ndarray]]:
    return resolve_activation(activation)


def gaussian_expectation(f: Callable[[np.ndarray], np.ndarray], mean=0.0, var=1.0, *,
                         order: int = 121) -> np.ndarray:
    """``E f(m + sqrt(v) z)``, ``z ~ N(0, 1)``, by Gauss-Hermite quadrature with ``order`` nodes.

    ``mean`` and ``var`` broadcast against each other (one expectation per element); ``f`` must be
    vectorised over numpy arrays. Exact for polynomials of degree < 2 order; for kinks (ReLU) the
    error decays like order^-1.5 (about 1e-5 at the default).
    """
    order = check_positive_int(order, "order")
    check_callable(f, "f")
    mean = as_array(mean, "mean", dtype_kind="fiu").astype(np.float64)
    var = as_array(var, "var", dtype_kind="fiu").astype(np.float64)
    if np.any(var < 0) or not np.all(np.isfinite(var)) or not np.all(np.isfinite(mean)):
        raise ValueError("var: expected finite non-negative variances and finite means")
    nodes, weights = _hermite_rule(order)
    m, v = np.broadcast_arrays(mean, var)
    pts = m[..., None] + np.sqrt(v)[..., None] * nodes
    vals = np.asarray(f(pts), dtype=np.float64)
    if vals.shape != pts.shape:
        raise ValueError(f"f: expected an elementwise function, output shape {vals.shape} != input {pts.shape}")
    return vals @ weights


@dataclass(frozen=True)
class Linearization:
    """Gaussian-equivalent linearisation of ``phi`` at ``h ~ N(mean_in, var_in)`` (arrays broadcast).

    ``phi(h) ~ mu + rho1 (h - mean_in) + rho2 xi``; ``second_moment = E phi(h)^2``.
    """

    mean_in: np.ndarray
    var_in: np.ndarray
    mu: np.ndarray
    rho1: np.ndarray
    rho2_sq: np.ndarray
    second_moment: np.ndarray

    @property
    def variance(self) -> np.ndarray:
        """Var phi(h) = rho1^2 var_in + rho2^2."""
        return self.second_moment - self.mu**2


def linearize(activation, var, mean=0.0, *, order: int = 121) -> Linearization:
    """The Gaussian-equivalence coefficients of ``activation`` at ``N(mean, var)``.

    activation: "tanh", "relu", "linear" or a vectorised callable. ``var`` must be > 0.
    For tanh at ``var = 1`` this gives rho1 = 0.6057, rho2^2 = 0.0274 (the paper's setting).
    Gauss-Hermite with ``order`` nodes (at most 300) for every activation except the registered
    "relu", which uses its closed form (quadrature converges only like 1/order at a kink; a callable
    with kinks gets that slow convergence, so raise ``order``).
    """
    name, phi = _resolve_activation(activation)
    var = as_array(var, "var", dtype_kind="fiu").astype(np.float64)
    if np.any(var <= 0) or not np.all(np.isfinite(var)):
        raise ValueError("var: expected finite, strictly positive pre-activation variances")
    mean = as_array(mean, "mean", dtype_kind="fiu").astype(np.float64)
    if not np.all(np.isfinite(mean)):
        raise ValueError("mean: expected finite pre-activation means")
    m, v = np.broadcast_arrays(mean, var)
    sd = np.sqrt(v)
    if name == "relu" and isinstance(activation, str):
        # Gauss-Hermite converges only like 1/order at the kink (3e-3 error at order 121): closed form.
        from scipy.special import ndtr

        t = m / sd
        cdf, pdf = ndtr(t), np.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)
        mu = m * cdf + sd * pdf
        second = (m * m + v) * cdf + m * sd * pdf
        rho1 = cdf  # Stein's lemma: E phi'(h)
        rho2_sq = np.maximum(second - mu**2 - rho1**2 * v, 0.0)
        return Linearization(mean_in=m.copy(), var_in=v.copy(), mu=mu, rho1=rho1, rho2_sq=rho2_sq,
                             second_moment=second)
    nodes, weights = _hermite_rule(check_positive_int(order, "order"))
    pts = m[..., None] + sd[..., None] * nodes
    vals = np.asarray(phi(pts), dtype=np.float64)
    if vals.shape != pts.shape:
        raise ValueError("activation: expected an elementwise function of a numpy array")
    mu = vals @ weights
    second = (vals**2) @ weights
    rho1 = ((vals * nodes) @ weights) / sd  # E[(h - m) phi(h)] / v with h - m = sd * z
    rho2_sq = np.maximum(second - mu**2 - rho1**2 * v, 0.0)
    return Linearization(mean_in=m.copy(), var_in=v.copy(), mu=mu, rho1=rho1, rho2_sq=rho2_sq,
                         second_moment=second)


def scalar_recursion(activation, depth: int, *, input_var: float = 1.0,
                     order: int = 121) -> list[Linearization]:
    """The scalar recursion for centred features: ``s2_0 = input_var``, at layer l the
    linearisation at ``N(0, s2_(l-1))`` and ``s2_l = rho1^2 s2_(l-1) + rho2^2`` (= E phi^2 for odd phi).

    Exact in the limit for odd activations with centred isotropic input; for non-odd activations use
    :func:`covariance_recursion` (mean terms).
    """
    depth = check_positive_int(depth, "depth")
    s2 = check_real(input_var, "input_var", minimum=0, low_open=True)
    out = []
    for _ in range(depth):
        lin = linearize(activation, s2, order=order)
        out.append(lin)
        s2 = float(lin.rho1**2 * s2 + lin.rho2_sq)
    return out


# --------------------------------------------------------------------------------------------------
# Realised-weights recursion
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerMoments:
    """Gaussian-equivalent moments of one hidden layer's features, conditional on the weights.

    mean (d_l,), cov (d_l, d_l) (``Sigma_l``), and the per-neuron linearisation (arrays (d_l,)).
    """

    mean: np.ndarray
    cov: np.ndarray
    linearization: Linearization

    @property
    def second_moment(self) -> np.ndarray:
        """``Sigma_l + mu_l mu_l^T``: what a readout without intercept sees."""
        return self.cov + np.outer(self.mean, self.mean)


def _weights_of(model_or_weights) -> tuple[list[np.ndarray], object]:
    # Any object with ``depth``, ``layer_weight(i)`` and ``activation`` (a random-features map such as
    # gnetlab.rf.RandomFeatures): the theory reads arrays and never needs the class itself.
    if all(hasattr(model_or_weights, a) for a in ("depth", "layer_weight", "activation")):
        return [model_or_weights.layer_weight(i) for i in range(model_or_weights.depth)], model_or_weights.activation
    ws = [as_array(w, f"model[{i}]", dtype_kind="f", finite=True)
          for i, w in enumerate(check_sequence(model_or_weights, "model (a random-features map or weight matrices)"))]
    return ws, None


def covariance_recursion(model, *, activation=None, input_var: float = 1.0, input_cov=None,
                         input_mean=None, dtype=np.float64, order: int = 121,
                         centered: bool | None = None) -> list[LayerMoments]:
    """Gaussian-equivalent (mean, covariance) of every hidden layer from realised weights.

    model: a :class:`gnetlab.rf.RandomFeatures` (its activation is used) or a sequence of weight
        matrices ``W_l`` (d_l, d_(l-1)) together with ``activation``.
    input: ``x ~ N(input_mean, input_cov)``; by default ``N(0, input_var I)`` (the paper's plotted
        setting is ``input_var = 1``; its text's ``I/d`` would be ``input_var = 1/d``).
    dtype: float64 (default) or float32 for the big GEMMs (an L = 5, d = 8192, widths 4096 recursion is
        ~1e12 flops; float32 halves the time and changes predictions by < 1e-5 relative).
    centered: use the scalar variance ``Tr Sigma / d`` for every neuron and zero means (the
        recursion). Default: True for odd activations with zero input mean (tanh, linear), else the
        per-neuron linearisation with mean terms.

    Returns one :class:`LayerMoments` per hidden layer. Cost: ``d_1^2 d_0 + 2 sum_l d_l^2 d_(l-1)``
    multiply-adds.
    """
    weights, model_act = _weights_of(model)
    if activation is None:
        activation = model_act
    if activation is None:
        raise TypeError("activation: required when model is a sequence of weight matrices")
    name, _ = _resolve_activation(activation)
    if not weights:
        raise ValueError("model: expected at least one weight matrix")
    d0 = weights[0].shape[1] if weights[0].ndim == 2 else 0
    for i, w in enumerate(weights):
        if w.ndim != 2:
            raise ValueError(f"model: weight {i} must be 2-D, got shape {w.shape}")
        if i and w.shape[1] != weights[i - 1].shape[0]:
            raise ValueError(f"model: weight {i} has fan-in {w.shape[1]} but layer {i - 1} has width "
                             f"{weights[i - 1].shape[0]}")
    if input_cov is not None:
        cov = as_array(input_cov, "input_cov", dtype_kind="f", ndim=2, finite=True).astype(np.float64)
        if cov.shape != (d0, d0):
            raise ValueError(f"input_cov: expected shape ({d0}, {d0}), got {cov.shape}")
    else:
        input_var = check_real(input_var, "input_var", minimum=0, low_open=True)
        cov = None
    mean = (np.zeros(d0) if input_mean is None
            else as_array(input_mean, "input_mean", dtype_kind="f", ndim=1, finite=True).astype(np.float64))
    if mean.shape != (d0,):
        raise ValueError(f"input_mean: expected shape ({d0},), got {mean.shape}")
    if centered is None:
        centered = name in ("tanh", "linear") and not np.any(mean)

    out: list[LayerMoments] = []
    for i, w in enumerate(weights):
        wd = np.asarray(w, dtype=dtype)
        if cov is None:  # isotropic input: W (v I) W^T
            pre = (wd @ wd.T).astype(np.float64) * input_var
        else:
            cd = cov.astype(dtype, copy=False)
            pre = (wd @ (cd @ wd.T)).astype(np.float64)
            pre = 0.5 * (pre + pre.T)
        pre_var = np.diag(pre).copy()
        if centered:
            s2 = np.full_like(pre_var, pre_var.mean())
            lin = linearize(activation, s2, 0.0, order=order)
            m_out = np.zeros_like(pre_var)
        else:
            m_pre = np.asarray(w, dtype=np.float64) @ mean
            lin = linearize(activation, np.maximum(pre_var, 1e-300), m_pre, order=order)
            m_out = lin.mu
        r1 = lin.rho1
        cov = (r1[:, None] * pre) * r1[None, :]
        cov[np.diag_indices_from(cov)] += lin.rho2_sq
        mean = m_out
        out.append(LayerMoments(mean=mean, cov=cov, linearization=lin))
    return out


# --------------------------------------------------------------------------------------------------
# Spectra: G(kappa) = (1/p) Tr (Sigma + kappa)^-1 from eigenvalues or from the deterministic equivalent
# --------------------------------------------------------------------------------------------------

def _bisect_log(f: Callable[[float], float], lo: float, hi: float, *, iters: int = 200,
                rtol: float = 1e-13) -> float:
    """Root of a function increasing in log x on [lo, hi] (f(lo) < 0 < f(hi)) by bisection in log x."""
    a, b = math.log(lo), math.log(hi)
    for _ in range(iters):
        mid = 0.5 * (a + b)
        if f(math.exp(mid)) < 0:
            a = mid
        else:
            b = mid
        if b - a < rtol:
            break
    return math.exp(0.5 * (a + b))


@dataclass(frozen=True)
class _Resolvent:
    kappa: float
    g: float  # (1/p) Tr (Sigma + kappa)^-1
    dg: float  # d g / d kappa  (negative)


class EigenSpectrum:
    """A covariance given by its eigenvalues (realised weights): ``G(kappa) = mean(1/(lambda + kappa))``."""

    def __init__(self, eigenvalues):
        lam = as_array(eigenvalues, "eigenvalues", dtype_kind="f", ndim=1, finite=True, allow_empty=False)
        lam = lam.astype(np.float64)
        if lam.min() < -1e-8 * max(lam.max(), 1.0):
            raise ValueError(f"eigenvalues: a covariance must be positive semi-definite, min eigenvalue {lam.min():.3g}")
        self.eigenvalues = np.clip(lam, 0.0, None)
        self.dim = lam.size

    @classmethod
    def from_matrix(cls, cov) -> "EigenSpectrum":
        import scipy.linalg

        cov = as_array(cov, "cov", dtype_kind="f", ndim=2, finite=True)
        # single-threaded: the tridiagonalisation is level-2 BLAS, where OpenBLAS threads cost more than
        # they give (and on a loaded machine 10x more)
        with blas_threads(1):
            return cls(scipy.linalg.eigvalsh(cov, overwrite_a=False, check_finite=False, driver="evd"))

    def resolvent(self, kappa: float) -> _Resolvent:
        r = 1.0 / (self.eigenvalues + kappa)
        return _Resolvent(kappa, float(r.mean()), float(-(r**2).mean()))

    def solve_kappa(self, n: int) -> _Resolvent:
        """kappa > 0 with Tr Sigma (Sigma + kappa)^-1 = n, i.e. kappa G(kappa) = 1 - n/p."""
        check_index(n, "n", 1, self.dim - 1)
        target = 1.0 - n / self.dim
        lam = self.eigenvalues
        scale = float(lam.mean()) or 1.0
        f = lambda k: k * float((1.0 / (lam + k)).mean()) - target
        lo, hi = 1e-14 * scale, 1e14 * scale
        if f(lo) >= 0:
            raise ValueError("n: the covariance has too many zero eigenvalues to interpolate "
                             f"n = {n} samples (rank < n)")
        return self.resolvent(_bisect_log(f, lo, hi))


class DeterministicEquivalent:
    """Limiting spectrum of the Gaussian-equivalent ``Sigma_L`` of a deep random-features map, no matrices.

    Layer recursion ``Sigma_l = a_l W_l Sigma_(l-1) W_l^T + c_l I`` with ``a_l = rho1^2``,
    ``c_l = rho2^2`` from :func:`scalar_recursion` (centred activations). For ``B = W Sigma W^T``,
    ``W`` (m, k) with i.i.d. entries of variance 1/k (Gaussian or +-1/sqrt(k): the limit is the same),
    the deterministic equivalent of ``g_B(u) = (1/m) Tr (B + u)^-1`` is, with ``gamma = m/k`` and
    ``e = gamma g_B(u)``,

        u = (gamma - 1)/e + G_(l-1)(1/e) / e^2,      G_(l-1)(v) = (1/k) Tr (Sigma_(l-1) + v)^-1,

    explicit in ``e``. Setting ``e_(l+1) = 1 / kappa_l`` chains the layers: one free parameter ``e_1``
    gives ``(kappa_L, G_L(kappa_L), G_L'(kappa_L))`` in O(L) operations, and ``kappa_L`` decreases
    monotonically in ``e_1``, so any equation in kappa is a 1-D bisection in ``log e_1``.

    Parameters: input_dim d, widths (d_1..d_L), activation (odd: tanh, linear; or a callable that is
    odd), input ``N(0, input_var I)``.
    """

    def __init__(self, input_dim: int, widths: Sequence[int], activation="tanh", *,
                 input_var: float = 1.0, order: int = 121):
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.widths = check_widths(widths)
        name, phi = _resolve_activation(activation)
        probe = np.linspace(0.1, 3.0, 7)
        if not np.allclose(phi(-probe), -phi(probe), atol=1e-12):
            raise ValueError(f"activation: the deterministic equivalent needs an odd activation (zero-mean "
                             f"features); {name!r} is not odd. Use covariance_recursion (mean terms) instead")
        self.input_var = check_real(input_var, "input_var", minimum=0, low_open=True)
        self.layers = scalar_recursion(activation, len(self.widths), input_var=input_var, order=order)
        dims = (self.input_dim, *self.widths)
        self.gammas = [dims[i + 1] / dims[i] for i in range(len(self.widths))]
        self.dim = self.widths[-1]

    def _chain(self, e1: float) -> _Resolvent | None:
        """(kappa_L, G_L, G_L') along the curve parametrised by e_1 > 0; None when an intermediate
        kappa_l <= 0 (e_1 beyond the valid range, i.e. kappa_L below every attainable value)."""
        v = self.input_var
        x = 1.0 / e1
        gp, dgp = 1.0 / (v + x), -1.0 / (v + x) ** 2  # Sigma_0 = v I
        e = e1
        last = len(self.layers) - 1
        for i, (lin, gamma) in enumerate(zip(self.layers, self.gammas)):
            a, c = float(lin.rho1**2), float(lin.rho2_sq)
            u = (gamma - 1.0) / e + gp / e**2
            du_de = -(gamma - 1.0) / e**2 - dgp / e**4 - 2.0 * gp / e**3
            if not du_de < 0:
                return None
            kappa = a * u - c
            g, dg = (e / gamma) / a, ((1.0 / gamma) / du_de) / a**2
            if i < last:
                if not kappa > 0:
                    return None
                e, gp, dgp = 1.0 / kappa, g, dg  # next layer needs G_l at 1/e_(l+1) = kappa_l
        return _Resolvent(kappa, g, dg)

    def solve_kappa(self, n: int) -> _Resolvent:
        """kappa > 0 with Tr Sigma_L (Sigma_L + kappa)^-1 = n (needs n < d_L)."""
        check_index(n, "n", 1, self.dim - 1)
        target = 1.0 - n / self.dim

        def f(e1: float) -> float:  # increasing in e1 (kappa_L decreases in e1)
            r = self._chain(e1)
            if r is None or r.kappa <= 0:
                return 1.0
            return target - r.kappa * r.g

        lo, hi = 1e-12 / self.input_var, 1e12 / self.input_var
        r = self._chain(_bisect_log(f, lo, hi, iters=400, rtol=1e-14))
        if r is None or not r.kappa > 0:
            raise RuntimeError("solve_kappa: the deterministic-equivalent chain left its valid range")
        return r

    def resolvent(self, kappa: float) -> _Resolvent:
        """G_L and G_L' at a given kappa > 0 (bisection on the chain parameter)."""
        kappa = check_real(kappa, "kappa", minimum=0, low_open=True)

        def f(e1: float) -> float:  # increasing in e1
            r = self._chain(e1)
            if r is None or r.kappa <= 0:
                return 1.0
            return math.log(kappa) - math.log(r.kappa)

        r = self._chain(_bisect_log(f, 1e-12 / self.input_var, 1e12 / self.input_var, iters=400, rtol=1e-15))
        if r is None:
            raise RuntimeError("resolvent: the deterministic-equivalent chain left its valid range")
        return r


# --------------------------------------------------------------------------------------------------
# The min-norm prediction
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RiskPrediction:
    """Deterministic test-error prediction of min-l2 interpolation (the paper's setting)."""

    n: int
    p: int
    kappa: float
    bias: float
    variance: float

    @property
    def mse(self) -> float:
        return self.bias + self.variance


def ridgeless_risk(spectrum, n: int, *, teacher_var: float | None = None,
                   noise_var: float = 0.0) -> RiskPrediction:
    """Test MSE of min-l2 interpolation with features of covariance ``spectrum`` and ``n`` samples.

    spectrum: :class:`EigenSpectrum`, :class:`DeterministicEquivalent`, or an array of eigenvalues.
    teacher_var: per-coordinate variance of ``a*`` (default ``1/p``, the paper's ``a* ~ N(0, I/p)``).
    noise_var: label-noise variance (0 in the paper).
    """
    if not isinstance(spectrum, (EigenSpectrum, DeterministicEquivalent)):
        spectrum = EigenSpectrum(spectrum)
    p = spectrum.dim
    n = check_positive_int(n, "n")
    if n >= p:
        raise ValueError(f"n: interpolation theory needs n < p (overparametrised); got n = {n}, p = {p}")
    tv = 1.0 / p if teacher_var is None else check_real(teacher_var, "teacher_var", minimum=0)
    noise_var = check_real(noise_var, "noise_var", minimum=0)
    r = spectrum.solve_kappa(n)
    k, g, dg = r.kappa, r.g, r.dg
    a_over_n = p * (1.0 - 2.0 * k * g - k * k * dg) / n  # A = Tr Sigma^2 (Sigma + k)^-2
    denom = 1.0 - a_over_n
    if not denom > 0:
        raise RuntimeError(f"ridgeless_risk: 1 - A/n = {denom:.3g} <= 0 (ill-posed spectrum)")
    tr_s_r2 = g + k * dg  # (1/p) Tr Sigma (Sigma + k)^-2
    bias = k * k * tv * p * tr_s_r2 / denom
    var = noise_var * a_over_n / denom
    return RiskPrediction(n=n, p=p, kappa=k, bias=float(bias), variance=float(var))


def predict_min_norm_mse(n: int, *, model=None, input_dim: int | None = None,
                         widths: Sequence[int] | None = None, activation="tanh",
                         input_var: float = 1.0, input_cov=None, input_mean=None,
                         method: str = "deterministic", mean_terms: bool = True,
                         all_depths: bool = False, dtype=np.float32, noise_var: float = 0.0):
    """Predicted test MSE of min-l2 interpolation of a random-features teacher (the paper's Fig. 1).

    method="deterministic": :class:`DeterministicEquivalent` from (input_dim, widths, activation)
        (or from ``model``'s); milliseconds at any size; odd activations only.
    method="realised": :func:`covariance_recursion` on ``model``'s actual weights, eigenvalues of
        ``Sigma_L + mu_L mu_L^T``; ~20 s at L = 5, d = 8192, widths 4096. Input ``N(0, input_var I)`` or
        ``N(input_mean, input_cov)``. ``mean_terms=False`` drops every mean (the centred recursion
        with a common variance), which is exact only for odd activations and centred input.
    all_depths: return a list with the prediction for every depth l = 1..L (the depth-l readout of the
        same network), else the prediction for depth L.
    """
    check_choice(method, "method", ("deterministic", "realised"))
    noise_var = check_real(noise_var, "noise_var", minimum=0)
    if method == "deterministic" and (input_cov is not None or input_mean is not None):
        raise ValueError("input_cov/input_mean: only method='realised' takes a general input distribution")
    if model is not None:
        input_dim, widths, activation = model.input_dim, model.widths, model.activation
    if input_dim is None or widths is None:
        raise TypeError("predict_min_norm_mse: give model=... or input_dim and widths")
    widths = check_widths(widths)
    depths = range(1, len(widths) + 1) if all_depths else [len(widths)]
    if method == "deterministic":
        out = [ridgeless_risk(DeterministicEquivalent(input_dim, widths[:l], activation, input_var=input_var),
                              n, noise_var=noise_var) for l in depths]
    else:
        if model is None:
            raise TypeError("method='realised' needs model=RandomFeatures(...)")
        moments = covariance_recursion(model, input_var=input_var, input_cov=input_cov,
                                       input_mean=None if not mean_terms else input_mean, dtype=dtype,
                                       centered=True if not mean_terms else None)
        out = [ridgeless_risk(EigenSpectrum.from_matrix(moments[l - 1].second_moment), n, noise_var=noise_var)
               for l in depths]
    return out if all_depths else out[0]


# --------------------------------------------------------------------------------------------------
# Gaussian-equivalent Monte Carlo (any interpolator)
# --------------------------------------------------------------------------------------------------

class GaussianEquivalentNetwork:
    """The linearised (Gaussian-equivalent) version of a realised :class:`gnetlab.rf.RandomFeatures`.

    Layer l maps ``x -> mu_l + rho1_l * (W_l x - m_l) + rho2_l * xi``, ``xi ~ N(0, I)`` fresh per sample,
    with per-neuron coefficients at ``N(m_i, s_i)``, ``m = W_l mu_(l-1)`` and
    ``s_i = |w_i|^2 * mean Var(x^(l-1))`` (the pre-activation variance concentrates there because W_l is
    independent of the earlier layers). Exactly the GE model of :func:`covariance_recursion` with
    ``centered=False``, but never forms a d x d matrix: sampling n points costs one forward pass, and
    ``E (v^T x^(l))^2`` is computed exactly for any readout ``v`` by transposed products.
    """

    def __init__(self, model, *, input_var: float = 1.0, input_mean=None, order: int = 121):
        if not all(hasattr(model, a) for a in ("depth", "dims", "input_dim", "layer_weight", "activation")):
            raise TypeError(f"model: expected a random-features map (gnetlab.rf.RandomFeatures), got {model!r}")
        self.model = model
        self.input_var = check_real(input_var, "input_var", minimum=0, low_open=True)
        d0 = model.input_dim
        mean = np.zeros(d0) if input_mean is None else as_array(input_mean, "input_mean", dtype_kind="fiu", ndim=1,
                                                                 finite=True, shape=(d0,)).astype(np.float64)
        var_mean = self.input_var
        self.means, self.lins = [], []
        for i in range(model.depth):
            w = model.layer_weight(i)
            row_sq = np.einsum("ij,ij->i", w, w, dtype=np.float64)
            m_pre = w.astype(np.float64) @ mean
            s = row_sq * var_mean
            lin = linearize(model.activation, s, m_pre, order=order)
            self.lins.append(lin)
            mean = lin.mu
            self.means.append(mean)
            var_mean = float(lin.variance.mean())
        self._input_mean = np.zeros(d0) if input_mean is None else np.asarray(input_mean, dtype=np.float64)

    def sample(self, n: int, *, seed, all_layers: bool = False):
        """n Gaussian-equivalent feature vectors: (n, d_L) float32, or a list over layers."""
        rng = resolve_rng(seed)
        n = check_positive_int(n, "n")
        x = rng.standard_normal((n, self.model.input_dim), dtype=np.float32)
        x *= np.float32(math.sqrt(self.input_var))
        x += self._input_mean.astype(np.float32)
        outs = []
        for i, lin in enumerate(self.lins):
            w = self.model.layer_weight(i)
            h = x @ w.T
            h -= lin.mean_in.astype(np.float32)
            h *= lin.rho1.astype(np.float32)
            noise = rng.standard_normal(h.shape, dtype=np.float32)
            noise *= np.sqrt(lin.rho2_sq).astype(np.float32)
            h += noise
            h += lin.mu.astype(np.float32)
            x = h
            outs.append(x)
        return outs if all_layers else outs[-1]

    def second_moment_form(self, v, layer: int | None = None) -> np.ndarray:
        """``E (v^T x^(l))^2`` for readouts v (p,) or (p, k) at layer l (default: last), exactly."""
        layer = self.model.depth if layer is None else check_index(layer, "layer", 1, self.model.depth)
        v = as_array(v, "v", dtype_kind="fiu", ndim=(1, 2), finite=True).astype(np.float64)
        if v.shape[0] != self.model.dims[layer]:
            raise ValueError(f"v: expected {self.model.dims[layer]} rows (layer {layer}'s width), got shape {v.shape}")
        vec = v.ndim == 1
        v2 = v[:, None] if vec else v
        mean_part = (self.means[layer - 1] @ v2) ** 2
        acc = np.zeros(v2.shape[1])
        u = v2
        for i in range(layer - 1, -1, -1):
            lin = self.lins[i]
            acc += (lin.rho2_sq[:, None] * u**2).sum(axis=0)
            # float32 product (the weights are float32; no 8-byte copy of a d x d matrix per call)
            u = (self.model.layer_weight(i).T @ (lin.rho1[:, None] * u).astype(np.float32)).astype(np.float64)
        acc += self.input_var * (u**2).sum(axis=0)
        out = acc + mean_part
        return out[0] if vec else out


def ge_monte_carlo(model, n: int, fit: Callable[[np.ndarray, np.ndarray], np.ndarray], *, trials: int,
                   seed, input_var: float = 1.0, depths: Sequence[int] | None = None) -> dict[int, np.ndarray]:
    """Gaussian-equivalent Monte Carlo of the test MSE of any interpolator.

    For each trial: draw n GE feature vectors of every layer, a teacher ``a* ~ N(0, I/d_l)``, labels
    ``y = Phi a*``, fit ``coef = fit(Phi, y)``, and record the exact GE test error
    ``E ((coef - a*)^T x)^2``. Returns ``{depth: array of per-trial MSEs}``.
    """
    rng = resolve_rng(seed)
    trials = check_positive_int(trials, "trials")
    ge = GaussianEquivalentNetwork(model, input_var=input_var)
    depths = (list(range(1, model.depth + 1)) if depths is None else
              [check_index(l, "depths", 1, model.depth) for l in check_sequence(depths, "depths")])
    out = {l: np.empty(trials) for l in depths}
    for t in range(trials):
        feats = ge.sample(n, seed=rng, all_layers=True)
        for l in depths:
            phi = feats[l - 1]
            p = phi.shape[1]
            a_star = rng.standard_normal(p) / math.sqrt(p)
            y = phi.astype(np.float64) @ a_star
            coef = fit(phi, y)
            out[l][t] = ge.second_moment_form(np.asarray(coef, dtype=np.float64) - a_star, layer=l)
    return out
