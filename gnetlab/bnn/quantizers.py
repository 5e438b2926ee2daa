"""Quantizers of the binarized baselines (forward maps and pseudo-gradients: see :mod:`gnetlab.bnn`)."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["QUANTIZERS", "Quantizer", "SteSign", "ClippedSteSign", "StochasticBinary", "XnorWeight", "Ternary",
           "Int8Activation", "get_quantizer"]


def _sign(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


class _SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, clip):
        ctx.save_for_backward(x)
        ctx.clip = clip
        return _sign(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.clip:
            grad = grad * (x.abs() <= 1).to(grad.dtype)
        return grad, None


class _Straight(torch.autograd.Function):
    """Forward ``quantized``; backward identity to ``x`` (straight-through)."""

    @staticmethod
    def forward(ctx, x, quantized):
        return quantized

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Quantizer(nn.Module):
    """Base class: ``forward(x)`` quantizes; ``config()`` returns the kwargs that rebuild it.

    Parameters
    ----------
    *args, **kwargs
        As ``torch.nn.Module`` (subclasses add their options).
    """

    name = "identity"

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # identity
        return x

    def config(self) -> dict:
        return {"name": self.name}

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config().items() if k != "name")


class SteSign(Quantizer):
    name = "ste_sign"

    def forward(self, x):
        return _SignSTE.apply(x, False)


class ClippedSteSign(Quantizer):
    name = "clipped_ste"

    def forward(self, x):
        return _SignSTE.apply(x, True)


class StochasticBinary(Quantizer):
    """BinaryConnect's stochastic binarization. ``generator`` (a torch.Generator) makes it reproducible."""

    name = "stochastic"

    def __init__(self, generator: torch.Generator | None = None):
        super().__init__()
        self.generator = generator

    def forward(self, x):
        if not self.training:
            return _SignSTE.apply(x, True)
        p = (x.detach().clamp(-1, 1) + 1) / 2
        u = torch.rand(x.shape, generator=self.generator, dtype=x.dtype, device=x.device)
        hard = torch.where(u < p, torch.ones_like(x), -torch.ones_like(x))
        # pseudo-gradient: clipped identity
        return x * (x.detach().abs() <= 1) - (x * (x.detach().abs() <= 1)).detach() + hard


class XnorWeight(Quantizer):
    """alpha_c sign(W_c) with alpha_c = mean |W_c| over all but the first (output-channel) axis."""

    name = "xnor"

    def forward(self, w):
        if w.ndim < 2:
            raise ValueError(f"xnor quantizer: expected a weight of ndim >= 2 (out, ...), got shape {tuple(w.shape)}")
        alpha = w.detach().abs().mean(dim=tuple(range(1, w.ndim)), keepdim=True)
        return _SignSTE.apply(w, True) * alpha


class Ternary(Quantizer):
    """Ternary weights gamma * t, t = sign(w) * 1[|w| > threshold * gamma], gamma = mean |W| (per tensor)."""

    name = "ternary"

    def __init__(self, threshold: float = 0.5):
        super().__init__()
        if not 0 <= threshold < 10 or not math.isfinite(threshold):
            raise ValueError(f"threshold: expected a ratio in [0, 10), got {threshold}")
        self.threshold = float(threshold)

    def ternarize(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        gamma = w.detach().abs().mean().clamp_min(1e-8)
        t = torch.where(w.detach().abs() > self.threshold * gamma, _sign(w.detach()), torch.zeros_like(w))
        return t, gamma

    def forward(self, w):
        t, gamma = self.ternarize(w)
        return _Straight.apply(w, t * gamma)

    def config(self):
        return {"name": self.name, "threshold": self.threshold}


class Int8Activation(Quantizer):
    """Per-sample absmax 8-bit quantization (levels -127..127), straight-through gradient."""

    name = "int8"

    def forward(self, x):
        dims = tuple(range(1, x.ndim)) if x.ndim > 1 else (0,)
        scale = x.detach().abs().amax(dim=dims, keepdim=True).clamp_min(1e-8) / 127.0
        q = torch.round(x.detach() / scale).clamp(-127, 127) * scale
        return _Straight.apply(x, q)


QUANTIZERS = {q.name: q for q in (Quantizer, SteSign, ClippedSteSign, StochasticBinary, XnorWeight, Ternary,
                                  Int8Activation)}


def get_quantizer(name: str | Quantizer | None = None, **kwargs) -> Quantizer:
    """Resolve a quantizer by name (see the module table); instances pass through.

    Parameters
    ----------
    name : str or Quantizer, optional
        A key of :data:`QUANTIZERS` (default ``"identity"``) or an instance.
    **kwargs
        Options of the quantizer (e.g. ``threshold`` of ``"ternary"``).

    Returns
    -------
    Quantizer
        The quantizer.
    """
    if isinstance(name, Quantizer):
        return name
    name = "identity" if name is None else name
    if not isinstance(name, str) or name not in QUANTIZERS:
        raise ValueError(f"name: unknown quantizer {name!r}; available: {', '.join(QUANTIZERS)}")
    return QUANTIZERS[name](**kwargs)

