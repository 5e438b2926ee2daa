"""Fused numba helpers of :class:`gnetlab.bnn.PackedBinaryMLP`: BatchNorm + sign straight into packed words, and
the whole network in one compiled call for 8-bit image inputs (:func:`pixel_forward`)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..kernels.popcount_gemm import xor_popcount_sums
from ..kernels.u8gemm import first_layer_portable, first_layer_vnni, pixel_codes, vnni_available

__all__ = ["pack_bn_sign", "pixel_forward", "fused_path", "integer_thresholds"]

_PARALLEL_ENTRIES = 1 << 20


@njit(cache=True, nogil=True)
def _pack_rows(pre, tau, flip, out, r0, r1):
    n = pre.shape[1]
    for r in range(r0, r1):
        for w in range(out.shape[1]):
            base = w * 64
            top = min(64, n - base)
            word = np.uint64(0)
            for j in range(top):
                k = base + j
                plus = (np.float64(pre[r, k]) >= tau[k]) != flip[k]
                if not plus:
                    word |= np.uint64(1) << np.uint64(j)
            out[r, w] = word


@njit(cache=True, nogil=True, parallel=True)
def _pack_par(pre, tau, flip, out, n_blocks):
    R = pre.shape[0]
    per = (R + n_blocks - 1) // n_blocks
    for b in prange(n_blocks):
        _pack_rows(pre, tau, flip, out, min(R, b * per), min(R, b * per + per))


def pack_bn_sign(pre: np.ndarray, tau: np.ndarray, flip: np.ndarray) -> np.ndarray:
    """Packed signs of a folded BatchNorm + sign: +1 where ``(pre >= tau) XOR flip`` (compared in float64).

    Parameters
    ----------
    pre : ndarray, float32 or int32, shape (R, n)
        Pre-activations.
    tau : ndarray, float64, shape (n,)
        Thresholds.
    flip : ndarray, bool, shape (n,)
        Units whose BatchNorm scale is negative.

    Returns
    -------
    ndarray, uint64, shape (R, ceil(n / 64))
        The :mod:`gnetlab.bits` words (bit 1 = -1, padding 0).
    """
    import numba

    R, n = pre.shape
    out = np.empty((R, -(-n // 64)), np.uint64)
    pre = np.ascontiguousarray(pre)
    threads = numba.get_num_threads()
    if threads > 1 and R * n >= _PARALLEL_ENTRIES and R >= threads:
        from ..threads import quiesce_blas, start_numba_workers

        start_numba_workers()
        quiesce_blas()
        _pack_par(pre, tau, flip, out, threads)
    else:
        _pack_rows(pre, tau, flip, out, 0, R)
    return out


# ------------------------------------------------------------------------------------------------
# The whole packed BinaryNet in one compiled call, first layer exact on 8-bit pixels
# ------------------------------------------------------------------------------------------------

_ROWS = 4  # rows per block = the first layer's register tile (gnetlab.kernels.u8gemm.ROWS)


@njit(cache=True, nogil=True)
def _pixels(X, r0, pix):
    """Rows ``r0 .. r0 + 4`` of ``X`` as 8-bit codes into ``pix`` (rows past the end: 0); False when a value
    is not an 8-bit code / 255 (:func:`gnetlab.kernels.u8gemm.pixel_codes`)."""
    return pixel_codes(X[r0:r0 + _ROWS], pix)


@njit(cache=True, nogil=True)
def _pack_at_most(sums, hthr, hflip, toff, n_out, words):
    """Packed signs: bit j is 1 (sign -1) exactly when ``(sums[j] <= hthr[toff + j]) == hflip[toff + j]``."""
    thr = hthr[toff: toff + n_out]
    flip = hflip[toff: toff + n_out]
    for w in range((n_out + 63) // 64):
        word = np.uint64(0)
        base = 64 * w
        for t in range(min(64, n_out - base)):
            word |= np.uint64((sums[base + t] <= thr[base + t]) == flip[base + t]) << np.uint64(t)
        words[w] = word


@njit(cache=True, nogil=True)
def _after_first(acc, r0, nrows, thr0, flip0, hw, meta, hthr, hflip, scale, shift, out, cur, sums):
    """Everything after the first layer's integer sums, row by row, in integers: the folded BatchNorm +
    sign of layer 0 is ``acc >= thr0`` (XOR flip) into packed words; each XOR-popcount layer counts
    ``s = popcount(x ^ w)`` for all its units at once (weights stored word-major, ``hw[q, j]``, so the
    unit loop vectorises: VPOPCNTQ on AVX-512) and its BatchNorm + sign is ``s <= hthr`` (XOR flip); the
    final layer's logits are ``(k - 2 s) scale + shift``."""
    n0 = thr0.shape[0]
    n_layers = meta.shape[0]
    for r in range(nrows):
        for w in range((n0 + 63) // 64):
            word = np.uint64(0)
            base = 64 * w
            for t in range(min(64, n0 - base)):
                j = base + t
                word |= np.uint64((acc[r, j] >= thr0[j]) == flip0[j]) << np.uint64(t)  # sign -1 -> bit 1
            cur[w] = word
        for layer in range(n_layers):
            n_out = meta[layer, 0]
            nw = meta[layer, 1]
            k = meta[layer, 2]
            woff = meta[layer, 3]
            toff = meta[layer, 4]
            xor_popcount_sums(cur, hw, woff, n_out, nw, sums)
            if layer < n_layers - 1:
                _pack_at_most(sums, hthr, hflip, toff, n_out, cur)
            else:
                for j in range(n_out):
                    out[r0 + r, j] = np.float64(k - 2 * sums[j]) * scale[j] + shift[j]


@njit(cache=True, nogil=True)
def _block_vnni(X, b, w0, thr0, flip0, hw, meta, hthr, hflip, scale, shift, out, ok, max_words, max_units):
    pix = np.empty((_ROWS, w0.shape[0]), np.int32)
    if not _pixels(X, _ROWS * b, pix):
        ok[b] = False
        return
    acc = np.empty((_ROWS, w0.shape[1]), np.int32)
    first_layer_vnni(pix, w0, acc, min(_ROWS, X.shape[0] - _ROWS * b))
    cur = np.empty(max_words, np.uint64)
    sums = np.empty(max_units, np.int64)
    _after_first(acc, _ROWS * b, min(_ROWS, X.shape[0] - _ROWS * b), thr0, flip0, hw, meta, hthr, hflip,
                 scale, shift, out, cur, sums)


@njit(cache=True, nogil=True)
def _block_portable(X, b, w0, thr0, flip0, hw, meta, hthr, hflip, scale, shift, out, ok, max_words, max_units):
    pix = np.empty((_ROWS, w0.shape[0]), np.int32)
    if not _pixels(X, _ROWS * b, pix):
        ok[b] = False
        return
    acc = np.empty((_ROWS, w0.shape[1]), np.int32)
    first_layer_portable(pix, w0, acc, min(_ROWS, X.shape[0] - _ROWS * b))
    cur = np.empty(max_words, np.uint64)
    sums = np.empty(max_units, np.int64)
    _after_first(acc, _ROWS * b, min(_ROWS, X.shape[0] - _ROWS * b), thr0, flip0, hw, meta, hthr, hflip,
                 scale, shift, out, cur, sums)


# one driver per (first-layer kernel, threading): numba caches a function by its source location, and
# the VNNI one must never be compiled for a target without AVX-512 VNNI


@njit(cache=True, nogil=True)
def _run_vnni(X, w0, thr0, flip0, hw, meta, hthr, hflip, scale, shift, out, ok, max_words, max_units):
    for b in range(ok.shape[0]):
        _block_vnni(X, b, w0, thr0, flip0, hw, meta, hthr, hflip, scale, shift, out, ok, max_words, max_units)
    return ok.all()


@njit(cache=True, nogil=True, parallel=True)
def _run_vnni_par(X, w0, thr0, flip0, hw, meta, hthr, hflip, scale, shift, out, ok, max_words, max_units):
    for b in prange(ok.shape[0]):
        _block_vnni(X, b, w0, thr0, flip0, hw, meta, hthr, hflip, scale, shift, out, ok, max_words, max_units)
    return ok.all()


@njit(cache=True, nogil=True)
def _run_portable(X, w0, thr0, flip0, hw, meta, hthr, hflip, scale, shift, out, ok, max_words, max_units):
    for b in range(ok.shape[0]):
        _block_portable(X, b, w0, thr0, flip0, hw, meta, hthr, hflip, scale, shift, out, ok, max_words, max_units)
    return ok.all()


@njit(cache=True, nogil=True, parallel=True)
def _run_portable_par(X, w0, thr0, flip0, hw, meta, hthr, hflip, scale, shift, out, ok, max_words, max_units):
    for b in prange(ok.shape[0]):
        _block_portable(X, b, w0, thr0, flip0, hw, meta, hthr, hflip, scale, shift, out, ok, max_words, max_units)
    return ok.all()


_RUN = {(True, False): _run_vnni, (True, True): _run_vnni_par,
        (False, False): _run_portable, (False, True): _run_portable_par}
# From this many row blocks on, both cores get blocks (a parallel region costs tens of microseconds).
_PARALLEL_BLOCKS = 4


def integer_thresholds(tau: np.ndarray, denom: float, bound: int) -> np.ndarray:
    """Least integers ``c`` with ``float64(c) / denom >= tau`` (so that, for any integer A in
    ``[-bound, bound]``, ``A >= c`` is exactly the float64 comparison ``A / denom >= tau``: correctly
    rounded division is monotone in A), clipped to ``[-bound - 1, bound + 1]``.

    Parameters
    ----------
    tau : ndarray, float64
        Thresholds (finite).
    denom : float
        Positive divisor (255 for pixels, 1 for +-1 products).
    bound : int
        Largest |A| that occurs.

    Returns
    -------
    ndarray, int64
        ``c``, same shape as ``tau``.
    """
    tau = np.asarray(tau, np.float64)
    lim = float(bound + 1)
    c = np.clip(np.ceil(np.clip(tau, -lim / denom * 2, lim / denom * 2) * denom), -lim, lim)
    for _ in range(4):  # the product tau * denom is off by a rounding at most: one step fixes it
        lower = (c - 1 >= -lim) & ((c - 1) / denom >= tau)
        c = np.where(lower, c - 1, c)
        higher = (c < lim) & (c / denom < tau)
        c = np.where(higher, c + 1, c)
    return c.astype(np.int64)


def fused_path(path: str | None = None) -> str:
    """First-layer kernel :func:`pixel_forward` uses: ``"vnni"`` (AVX-512 VNNI) or ``"portable"``.

    Parameters
    ----------
    path : str, optional
        Kernel path (``gnetlab.kernels.cpu_features``; default ``$GNETLAB_KERNEL_PATH`` / auto).

    Returns
    -------
    str
        ``"vnni"`` or ``"portable"``.
    """
    import os

    from ..kernels.cpu_features import ENV_VAR

    key = (path, os.environ.get(ENV_VAR))
    if key not in _FUSED_PATHS:
        _FUSED_PATHS[key] = "vnni" if vnni_available(path) else "portable"
    return _FUSED_PATHS[key]


_FUSED_PATHS: dict = {}


def pixel_forward(X: np.ndarray, arrays: dict, *, path: str | None = None):
    """Logits of a packed BinaryNet for 8-bit images, or None when ``X`` is not made of 8-bit pixels.

    ``X`` (B, K) float32 must hold ``float32(p) / float32(255)`` for integers p in 0..255 (how
    :mod:`gnetlab.datasets` scales MNIST); then the first layer ``(2x - 1) . sign(W0)`` equals
    ``(2 p . sign(W0) - 255 sum sign(W0)) / 255`` with an exact int32 ``p . sign(W0)``
    (:mod:`gnetlab.kernels.u8gemm`: VPDPBUSD where the target has AVX-512 VNNI), and the whole network
    runs in one compiled call per 4 rows (blocks split over numba's threads from 16 rows on).

    Parameters
    ----------
    X : ndarray, float32, shape (B, K), C-contiguous
        Inputs.
    arrays : dict
        Built by ``PackedBinaryMLP`` (weights in the kernels' layouts).
    path : str, optional
        Kernel path (forces the portable kernel when not ``avx512_vpopcntdq``).

    Returns
    -------
    ndarray, float64, shape (B, n_classes), or None
        None as soon as a value of ``X`` is not an 8-bit pixel (the caller then takes the float path).
    """
    B = X.shape[0]
    n_blocks = -(-B // _ROWS)
    out = np.empty((B, arrays["scale"].shape[0]), np.float64)
    ok = np.ones(n_blocks, np.bool_)
    par = False
    if n_blocks >= _PARALLEL_BLOCKS:
        import numba

        par = numba.get_num_threads() > 1
    if par:
        from ..threads import quiesce_blas, start_numba_workers

        start_numba_workers()
        quiesce_blas()
    a = arrays
    done = _RUN[(fused_path(path) == "vnni", par)](X, a["w0"], a["thr0"], a["flip0"], a["hw"], a["meta"], a["hthr"],
                                                  a["hflip"], a["scale"], a["shift"], out, ok, a["max_words"],
                                                  a["max_units"])
    return out if done else None
