"""Array geometry of the embedded network's layers: max-pooling, the patches (unfold) of conv layers,
their padding terms on +-1 inputs, and the tie tolerance of real-input projections (shared by the
generic path in :mod:`gnetlab.ehd.model` and the fused conv path in :mod:`gnetlab.ehd.conv_fast`).

The patch order is the conv weight's flattening (``(C, k)`` for conv1d, ``(C, k, k)`` for conv2d), so a
patch row and a folded weight row pair up entry by entry. ``layer`` is any object with the
:class:`gnetlab.ehd.EHDLayer` attributes ``kind``, ``padding``, ``kernel_size`` and ``stride``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TIE_RTOL", "tie_tolerance", "pad_tables"]


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


def conv_out_size(n: int, layer) -> int:
    """Output positions along one axis of ``n`` inputs for a conv layer (its padding, kernel, stride)."""
    return (n + 2 * layer.padding - layer.kernel_size) // layer.stride + 1


def pad_tables(layer, shape) -> dict:
    """Per-position padding terms of a conv layer on +-1 inputs of shape ``(C, *spatial)`` (cached in
    the layer): ``pad`` (L, N) = sum of g_ki over the padded i of each position, ``pad_int`` the same
    as int32 (exact for Rademacher G), ``bvalid`` = float32(b) sum of g_ki over the valid i, and ``L``.

    Parameters
    ----------
    layer : EHDLayer
        The conv layer.
    shape : tuple of int
        Input shape of one sample.

    Returns
    -------
    dict
        ``{"L", "pad", "pad_int", "bvalid"}``.
    """
    shape = tuple(shape)

    def make():
        ind, _ = _unfold(np.zeros((1, *shape), np.float32), layer, 1.0)  # 1 where padded
        pad = (ind @ layer.projection.T).astype(np.float32)  # (L, N)
        valid = layer.projection_rowsum()[None, :] - pad
        return {"L": pad.shape[0], "pad": pad, "pad_int": np.rint(pad).astype(np.int32),
                "bvalid": np.float32(layer.bias) * valid}

    return layer.cached(("pad", shape), make)


# Relative width of the band around 0 in which a real-input projection counts as 0 (sign +1).
TIE_RTOL = 2.0 ** -18


def tie_tolerance(blk: np.ndarray, layer: EHDLayer) -> np.ndarray:
    """Per-row tolerance below which a real-input projection <g_k, x_r> counts as exactly 0 (sign +1).

    A float32 sum depends on its summation order, which BLAS chooses by CPU. A projection that is 0 in
    exact arithmetic (Rademacher G on quantised pixels: +x_i - x_j with x_i = x_j, over and over in conv
    patches) then comes out as +-1e-8 and its sign, hence the embedding, depends on the machine. Values
    within ``TIE_RTOL * sum_i |x_ri| * max |G|`` of 0 (far above float32 rounding of the sum, far below
    a typical projection) count as 0, so the embedding is the same on every CPU.

    Parameters
    ----------
    blk : numpy.ndarray, float32, shape (R, n)
        Input rows (patches for conv layers).
    layer : EHDLayer
        The layer (its projection G).

    Returns
    -------
    numpy.ndarray, float32, shape (R, 1)
        The tolerance of each row.
    """
    gmax = layer.cached("abs_max_projection", lambda: np.float32(np.abs(layer.projection).max()))
    return (np.float32(TIE_RTOL) * gmax) * np.abs(blk).sum(axis=1, keepdims=True, dtype=np.float32)
