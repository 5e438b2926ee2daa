"""The fused packed path of conv EHD G-Nets (TASU, Rademacher G): compiled kernels from image to classes.

For a network of conv2d layers followed by dense layers, all TASU with the arcsine estimate and
Rademacher G, the first on real inputs and every later one on +-1 inputs, :func:`conv_forward` computes
exactly the integer scores of the generic packed path (and of the float-simulated one) without its
intermediate arrays (float patches, boolean signs, +-1 floats, torch unfold):

* first layer (real inputs): the patches of the zero-padded ``x + b`` are built by a compiled loop
  (they also give the tie tolerance, with the same numpy code as
  :func:`gnetlab.ehd.geometry.tie_tolerance`). On 8-bit images (``p / 255``) with AVX-512 VNNI the
  products are the exact integers of the patch codes with G (:func:`gnetlab.ehd.pixels.conv_pixel_signs`:
  VPDPBUSD tiles, one sum of G per padding pattern, 16-lane decisions in registers). Otherwise the
  float32 products with the +-1 G are formed in register tiles of 8 patches x 16 columns of G
  (multiply-adds on the target's widest vectors, no BLAS thread pool to wake, limit or put back to
  sleep). Either way the signs are decided exactly as :func:`gnetlab.ehd.fast.exact_projection_signs`
  decides them (rigorous error bound, float64 re-sum of the few entries inside it; when float64
  cannot decide either, the whole layer goes the :func:`~gnetlab.ehd.fast.exact_projection_signs`
  route, which finishes with fsum);
* later conv layers (+-1 inputs): the +1-padded patches go straight from the sign planes into packed
  words; ``<g_k, u> = K - 2 popcount(u ^ g_k)`` comes from :func:`gnetlab.kernels.binary_matmul`
  (dispatched on the CPU's features) and is compared with the padding terms of
  :func:`gnetlab.ehd.geometry.pad_tables`, as one integer threshold per entry and padding pattern
  (16-lane compares);
* every conv layer's weight side comes from :func:`gnetlab.kernels.binary_matmul`; its TASU sign (the
  float32 operations of :func:`gnetlab.ehd.fast.pack_tasu`) and its max-pooling (on +-1 values: -1
  exactly when the whole window is -1) are one kernel that writes the next layer's sign planes;
* the dense layers run in one compiled call per row for small batches
  (:func:`gnetlab.ehd.fused_tail.tail_scores`), else as in the fused dense path
  (:func:`gnetlab.kernels.binary_matmul`, :func:`~gnetlab.ehd.fast.pack_less`,
  :func:`~gnetlab.ehd.fast.pack_tasu`).

The kernels here are plain numba (``llvm.ctpop`` for popcounts), correct on every CPU numba compiles
for; the vector units used are the compile target's (``gnetlab.kernels.cpu_features``). From
:data:`PARALLEL_ROWS` patch rows on, the conv layers split their rows over the threads.
"""

from __future__ import annotations

import time

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from ..kernels._ir import clamped_rows, llvm_fn
from ..kernels.compare import compare64 as _compare64
from ..kernels.compare import affine_compare64 as _affine_compare64
from .geometry import conv_out_size
from .pixels import _real_patches, conv_pixel_signs

__all__ = ["conv_fast_ok", "conv_forward", "PARALLEL_ROWS", "TAIL_MAX_ROWS"]

# Patch rows (images x positions) from which the conv layers split their rows over numba's threads
# (one 28 x 28 MNIST image: 784 first-layer rows, split; 196 in the second layer, whose compare pass is
# too short to gain from it).
PARALLEL_ROWS = 256
# Batches below this run the dense layers in one call per row (gnetlab.ehd.fused_tail), larger ones
# on the blocked GEMM kernels.
TAIL_MAX_ROWS = 16
_U32 = 2.0**-24
_U64 = 2.0**-53


def _gamma(k: int, u: float) -> float:
    n = max(int(k), 1)
    return n * u / (1 - n * u)


