"""Array geometry of the embedded network's layers: max-pooling and the patches (unfold) of conv layers.

The patch order is the conv weight's flattening (``(C, k)`` for conv1d, ``(C, k, k)`` for conv2d), so a
patch row and a folded weight row pair up entry by entry. ``layer`` is any object with the
:class:`gnetlab.ehd.EHDLayer` attributes ``kind``, ``padding``, ``kernel_size`` and ``stride``.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []


def _maxpool(x: np.ndarray, p: int) -> np.ndarray:
    if x.ndim == 3:
        B, C, L = x.shape
        return x[:, :, : L // p * p].reshape(B, C, L // p, p).max(axis=3)
    B, C, H, W = x.shape
    return x[:, :, : H // p * p, : W // p * p].reshape(B, C, H // p, p, W // p, p).max(axis=(3, 5))


def _unfold(x: np.ndarray, layer, pad_value: float) -> tuple[np.ndarray, tuple[int, ...]]:
    """Patches (B*L, C*k^d) in the order of the conv weight's flattening, and the output spatial shape."""
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(x)
    p, k, s = layer.padding, layer.kernel_size, layer.stride
    if layer.kind == "conv1d":
        if p:
            t = F.pad(t, (p, p), value=pad_value)
        u = t.unfold(2, k, s)  # (B, C, L, k)
        B, C, L, _ = u.shape
        return u.permute(0, 2, 1, 3).reshape(B * L, C * k).numpy(), (L,)
    if p:
        t = F.pad(t, (p, p, p, p), value=pad_value)
    B, C, H, W = t.shape
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    u = F.unfold(t, k, stride=s)  # (B, C*k*k, L)
    return u.transpose(1, 2).reshape(B * Ho * Wo, C * k * k).numpy(), (Ho, Wo)
