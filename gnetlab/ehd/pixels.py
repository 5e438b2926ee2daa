"""The first EHD layer on 8-bit images, from exact integer products.

An MNIST-style input is ``float32(p) / float32(255)`` for codes p in 0..255, and the model's input map
(shift, scale, bias) sends each code to one float32 value. The projection ``<g_k, x_r>`` with Rademacher
G is then an affine function of the exact integer product ``S = p @ G.T`` up to a small, rigorously
bounded error, so its sign is decided from integers everywhere except within that bound of the
threshold; those few entries are re-summed as :func:`gnetlab.ehd.fast.exact_projection_signs` does.

* :func:`pixel_projection_signs`: many rows through ``u8gemm.matmul`` (G unpacked to VPDPBUSD's byte
  layout) then the decision; a few rows through one compiled call that reads G's packed bits directly
  (``VPMOVM2B`` + one ``VPDPBUSD`` per 64 weights) and decides each block of 64 entries as soon as its
  products exist, so no int32 product matrix is written or read back. That call runs on the calling
  thread: right after a BLAS call (the float path of the benchmarks, a torch preprocessing step)
  putting OpenBLAS's spinning workers to sleep first costs ~0.1 ms, as much as a second core saves.
* :func:`small_batch_scores`: the whole packed forward pass of a few images in two compiled calls (a
  check of the codes, then the first layer and the +-1 layers) and a handful of numpy operations, with
  every constant of the first layer computed once per model.
  Its point is the time around the kernels: when the caller has just streamed other data through the
  caches (a float model, a dataset), every Python object the usual path touches is a cache and TLB
  miss, and those cost more than the kernels (at batch 1 on the 784-256-256-10 network, ~250 us of
  ~460 us after a cache flush).
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
from numba import njit, prange

from ..kernels.compare import affine_compare64 as _affine_compare64
from ..kernels.cpu_features import ENV_VAR
from ..kernels.u8gemm import (ROWS, _bits_matmul_portable, _bits_matmul_vnni, bits_matmul, first_layer_portable,
                             first_layer_vnni, pixel_codes)
from .fused_tail import _tail_kernel, tail_params, tail_scores
from .fast import _SERIAL_ENTRIES, _U64, _gamma, _handoff
from .geometry import TIE_RTOL, conv_out_size

__all__ = ["pixel_projection_signs", "small_batch_scores", "conv_pixel_signs", "code_values"]


@njit(cache=True, nogil=True, inline="always")
def _int_word(S, r, c0, base, top, alpha, beta, gsum, xr, gbits, t, bound, gamma64):
    """One packed word: entries ``base .. base + top`` of one row, whose integer products are
    ``S[r, c0 .. c0 + top]`` (a C-contiguous 2-D array); the projection of entry k is ``alpha s + beta
    gsum[k]`` within ``bound`` of its exact value. Entries within the bound of t are re-summed in
    float64 (row ``xr``, G from ``gbits``). Returns (word, entries that float64 cannot decide either).
    Inlined (numba IR) into its callers' loops: called as a function, the batch-256 decision ran 2.5-4x
    slower (1.2 -> 3-5 ms for 256 x 10,000 entries, one thread)."""
    word = np.uint64(0)
    amb = 0
    for j in range(top):  # branch-free, vectorised
        a = alpha * np.float64(S[r, c0 + j]) + beta * np.float64(gsum[base + j])
        word |= np.uint64(a < t) << np.uint64(j)
        amb += abs(a - t) <= bound
    left = 0
    if amb:
        K = xr.shape[0]
        for j in range(top):
            k = base + j
            if abs(alpha * np.float64(S[r, c0 + j]) + beta * np.float64(gsum[k]) - t) > bound:
                continue
            acc = 0.0
            ab = 0.0
            for i in range(K):
                v = np.float64(xr[i])
                ab += abs(v)
                if (gbits[k, i >> 6] >> np.uint64(i & 63)) & np.uint64(1):
                    acc -= v
                else:
                    acc += v
            bit = np.uint64(1) << np.uint64(j)
            if abs(acc - t) <= gamma64 * ab + 1e-300:
                left += 1
            elif acc < t:
                word |= bit
            else:
                word &= ~bit
    return word, left


@njit(cache=True, nogil=True)
def _exact_word(S, r, c0, base, top, alpha, beta, gsum, xr, gbits, t, bound, gamma64):
    """:func:`_int_word` as a called function, for callers that need it rarely (the conv prefilter's
    flagged words): its inlined loops would only enlarge their hot loop."""
    return _int_word(S, r, c0, base, top, alpha, beta, gsum, xr, gbits, t, bound, gamma64)


@njit(cache=True, nogil=True)
def _int_rows(S, alpha, beta, gsum, x, gbits, thr, bound, gamma64, words, r0, r1):
    """:func:`_int_word` for every word of rows r0..r1 of the product matrix S."""
    N = gsum.shape[0]
    left = 0
    for r in range(r0, r1):
        t = np.float64(thr[r])
        for w in range(words.shape[1]):
            base = w * 64
            top = min(64, N - base)
            word, n = _int_word(S, r, base, base, top, alpha, beta, gsum, x[r], gbits, t, bound, gamma64)
            words[r, w] = word
            left += n
    return left


@njit(cache=True, nogil=True, parallel=True)
def _int_par(S, alpha, beta, gsum, x, gbits, thr, bound, gamma64, words, n_blocks):
    R = x.shape[0]
    per = (R + n_blocks - 1) // n_blocks
    left = np.zeros(n_blocks, np.int64)
    for blk in prange(n_blocks):
        left[blk] = _int_rows(S, alpha, beta, gsum, x, gbits, thr, bound, gamma64, words, min(R, blk * per),
                              min(R, blk * per + per))
    return left.sum()


@njit(cache=True, nogil=True)
def _code_sums(pix, R, K):
    p8 = pix.view(np.uint8)
    psum = np.zeros(R, np.int64)
    for r in range(R):
        for i in range(K):
            psum[r] += p8[r, i]
    return psum


@njit(cache=True, nogil=True)
def _decide_block(s, w, alpha, beta, gsum, x, gbits, thr, bound, gamma64, words):
    """Word w of every row from its products ``s[r, :64]``; returns the entries left for fsum."""
    base = 64 * w
    top = min(64, gsum.shape[0] - base)
    left = 0
    for r in range(s.shape[0]):
        word, n = _int_word(s, r, 0, base, top, alpha, beta, gsum, x[r], gbits, np.float64(thr[r]), bound, gamma64)
        words[r, w] = word
        left += n
    return left


@njit(cache=True, nogil=True)
def _fused_vnni(pix, gbits, alpha, beta, gsum, x, thr, bound, gamma64, words, w0, w1):
    """Output words w0..w1 of every row: the 64 rows of G of a word through the VNNI kernel of
    ``u8gemm.bits_matmul`` (8 rows at a time), then their decision, while the products are in L1."""
    R, K = x.shape
    N = gsum.shape[0]
    psum = _code_sums(pix, R, K)
    s = np.empty((R, 64), np.int32)
    left = 0
    for w in range(w0, w1):
        top = min(64, N - 64 * w)
        _bits_matmul_vnni(pix, gbits, psum, s, 64 * w, 64 * w + top)
        left += _decide_block(s, w, alpha, beta, gsum, x, gbits, thr, bound, gamma64, words)
    return left


@njit(cache=True, nogil=True)
def _fused_portable(pix, gbits, alpha, beta, gsum, x, thr, bound, gamma64, words, w0, w1):
    """:func:`_fused_vnni` with the products of ``u8gemm.bits_matmul``'s portable loops (any CPU)."""
    R, K = x.shape
    N = gsum.shape[0]
    psum = _code_sums(pix, R, K)
    s = np.empty((R, 64), np.int32)
    left = 0
    for w in range(w0, w1):
        top = min(64, N - 64 * w)
        _bits_matmul_portable(pix, gbits, psum, s, 64 * w, 64 * w + top)
        left += _decide_block(s, w, alpha, beta, gsum, x, gbits, thr, bound, gamma64, words)
    return left


