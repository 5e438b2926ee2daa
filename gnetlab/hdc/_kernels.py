"""numba kernels behind the HDC encoders (typed leaf functions; validation lives in the callers).

``xor_shift_encode``
    ``out[a] ^= XOR_i roll(table[idx[a, i]], shifts[i])`` over the features ``i`` whose index differs
    from ``skip``, on packed rows of ``d`` bits (the binding-by-XOR of cyclically shifted level
    hypervectors used by RFF-HDC and Laplace-HDC). A roll by ``s`` is done a word at a time: output word
    ``k`` (bits ``64k .. 64k+63``) reads the 64 bits starting at position ``p = (64k - s) mod d`` of the
    *cyclic extension* of the table row (the ``d`` bits followed by their first 64 bits again, stored in
    ``W + 1`` words), so every read is two loads and two shifts and never wraps. The padding bits of
    the last output word receive garbage and are masked by the caller.
``signed_sum_encode``
    ``acc[a] = base + sum_i pos[i] * diff[idx[a, i]]`` over the features whose index differs from
    ``skip`` (+-1 int8 rows, int32 accumulators): the record-based bundle of Classic HDC (position
    hypervector times level hypervector), written relative to the most common level so that only the
    informative features are visited.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["xor_shift_encode", "signed_sum_encode"]


@njit(cache=True, parallel=True)
def xor_shift_encode(idx, skip, shifts, ext, d, out):  # pragma: no cover - compiled
    n, f = idx.shape
    n_words = out.shape[1]
    for a in prange(n):
        for i in range(f):
            v = idx[a, i]
            if v == skip:
                continue
            s = shifts[i] % d
            row = ext[v]
            for k in range(n_words):
                p = 64 * k - s
                if p < 0:
                    p += d
                w = p >> 6
                r = p & 63
                if r == 0:
                    bits = row[w]
                else:
                    bits = (row[w] >> np.uint64(r)) | (row[w + 1] << np.uint64(64 - r))
                out[a, k] ^= bits


@njit(cache=True, parallel=True)
def signed_sum_encode(idx, skip, pos, diff, base, acc):  # pragma: no cover - compiled
    n, f = idx.shape
    d = acc.shape[1]
    for a in prange(n):
        for j in range(d):
            acc[a, j] = base[j]
        for i in range(f):
            v = idx[a, i]
            if v == skip:
                continue
            p = pos[i]
            q = diff[v]
            for j in range(d):
                acc[a, j] += np.int32(p[j] * q[j])