def conv_fast_ok(net) -> bool:
    """Whether :func:`conv_forward` applies to the :class:`gnetlab.ehd.EHDGNet` ``net``: Rademacher G,
    conv2d layers then dense layers, TASU with the arcsine estimate, real inputs only into the first."""
    layers = net.all_layers
    if net.embedding != "rademacher" or any(l.embedding != "rademacher" for l in layers):
        return False
    if layers[0].kind != "conv2d" or layers[0].binary_input or not all(l.binary_input for l in layers[1:]):
        return False
    seen_dense = False
    for l in net.layers:
        if l.activation != "tasu" or l.estimate != "arcsine":
            return False
        if l.kind == "dense":
            seen_dense = True
            if l.pool != 1:
                return False
        elif l.kind != "conv2d" or seen_dense:
            return False
    return True


@njit(cache=True, nogil=True)
def _decide_row(acc, x, r, GT, t32, b32, br, b64, out):
    """out = packed acc < t32 for one patch row r, exactly (as ``gnetlab.ehd.fast._exact_rows``): entries
    within ``br`` (float64, rigorous) of the threshold are re-summed in float64; the float32 prefilter
    ``|acc - t32| <= b32`` (``b32 >= br (1 + 2^-20)``) flags a superset of them. Returns the number of
    entries float64 cannot decide either."""
    N = acc.shape[0]
    K = x.shape[1]
    t = np.float64(t32)
    left = 0
    for w in range(out.shape[0]):
        base = w * 64
        top = min(64, N - base)
        if top == 64:  # a full word: four 16-lane compares
            word, near = _compare64(acc, base, t32, b32)
            amb = near != np.uint64(0)
        else:
            word = np.uint64(0)
            amb = False
            for j in range(top):  # branch-free, float32
                a = acc[base + j]
                word |= np.uint64(a < t32) << np.uint64(j)
                amb |= abs(a - t32) <= b32
        if amb:
            for j in range(top):
                n = base + j
                if abs(np.float64(acc[n]) - t) > br:
                    continue
                s = 0.0
                for i in range(K):
                    s += np.float64(x[r, i]) * np.float64(GT[i, n])
                bit = np.uint64(1) << np.uint64(j)
                if abs(s - t) <= b64:
                    left += 1
                elif s < t:
                    word |= bit
                else:
                    word &= ~bit
        out[w] = word
    return left


_LANES = 16  # columns of G per vector of the register tile
_TILE_ROWS = 8  # patch rows per register tile


