"""Fused numba helpers of the packed EHD path: signs straight into packed words, exact real projections.

* :func:`pack_less`: ``values < threshold`` (per column) packed 64 per uint64 word (the
  :mod:`gnetlab.bits` convention, bit 1 = -1, LSB first, padding 0) without a boolean array; int32
  values against float32 thresholds compare as numpy does (in float64).
* :func:`pack_tasu`: the next layer's input signs of a TASU layer, ``float32(alpha) * (float32(dot) *
  float32(pi / 2N)) < 0``, from the integer products, with the same float32 operations as the
  float-simulated path.
* :func:`exact_projection_signs`: the signs of the real-valued projections ``<g_k, x_r>`` with
  Rademacher G, decided exactly: a fast float32 product (one-bit kernel or BLAS) decides every entry
  whose magnitude exceeds a rigorous bound on its rounding error (``gamma_K sum_i |x_ri|``), the few
  others are recomputed in float64 and, if still within float64's bound, summed exactly
  (:func:`math.fsum`). Both inference paths use it, so they agree whatever the product's summation order.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["pack_less", "pack_tasu", "exact_projection_signs", "projection_error_bound", "sign_project",
           "one_bit_project", "pack_conv_binary"]

# Below this much work (32-bit words, or entries for the packing kernels) a kernel runs on the calling
# thread: waking numba's pool costs a scheduler slice (milliseconds) on a busy machine.
# Table lookups per call from which sign_project splits the outputs over numba's threads (below, a
# parallel launch costs more than it saves on a busy 2-core machine: 4 ms against 0.9 ms at 784 x 10000).
PARALLEL_LOOKUPS = 1 << 24
_SERIAL_ENTRIES = 1 << 20
_U32 = 2.0**-24
_U64 = 2.0**-53


def _handoff() -> None:
    """Before a parallel kernel: numba's pool started (short OpenMP spin), idle OpenBLAS workers asleep
    (``gnetlab.threads``: otherwise BLAS's spinning workers take the cores right after a BLAS call)."""
    from ..threads import quiesce_blas, start_numba_workers

    start_numba_workers()
    quiesce_blas()


def _gamma(k: int, u: float) -> float:
    n = max(int(k), 1)
    return n * u / (1 - n * u)


def projection_error_bound(x: np.ndarray, k: int) -> np.ndarray:
    """Rigorous bound on the float32 rounding error of ``<g, x_r>`` for +-1 g, per row (float64).

    Parameters
    ----------
    x : ndarray, float32, shape (R, K)
        Inputs.
    k : int
        K, the number of terms.

    Returns
    -------
    ndarray, float64, shape (R,)
        ``2 gamma_K sum_i |x_ri|`` (twice the textbook bound, for any summation order, FMA or not).
    """
    return 2.0 * _gamma(k, _U32) * np.abs(x).sum(axis=1, dtype=np.float64) + 1e-30


@njit(cache=True, nogil=True, parallel=True)
def _pack_less_par(values, thr, out):
    R, N = values.shape
    W = out.shape[1]
    for r in prange(R):
        for w in range(W):
            base = w * 64
            top = min(64, N - base)
            word = np.uint64(0)
            for j in range(top):
                if np.float64(values[r, base + j]) < np.float64(thr[base + j]):
                    word |= np.uint64(1) << np.uint64(j)
            out[r, w] = word


@njit(cache=True, nogil=True)
def _pack_less_seq(values, thr, out):
    R, N = values.shape
    W = out.shape[1]
    for r in range(R):
        for w in range(W):
            base = w * 64
            top = min(64, N - base)
            word = np.uint64(0)
            for j in range(top):
                if np.float64(values[r, base + j]) < np.float64(thr[base + j]):
                    word |= np.uint64(1) << np.uint64(j)
            out[r, w] = word


def pack_less(values: np.ndarray, threshold: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Pack ``values < threshold`` row by row into sign words (True = bit 1 = -1).

    Parameters
    ----------
    values : ndarray, shape (R, N)
        int32 or float32 values.
    threshold : ndarray, shape (N,)
        Per-column thresholds (float32 or float64; compared in float64, as numpy compares int32 with
        float32).
    out : ndarray, uint64, shape (R, ceil(N / 64)), optional
        Buffer to write into.

    Returns
    -------
    ndarray, uint64, shape (R, ceil(N / 64))
        Equal to ``gnetlab.bits.pack_bool(values < threshold)``.
    """
    R, N = values.shape
    if out is None:
        out = np.empty((R, -(-N // 64)), np.uint64)
    values = np.ascontiguousarray(values)
    if R * N >= _SERIAL_ENTRIES:
        _handoff()
        _pack_less_par(values, np.ascontiguousarray(threshold), out)
    else:
        _pack_less_seq(values, np.ascontiguousarray(threshold), out)
    return out


@njit(cache=True, nogil=True, parallel=True)
def _pack_tasu_kernel(dot, c, alpha, out):
    R, N = dot.shape
    W = out.shape[1]
    for r in prange(R):
        for w in range(W):
            base = w * 64
            top = min(64, N - base)
            word = np.uint64(0)
            for j in range(top):
                z = np.float32(dot[r, base + j]) * c
                if alpha * z < np.float32(0):
                    word |= np.uint64(1) << np.uint64(j)
            out[r, w] = word


@njit(cache=True, nogil=True, parallel=False)
def _pack_tasu_seq(dot, c, alpha, out):
    R, N = dot.shape
    W = out.shape[1]
    for r in range(R):
        for w in range(W):
            base = w * 64
            top = min(64, N - base)
            word = np.uint64(0)
            for j in range(top):
                z = np.float32(dot[r, base + j]) * c
                if alpha * z < np.float32(0):
                    word |= np.uint64(1) << np.uint64(j)
            out[r, w] = word


def pack_tasu(dot: np.ndarray, hyperdim: int, alpha: float, out: np.ndarray | None = None) -> np.ndarray:
    """The packed -1 signs of a TASU layer's output from its integer products.

    Parameters
    ----------
    dot : ndarray, int32, shape (R, m)
        ``<s_r, a_i>`` of the layer.
    hyperdim : int
        N of the layer (z^ = pi / (2N) dot).
    alpha : float
        The activation's scale.
    out : ndarray, uint64, shape (R, ceil(m / 64)), optional
        Buffer to write into.

    Returns
    -------
    ndarray, uint64, shape (R, ceil(m / 64))
        ``pack_bool(TASU.binary_pass(z^, alpha) < 0)``, computed with the same float32 operations.
    """
    R, m = dot.shape
    if out is None:
        out = np.empty((R, -(-m // 64)), np.uint64)
    kernel = _pack_tasu_kernel if R * m >= _SERIAL_ENTRIES else _pack_tasu_seq
    if R * m >= _SERIAL_ENTRIES:
        _handoff()
    kernel(np.ascontiguousarray(dot), np.float32(np.pi / (2 * hyperdim)), np.float32(alpha), out)
    return out


@njit(cache=True, nogil=True)
def _exact_rows(approx, x, gbits, thr, bound, bound64, words, r0, r1):
    """Pack approx < thr for rows r0..r1, re-summing in float64 the entries within ``bound`` of the
    threshold; returns the number of entries float64 cannot decide (flagged for fsum)."""
    N = approx.shape[1]
    K = x.shape[1]
    W = words.shape[1]
    left = 0
    for r in range(r0, r1):
        br = bound[r]
        t32 = thr[r]
        t = np.float64(t32)
        for w in range(W):
            base = w * 64
            top = min(64, N - base)
            word = np.uint64(0)
            amb = 0
            for j in range(top):  # branch-free, vectorised
                a = approx[r, base + j]
                word |= np.uint64(a < t32) << np.uint64(j)
                amb += abs(np.float64(a) - t) <= br
            if amb:
                for j in range(top):
                    k = base + j
                    if abs(np.float64(approx[r, k]) - t) > br:
                        continue
                    s = 0.0
                    for i in range(K):
                        v = np.float64(x[r, i])
                        if (gbits[k, i >> 6] >> np.uint64(i & 63)) & np.uint64(1):
                            s -= v
                        else:
                            s += v
                    bit = np.uint64(1) << np.uint64(j)
                    if abs(s - t) <= bound64[r]:
                        left += 1
                    elif s < t:
                        word |= bit
                    else:
                        word &= ~bit
            words[r, w] = word
    return left


@njit(cache=True, nogil=True, parallel=True)
def _exact_par(approx, x, gbits, thr, bound, bound64, words, n_blocks):
    R = approx.shape[0]
    per = (R + n_blocks - 1) // n_blocks
    left = np.zeros(n_blocks, np.int64)
    for blk in prange(n_blocks):
        left[blk] = _exact_rows(approx, x, gbits, thr, bound, bound64, words, min(R, blk * per),
                                min(R, blk * per + per))
    return left.sum()


def exact_projection_signs(x: np.ndarray, gbits: np.ndarray, approx: np.ndarray, words: np.ndarray | None = None,
                           projection: np.ndarray | None = None, threshold: np.ndarray | None = None) -> np.ndarray:
    """Packed signs of ``<g_k, x_r> < t_r`` for +-1 rows g_k, decided on the exact real values.

    Parameters
    ----------
    x : ndarray, float32, shape (R, K)
        Inputs (the bias already added).
    gbits : ndarray, uint64, shape (N, ceil(K / 64))
        The packed signs of G (bit 1 = -1).
    approx : ndarray, float32, shape (R, N)
        Any float32 evaluation of ``x @ G.T`` (one-bit kernel or BLAS, any summation order).
    words : ndarray, uint64, shape (R, ceil(N / 64)), optional
        Buffer to write into.
    projection : ndarray, float32, shape (N, K), optional
        G as +-1 floats, for the (rare) exact sums; unpacked from ``gbits`` when absent.
    threshold : ndarray, float32, shape (R,), optional
        t_r per row (default 0), e.g. minus :func:`gnetlab.ehd.model.tie_tolerance`.

    Returns
    -------
    ndarray, uint64, shape (R, ceil(N / 64))
        The packed signs: bit 1 where the exact ``sum_i g_ki x_ri`` is < t_r.
    """
    import numba

    R, K = x.shape
    N = approx.shape[1]
    x = np.ascontiguousarray(x, dtype=np.float32)
    approx = np.ascontiguousarray(approx, dtype=np.float32)
    gbits = np.ascontiguousarray(gbits)
    thr = np.zeros(R, np.float32) if threshold is None else np.ascontiguousarray(threshold, dtype=np.float32)
    if words is None:
        words = np.empty((R, -(-N // 64)), np.uint64)
    absum = np.abs(x).sum(axis=1, dtype=np.float64)
    bound = 2.0 * _gamma(K, _U32) * absum + 1e-30
    bound64 = 2.0 * _gamma(K, _U64) * absum + 1e-300
    threads = numba.get_num_threads()
    if threads > 1 and R * N >= _SERIAL_ENTRIES and R >= threads:
        _handoff()
        left = _exact_par(approx, x, gbits, thr, bound, bound64, words, threads)
    else:
        left = _exact_rows(approx, x, gbits, thr, bound, bound64, words, 0, R)
    if left:  # sums within float64 rounding of the threshold: exact (correctly rounded) sums
        t64 = thr.astype(np.float64)
        rows, cols = np.nonzero(np.abs(approx.astype(np.float64) - t64[:, None]) <= bound[:, None])
        for r, k in zip(rows, cols):
            g = projection[k] if projection is not None else np.where(
                (gbits[k, np.arange(K) >> 6] >> (np.arange(K) & 63).astype(np.uint64)) & np.uint64(1), -1.0, 1.0)
            terms = [np.float64(gi) * np.float64(xi) for gi, xi in zip(g, x[r])]
            s = math.fsum(terms + [-t64[r]])  # correctly rounded: its sign is that of the exact difference
            bit = np.uint64(1) << np.uint64(k & 63)
            if s < 0:
                words[r, k >> 6] |= bit
            else:
                words[r, k >> 6] &= ~bit
    return words


@njit(cache=True, nogil=True, parallel=True)
def _pack_conv_kernel(dot, pad_int, thr, L, out):
    R, N = dot.shape
    W = out.shape[1]
    for r in prange(R):
        pos = r % L
        for w in range(W):
            base = w * 64
            top = min(64, N - base)
            word = np.uint64(0)
            for j in range(top):
                d = dot[r, base + j] - pad_int[pos, base + j]
                if np.float64(d) < np.float64(thr[pos, base + j]):
                    word |= np.uint64(1) << np.uint64(j)
            out[r, w] = word


@njit(cache=True, nogil=True, parallel=False)
def _pack_conv_seq(dot, pad_int, thr, L, out):
    R, N = dot.shape
    W = out.shape[1]
    for r in range(R):
        pos = r % L
        for w in range(W):
            base = w * 64
            top = min(64, N - base)
            word = np.uint64(0)
            for j in range(top):
                d = dot[r, base + j] - pad_int[pos, base + j]
                if np.float64(d) < np.float64(thr[pos, base + j]):
                    word |= np.uint64(1) << np.uint64(j)
            out[r, w] = word


def pack_conv_binary(dot: np.ndarray, pad_int: np.ndarray, neg_bvalid: np.ndarray) -> np.ndarray:
    """Packed signs of a conv layer on +-1 inputs: ``dot - pad_int < -bvalid`` per output position.

    Parameters
    ----------
    dot : ndarray, int32, shape (B * L, N)
        ``<g_k, u>`` of the +1-padded patches (rows: images x positions).
    pad_int : ndarray, int32, shape (L, N)
        The padding terms per position.
    neg_bvalid : ndarray, float32, shape (L, N)
        ``-bvalid`` per position.

    Returns
    -------
    ndarray, uint64, shape (B * L, ceil(N / 64))
        Equal to ``pack_bool((dot.reshape(-1, L, N) - pad_int < -bvalid).reshape(-1, N))``.
    """
    R, N = dot.shape
    out = np.empty((R, -(-N // 64)), np.uint64)
    if R * N >= _SERIAL_ENTRIES:
        _handoff()
        _pack_conv_kernel(np.ascontiguousarray(dot), pad_int, neg_bvalid, pad_int.shape[0], out)
    else:
        _pack_conv_seq(np.ascontiguousarray(dot), pad_int, neg_bvalid, pad_int.shape[0], out)
    return out


@njit(cache=True, nogil=True)
def _build_tables(x, b, tab):
    """tab[g, p]: the float32 sum, in order q = 0..7, of -+x[b, 8g + q] by the bits of p."""
    for g in range(tab.shape[0]):
        t = tab[g]
        t[0] = np.float32(0)
        for q in range(8):
            v = x[b, 8 * g + q]
            h = 1 << q
            for p in range(h):
                t[p + h] = t[p] - v
                t[p] = t[p] + v


@njit(cache=True, nogil=True)
def _table_rows(g8, tab, out_row, k0, k1):
    G = tab.shape[0]
    k = k0
    while k + 4 <= k1:  # four independent sums in flight
        s0 = np.float32(0)
        s1 = np.float32(0)
        s2 = np.float32(0)
        s3 = np.float32(0)
        r0 = g8[k]
        r1 = g8[k + 1]
        r2 = g8[k + 2]
        r3 = g8[k + 3]
        for g in range(G):
            t = tab[g]
            s0 += t[r0[g]]
            s1 += t[r1[g]]
            s2 += t[r2[g]]
            s3 += t[r3[g]]
        out_row[k] = s0
        out_row[k + 1] = s1
        out_row[k + 2] = s2
        out_row[k + 3] = s3
        k += 4
    while k < k1:
        s0 = np.float32(0)
        for g in range(G):
            s0 += tab[g, g8[k, g]]
        out_row[k] = s0
        k += 1


@njit(cache=True, nogil=True)
def _table_project(x, g8, out, tab):
    for b in range(x.shape[0]):
        _build_tables(x, b, tab)
        _table_rows(g8, tab, out[b], 0, g8.shape[0])


@njit(cache=True, nogil=True, parallel=True)
def _table_project_par(x, g8, out, tab, n_blocks):
    N = g8.shape[0]
    per = (N + n_blocks - 1) // n_blocks
    for b in range(x.shape[0]):
        _build_tables(x, b, tab)
        for blk in prange(n_blocks):
            _table_rows(g8, tab, out[b], min(N, blk * per), min(N, blk * per + per))


def sign_project(x: np.ndarray, gbits: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """float32 ``x @ G.T`` for +-1 G from its packed rows, by byte tables (one thread, small batches).

    For each row of x and each group of 8 inputs a table holds the 256 signed sums; every output is then
    a float32 sum of ceil(K / 8) table entries. Each output is thus a float32 sum of the +-x_ri (within
    :func:`projection_error_bound` of the exact value).

    Parameters
    ----------
    x : ndarray, float32, shape (B, K)
        Real inputs.
    gbits : ndarray, uint64, shape (N, ceil(K / 64))
        Packed rows of G (bit 1 = -1, padding 0).
    out : ndarray, float32, shape (B, N), optional
        Buffer to write into.

    Returns
    -------
    ndarray, float32, shape (B, N)
        The projections.
    """
    B, K = x.shape
    N = gbits.shape[0]
    G = -(-K // 8)
    xp = np.zeros((B, 8 * G), np.float32)
    xp[:, :K] = x
    if out is None:
        out = np.empty((B, N), np.float32)
    import numba

    g8 = np.ascontiguousarray(gbits).view(np.uint8)
    tab = np.empty((G, 256), np.float32)
    threads = numba.get_num_threads()
    if threads > 1 and B * N * G >= PARALLEL_LOOKUPS:
        _handoff()
        _table_project_par(xp, g8, out, tab, threads)
    else:
        _table_project(xp, g8, out, tab)
    return out


def one_bit_project(x: np.ndarray, gbits: np.ndarray) -> np.ndarray:
    """float32 ``x @ G.T`` for +-1 G from its packed rows, on the fastest one-bit kernel for the CPU.

    Where numba's target has AVX2 (kernel path ``avx2`` or ``avx512_vpopcntdq``,
    :mod:`gnetlab.kernels.cpu_features`, ``$GNETLAB_KERNEL_PATH``): the table-permute kernel of
    :func:`gnetlab.kernels.numba_backend.sign_weight_matmul` (8-entry tables of the signed sums of 3
    inputs, one VPERMPS per group for 8 rows); elsewhere :func:`sign_project`. Either way each output is
    a float32 sum of the +-x_ri (signed inputs and zeros added in some order), so it is within
    :func:`projection_error_bound` of the exact value.

    Parameters
    ----------
    x : ndarray, float32, shape (B, K)
        Real inputs (a few rows: a GEMV kernel).
    gbits : ndarray, uint64, shape (N, ceil(K / 64))
        Packed rows of G (bit 1 = -1, padding 0).

    Returns
    -------
    ndarray, float32, shape (B, N)
        The projections.
    """
    from ..kernels.cpu_features import kernel_path

    path = kernel_path()
    if path == "portable":
        return sign_project(x, gbits)
    from ..kernels.numba_backend import sign_weight_matmul

    # Every thread: the rows of G are read once, so two cores also double the memory streams when G is
    # not in cache (batch 1, 784 x 10,000 on AMD EPYC Zen 4: 139 us warm / 184 us after a cache flush,
    # against 197 / 317 us on one thread). Small products stay serial (threads.SERIAL_WORK).
    return sign_weight_matmul(np.ascontiguousarray(x, dtype=np.float32), gbits, x.shape[1], kernel="tables",
                              path=path)
