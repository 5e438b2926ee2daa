"""8-bit unsigned inputs times one-bit weights, exact in int32: the first layer of a binary network on pixels.

``acc[r, j] = sum_k p[r, k] s[j, k]`` for pixels ``p`` in 0..255 and weights ``s = +-1``. The weights
are held unpacked as signed bytes in the layout of VPDPBUSD (``weight_layout``): ``w[q, j]`` is one
int32 holding the 4 bytes ``s[j, 4q .. 4q + 3]`` (0 for padding), ``N`` padded to a multiple of 64.
The inputs are the matching int32 words of 4 pixels (rows ``(R, K4)``).

Paths (``vnni_available``):

``vnni``      AVX-512 VNNI (``llvm.x86.avx512.vpdpbusd.512``, unsigned byte x signed byte, 4 products
              summed into each int32 lane): a register tile of 4 input rows x 64 outputs (16 zmm
              accumulators; 1 row x 64 for the last rows of a batch) per step of 4 inputs = 16 VPDPBUSD = 1,024 multiply-accumulates. Only
              compiled when numba's target has ``avx512vnni`` and the kernel path is
              ``avx512_vpopcntdq`` (``gnetlab.kernels.cpu_features``); forcing another path
              (``GNETLAB_KERNEL_PATH``) uses the portable kernel.
``portable``  the same sums in numba loops (int32; LLVM vectorises the output loop for the target).

For a few input rows (batch 1) the unpacked weights cost more to read than the products: ``bits_matmul``
takes the weights as packed bits (``gnetlab.bits`` rows, bit 1 = -1), 8x less memory. Per 64 weights of a
row: the 64-bit word becomes a byte mask (VPMOVM2B: 0 or -1 per byte) and one VPDPBUSD adds
``-sum_{bit 1} p`` into 16 int32 lanes; ``s . p = sum p + 2 (that sum)``. 8 weight rows at a time keep 8
independent accumulators in flight.

Both are exact (``|acc| <= 255 K`` fits int32 for K < 8 million).
"""

from __future__ import annotations

import functools

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from gnetlab.kernels._ir import clamped_rows

__all__ = ["vnni_available", "weight_layout", "pixel_codes", "matmul", "bits_matmul", "ROWS", "COLS", "BIT_ROWS"]

#: Input rows per register tile / output columns per tile (the padding unit of ``weight_layout``).
ROWS, COLS = 4, 64

_I32 = ir.IntType(32)


@functools.lru_cache(maxsize=None)
def _target_has_vnni() -> bool:
    from gnetlab.kernels.cpu_features import numba_target

    t = numba_target()
    feats = set(t["features"].split(","))
    return t["triple"].startswith("x86_64") and {"+avx512vnni", "+avx512bw", "+avx512f"} <= feats


def vnni_available(path: str | None = None) -> bool:
    """Whether the VNNI kernel runs here.

    Parameters
    ----------
    path : str, optional
        Kernel path (default ``$GNETLAB_KERNEL_PATH`` / auto, ``gnetlab.kernels.cpu_features``).

    Returns
    -------
    bool
        True when numba compiles for a target with AVX-512 VNNI (named in its feature string) and the
        path is ``avx512_vpopcntdq``.
    """
    from gnetlab.kernels.cpu_features import resolve_path

    return resolve_path(path) == "avx512_vpopcntdq" and _target_has_vnni()


