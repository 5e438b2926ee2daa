"""Reference backend: plain numpy, simple enough to be obviously correct.

Work is split into row blocks so that no temporary exceeds ``_TEMP_BYTES`` (default 32 MiB)
whatever the problem size. All functions take validated, C-contiguous numpy inputs (the dispatch in
``gnetlab.kernels`` does the checking).
"""

from __future__ import annotations

import numpy as np

from gnetlab.bits import popcount

_TEMP_BYTES = 32 * 2**20


def _rows_per_block(row_bytes: int) -> int:
    return max(1, _TEMP_BYTES // max(1, row_bytes))


def xor_popcount(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """popcount(a[i] ^ b[j]) summed over words: int64 (m, n) from uint64 (m, W) and (n, W)."""
    m, w = a.shape
    n = b.shape[0]
    out = np.zeros((m, n), dtype=np.int64)
    if m == 0 or n == 0:
        return out
    step = _rows_per_block(n * w * 8)
    for i0 in range(0, m, step):
        x = a[i0 : i0 + step, None, :] ^ b[None, :, :]  # (rows, n, W) uint64, bounded by _TEMP_BYTES
        out[i0 : i0 + step] = popcount(x).sum(axis=-1, dtype=np.int64)
    return out


def binary_matmul(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """Exact +-1 product ``a @ b.T`` = ``k - 2 popcount(a ^ b)``: int32 (m, n)."""
    return (k - 2 * xor_popcount(a, b)).astype(np.int32)


def sign_weight_matmul(x: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """float32 x (batch, k) times +-1 weights packed in w (n, W) -> float32 (batch, n) = x @ sign(W).T.

    Unpacks blocks of weight rows to float32 +-1 and calls BLAS; the block bounds the temporary.
    """
    batch = x.shape[0]
    n = w.shape[0]
    out = np.empty((batch, n), dtype=np.float32)
    if n == 0 or batch == 0:
        return out
    step = _rows_per_block(k * 4)
    for r0 in range(0, n, step):
        by = w[r0 : r0 + step].view(np.uint8)
        bits = np.unpackbits(by, axis=-1, count=k, bitorder="little")
        signs = np.float32(1) - np.float32(2) * bits.astype(np.float32)
        out[:, r0 : r0 + step] = x @ signs.T
    return out
