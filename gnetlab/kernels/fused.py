"""Signs of products straight into packed words (numba): no boolean arrays, no ``np.packbits``.

A layer of an EHD G-Net or a BinaryNet computes ``sign(x @ W.T - threshold)`` and feeds it, packed,
to the next layer's XOR-popcount product. Here each block of rows is multiplied by the fast kernels
(``binary_matmul`` or the one-bit ``sign_weight_matmul`` of ``gnetlab.kernels.numba_backend``) into a
small reused buffer and compared with the thresholds while the bits are packed, 64 outputs per word
(``gnetlab.bits`` convention: bit 1 = -1 = "below the threshold", LSB first, padding bits 0).

Thresholds are float64 (n,) or (P, n): row ``r`` of the product uses threshold row ``r % P`` (P = 1
for one threshold per column; P = L positions for a convolution whose rows are images x positions).
The comparison ``product < threshold`` is exact for integer products (float64 holds int32 and
float32 exactly); a float32 product compared with a float32 threshold ``-b`` gives the same sign as
``product + b < 0`` in float32 (rounding keeps the sign, and a sum is 0 only on exact cancellation).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["binary_matmul_signs", "sign_weight_matmul_signs"]

# Rows of the product per block (the int32/float32 block buffer stays below ~8 MiB for n = 8192).
_ROW_BLOCK = 256


@njit(cache=True, parallel=True, nogil=True)
def _pack_below(values, thr, row0, out):
    """out[row0 + r, w] bit b = values[r, 64 w + b] < thr[(row0 + r) % P, 64 w + b] (0 past n)."""
    rows, n = values.shape
    period = thr.shape[0]
    n_words = out.shape[1]
    for r in prange(rows):
        t = (row0 + r) % period
        for w in range(n_words):
            j0 = 64 * w
            j1 = min(n, j0 + 64)
            word = np.uint64(0)
            for j in range(j0, j1):
                if values[r, j] < thr[t, j]:
                    word |= np.uint64(1) << np.uint64(j - j0)
            out[row0 + r, w] = word


def _thresholds(threshold, n: int) -> np.ndarray:
    if threshold is None:
        return np.zeros((1, n), np.float64)
    t = np.asarray(threshold, dtype=np.float64)
    if t.ndim == 0:
        return np.full((1, n), float(t))
    if t.ndim == 1:
        t = t.reshape(1, -1)
    return np.ascontiguousarray(t)


def _blocked(product, m: int, n: int, threshold) -> np.ndarray:
    thr = _thresholds(threshold, n)
    out = np.empty((m, (n + 63) // 64), np.uint64)
    for r0 in range(0, m, _ROW_BLOCK):
        r1 = min(m, r0 + _ROW_BLOCK)
        _pack_below(product(r0, r1), thr, r0, out)
    return out


def binary_matmul_signs(a: np.ndarray, b: np.ndarray, k: int, threshold=None, *, path: str | None = None):
    """uint64 words (m, ceil(n/64)): bit (r, j) set iff ``(a @ b.T)[r, j] < threshold`` for packed
    +-1 rows a (m, W), b (n, W) with K = k. threshold: None (0), float64-convertible (n,) or (P, n)."""
    from gnetlab.kernels import numba_backend

    m, n = a.shape[0], b.shape[0]
    return _blocked(lambda r0, r1: numba_backend.binary_matmul(a[r0:r1], b, k, path=path), m, n, threshold)


def sign_weight_matmul_signs(x: np.ndarray, w: np.ndarray, k: int, threshold=None, *, path: str | None = None):
    """uint64 words (batch, ceil(n/64)): bit (r, j) set iff ``(x @ sign(W).T)[r, j] < threshold``, the
    product in float32 from the one-bit kernels; x float32 (batch, k), w packed (n, W)."""
    from gnetlab.kernels import numba_backend

    m, n = x.shape[0], w.shape[0]
    return _blocked(lambda r0, r1: numba_backend.sign_weight_matmul(x[r0:r1], w, k, path=path), m, n, threshold)