@intrinsic
def _tile_products(typingctx, x, GT, acc, r, n_end):
    """acc[a, n] = sum_i x[min(r + a, R - 1), i] GT[i, n] for a < 8 and n < n_end (a multiple of 16):
    per 16 columns, 8 vector accumulators stay in registers over all K inputs (one load of G and 8
    broadcast multiply-adds per input). Generic LLVM vectors (<16 x float>, ``llvm.fmuladd``: fused where the
    target has FMA; the same result either way, since every product is exact): the target's
    widest vector unit, correct on every CPU numba compiles for. x (R, K), GT (K, N), acc (8, N) float32
    C-contiguous. Each entry is the in-order float32 sum of its K products (+-x exactly: G is +-1)."""
    sig = types.void(x, GT, acc, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        intp = context.get_value_type(types.intp)
        f32 = ir.FloatType()
        vec = ir.VectorType(f32, _LANES)
        x_a = context.make_array(signature.args[0])(context, builder, args[0])
        g_a = context.make_array(signature.args[1])(context, builder, args[1])
        o_a = context.make_array(signature.args[2])(context, builder, args[2])
        r, n_end = args[3], args[4]
        R, K = cgutils.unpack_tuple(builder, x_a.shape)
        N = cgutils.unpack_tuple(builder, g_a.shape)[1]
        x_rows = clamped_rows(builder, x_a.data, r, _TILE_ROWS, R, K, intp)
        fma = llvm_fn(builder, "llvm.fmuladd.v16f32", vec, [vec, vec, vec])
        undef = ir.Constant(vec, ir.Undefined)
        splat = ir.Constant(ir.VectorType(ir.IntType(32), _LANES), [0] * _LANES)
        n_chunks = builder.sdiv(n_end, ir.Constant(intp, _LANES))
        with cgutils.for_range(builder, n_chunks, intp=intp) as chunk:
            n0 = builder.mul(chunk.index, ir.Constant(intp, _LANES))
            accs = []
            for _ in range(_TILE_ROWS):
                ptr = cgutils.alloca_once(builder, vec)
                builder.store(ir.Constant(vec, None), ptr)
                accs.append(ptr)
            with cgutils.for_range(builder, K, intp=intp) as inp:
                i = inp.index
                gp = builder.gep(g_a.data, [builder.add(builder.mul(i, N), n0)])
                g = builder.load(builder.bitcast(gp, vec.as_pointer()), align=4)
                for a in range(_TILE_ROWS):
                    xv = builder.load(builder.gep(x_rows[a], [i]))
                    xb = builder.shuffle_vector(builder.insert_element(undef, xv, ir.Constant(ir.IntType(32), 0)),
                                                undef, splat)
                    builder.store(builder.call(fma, [xb, g, builder.load(accs[a])]), accs[a])
            for a in range(_TILE_ROWS):
                op = builder.gep(o_a.data, [builder.add(builder.mul(ir.Constant(intp, a), N), n0)])
                builder.store(builder.load(accs[a]), builder.bitcast(op, vec.as_pointer()), align=4)
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, nogil=True)
def _real_rows(x, GT, thr, bound32, bound, bound64, words, acc, r0, r1):
    """Packed exact signs of <g_k, x_r> < thr_r for rows r0..r1: float32 products of 8 rows at a time in
    register tiles (:func:`_tile_products`; any float32 summation order is within the bound), each row
    then decided by :func:`_decide_row`. acc: float32 (8, N) scratch."""
    K, N = GT.shape
    R = x.shape[0]
    if acc.shape[0] < _TILE_ROWS or acc.shape[1] != N:  # _tile_products strides acc by N
        raise ValueError("acc: expected a float32 scratch of shape (8, N)")
    left = 0
    n_vec = N - N % _LANES
    for r in range(r0, r1, _TILE_ROWS):
        nr = min(_TILE_ROWS, r1 - r)
        _tile_products(x, GT, acc, r, n_vec)
        for a in range(nr):  # the last columns (N mod 16), in the same order
            ra = min(r + a, R - 1)
            for n in range(n_vec, N):
                s = np.float32(0)
                for i in range(K):
                    s += x[ra, i] * GT[i, n]
                acc[a, n] = s
        for a in range(nr):
            left += _decide_row(acc[a], x, r + a, GT, thr[r + a], bound32[r + a], bound[r + a], bound64[r + a],
                                words[r + a])
    return left