def weight_layout(signs: np.ndarray) -> np.ndarray:
    """The VPDPBUSD layout of a one-bit weight matrix.

    Parameters
    ----------
    signs : ndarray, int8, shape (n, K)
        +-1 (or 0) weights.

    Returns
    -------
    ndarray, int32, shape (ceil(K / 4), ceil(n / 64) * 64)
        Word ``(q, j)`` holds the bytes ``signs[j, 4q .. 4q + 3]`` (0 for padding).
    """
    n, k = signs.shape
    k4 = -(-k // 4)
    npad = -(-n // COLS) * COLS
    b = np.zeros((npad, 4 * k4), np.int8)
    b[:n, :k] = signs
    # (npad, k4, 4) -> (k4, npad, 4): word (q, j) holds s[j, 4q:4q+4], little-endian bytes
    return np.ascontiguousarray(b.reshape(npad, k4, 4).transpose(1, 0, 2)).view(np.int32).reshape(k4, npad)


def _make_vnni_tile(n_rows: int):
    @intrinsic
    def vnni_tile(typingctx, pix, w, acc, r0, j):
        """``acc[r0:r0+n_rows, j:j+64] = sum_q vpdpbusd(pix[r0:r0+n_rows, q], w[q, j:j+64])``: pix
        (R, K4) int32 words of unsigned bytes, w (K4, Npad) int32 words of signed bytes, acc (R, Npad)
        int32 (C-contiguous)."""
        sig = types.void(pix, w, acc, types.intp, types.intp)

        def codegen(context, builder, signature, args):
            intp = context.get_value_type(types.intp)
            p_arr = context.make_array(signature.args[0])(context, builder, args[0])
            w_arr = context.make_array(signature.args[1])(context, builder, args[1])
            o_arr = context.make_array(signature.args[2])(context, builder, args[2])
            r0, j = args[3], args[4]
            vec = ir.VectorType(_I32, 16)
            k4 = cgutils.unpack_tuple(builder, p_arr.shape)[1]
            npad = cgutils.unpack_tuple(builder, w_arr.shape)[1]
            dp = _llvm_fn(builder, "llvm.x86.avx512.vpdpbusd.512", vec, [vec, vec, vec])
            accs = []
            for _ in range(n_rows * 4):
                ptr = cgutils.alloca_once(builder, vec)
                builder.store(ir.Constant(vec, None), ptr)
                accs.append(ptr)
            rows = [builder.gep(p_arr.data, [builder.mul(builder.add(r0, ir.Constant(intp, r)), k4)])
                    for r in range(n_rows)]
            undef = ir.Constant(vec, ir.Undefined)
            zeros = ir.Constant(ir.VectorType(_I32, 16), [0] * 16)
            with cgutils.for_range(builder, k4, intp=intp) as loop:
                q = loop.index
                base = builder.add(builder.mul(q, npad), j)
                wv = [builder.load(builder.bitcast(builder.gep(w_arr.data, [builder.add(base, ir.Constant(intp, 16 * c))]),
                                                   vec.as_pointer()), align=4) for c in range(4)]
                for r in range(n_rows):
                    a = builder.load(builder.gep(rows[r], [q]))
                    av = builder.shuffle_vector(builder.insert_element(undef, a, ir.Constant(_I32, 0)), undef, zeros)
                    for c in range(4):
                        ptr = accs[4 * r + c]
                        builder.store(builder.call(dp, [builder.load(ptr), av, wv[c]]), ptr)
            for r in range(n_rows):
                for c in range(4):
                    off = builder.add(builder.mul(builder.add(r0, ir.Constant(intp, r)), npad),
                                      builder.add(j, ir.Constant(intp, 16 * c)))
                    optr = builder.bitcast(builder.gep(o_arr.data, [off]), vec.as_pointer())
                    builder.store(builder.load(accs[4 * r + c]), optr, align=4)
            return context.get_dummy_value()

        return sig, codegen

    return vnni_tile


_vnni_tile4 = _make_vnni_tile(ROWS)
_vnni_tile1 = _make_vnni_tile(1)


def _llvm_fn(builder, name, ret, args):
    return cgutils.get_or_insert_function(builder.module, ir.FunctionType(ret, args), name)


@njit(cache=True, nogil=True)
def first_layer_vnni(pix, w, acc, n_rows):
    """acc[:n_rows] (Npad) = pix[:n_rows] (K4) x w (K4, Npad) with VPDPBUSD tiles of 4 rows (1 row for
    a short block); the target must have AVX-512 VNNI."""
    for j in range(0, w.shape[1], COLS):
        if n_rows == ROWS:
            _vnni_tile4(pix, w, acc, 0, j)
        else:
            for r in range(n_rows):
                _vnni_tile1(pix, w, acc, r, j)


@njit(cache=True, nogil=True)
def first_layer_portable(pix, w, acc, n_rows):
    """The same sums as :func:`first_layer_vnni` in plain loops (any CPU)."""
    k4, npad = w.shape
    p8 = pix.view(np.uint8)
    w8 = w.view(np.int8)  # (K4, 4 Npad): byte t of word (q, j) at [q, 4 j + t]
    for r in range(n_rows):
        for j in range(npad):
            acc[r, j] = 0
    for q in range(k4):
        for r in range(n_rows):
            p0 = np.int32(p8[r, 4 * q])
            p1 = np.int32(p8[r, 4 * q + 1])
            p2 = np.int32(p8[r, 4 * q + 2])
            p3 = np.int32(p8[r, 4 * q + 3])
            for j in range(npad):
                acc[r, j] += (p0 * np.int32(w8[q, 4 * j]) + p1 * np.int32(w8[q, 4 * j + 1])
                              + p2 * np.int32(w8[q, 4 * j + 2]) + p3 * np.int32(w8[q, 4 * j + 3]))


@njit(cache=True, nogil=True)
def pixel_codes(X, pix):
    """The 8-bit codes of images scaled to [0, 1], checked (compiled; branch-free inner loop).

    ``p = rint(255 x)`` recovers p from ``x = float32(p) / float32(255)`` (its float32 error is below
    255 x 2^-23); ``p / 255 == x`` then refuses every other value (NaN and inf included).

    Parameters
    ----------
    X : ndarray, float32, shape (R, K)
        Inputs.
    pix : ndarray, int32, shape (R', ceil(K / 4)), R' >= R
        Written: the codes as bytes, 4 per word (other bytes 0).

    Returns
    -------
    bool
        False when some value of ``X`` is not an 8-bit code / 255.
    """
    p8 = pix.view(np.uint8)
    R, K = X.shape
    bad = False
    for r in range(pix.shape[0]):
        if r >= R:
            for k in range(p8.shape[1]):
                p8[r, k] = 0
            continue
        for k in range(K):
            v = X[r, k]
            p = min(max(np.float32(np.rint(v * np.float32(255.0))), np.float32(0.0)), np.float32(255.0))
            bad |= p / np.float32(255.0) != v
            p8[r, k] = np.uint8(p)
        for k in range(K, p8.shape[1]):
            p8[r, k] = 0
    return not bad


#: Weight rows per step of :func:`bits_matmul`'s VNNI kernel (independent accumulators).
BIT_ROWS = 8
_PREFETCH_ROWS = 32


@intrinsic
def _bits_rows(typingctx, pix, gbits, r, k0):
    """``UniTuple(int32, BIT_ROWS)``: for weight rows ``k0 .. k0 + 7`` (clamped to the last row), the
    sum over words q of ``vpdpbusd(p[r, 64q .. 64q + 63], bytes of -bit)`` reduced over lanes, i.e.
    ``-sum_{i: bit i of row k set} p[r, i]``. pix: int32 (R, 16 W) words of 4 unsigned bytes;
    gbits: uint64 (N, W) (C-contiguous)."""
    sig = types.UniTuple(types.int32, BIT_ROWS)(pix, gbits, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        intp = context.get_value_type(types.intp)
        p_arr = context.make_array(signature.args[0])(context, builder, args[0])
        g_arr = context.make_array(signature.args[1])(context, builder, args[1])
        r, k0 = args[2], args[3]
        vec = ir.VectorType(_I32, 16)
        mask_t = ir.VectorType(ir.IntType(1), 64)
        byte_t = ir.VectorType(ir.IntType(8), 64)
        n_rows, n_words = cgutils.unpack_tuple(builder, g_arr.shape)
        p_words = cgutils.unpack_tuple(builder, p_arr.shape)[1]
        dp = _llvm_fn(builder, "llvm.x86.avx512.vpdpbusd.512", vec, [vec, vec, vec])
        g_rows = clamped_rows(builder, g_arr.data, k0, BIT_ROWS, n_rows, n_words, intp)
        p_row = builder.gep(p_arr.data, [builder.mul(r, p_words)])
        accs = []
        for _ in range(BIT_ROWS):
            ptr = cgutils.alloca_once(builder, vec)
            builder.store(ir.Constant(vec, None), ptr)
            accs.append(ptr)
        # software prefetch of the block _PREFETCH_ROWS rows ahead, one cache line per word step (its
        # 8 rows x W words are contiguous): the hardware prefetcher alone left cold rows (weights evicted
        # by the caller's previous work) about half as fast as cached ones
        pf = _llvm_fn(builder, "llvm.prefetch.p0i8", ir.VoidType(), [ir.IntType(8).as_pointer(), _I32, _I32, _I32])
        ahead = builder.add(k0, ir.Constant(intp, _PREFETCH_ROWS))
        top = builder.sub(n_rows, ir.Constant(intp, BIT_ROWS))  # the last whole block of 8 rows
        top = builder.select(builder.icmp_signed("<", top, ir.Constant(intp, 0)), ir.Constant(intp, 0), top)
        ahead = builder.select(builder.icmp_signed(">", ahead, top), top, ahead)
        pf_base = builder.bitcast(builder.gep(g_arr.data, [builder.mul(ahead, n_words)]), ir.IntType(8).as_pointer())
        with cgutils.for_range(builder, n_words, intp=intp) as loop:
            q = loop.index
            builder.call(pf, [builder.gep(pf_base, [builder.mul(q, ir.Constant(intp, 64))]), ir.Constant(_I32, 0),
                              ir.Constant(_I32, 3), ir.Constant(_I32, 1)])
            pv = builder.load(builder.bitcast(builder.gep(p_row, [builder.mul(q, ir.Constant(intp, 16))]),
                                              vec.as_pointer()), align=4)
            for t in range(BIT_ROWS):
                m = builder.bitcast(builder.load(builder.gep(g_rows[t], [q])), mask_t)
                neg = builder.bitcast(builder.sext(m, byte_t), vec)  # byte i = -1 where bit i is set
                builder.store(builder.call(dp, [builder.load(accs[t]), pv, neg]), accs[t])
        red = _llvm_fn(builder, "llvm.vector.reduce.add.v16i32", _I32, [vec])
        outs = [builder.call(red, [builder.load(a)]) for a in accs]
        return context.make_tuple(builder, signature.return_type, outs)

    return sig, codegen


@njit(cache=True, nogil=True)
def _bits_matmul_vnni(pix, gbits, psum, out, k_start, k_stop):
    """``out[r, k - k_start]`` for weight rows k_start..k_stop (the whole G stays visible to the
    prefetch, so a caller that walks G in blocks still has the next block's rows fetched ahead)."""
    R = out.shape[0]
    for k0 in range(k_start, k_stop, BIT_ROWS):
        top = min(BIT_ROWS, k_stop - k0)
        for r in range(R):
            s = _bits_rows(pix, gbits, r, k0)
            for t in range(top):
                out[r, k0 - k_start + t] = np.int64(psum[r]) + np.int64(2) * np.int64(s[t])


@njit(cache=True, nogil=True)
def _bits_matmul_portable(pix, gbits, psum, out, k_start, k_stop):
    """:func:`_bits_matmul_vnni` in plain loops."""
    p8 = pix.view(np.uint8)
    R = out.shape[0]
    W = gbits.shape[1]
    for r in range(R):
        for k in range(k_start, k_stop):
            neg = np.int32(0)
            for q in range(W):
                word = gbits[k, q]
                for b in range(64):
                    if (word >> np.uint64(b)) & np.uint64(1):
                        neg += np.int32(p8[r, 64 * q + b])
            out[r, k - k_start] = psum[r] - np.int32(2) * neg


def bits_matmul(pix: np.ndarray, gbits: np.ndarray, *, path: str | None = None) -> np.ndarray:
    """Exact int32 ``codes @ signs.T`` with the one-bit weights as packed bits; one thread (a few rows).

    Parameters
    ----------
    pix : ndarray, int32, shape (R, 16 W)
        Codes, 4 per word (:func:`pixel_codes` into a buffer of ``64 W`` bytes per row), 0 beyond K.
    gbits : ndarray, uint64, shape (N, W)
        Packed signs (bit 1 = -1), as :func:`gnetlab.bits.pack_signs` rows.
    path : str, optional
        Kernel path; the VNNI kernel runs where :func:`vnni_available`, plain loops elsewhere.

    Returns
    -------
    ndarray, int32, shape (R, N)
        ``sum_i p_ri s_ki`` (padding codes must be 0; padding bits then add nothing); exact for
        K < 8 million (``|sum| <= 255 K``; the kernel's intermediate ``2 x`` sum is formed in 64 bits).
    """
    if pix.dtype != np.int32 or gbits.dtype != np.uint64 or pix.ndim != 2 or gbits.ndim != 2:
        raise TypeError(f"pix: expected int32 (R, 16 W) and gbits uint64 (N, W), got {pix.dtype} {pix.shape} "
                        f"and {gbits.dtype} {gbits.shape}")
    if pix.shape[1] != 16 * gbits.shape[1]:
        raise ValueError(f"pix: expected {16 * gbits.shape[1]} words per row for {gbits.shape[1]} weight words, "
                         f"got {pix.shape[1]}")
    pix = np.ascontiguousarray(pix)
    gbits = np.ascontiguousarray(gbits)
    psum = pix.view(np.uint8).sum(axis=1, dtype=np.int64).astype(np.int32)
    out = np.empty((pix.shape[0], gbits.shape[0]), np.int32)
    if out.size:
        (_bits_matmul_vnni if vnni_available(path) else _bits_matmul_portable)(pix, gbits, psum, out, 0, out.shape[1])
    return out


# 64-column tiles per group: a group of w (4 x K4 x 256 bytes, 200 KiB at K = 784) stays in L2 while
# each 4-row block of inputs (in L1) passes all its tiles
_GROUP_TILES = 4


@njit(cache=True, nogil=True, parallel=True)
def _matmul_vnni(pix, w, out):
    n_tiles = w.shape[1] // COLS
    n_groups = (n_tiles + _GROUP_TILES - 1) // _GROUP_TILES
    for g in prange(n_groups):
        for r0 in range(0, pix.shape[0], ROWS):
            for t in range(g * _GROUP_TILES, min(n_tiles, g * _GROUP_TILES + _GROUP_TILES)):
                _vnni_tile4(pix, w, out, r0, t * COLS)


@njit(cache=True, nogil=True, parallel=True)
def _matmul_portable(pix, w, out):
    k4, npad = w.shape
    p8 = pix.view(np.uint8)
    w8 = w.view(np.int8)
    n_tiles = npad // COLS
    for t in prange(n_tiles):
        for r in range(pix.shape[0]):
            for j in range(t * COLS, t * COLS + COLS):
                out[r, j] = 0
            for q in range(k4):
                p0 = np.int32(p8[r, 4 * q])
                p1 = np.int32(p8[r, 4 * q + 1])
                p2 = np.int32(p8[r, 4 * q + 2])
                p3 = np.int32(p8[r, 4 * q + 3])
                for j in range(t * COLS, t * COLS + COLS):
                    out[r, j] += (p0 * np.int32(w8[q, 4 * j]) + p1 * np.int32(w8[q, 4 * j + 1])
                                  + p2 * np.int32(w8[q, 4 * j + 2]) + p3 * np.int32(w8[q, 4 * j + 3]))


def matmul(pix: np.ndarray, w: np.ndarray, *, path: str | None = None) -> np.ndarray:
    """Exact int32 ``(R', Npad)`` products of 8-bit codes (``pixel_codes`` words, R' a multiple of 4) with
    the one-bit weights of ``weight_layout``; threads split the 64-column tiles (one thread below
    ``gnetlab.threads.SERIAL_WORK`` words of work).

    Parameters
    ----------
    pix : ndarray, int32, shape (R', K4)
        Codes, 4 per word; R' a multiple of 4.
    w : ndarray, int32, shape (K4, Npad)
        :func:`weight_layout`.
    path : str, optional
        Kernel path (``gnetlab.kernels.cpu_features``); the VNNI kernel runs where
        :func:`vnni_available`.

    Returns
    -------
    ndarray, int32, shape (R', Npad)
        ``codes @ signs.T`` (padding columns 0).
    """
    from gnetlab.threads import SERIAL_WORK, quiesce_blas, serial_below, start_numba_workers

    if pix.shape[0] % ROWS or pix.shape[1] != w.shape[0]:
        raise ValueError(f"pix: expected (multiple of {ROWS}, {w.shape[0]}) words, got {pix.shape}")
    out = np.empty((pix.shape[0], w.shape[1]), np.int32)
    work = pix.shape[0] * w.size // 16
    if work >= SERIAL_WORK:
        start_numba_workers()
        quiesce_blas()
    with serial_below(work):
        (_matmul_vnni if vnni_available(path) else _matmul_portable)(pix, w, out)
    return out