def _line(values: np.ndarray, K: int) -> tuple[float, float, float]:
    """``alpha``, ``beta`` of the line through ``values[0]`` and ``values[255]`` and the bound on
    ``|<g, values[p]> - (alpha <g, p> + beta sum g)|`` over K terms, float64 evaluation included."""
    v = values.astype(np.float64)
    beta = v[0]
    alpha = (v[255] - v[0]) / 255.0
    scale = abs(alpha) * 255 + abs(beta)
    e = np.abs(v - (alpha * np.arange(256) + beta)).max() + 2.0**-50 * scale  # + its float64 evaluation
    return float(alpha), float(beta), float(K * e * (1 + 2.0**-40) + 2.0**-49 * scale * K + 1e-30)


@njit(cache=True, nogil=True)
def _codes_match(pix, values, x):
    """Whether ``x[r, i] == values[code r, i]`` everywhere (the layer's input is the map of the codes)."""
    p8 = pix.view(np.uint8)
    ok = True
    for r in range(x.shape[0]):
        for i in range(x.shape[1]):
            ok &= values[p8[r, i]] == x[r, i]
    return ok


def pixel_projection_signs(raw: np.ndarray, x: np.ndarray, values: np.ndarray, gbits: np.ndarray, layout: np.ndarray | None,
                           threshold: np.ndarray, projection: np.ndarray | None = None,
                           gsum: np.ndarray | None = None, *, path: str | None = None) -> np.ndarray | None:
    """:func:`gnetlab.ehd.fast.exact_projection_signs` for inputs that are 8-bit images, from exact integer
    products.

    When every entry of ``raw`` is ``float32(p) / float32(255)`` (p in 0..255) and ``x = values[p]``
    entry by entry (``values``: what the model's float32 input map makes of each code), the projection
    ``<g_k, x_r> = sum_i g_ki values[p_ri]`` equals ``alpha S_rk + beta sum_i g_ki + E`` with
    ``S = p @ G.T`` exact in int32 (VPDPBUSD), ``alpha``, ``beta`` the line through ``values[0]``,
    ``values[255]`` and ``|E| <= K max_p |values[p] - alpha p - beta|``. Entries farther than that bound
    (plus float64 evaluation slack) from the threshold are decided from the integers; the others exactly
    as ``exact_projection_signs`` does (float64 sum with its rounding bound, else :func:`math.fsum`).
    Same signs, bit for bit, as the float path.

    Parameters
    ----------
    raw : ndarray, float32, shape (R, K)
        The model's inputs before its input map.
    x : ndarray, float32, shape (R, K)
        The layer's real inputs (``values`` of the codes of ``raw``).
    values : ndarray, float32, shape (256,)
        The input map applied to ``float32(p) / float32(255)``, with the float32 operations of the model.
    gbits : ndarray, uint64, shape (N, ceil(K / 64))
        Packed G.
    layout : ndarray, int32, or None
        G in :func:`gnetlab.kernels.u8gemm.weight_layout` (many rows: :func:`gnetlab.kernels.u8gemm.matmul`),
        or None for the few-row kernel that reads the packed bits of G and decides each block of 64
        entries as its products come out (on the calling thread).
    threshold : ndarray, float32, shape (R,)
        t_r (e.g. minus the tie tolerance).
    projection : ndarray, float32, shape (N, K), optional
        G as floats for the fsum fallback.
    gsum : ndarray, int64, shape (N,), optional
        ``sum_i g_ki`` (computed from ``gbits`` when absent).
    path : str, optional
        Kernel path (``gnetlab.kernels.cpu_features``): the VNNI products where
        :func:`gnetlab.kernels.u8gemm.vnni_available`, plain loops elsewhere (tests force them).

    Returns
    -------
    ndarray, uint64, shape (R, ceil(N / 64)), or None
        Bit 1 where the exact projection is < t_r; None when ``raw`` is not made of 8-bit codes or
        ``x`` is not ``values`` of them.
    """
    import numba

    from ..kernels import u8gemm

    R, K = x.shape
    N = gbits.shape[0]
    if layout is None:
        pix = np.empty((R, 16 * gbits.shape[1]), np.int32)  # 64 codes per weight word, 0 beyond K
    else:
        pix = np.empty((-(-R // u8gemm.ROWS) * u8gemm.ROWS, layout.shape[0]), np.int32)
    xc = np.ascontiguousarray(x, dtype=np.float32)
    if not u8gemm.pixel_codes(np.ascontiguousarray(raw, dtype=np.float32), pix) or not _codes_match(
            pix, np.ascontiguousarray(values, dtype=np.float32), xc):
        return None  # not 8-bit codes, or x is not the map of the codes
    alpha, beta, bound = _line(values, K)
    if gsum is None:
        from ..bits import popcount

        gsum = K - 2 * popcount(np.ascontiguousarray(gbits)).sum(axis=1, dtype=np.int64)
    thr = np.ascontiguousarray(threshold, dtype=np.float32)
    words = np.empty((R, -(-N // 64)), np.uint64)
    gamma64 = 2.0 * _gamma(K, _U64)
    threads = numba.get_num_threads()
    S = None
    if layout is None:
        gbits = np.ascontiguousarray(gbits)
        vnni = u8gemm.vnni_available(path)
        left = (_fused_vnni if vnni else _fused_portable)(pix, gbits, alpha, beta, gsum, xc, thr, bound, gamma64,
                                                          words, 0, words.shape[1])
    else:
        S = u8gemm.matmul(pix, layout, path=path)
        if threads > 1 and R * N >= _SERIAL_ENTRIES and R >= threads:
            _handoff()
            left = _int_par(S, alpha, beta, gsum, xc, gbits, thr, bound, gamma64, words, threads)
        else:
            left = _int_rows(S, alpha, beta, gsum, xc, gbits, thr, bound, gamma64, words, 0, R)
    if left:  # within float64 rounding of the threshold: correctly rounded sums
        if S is None:  # rare: the few-row kernel keeps no product matrix, so the integers once more
            S = bits_matmul(pix, gbits, path=path)
        _fsum_fallback(words, xc, gbits, thr, bound, alpha, beta, gsum, projection, S)
    return words


def _fsum_fallback(words, xc, gbits, thr, bound, alpha, beta, gsum, projection, S):
    """Entries within the integer bound of the threshold, decided by :func:`math.fsum` (rare: float64
    could not decide them either; re-deciding the others float64 decided gives the same bits)."""
    R, K = xc.shape
    N = gbits.shape[0]
    t64 = thr.astype(np.float64)
    approx = alpha * S[:R, :N].astype(np.float64) + beta * gsum[None, :].astype(np.float64)
    rows, cols = np.nonzero(np.abs(approx - t64[:, None]) <= bound)
    for r, k in zip(rows, cols):
        g = projection[k] if projection is not None else np.where(
            (gbits[k, np.arange(K) >> 6] >> (np.arange(K) & 63).astype(np.uint64)) & np.uint64(1), -1.0, 1.0)
        s = math.fsum([np.float64(gi) * np.float64(xi) for gi, xi in zip(g, xc[r])] + [-t64[r]])
        bit = np.uint64(1) << np.uint64(k & 63)
        if s < 0:
            words[r, k >> 6] |= bit
        else:
            words[r, k >> 6] &= ~bit


def code_values(net, bias: float) -> np.ndarray:
    """float32 (256,): what the model's input map makes of each 8-bit code, with the model's float32
    operations: ``(float32(p) / float32(255) - shift) / scale + bias`` (``bias``: the first layer's)."""
    p = np.arange(256, dtype=np.float32) / np.float32(255)
    return (p - np.float32(net.input_shift)) / np.float32(net.input_scale) + np.float32(bias)


def _map_key(net, bias: float) -> bytes:
    """The input map, bit for bit (NaN and -0.0 included): the key of the caches built from it."""
    return np.array([net.input_shift, net.input_scale, bias], np.float64).tobytes()


def _plan(net, kernel_path_env: str | None) -> tuple:
    """Everything :func:`small_batch_scores` needs that depends only on the model (and the kernel path),
    computed once per model: cached on its first layer, checked by the input map and kernel path."""
    from ..kernels import u8gemm

    first = net.all_layers[0]
    key = (kernel_path_env, _map_key(net, first.bias))
    hit = first._cache.get("small_batch_plan")
    if hit is not None and hit[0] == key:
        return hit[1]
    values = code_values(net, first.bias)
    gbits = np.ascontiguousarray(first.projection_bits())
    K = first.fan_in
    alpha, beta, bound = _line(values, K)
    gmax = first.cached("abs_max_projection", lambda: np.float32(np.abs(first.projection).max()))
    plan = (values, np.float32(TIE_RTOL) * gmax, gbits,
            first.cached("gsum_int", lambda: np.rint(first.projection_rowsum()).astype(np.int64)),
            alpha, beta, bound, 2.0 * _gamma(K, _U64), u8gemm.vnni_available())
    first._cache["small_batch_plan"] = (key, plan)
    return plan


@njit(cache=True, nogil=True)
def _codes_and_values(X, values, pix, blk, absblk):
    """:func:`gnetlab.kernels.u8gemm.pixel_codes` of X into ``pix``, and the layer's input ``blk =
    values[code]`` with its magnitudes; False (the rest unspecified) when X is not 8-bit codes."""
    if not pixel_codes(X, pix):
        return False
    p8 = pix.view(np.uint8)
    for r in range(X.shape[0]):
        for i in range(X.shape[1]):
            v = values[p8[r, i]]
            blk[r, i] = v
            absblk[r, i] = abs(v)
    return True


@njit(cache=True, nogil=True)
def _small_forward(pix, gbits, alpha, beta, gsum, blk, abs_sums, tol, bound, gamma64, words, meta, g, w, t, cf, af,
                   out):
    """The first layer (threshold ``-(tol * abs_sums[r])`` in float32, as ``geometry.tie_tolerance``)
    and, when it left nothing for fsum, the +-1 layers into ``out``; returns the entries left."""
    thr = np.empty(blk.shape[0], np.float32)
    for r in range(blk.shape[0]):
        thr[r] = -(tol * abs_sums[r])
    left = _fused_vnni(pix, gbits, alpha, beta, gsum, blk, thr, bound, gamma64, words, 0, words.shape[1])
    if left == 0:
        _tail_kernel(words, True, meta, g, w, t, cf, af, out)
    return left


def small_batch_scores(net, X: np.ndarray, timings: dict | None = None) -> np.ndarray | None:
    """Scores of a few 8-bit images through the packed path of a dense TASU network with Rademacher G,
    or None when this path does not apply (the caller then runs its general path).

    It applies when ``X`` is a float32 C-contiguous ``(B, K)`` array of ``float32(p) / float32(255)``
    codes (NaN, inf and any other value decline it) and the CPU has AVX-512 VNNI. After a compiled check
    of the codes, one compiled call computes the first layer's signs (exact integer products, the decision of
    :func:`pixel_projection_signs`) and the +-1 layers (:mod:`gnetlab.ehd.fused_tail`): the same
    integers as the layer-by-layer path. The tie tolerance's sums of ``|x|`` stay with numpy (its
    summation order is the float path's). With ``timings``, the two stages run as two calls and
    ``"layer0:data"`` is added to it.

    Parameters
    ----------
    net : EHDGNet
        The embedded network: dense TASU layers with Rademacher G (else None is returned).
    X : ndarray, float32, shape (B, K)
        Images scaled to [0, 1], before the model's input map.
    timings : dict, optional
        Seconds per stage (its ``"_clock"`` entry, else wall time).

    Returns
    -------
    ndarray, int32, shape (B, n_classes), or None
    """
    if not net._fast_ok():
        return None
    values, tol, gbits, gsum, alpha, beta, bound, gamma64, vnni = _plan(net, os.environ.get(ENV_VAR))
    if not vnni:
        return None
    if timings is not None:
        now = timings.get("_clock", time.perf_counter)
        t0 = now()
    B, K = X.shape
    pix = np.empty((B, 16 * gbits.shape[1]), np.int32)
    blk = np.empty((B, K), np.float32)
    absblk = np.empty((B, K), np.float32)
    if not _codes_and_values(X, values, pix, blk, absblk):
        return None
    sums = absblk.sum(axis=1, dtype=np.float32)
    words = np.empty((B, -(-gbits.shape[0] // 64)), np.uint64)
    meta, g, w, t, cf, af = tail_params(net.all_layers, True)
    out = np.empty((B, int(meta[-1, 2])), np.int32)
    if timings is None and not _small_forward(pix, gbits, alpha, beta, gsum, blk, sums, tol, bound, gamma64, words,
                                              meta, g, w, t, cf, af, out):
        return out
    thr = -(tol * sums)
    if _fused_vnni(pix, gbits, alpha, beta, gsum, blk, thr, bound, gamma64, words, 0, words.shape[1]):
        _fsum_fallback(words, blk, gbits, thr, bound, alpha, beta, gsum, net.all_layers[0].projection,
                       bits_matmul(pix, gbits))
    if timings is not None:
        timings["layer0:data"] = timings.get("layer0:data", 0.0) + now() - t0
    return tail_scores(net.all_layers, words, first_weights=True)


# -- the first conv layer on 8-bit images -------------------------------------------------------------

@njit(cache=True, nogil=True)
def _real_patches(x, bias, k, stride, pad, Ho, Wo, rows):
    """rows[b L + oy Wo + ox, (c k + ky) k + kx] = x[b, c, y, x] + bias, 0 where padded (unfold order): the
    first conv layer's real patches (float32), or the patches of a code image (uint8, bias 0)."""
    B, C, H, W = x.shape
    L = Ho * Wo
    for b in range(B):
        for oy in range(Ho):
            for ox in range(Wo):
                r = b * L + oy * Wo + ox
                for c in range(C):
                    for ky in range(k):
                        y = oy * stride + ky - pad
                        for kx in range(k):
                            xx = ox * stride + kx - pad
                            i = (c * k + ky) * k + kx
                            if 0 <= y < H and 0 <= xx < W:
                                rows[r, i] = x[b, c, y, xx] + bias
                            else:
                                rows[r, i] = np.float32(0)


@njit(cache=True, nogil=True)
def _conv_codes(codes, rows, values, valid, pos_pat, pix):
    """The patch codes ``codes`` (uint8 (R, K), 0 where padded) as 4 bytes per int32 word of ``pix``
    (rows beyond R and bytes beyond K: 0); False unless every patch row ``rows[r]`` is ``values`` of its
    codes where valid and 0 where padded (``valid``: the masks of the padding patterns ``pos_pat``)."""
    R, K = codes.shape
    L = pos_pat.shape[0]
    p8 = pix.view(np.uint8)
    for r in range(pix.shape[0]):
        for i in range(p8.shape[1]):
            p8[r, i] = 0
    ok = True
    for r in range(R):
        vm = valid[pos_pat[r % L]]
        for i in range(K):
            c = codes[r, i]
            p8[r, i] = c
            ok &= rows[r, i] == (values[c] if vm[i] else np.float32(0))
    return ok


@njit(cache=True, nogil=True)
def _conv_decide(acc, r, nr, pos_pat, gsum_pat, bg_pat, alpha, beta, alpha32, b32, rows, gbits, thr, bound, gamma64,
                 words):
    """Words of patch rows r .. r + nr from their integer products ``acc[a]``. The projection of row
    r + a is ``alpha acc + beta gsum_pat[p]`` (p its padding pattern) within ``bound``; a float32
    evaluation ``alpha32 acc + bg_pat[p]`` (within ``b32`` of the projection, rounding included) decides
    every entry farther than ``b32`` from the threshold with 16-lane compares in registers
    (``gnetlab.kernels.compare.affine_compare64``); a word with an entry nearer goes through
    :func:`_exact_word` (float64, then the re-sum of the patch)."""
    L = pos_pat.shape[0]
    N = gsum_pat.shape[1]
    left = 0
    for a in range(nr):
        p = pos_pat[(r + a) % L]
        bg = bg_pat[p]
        s = acc[a]
        t32 = thr[r + a]
        for w in range(words.shape[1]):
            base = 64 * w
            top = min(64, N - base)
            if top == 64:
                word, near = _affine_compare64(s, bg, base, alpha32, t32, b32)
                if near == np.uint64(0):
                    words[r + a, w] = word
                    continue
            word, n = _exact_word(acc, a, base, base, top, alpha, beta, gsum_pat[p], rows[r + a], gbits,
                                np.float64(t32), bound, gamma64)
            words[r + a, w] = word
            left += n
    return left


@njit(cache=True, nogil=True)
def _conv_rows_vnni(pix, lay, pos_pat, gsum_pat, bg_pat, alpha, beta, alpha32, b32, rows, gbits, thr, bound, gamma64,
                    words, r0, r1):
    """Rows r0..r1 (r0 a multiple of 4): 4 patch rows x all N through VPDPBUSD register tiles into an
    L2-sized scratch, then decided (no product matrix in memory)."""
    acc = np.empty((ROWS, lay.shape[1]), np.int32)
    left = 0
    for r in range(r0, r1, ROWS):
        first_layer_vnni(pix[r:r + ROWS], lay, acc, ROWS)
        left += _conv_decide(acc, r, min(ROWS, r1 - r), pos_pat, gsum_pat, bg_pat, alpha, beta, alpha32, b32, rows,
                             gbits, thr, bound, gamma64, words)
    return left


@njit(cache=True, nogil=True)
def _conv_rows_portable(pix, lay, pos_pat, gsum_pat, bg_pat, alpha, beta, alpha32, b32, rows, gbits, thr, bound, gamma64,
                        words, r0, r1):
    """:func:`_conv_rows_vnni` with the products in plain loops (any CPU)."""
    acc = np.empty((ROWS, lay.shape[1]), np.int32)
    left = 0
    for r in range(r0, r1, ROWS):
        first_layer_portable(pix[r:r + ROWS], lay, acc, ROWS)
        left += _conv_decide(acc, r, min(ROWS, r1 - r), pos_pat, gsum_pat, bg_pat, alpha, beta, alpha32, b32, rows,
                             gbits, thr, bound, gamma64, words)
    return left


@njit(cache=True, nogil=True, parallel=True)
def _conv_rows_vnni_par(pix, lay, pos_pat, gsum_pat, bg_pat, alpha, beta, alpha32, b32, rows, gbits, thr, bound, gamma64,
                        words, n_blocks):
    R = rows.shape[0]
    per = ((R + n_blocks - 1) // n_blocks + ROWS - 1) // ROWS * ROWS
    left = np.zeros(n_blocks, np.int64)
    for b in prange(n_blocks):
        left[b] = _conv_rows_vnni(pix, lay, pos_pat, gsum_pat, bg_pat, alpha, beta, alpha32, b32, rows, gbits, thr,
                                  bound, gamma64, words, min(R, b * per), min(R, b * per + per))
    return left.sum()


def _conv_patterns(layer, shape) -> tuple:
    """(pos_pat (L,), gsum_pat (P, N) int64, valid (P, K) bool): the padding pattern of each output
    position and, per pattern, ``sum_{i valid} g_ki`` and its mask of valid entries (cached per layer
    and input shape)."""
    def make():
        C, H, W = shape
        k, s, p = layer.kernel_size, layer.stride, layer.padding
        Ho, Wo = conv_out_size(H, layer), conv_out_size(W, layer)
        ys = np.arange(Ho)[:, None] * s + np.arange(k)[None, :] - p  # (Ho, k)
        xs = np.arange(Wo)[:, None] * s + np.arange(k)[None, :] - p
        vy, vx = (ys >= 0) & (ys < H), (xs >= 0) & (xs < W)
        valid = (vy[:, None, :, None] & vx[None, :, None, :]).reshape(Ho * Wo, k * k)  # (L, k k)
        valid = np.tile(valid, (1, C))  # unfold order: channel, then ky, kx
        pats, pos_pat = np.unique(valid, axis=0, return_inverse=True)
        G = layer.projection.astype(np.float64)
        gsum = np.rint(pats.astype(np.float64) @ G.T).astype(np.int64)
        return (np.ascontiguousarray(pos_pat.reshape(-1), dtype=np.int64), np.ascontiguousarray(gsum),
                np.ascontiguousarray(pats))

    return layer.cached(("pixel_patterns", tuple(shape)), make)


def _conv_plan(net, layer, shape) -> tuple:
    """(values, alpha, beta, bound, bg_pat, b32) of the first conv layer under the net's input map:
    :func:`code_values`, the integer line (:func:`_line`) and the float32 prefilter's operands, computed
    once per layer, input shape and input map (``bg_pat`` alone cost ~0.1 ms per call)."""
    key = (tuple(shape), _map_key(net, layer.bias))
    hit = layer._cache.get("pixel_conv_plan")
    if hit is not None and hit[0] == key:
        return hit[1]
    K = layer.fan_in
    values = code_values(net, layer.bias)
    alpha, beta, bound = _line(values, K)
    gsum_pat = _conv_patterns(layer, shape)[1]
    # the float32 prefilter: alpha32 S + float32(beta gsum), within b32 of the projection (float32
    # rounding of alpha, of beta gsum, of the product and of the sum, each below 2^-24 of its magnitude M)
    M = abs(alpha) * 255 * K + abs(beta) * K
    with np.errstate(over="ignore"):  # overflow to inf is handled below
        bg_pat = (beta * gsum_pat).astype(np.float32)
    if M < 2.0**100 and (alpha == 0 or abs(alpha) > 2.0**-100) and np.isfinite(bg_pat).all():
        b32 = np.float32((bound + 2.0**-21 * M) * (1 + 2.0**-20))
    else:  # float32 could overflow or lose its relative precision: every word to the float64 decision
        b32 = np.float32(np.inf)
    plan = (values, alpha, beta, bound, bg_pat, b32)
    layer._cache["pixel_conv_plan"] = (key, plan)
    return plan


def conv_pixel_signs(net, layer, raw: np.ndarray, rows: np.ndarray, thr: np.ndarray, *, threads: int = 1,
                     path: str | None = None) -> tuple[np.ndarray, int] | None:
    """The first conv layer's data signs from exact integer products of 8-bit patch codes, or None when
    ``raw`` is not made of ``float32(p) / float32(255)`` codes (or ``rows`` are not the layer's input
    from them).

    The patches of an image on codes p are ``values[p]`` where valid and 0 where padded, so
    ``<g_k, x_r> = alpha S_rk + beta sum_{i valid} g_ki + E`` with ``S`` the exact integer product of
    the patch codes (0 where padded) with G (VPDPBUSD, ``gnetlab.kernels.u8gemm.first_layer_vnni``, 4
    patch rows x all N per step, decided while in L2) and ``|E| <= K max_p |values[p] - alpha p -
    beta|``; one sum of G per padding pattern (25 for 5 x 5 kernels with padding 2). Entries within
    that bound of the threshold are re-summed in float64 from ``rows``, as :func:`pixel_projection_signs`.

    Parameters
    ----------
    net : EHDGNet
        Its input map (``input_shift``, ``input_scale``).
    layer : EHDLayer
        The first (conv2d, Rademacher) layer.
    raw : ndarray, float32, shape (B, C, H, W)
        The model's inputs before its input map.
    rows : ndarray, float32, shape (B Ho Wo, K)
        The layer's real patches (``x + b`` where valid, 0 where padded), unfold order.
    thr : ndarray, float32, shape (B Ho Wo,)
        Thresholds (minus the tie tolerance).
    threads : int
        Threads to split the patch rows over (the caller has handed the cores over).
    path : str, optional
        Kernel path; the VNNI kernel where :func:`gnetlab.kernels.u8gemm.vnni_available`, else loops.

    Returns
    -------
    (ndarray, int) or None
        The packed signs, uint64 (B Ho Wo, ceil(N / 64)), and the number of entries float64 could not
        decide (the caller then takes the exact route for the layer), or None.
    """
    from ..kernels import u8gemm

    B, C, H, W = raw.shape
    K, N = layer.fan_in, layer.hyperdim
    R = rows.shape[0]
    img = np.empty((B, -(-(C * H * W) // 4)), np.int32)
    if not pixel_codes(np.ascontiguousarray(raw, dtype=np.float32).reshape(B, -1), img):
        return None
    k, s, pd = layer.kernel_size, layer.stride, layer.padding
    Ho, Wo = conv_out_size(H, layer), conv_out_size(W, layer)
    lay = layer.cached("u8_layout", lambda: u8gemm.weight_layout(np.where(layer.projection < 0, -1, 1).astype(np.int8)))
    pix = np.empty((-(-R // ROWS) * ROWS, lay.shape[0]), np.int32)
    codes = np.empty((R, K), np.uint8)  # the patches of the code image (0 where padded), in unfold order
    _real_patches(np.ascontiguousarray(img.view(np.uint8)[:, :C * H * W]).reshape(B, C, H, W), np.uint8(0), k, s,
                  pd, Ho, Wo, codes)
    pos_pat, gsum_pat, valid = _conv_patterns(layer, (C, H, W))
    values, alpha, beta, bound, bg_pat, b32 = _conv_plan(net, layer, (C, H, W))
    if not _conv_codes(codes, rows, values, valid, pos_pat, pix):
        return None
    gbits = np.ascontiguousarray(layer.projection_bits())
    words = np.empty((R, -(-N // 64)), np.uint64)
    args = (pix, lay, pos_pat, gsum_pat, bg_pat, alpha, beta, np.float32(alpha), b32, np.ascontiguousarray(rows), gbits,
            np.ascontiguousarray(thr, dtype=np.float32), bound, 2.0 * _gamma(K, _U64), words)
    if not u8gemm.vnni_available(path):
        left = _conv_rows_portable(*args, 0, R)
    elif threads > 1:
        left = _conv_rows_vnni_par(*args, threads)
    else:
        left = _conv_rows_vnni(*args, 0, R)
    return words, int(left)
