"""Arcsine layers, arcsine activations and the normalised output layer of G-Net (PyTorch).

An *arcsine layer* outputs, for each unit i, the arcsine of the cosine between its input (or input
patch) and the unit's weight row:

    x  <- x + b                                   (bias trick: one learnable scalar b per layer)
    w~_i = (gamma_i / sqrt(var_i + eps)) W_i      (BatchNorm scale folded into the rows)
    z_i = arcsin( <w~_i, x> / ((||w~_i|| + eps) (||x|| + eps)) )

``var_i`` is the variance of the raw pre-activation <W_i, x> over the batch (training) or its running
average (evaluation), exactly as a BatchNorm over <W_i, x> whose shift is frozen at 0 and whose
mean-centring is undone, which is how the official G-Net code builds it. Because the cosine is invariant
to a positive rescaling of a row, the folded scale matters only through the sign of gamma_i (and the
``eps`` terms); it is kept for fidelity to the official model. The normalisation is not a constraint
on W: every forward pass divides by the current norms.

Convolutions do the same per patch: ``||patch||`` comes from a convolution of ``(x + b)^2`` with a
kernel of ones over the zero-padded input (the padding contributes zeros, not ``b``). Following the
official code, convolutional norms are computed as ``sqrt(sum + eps)`` (weights) and
``sqrt(sum + eps) + eps`` (patches), which also keeps the gradient finite on all-zero patches; dense
layers use ``||w~_i|| + eps`` and ``||x|| + eps``. Cosines are clamped to [-1, 1] before the arcsine
(the eps terms already keep them strictly inside in exact arithmetic). The official dense layer also
adds ``eps * sign`` to the cosine before the arcsine; that nudge is dropped here.

*Kernel.* ``kernel="arcsine"`` (the default, the paper's layer) outputs ``arcsin(cos)`` as above.
``kernel="cosine"`` outputs the clamped cosine itself, with no arcsine: the ablation of the paper's
distortion compensation (a sign embedding estimates ``(2/pi) arcsin(cos)``, not ``cos``; see
:mod:`gnetlab.ehd`). Everything else (bias trick, folded rows, norms) is the same.

Activations (``z`` = arcsine pre-activation, ``alpha`` a learnable scalar):

=========  ===========================  ===========  ===========================================
name       float G-Net                  alpha init   binary (EHD) pass, see :mod:`gnetlab.ehd`
=========  ===========================  ===========  ===========================================
``asu``    ``alpha * z``                2/pi         ``alpha * z^`` (the arcsine unit itself)
``rasu``   ``relu(alpha * z)``          5            ``relu(alpha * z^)`` (real-valued)
``tasu``   ``tanh(alpha * z)``          10           ``sign(alpha * z^)``, sign(0) = +1 (binary)
``relu``   ``relu(alpha * c)``          5            ``relu(alpha * c^)`` (real-valued)
=========  ===========================  ===========  ===========================================

``relu`` is the unit of the cosine kernel (``c`` = the cosine, ``c^`` its EHD estimate): the plain
cosine + ReLU network of the distortion ablation. The arcsine units (``asu``, ``rasu``, ``tasu``) go
with the arcsine kernel, ``relu`` with the cosine kernel (:data:`KERNEL_ACTIVATIONS`;
:func:`check_kernel` enforces the pairing).

The output layer (:class:`NormalizedOutput`) has no arcsine: ``logits = x^ @ W2n`` where ``x^`` is the
unit-normalised (bias-tricked) input and ``W2n`` is ``W2`` (shape ``(in_features, n_classes)``) with
each *row* normalised, as in the official code (see the class docstring for what that means).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ArcsineDense",
    "ArcsineConv1d",
    "ArcsineConv2d",
    "ASU",
    "RASU",
    "TASU",
    "ReLU",
    "ACTIVATIONS",
    "KERNELS",
    "KERNEL_ACTIVATIONS",
    "check_kernel",
    "make_activation",
    "NormalizedOutput",
]


def _normal_(t: torch.Tensor, std: float, generator: torch.Generator | None) -> torch.Tensor:
    with torch.no_grad():
        return t.normal_(0.0, std, generator=generator)


KERNELS = ("arcsine", "cosine")


def _check_kernel_name(kernel) -> str:
    from .._validation import check_choice

    return check_choice(kernel, "kernel", KERNELS)


def _apply_kernel(cos: torch.Tensor, kernel: str) -> torch.Tensor:
    """arcsin(clamp(cos)) for the arcsine kernel, clamp(cos) for the cosine kernel."""
    cos = torch.clamp(cos, -1.0, 1.0)
    return torch.asin(cos) if kernel == "arcsine" else cos


class _BNFold(nn.Module):
    """Shared machinery: learnable bias-trick scalar, BatchNorm scale gamma and running statistics."""

    def __init__(self, out_units: int, *, bn_std: float, bias_init: float, eps: float, momentum: float,
                 generator: torch.Generator | None):
        super().__init__()
        if not (eps > 0 and math.isfinite(eps)):
            raise ValueError(f"eps: expected a positive finite float, got {eps!r}")
        if not 0 < momentum <= 1:
            raise ValueError(f"momentum: expected 0 < momentum <= 1, got {momentum!r}")
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.bias = nn.Parameter(torch.tensor(float(bias_init)))
        self.bn_weight = nn.Parameter(_normal_(torch.empty(out_units), bn_std, generator))
        self.register_buffer("running_mean", torch.zeros(out_units))
        self.register_buffer("running_var", torch.ones(out_units))

    def _slope(self, pre: torch.Tensor, reduce_dims: tuple[int, ...]) -> torch.Tensor:
        """gamma / sqrt(var + eps) from the batch (training; running stats updated) or running stats."""
        if self.training:
            n = pre.numel() // pre.shape[1]
            if n < 2:
                raise ValueError("training an arcsine layer needs more than one value per unit in the batch "
                                 "(BatchNorm statistics); use a batch of at least 2 or call model.eval()")
            mean = pre.mean(dim=reduce_dims)
            var = pre.var(dim=reduce_dims, unbiased=False)
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean.detach())
                self.running_var.mul_(1 - m).add_(m * var.detach() * n / (n - 1))
        else:
            var = self.running_var
        return self.bn_weight / torch.sqrt(var + self.eps)


class ArcsineDense(_BNFold):
    """Dense arcsine layer: ``(B, in_features) -> (B, out_features)``, values in [-pi/2, pi/2].

    Parameters: ``weight`` (out, in), ``bn_weight`` gamma (out,), ``bias`` (scalar bias trick);
    buffers ``running_mean``/``running_var`` (out,) of the raw pre-activation <W_i, x + b>.
    Initialisation as the official code: W ~ N(0, weight_std^2), gamma ~ N(0, bn_std^2).

    Parameters
    ----------
    in_features, out_features : int
        Sizes.
    weight_std : float, default 0.1
        Std of the initial weights.
    bn_std : float, default 0.1
        Std of the BatchNorm scales gamma at initialisation.
    bias_init : float, default 5e-6
        Initial bias-trick scalar b.
    eps : float, default 1e-4
        Norm and BatchNorm epsilon.
    momentum : float, default 0.1
        Running-statistics momentum.
    generator : torch.Generator, optional
        Source of the initial weights.
    kernel : {"arcsine", "cosine"}, default "arcsine"
        Output ``arcsin(cos)`` (the paper's layer) or the cosine itself (the distortion ablation).
    """

    def __init__(self, in_features: int, out_features: int, *, weight_std: float = 0.1, bn_std: float = 0.1,
                 bias_init: float = 5e-6, eps: float = 1e-4, momentum: float = 0.1,
                 generator: torch.Generator | None = None, kernel: str = "arcsine"):
        from .._validation import check_positive_int

        check_positive_int(in_features, "in_features")
        check_positive_int(out_features, "out_features")
        kernel = _check_kernel_name(kernel)
        super().__init__(out_features, bn_std=bn_std, bias_init=bias_init, eps=eps, momentum=momentum,
                         generator=generator)
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.kernel = kernel
        self.weight = nn.Parameter(_normal_(torch.empty(out_features, in_features), weight_std, generator))

    @property
    def fan_in(self) -> int:
        return self.in_features

    def folded_weight(self) -> torch.Tensor:
        """w~ = (gamma / sqrt(running_var + eps)) W, shape (out, in): the rows the EHD model embeds."""
        slope = self.bn_weight / torch.sqrt(self.running_var + self.eps)
        return slope[:, None] * self.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"x: expected shape (batch, {self.in_features}), got {tuple(x.shape)}")
        x = x + self.bias
        pre = x @ self.weight.T
        slope = self._slope(pre, (0,))
        w = slope[:, None] * self.weight
        denom = (torch.linalg.vector_norm(w, dim=1) + self.eps)[None, :] * \
                (torch.linalg.vector_norm(x, dim=1, keepdim=True) + self.eps)
        return _apply_kernel(pre * slope / denom, self.kernel)

    def extra_repr(self) -> str:
        k = "" if self.kernel == "arcsine" else f", kernel={self.kernel!r}"
        return f"in_features={self.in_features}, out_features={self.out_features}{k}"


class _ArcsineConvNd(_BNFold):
    _dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1,
                 padding: int = 0, weight_std: float = 0.05, bn_std: float = 0.05, bias_init: float = 1e-3,
                 eps: float = 1e-4, momentum: float = 0.1, generator: torch.Generator | None = None,
                 kernel: str = "arcsine"):
        kernel = _check_kernel_name(kernel)
        super().__init__(out_channels, bn_std=bn_std, bias_init=bias_init, eps=eps, momentum=momentum,
                         generator=generator)
        self.kernel = kernel
        for name, v, lo in (("in_channels", in_channels, 1), ("out_channels", out_channels, 1),
                            ("kernel_size", kernel_size, 1), ("stride", stride, 1), ("padding", padding, 0)):
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        shape = (out_channels, in_channels) + (kernel_size,) * self._dims
        self.weight = nn.Parameter(_normal_(torch.empty(shape), weight_std, generator))
        self.register_buffer("norm_filter", torch.ones((1, in_channels) + (kernel_size,) * self._dims),
                             persistent=False)

    @property
    def fan_in(self) -> int:
        return self.in_channels * self.kernel_size ** self._dims

    def _conv(self, x, w):
        f = F.conv1d if self._dims == 1 else F.conv2d
        return f(x, w, stride=self.stride, padding=self.padding)

    def folded_weight(self) -> torch.Tensor:
        """w~ = (gamma / sqrt(running_var + eps)) W, shape (out, in, k[, k])."""
        slope = self.bn_weight / torch.sqrt(self.running_var + self.eps)
        return slope.view((-1,) + (1,) * (self._dims + 1)) * self.weight

    def output_length(self, size: int) -> int:
        return (size + 2 * self.padding - self.kernel_size) // self.stride + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != self._dims + 2 or x.shape[1] != self.in_channels:
            spatial = ", ".join(["L"] if self._dims == 1 else ["H", "W"])
            raise ValueError(f"x: expected shape (batch, {self.in_channels}, {spatial}), got {tuple(x.shape)}")
        x = x + self.bias
        pre = self._conv(x, self.weight)
        reduce = (0,) + tuple(range(2, 2 + self._dims))
        slope = self._slope(pre, reduce)
        view = (1, -1) + (1,) * self._dims
        w = slope.view((-1,) + (1,) * (self._dims + 1)) * self.weight
        norm_w = torch.sqrt(w.square().sum(dim=tuple(range(1, self._dims + 2))) + self.eps)
        norm_p = torch.sqrt(self._conv(x.square(), self.norm_filter) + self.eps) + self.eps
        cos = pre * slope.view(view) / (norm_w.view(view) * norm_p)
        return _apply_kernel(cos, self.kernel)

    def extra_repr(self) -> str:
        k = "" if self.kernel == "arcsine" else f", kernel={self.kernel!r}"
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}{k}")


class ArcsineConv1d(_ArcsineConvNd):
    """1-D arcsine convolution: ``(B, C_in, L) -> (B, C_out, L_out)``; see the module docstring.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels.
    kernel_size : int
        Kernel width (square kernels in 2-D).
    stride : int, default 1
        Stride.
    padding : int, default 0
        Zero padding on every side.
    weight_std : float, default 0.05
        Std of the initial weights.
    bn_std : float, default 0.05
        Std of the BatchNorm scales gamma at initialisation.
    bias_init : float, default 1e-3
        Initial bias-trick scalar b.
    eps : float, default 1e-4
        Norm and BatchNorm epsilon.
    momentum : float, default 0.1
        Running-statistics momentum.
    generator : torch.Generator, optional
        Source of the initial weights.
    kernel : {"arcsine", "cosine"}, default "arcsine"
        Output ``arcsin(cos)`` per patch (the paper's layer) or the cosine itself (the ablation).
    """

    _dims = 1


class ArcsineConv2d(_ArcsineConvNd):
    """2-D arcsine convolution: ``(B, C_in, H, W) -> (B, C_out, H_out, W_out)``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels.
    kernel_size : int
        Kernel width (square kernels in 2-D).
    stride : int, default 1
        Stride.
    padding : int, default 0
        Zero padding on every side.
    weight_std : float, default 0.05
        Std of the initial weights.
    bn_std : float, default 0.05
        Std of the BatchNorm scales gamma at initialisation.
    bias_init : float, default 1e-3
        Initial bias-trick scalar b.
    eps : float, default 1e-4
        Norm and BatchNorm epsilon.
    momentum : float, default 0.1
        Running-statistics momentum.
    generator : torch.Generator, optional
        Source of the initial weights.
    kernel : {"arcsine", "cosine"}, default "arcsine"
        Output ``arcsin(cos)`` per patch (the paper's layer) or the cosine itself (the ablation).
    """

    _dims = 2


# --------------------------------------------------------------------------------------------------
# Activations


class _Activation(nn.Module):
    name = ""
    default_alpha = 1.0

    def __init__(self, alpha: float | None = None):
        super().__init__()
        a = self.default_alpha if alpha is None else float(alpha)
        if not math.isfinite(a):
            raise ValueError(f"alpha: expected a finite float, got {alpha!r}")
        self.alpha = nn.Parameter(torch.tensor(a))

    def extra_repr(self) -> str:
        return f"alpha={self.alpha.item():.4g}"

    @staticmethod
    def binary_pass(z: np.ndarray, alpha: float) -> np.ndarray:
        """The activation in the EHD G-Net, on estimates z^ (numpy).

        Parameters
        ----------
        z : ndarray, float32, any shape
            Pre-activation estimates.
        alpha : float
            The trained scale.

        Returns
        -------
        ndarray, float32, same shape as ``z``
        """
        return np.float32(alpha) * z


class ASU(_Activation):
    """Arcsine unit ``alpha * z`` (alpha init 2/pi, i.e. (2/pi) arcsin(cos) at initialisation).

    Parameters
    ----------
    alpha : float, optional
        Initial learnable scale (default 2/pi).
    """

    name = "asu"
    default_alpha = 2 / math.pi

    def forward(self, z):
        return self.alpha * z


class RASU(_Activation):
    """Rectified arcsine unit ``relu(alpha * z)``, alpha learnable, init 5.

    Parameters
    ----------
    alpha : float, optional
        Initial learnable scale (default 5).
    """

    name = "rasu"
    default_alpha = 5.0

    def forward(self, z):
        return F.relu(self.alpha * z)

    @staticmethod
    def binary_pass(z: np.ndarray, alpha: float) -> np.ndarray:
        """``relu(alpha * z^)`` in float32 (real-valued; see :meth:`ASU.binary_pass`)."""
        return np.maximum(np.float32(alpha) * z, np.float32(0))


class TASU(_Activation):
    """Tanh arcsine unit ``tanh(alpha * z)``, alpha learnable, init 10; its binary pass is sign(alpha z).

    Parameters
    ----------
    alpha : float, optional
        Initial learnable scale (default 10).
    """

    name = "tasu"
    default_alpha = 10.0

    def forward(self, z):
        return torch.tanh(self.alpha * z)

    @staticmethod
    def binary_pass(z: np.ndarray, alpha: float) -> np.ndarray:
        """``sign(alpha * z^)`` as float32 +-1, sign(0) = +1 (see :meth:`ASU.binary_pass`)."""
        return np.where(np.float32(alpha) * z >= 0, np.float32(1), np.float32(-1))


class ReLU(RASU):
    """``relu(alpha * c)`` on the cosine kernel's output c, alpha learnable, init 5: the unit of the plain
    cosine + ReLU G-Net (the distortion ablation). The same function as :class:`RASU`, on the cosine
    instead of its arcsine; its binary pass is ``relu(alpha * c^)`` on the EHD estimate c^.

    Parameters
    ----------
    alpha : float, optional
        Initial learnable scale (default 5).
    """

    name = "relu"


ACTIVATIONS = {"asu": ASU, "rasu": RASU, "tasu": TASU, "relu": ReLU}

# The units each kernel takes: the arcsine units compensate the sign embedding's arcsine distortion
# (they act on arcsin(cos)); "relu" is the uncompensated cosine network's unit.
KERNEL_ACTIVATIONS = {"arcsine": ("asu", "rasu", "tasu"), "cosine": ("relu",)}


def check_kernel(kernel, activation) -> str:
    """Validate a (kernel, activation) pair and return the kernel.

    Parameters
    ----------
    kernel : {"arcsine", "cosine"}
        The layers' kernel.
    activation : str
        The activation name; must be one of ``KERNEL_ACTIVATIONS[kernel]``.

    Returns
    -------
    str
        ``kernel``.

    Raises
    ------
    ValueError
        For an unknown kernel or activation, or a unit of the other kernel.
    """
    from .._validation import check_choice

    kernel = _check_kernel_name(kernel)
    check_choice(activation, "activation", ACTIVATIONS)
    if activation not in KERNEL_ACTIVATIONS[kernel]:
        other = next(k for k, acts in KERNEL_ACTIVATIONS.items() if activation in acts)
        raise ValueError(f"activation: {activation!r} is a unit of the {other!r} kernel, but kernel is {kernel!r}; "
                         f"the {kernel!r} kernel takes {', '.join(map(repr, KERNEL_ACTIVATIONS[kernel]))}")
    return kernel


def make_activation(name: str, alpha: float | None = None) -> _Activation:
    """Activation module by name.

    Parameters
    ----------
    name : {"asu", "rasu", "tasu", "relu"}
        The activation.
    alpha : float, optional
        Overrides its initial scale.

    Returns
    -------
    torch.nn.Module
        An :class:`ASU`, :class:`RASU`, :class:`TASU` or :class:`ReLU`.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"activation: unknown name {name!r}; expected one of {', '.join(map(repr, ACTIVATIONS))}")
    return ACTIVATIONS[name](alpha)


# --------------------------------------------------------------------------------------------------
# Output layer


class NormalizedOutput(nn.Module):
    """Normalised output layer: ``(B, in_features) -> (B, n_classes)`` logits, no arcsine.

        x  <- x + b;   x^ = x / (||x|| + q)
        W2n[r, :] = W2[r, :] / (||W2[r, :]|| + q)        for each row r = 1..in_features
        logits = x^ @ W2n

    ``W2`` has shape ``(in_features, n_classes)`` (the official layout) and, as in the official code,
    is normalised over ``dim=1``: each **row** (one input feature's weights to all classes) gets unit
    norm, not each **class column**. So the logit of class j is ``||c_j|| cos(x, c_j)`` with
    ``c_j = W2n[:, j]``, and the class columns keep different norms that act as learned per-class
    scales. Normalising the class columns instead would make every logit a pure cosine. The EHD
    classifier (Hamming similarity between sign embeddings of ``x`` and of ``c_j``) estimates only
    the angle, so it agrees with this layer's argmax up to those column-norm differences.

    Parameters
    ----------
    in_features, n_classes : int
        Sizes.
    weight_std : float, default 0.6
        Std of the initial W2.
    bias_init : float, default 5e-5
        Initial bias-trick scalar b.
    q : float, default 1e-6
        Norm offset.
    generator : torch.Generator, optional
        Source of the initial weights.
    """

    def __init__(self, in_features: int, n_classes: int, *, weight_std: float = 0.6, bias_init: float = 5e-5,
                 q: float = 1e-6, generator: torch.Generator | None = None):
        from .._validation import check_positive_int, check_real

        super().__init__()
        check_positive_int(in_features, "in_features")
        check_positive_int(n_classes, "n_classes", minimum=2)
        check_real(q, "q", minimum=0, low_open=True)
        self.in_features, self.n_classes, self.q = int(in_features), int(n_classes), float(q)
        self.weight = nn.Parameter(_normal_(torch.empty(in_features, n_classes), weight_std, generator))
        self.bias = nn.Parameter(torch.tensor(float(bias_init)))

    def normalized_weight(self) -> torch.Tensor:
        """W2 with unit-norm rows (``(in_features, n_classes)``); its columns are the class vectors."""
        return self.weight / (torch.linalg.vector_norm(self.weight, dim=1, keepdim=True) + self.q)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"x: expected shape (batch, {self.in_features}), got {tuple(x.shape)}")
        x = x + self.bias
        x = x / (torch.linalg.vector_norm(x, dim=1, keepdim=True) + self.q)
        return x @ self.normalized_weight()

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, n_classes={self.n_classes}"
