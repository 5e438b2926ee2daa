"""Fused numba helper of :class:`gnetlab.bnn.PackedBinaryMLP`: BatchNorm + sign straight into packed words."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["pack_bn_sign"]

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
