"""Deep random-features models with Gaussian or one-bit hidden weights, and their trained readouts.

Reference: arXiv 2510.16250 (one-bit quantisation of random features).

Model
-----
``x^(0) = x`` in R^d, ``x^(l) = phi(W_l x^(l-1))`` for l = 1..L, ``W_l`` of shape ``(d_l, d_(l-1))``:

- ``weights="gaussian"``: ``W_l = G_l / sqrt(d_(l-1))``, ``G_l`` i.i.d. N(0, 1) (variance 1/fan-in);
- ``weights="onebit"``: ``W_l = sign(G_l) / sqrt(d_(l-1))`` (sign(0) = +1), the one-bit quantisation
  of *the same* Gaussian draw, so a Gaussian and a one-bit model built with the same seed are paired.
  (The paper's reference table calls these weights "rademacher".)

Only the hidden layers are random and fixed; a linear readout ``a^T x^(L)`` is trained. The
one-bit forward pass runs on the packed sign kernels (``gnetlab.sign_weight_matmul``,
``method="kernel"``) or on the obviously-correct float reference ``x @ (sign(W)/sqrt(fan_in)).T``
(``method="reference"``); the Gaussian one on float32 BLAS. (``backend=`` is the deprecated name of
``method=``: in gnetlab a *backend* is a kernel implementation, numpy / numba / cupy.)

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

Modules: :mod:`~gnetlab.rf.features` (the map), :mod:`~gnetlab.rf.readouts` (interpolation),
:mod:`~gnetlab.rf.experiments` (the paper's experiments and metrics). Activations live in
:mod:`gnetlab.activations`, shared with :mod:`gnetlab.theory`.
"""

from __future__ import annotations

from ..activations import ACTIVATIONS, resolve_activation
from .experiments import accuracy, draw_teacher, mnist_experiment, mse, one_hot, synthetic_experiment
from .features import METHODS, RandomFeatures, _kernels  # noqa: F401  (tests probe the kernels)
from .readouts import (InterpolationResult, L2Mirror, LqMirror, Mirror, NegEntropyMirror, min_norm_interpolate,
                       min_norm_teacher_averaged_mse, mirror_interpolate, resolve_mirror, stochastic_mirror_descent,
                       teacher_averaged_mse_by_depth)

__all__ = [
    "ACTIVATIONS",
    "resolve_activation",
    "METHODS",
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