@njit(cache=True, nogil=True, parallel=True)
def _real_rows_par(x, GT, thr, bound32, bound, bound64, words, n_blocks):
    R = x.shape[0]
    N = GT.shape[1]
    per = ((R + n_blocks - 1) // n_blocks + _TILE_ROWS - 1) // _TILE_ROWS * _TILE_ROWS
    left = np.zeros(n_blocks, np.int64)
    for blk in prange(n_blocks):
        acc = np.empty((_TILE_ROWS, N), np.float32)
        left[blk] = _real_rows(x, GT, thr, bound32, bound, bound64, words, acc, min(R, blk * per),
                               min(R, blk * per + per))
    return left.sum()


@njit(cache=True, nogil=True)
def _tasu_pool(dot, c, alpha, B, Ho, Wo, p, out):
    """out[b, o, py, px] = 1 (sign -1) where every position of the p x p window has
    float32(alpha) * (float32(dot[pos, o]) * c) < 0 (TASU on the weight-side products
    ``dot = N - 2 popcount``, then max-pool on +-1 values)."""
    m = dot.shape[1]
    Hp, Wp = out.shape[2], out.shape[3]
    L = Ho * Wo
    zero = np.float32(0)
    for b in range(B):
        for py in range(Hp):
            for px in range(Wp):
                for o in range(m):
                    neg = True
                    for dy in range(p):
                        for dx in range(p):
                            r = b * L + (py * p + dy) * Wo + px * p + dx
                            neg = neg and (alpha * (np.float32(dot[r, o]) * c) < zero)
                    out[b, o, py, px] = np.uint8(neg)


@njit(cache=True, nogil=True, inline="always")
def _bit_run(bits, row, start, n):
    """The n <= 64 bits ``start .. start + n - 1`` of the packed bit string ``bits[row]`` (uint64 words,
    LSB first, at least one word past the last bit read), as the low bits of a word."""
    q = start >> 6
    sh = np.uint64(start & 63)
    seg = bits[row, q] >> sh
    if start & 63:
        seg |= bits[row, q + 1] << (np.uint64(64) - sh)
    if n < 64:
        seg &= (np.uint64(1) << np.uint64(n)) - np.uint64(1)
    return seg


@njit(cache=True, nogil=True)
def _binary_patch_words(s, k, stride, pad, Ho, Wo, out):
    """Packed +1-padded patches of the sign planes s (B, C, H, W; 1 = -1), in unfold order: each plane row
    is packed once (with its padding, as 0 bits), and every patch takes the k bits of each (channel,
    kernel row) as one run (:func:`_bit_run`) instead of bit by bit."""
    B, C, H, W = s.shape
    L = Ho * Wo
    n_row_words = (W + 2 * pad + 63) // 64 + 1
    rowbits = np.zeros((C * H, n_row_words), np.uint64)  # row c H + y: plane row y of channel c
    one_word = W + 2 * pad <= 64 and k < 64
    kmask = (np.uint64(1) << np.uint64(min(k, 63))) - np.uint64(1)
    for r in range(B * L):
        for q in range(out.shape[1]):
            out[r, q] = np.uint64(0)
    for b in range(B):
        for c in range(C):
            for y in range(H):
                for q in range(n_row_words):
                    rowbits[c * H + y, q] = np.uint64(0)
                for x in range(W):
                    j = x + pad
                    rowbits[c * H + y, j >> 6] |= np.uint64(s[b, c, y, x] != 0) << np.uint64(j & 63)
        for oy in range(Ho):
            for ox in range(Wo):
                r = b * L + oy * Wo + ox
                for c in range(C):
                    for ky in range(k):
                        y = oy * stride + ky - pad
                        if y < 0 or y >= H:
                            continue
                        i = (c * k + ky) * k
                        if one_word:  # a padded row within one word: one shift and mask
                            seg = (rowbits[c * H + y, 0] >> np.uint64(ox * stride)) & kmask
                            out[r, i >> 6] |= seg << np.uint64(i & 63)
                            if (i & 63) + k > 64:  # the run continues in the next word
                                out[r, (i >> 6) + 1] |= seg >> np.uint64(64 - (i & 63))
                            continue
                        for t in range(0, k, 64):  # runs of up to 64 bits
                            n = min(64, k - t)
                            seg = _bit_run(rowbits, c * H + y, ox * stride + t, n)
                            it = i + t
                            out[r, it >> 6] |= seg << np.uint64(it & 63)
                            if (it & 63) + n > 64:
                                out[r, (it >> 6) + 1] |= seg >> np.uint64(64 - (it & 63))


@njit(cache=True, nogil=True)
def _pack_conv_rows(dot, pos_row, neg_t, words, r0, r1):
    """words[r] = packed (dot[r, k] < T[t, k]), t = pos_row[r mod L], from ``neg_t = -T`` (float32 holding
    exact integers, :func:`_pad_tables`): 16-lane compares of ``float32(dot) - T < 0``, exact for
    integers below 2^24."""
    N = dot.shape[1]
    L = pos_row.shape[0]
    W = words.shape[1]
    one = np.float32(1)
    zero = np.float32(0)
    for r in range(r0, r1):
        nt = neg_t[pos_row[r % L]]
        row = dot[r]
        for w in range(W):
            base = w * 64
            top = min(64, N - base)
            if top == 64:
                word, _ = _affine_compare64(row, nt, base, one, zero, -one)
            else:
                word = np.uint64(0)
                for j in range(top):
                    word |= np.uint64(np.float32(row[base + j]) + nt[base + j] < zero) << np.uint64(j)
            words[r, w] = word


@njit(cache=True, nogil=True, parallel=True)
def _pack_conv_rows_par(dot, pos_row, neg_t, words, n_blocks):
    R = dot.shape[0]
    per = (R + n_blocks - 1) // n_blocks
    for blk in prange(n_blocks):
        _pack_conv_rows(dot, pos_row, neg_t, words, min(R, blk * per), min(R, blk * per + per))


def _binary_dot(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """``k - 2 popcount(a_i ^ b_j)``, int32 (Ra, Rb) (:func:`gnetlab.kernels.binary_matmul`)."""
    from ..bits import PackedBits
    from ..kernels import binary_matmul

    return np.asarray(binary_matmul(PackedBits(a, k), PackedBits(b, k)))


def _threads() -> int:
    import numba

    return numba.get_num_threads()


def _first_layer_words(layer, x, net=None, raw=None) -> np.ndarray:
    """The first (real-input) conv layer's data signs, packed (B * L, ceil(N / 64)): from exact integer
    products of the patch codes when ``raw`` (the model's inputs) are 8-bit images and the CPU has
    AVX-512 VNNI (:func:`gnetlab.ehd.pixels.conv_pixel_signs`), else from float32 register tiles."""
    from ..kernels.u8gemm import vnni_available
    from .fast import _handoff, exact_projection_signs
    from .geometry import tie_tolerance

    B, C, H, W = x.shape
    Ho, Wo = conv_out_size(H, layer), conv_out_size(W, layer)
    K, N = layer.fan_in, layer.hyperdim
    R = B * Ho * Wo
    rows = np.empty((R, K), np.float32)
    _real_patches(x, np.float32(layer.bias), layer.kernel_size, layer.stride, layer.padding, Ho, Wo, rows)
    thr = np.ascontiguousarray(-tie_tolerance(rows, layer)[:, 0])
    threads = _threads()
    if raw is not None and vnni_available():
        got = conv_pixel_signs(net, layer, raw, rows, thr, threads=threads if R >= PARALLEL_ROWS else 1)
        if got is not None and not got[1]:
            return got[0]
    GT = layer.cached("conv_fast_GT", lambda: np.ascontiguousarray(layer.projection.T))
    gbits = layer.projection_bits()
    absum = np.abs(rows).sum(axis=1, dtype=np.float64)
    bound = 2.0 * _gamma(K, _U32) * absum + 1e-30
    bound64 = 2.0 * _gamma(K, _U64) * absum + 1e-300
    bound32 = (bound * (1 + 2.0**-20)).astype(np.float32)  # a float32 prefilter that flags a superset
    words = np.empty((R, -(-N // 64)), np.uint64)
    if threads > 1 and R >= PARALLEL_ROWS:
        _handoff()
        left = _real_rows_par(rows, GT, thr, bound32, bound, bound64, words, threads)
    else:
        left = _real_rows(rows, GT, thr, bound32, bound, bound64, words, np.empty((_TILE_ROWS, N), np.float32), 0, R)
    if left:  # sums float64 cannot decide: the exact route (it ends with correctly rounded sums)
        words = exact_projection_signs(rows, gbits, rows @ GT, projection=layer.projection, threshold=thr)
    return words


def _pad_tables(layer, shape):
    """The padding terms of a +-1-input conv layer (:func:`gnetlab.ehd.geometry.pad_tables`) as integer
    thresholds, compacted: the generic path's sign is ``float64(dot - pad_int) < float64(-bvalid)``
    (dot, pad_int integers), i.e. ``dot < T`` with ``T = ceil(-bvalid) + pad_int``; positions with the
    same padded offsets share one row of T (25 rows instead of 196 for 5 x 5 kernels on 14 x 14
    inputs, so the table stays in cache). T is clipped to [-(K + 1), K + 1] (``|dot| <= K``, so no
    decision changes) to stay an exact float32 integer. Returns (pos_row (L,), -T as float32)."""
    def make():
        from .geometry import pad_tables

        pad = pad_tables(layer, shape)
        K = layer.fan_in
        if K >= 2**23:  # float32 holds the products and thresholds exactly below 2^24
            raise ValueError(f"conv layer with fan-in {K}: products beyond float32's exact integers")
        T = np.ceil(-pad["bvalid"].astype(np.float64)) + pad["pad_int"].astype(np.float64)
        T = np.clip(T, -(K + 1), K + 1)  # |dot| <= K: the same decisions, for any bias (inf included)
        rows, inverse = np.unique(T, axis=0, return_inverse=True)
        return (np.ascontiguousarray(inverse.reshape(-1), dtype=np.int64),
                np.ascontiguousarray(-rows, dtype=np.float32))

    return layer.cached(("conv_fast_pad", tuple(shape)), make)


def _binary_layer_words(layer, s) -> np.ndarray:
    """A +-1-input conv layer's data signs, packed (B * L, ceil(N / 64)), from sign planes s."""
    from .fast import _handoff

    B, C, H, W = s.shape
    Ho, Wo = conv_out_size(H, layer), conv_out_size(W, layer)
    K, N = layer.fan_in, layer.hyperdim
    pos_row, neg_t = _pad_tables(layer, (C, H, W))
    u = np.empty((B * Ho * Wo, -(-K // 64)), np.uint64)
    _binary_patch_words(s, layer.kernel_size, layer.stride, layer.padding, Ho, Wo, u)
    dot = _binary_dot(u, layer.projection_bits(), K)  # <g_k, u>: XOR-popcount GEMM (CPU-dispatched)
    words = np.empty((u.shape[0], -(-N // 64)), np.uint64)
    threads = _threads()
    if threads > 1 and u.shape[0] >= PARALLEL_ROWS:
        _handoff()
        _pack_conv_rows_par(dot, pos_row, neg_t, words, threads)
    else:
        _pack_conv_rows(dot, pos_row, neg_t, words, 0, u.shape[0])
    return words


def conv_forward(net, x: np.ndarray, timings: dict | None = None, raw: np.ndarray | None = None) -> np.ndarray:
    """Integer scores (B, n_classes) of a conv EHD G-Net on standardised inputs x (B, C, H, W), fused.

    Parameters
    ----------
    net : EHDGNet
        A network for which :func:`conv_fast_ok` holds.
    x : ndarray, float32, shape (B, C, H, W)
        The inputs after the model's input map ``(x - shift) / scale``.
    timings : dict, optional
        Seconds per layer are added under ``"layer{i}"`` (clock: its ``"_clock"`` entry, else wall time);
        dense layers fused into one call (batches below :data:`TAIL_MAX_ROWS`) count under the first.
    raw : ndarray, float32, shape (B, C, H, W), optional
        The inputs before the input map: when they are 8-bit images (``p / 255``), the first layer's
        products are exact integers (:func:`gnetlab.ehd.pixels.conv_pixel_signs`; same signs).

    Returns
    -------
    ndarray, int32, shape (B, n_classes)
        Exactly :meth:`gnetlab.ehd.EHDGNet.scores` of the generic packed path.
    """
    from .fast import _handoff, pack_less, pack_tasu

    now = time.perf_counter if timings is None else timings.get("_clock", time.perf_counter)
    _handoff()  # OpenBLAS workers left spinning by an earlier BLAS call would take the cores
    x = np.ascontiguousarray(x, dtype=np.float32)
    B = x.shape[0]
    s = None  # sign planes between conv layers (uint8, 1 = -1)
    act = None  # packed signs between dense layers
    for i, layer in enumerate(net.all_layers):
        t0 = now()
        if layer.kind == "conv2d":
            H, W = (x if s is None else s).shape[2:]
            words = _first_layer_words(layer, x, net, raw) if s is None else _binary_layer_words(layer, s)
            Ho, Wo = conv_out_size(H, layer), conv_out_size(W, layer)
            p = layer.pool
            s = np.empty((B, layer.n_out, Ho // p, Wo // p), np.uint8)
            dot = _binary_dot(words, layer.weight_bits, layer.hyperdim)  # weight side: the CPU's GEMM kernel
            _tasu_pool(dot, np.float32(np.pi / (2 * layer.hyperdim)), np.float32(layer.alpha), B, Ho, Wo, p, s)
        else:
            if act is None:
                from ..bits import pack_bool

                act = pack_bool(s.reshape(B, -1).view(np.bool_))
                if B < TAIL_MAX_ROWS:  # the +-1 dense layers in one compiled call
                    from .fused_tail import tail_scores

                    out = tail_scores(net.all_layers[i:], act, first_weights=False)
                    if timings is not None:
                        timings[f"layer{i}"] = timings.get(f"layer{i}", 0.0) + now() - t0
                    return out
            dot = _binary_dot(act, layer.projection_bits(), layer.fan_in)
            words = pack_less(dot, layer.cached("neg_bias_term", lambda l=layer: -l.bias_term()))
            dot = _binary_dot(words, layer.weight_bits, layer.hyperdim)
            if layer.kind == "classifier":
                if timings is not None:
                    timings[f"layer{i}"] = timings.get(f"layer{i}", 0.0) + now() - t0
                return dot
            act = pack_tasu(dot, layer.hyperdim, layer.alpha)
        if timings is not None:
            timings[f"layer{i}"] = timings.get(f"layer{i}", 0.0) + now() - t0
    raise AssertionError("no classifier")  # pragma: no cover
