"""numba XOR-popcount GEMM, one micro-kernel per CPU path (see ``gnetlab.kernels.cpu_features``).

``out[i, j] = k - 2 sum_w popcount(a[i, w] ^ b[j, w])`` for packed rows a (m, W), b (n, W).

Micro-kernels are register tiles of ``RA`` rows of ``a`` x ``RB`` rows of ``b`` written as LLVM vector
IR inside ``numba.extending.intrinsic`` (numba's array indexing, with its negative-index wraparound,
keeps LLVM from vectorising the loads of a register tile). Each step loads one vector of every row,
XORs every (a, b) pair, counts bits and accumulates:

``avx512_vpopcntdq``  512-bit vectors ``<8 x i64>``, ``llvm.ctpop.v8i64`` (one VPOPCNTQ) into 64-bit
                      lane counters: XOR + VPOPCNTQ + VPADDQ per 512 binary MACs. From 32 rows of a
                      on, b is interleaved by groups of 8 rows (one copy) so that lane l of an
                      accumulator is output column l: a's word is broadcast, no horizontal sums
                      (tile 4 rows x 24 columns, ``_make_bcast_tile``; ~15% faster than the tile
                      below at K = 4096). Otherwise tile 4 x 4 whose 16 sums go through a
                      transposing add network, with a masked-load tail.
``avx2``              256-bit ``<4 x i64>``, ``llvm.ctpop.v32i8`` (the PSHUFB nibble-table popcount:
                      two lookups, a shift, two masks) into byte counters, summed horizontally once
                      per block of 31 steps (a byte never exceeds 8 x 31 = 248); tile 4 x 2 (16 ymm
                      registers). When both operands are long (``NIBBLE_MIN``) on nibble-spread
                      operands instead (``spread_nibbles``: each byte holds 4 of the bits, twice the
                      words): XOR + one VPSHUFB lookup + VPADDB per 128 binary MACs (6 instead of 8
                      vector ops per 256 MACs; 1.15x faster measured at 1024 x 1024 x 4096), summed
                      by VPSADBW once per block of 63 steps (a byte never exceeds 4 x 63 = 252).
``portable``          the general byte-counter scheme (``llvm.ctpop.v16i8``, blocks of 31 steps) on
                      128-bit ``<2 x i64>`` (NEON ``cnt`` on ARM,
                      SSE2 bit tricks on old x86); generic IR only.

Trailing words that do not fill a vector use scalar ``llvm.ctpop.i64``. The driver pads ``a`` to a
multiple of RA rows and ``b`` to a multiple of RB rows (zero rows, sliced off), keeps a block of ``b``
(~128 KiB) hot in L2 while each thread's tiles of ``a`` stream past it, and splits the (b block, a
tile, b unit) cells into one equal contiguous range per thread with one ``prange`` (one parallel
region per call, equal work per thread whatever the block sizes; no operand swap or transposed copy
is needed when ``a`` is short).

Peak (AMD EPYC Zen 4, 3.55 GHz): a 512-bit XOR, VPOPCNTQ and VPADDQ each take two of the four 256-bit
vector pipes, so 512 binary MACs cost at least 1.5 cycles (341 MACs per cycle and core); the broadcast
tile runs at ~335 per cycle on one core (CPU time, 1024 x 1024 x 4096), i.e. at that bound; other
register tiles (8 x 3, 6 x 4, 8 x 2 groups) and K / b block sizes measured within 5% of it. Beyond
it only fewer instructions per bit would help; sharing the work with scalar POPCNT on the integer
pipes did not (a C test loop mixing both was no faster than the vector part alone). Also measured in
C on data in L1 (gcc 12, one core, 3.67 GHz from a dependent-add loop), and not faster: byte counters
(VPOPCNTB + VPADDB, VPSADBW every 31 steps) in the broadcast tile, 1.62-1.68 cycles per 512 MACs
against 1.50; a carry-save adder over 3 words (two VPTERNLOGQ, then VPOPCNTQ of sum and carry) in the
4 x 4 tile, 2.28 against 2.13. In the whole GEMM (``python -m gnetlab.bench matmul``) one thread
reaches ~280 MACs per cycle and two ~257 each (1.84x).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["TILES", "gemm", "popcount64", "xor_popcount_sums"]

_I8 = ir.IntType(8)
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)


def _llvm_fn(builder, name, ret, args):
    return cgutils.get_or_insert_function(builder.module, ir.FunctionType(ret, args), name)


@intrinsic
def popcount64(typingctx, x):
    """``popcount64(x)`` inside ``@njit`` code: bits set in a uint64, lowered to ``llvm.ctpop.i64``
    (one POPCNT instruction where the CPU has it). numba has no popcount builtin."""
    if x != types.uint64:
        return None
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, [args[0]])

    return sig, codegen


@njit(cache=True, nogil=True)
def xor_popcount_sums(x, w, off, n, n_words, sums):
    """``sums[j] = sum_{q < n_words} popcount(x[q] ^ w[off + q n + j])`` for j < n: one packed vector x
    against n packed rows stored word-major in the flat ``w`` (the row loop innermost, so it vectorises:
    VPOPCNTQ where the target has it). ``sums``: any integer array (int32 on the EHD batch-1 path,
    int64 in the packed BinaryNet); each popcount is added as an int64 and stored in its dtype."""
    for j in range(n):
        sums[j] = 0
    for q in range(n_words):
        xq = x[q]
        wq = w[off + q * n: off + (q + 1) * n]
        for j in range(n):
            sums[j] += np.int64(popcount64(xq ^ wq[j]))


def _make_tile(ra: int, rb: int, lanes: int, byte_counters: bool, nibbles: bool = False):
    """Intrinsic ``tile(a, b, i, j, w0, w1) -> UniTuple(int64, ra * rb)``: entry ``ra_idx * rb + rb_idx``
    is ``sum_{w in [w0, w1)} popcount(a[i + ra_idx, w] ^ b[j + rb_idx, w])``. a, b uint64 C-contiguous;
    the rows must exist; with byte counters ``(w1 - w0) // lanes <= 31``.

    ``nibbles`` (AVX2 only): every byte of a and b holds at most 4 bits, in its low nibble (see
    :func:`spread_nibbles`), so one VPSHUFB lookup of a 16-entry table is the byte's popcount (the
    general byte popcount needs two lookups, a shift and two masks); byte counters then take
    ``(w1 - w0) // lanes <= 63``."""
    vec = ir.VectorType(_I64, lanes)
    if byte_counters:
        acc_t = ir.VectorType(_I8, 8 * lanes)
        wide_t = ir.VectorType(_I32, 8 * lanes)
        ctpop_name = f"llvm.ctpop.v{8 * lanes}i8"
        reduce_name = f"llvm.vector.reduce.add.v{8 * lanes}i32"
    else:
        acc_t = vec
        ctpop_name = f"llvm.ctpop.v{lanes}i64"
        reduce_name = f"llvm.vector.reduce.add.v{lanes}i64"
    n_out = ra * rb

    @intrinsic
    def tile(typingctx, a, b, i, j, w0, w1):
        sig = types.UniTuple(types.int64, n_out)(a, b, types.intp, types.intp, types.intp, types.intp)

        def codegen(context, builder, signature, args):
            intp = context.get_value_type(types.intp)
            a_arr = context.make_array(signature.args[0])(context, builder, args[0])
            b_arr = context.make_array(signature.args[1])(context, builder, args[1])
            i, j, w0, w1 = args[2:]
            n_words = cgutils.unpack_tuple(builder, a_arr.shape)[1]

            def rows(arr, first, count):
                return [builder.gep(arr.data, [builder.mul(builder.add(first, ir.Constant(intp, t)), n_words)])
                        for t in range(count)]

            a_rows, b_rows = rows(a_arr, i, ra), rows(b_arr, j, rb)
            accs = []
            for _ in range(n_out):
                ptr = cgutils.alloca_once(builder, acc_t)
                builder.store(ir.Constant(acc_t, None), ptr)
                accs.append(ptr)
            if nibbles:
                pshufb = _llvm_fn(builder, "llvm.x86.avx2.pshuf.b", acc_t, [acc_t, acc_t])
                lut = ir.Constant(acc_t, [bin(v % 16).count("1") for v in range(8 * lanes)])

                def count(x):
                    return builder.call(pshufb, [lut, x])
            else:
                ctpop = _llvm_fn(builder, ctpop_name, acc_t, [acc_t])

                def count(x):
                    return builder.call(ctpop, [x])
            step = ir.Constant(intp, lanes)
            n_steps = builder.sdiv(builder.sub(w1, w0), step)
            with cgutils.for_range(builder, n_steps, intp=intp) as loop:
                w = builder.add(w0, builder.mul(loop.index, step))

                def load(p):
                    return builder.load(builder.bitcast(builder.gep(p, [w]), vec.as_pointer()), align=8)

                bv = [load(p) for p in b_rows]
                for t, pa in enumerate(a_rows):
                    av = load(pa)
                    for u in range(rb):
                        x = builder.xor(av, bv[u])
                        if byte_counters:
                            x = builder.bitcast(x, acc_t)
                        acc = accs[t * rb + u]
                        builder.store(builder.add(builder.load(acc), count(x)), acc)
            reduce_add = _llvm_fn(builder, reduce_name, wide_t.element if byte_counters else _I64,
                                  [wide_t if byte_counters else vec])
            if byte_counters and nibbles:  # AVX2: VPSADBW sums each 8 bytes into a 64-bit lane
                psad = _llvm_fn(builder, "llvm.x86.avx2.psad.bw", ir.VectorType(_I64, 4), [acc_t, acc_t])
                reduce4 = _llvm_fn(builder, "llvm.vector.reduce.add.v4i64", _I64, [ir.VectorType(_I64, 4)])
            totals = []
            for acc in accs:
                v = builder.load(acc)
                if byte_counters and nibbles:
                    s = builder.call(reduce4, [builder.call(psad, [v, ir.Constant(acc_t, None)])])
                elif byte_counters:
                    s = builder.zext(builder.call(reduce_add, [builder.zext(v, wide_t)]), _I64)
                else:
                    s = builder.call(reduce_add, [v])
                ptr = cgutils.alloca_once(builder, _I64)
                builder.store(s, ptr)
                totals.append(ptr)
            ctpop64 = _llvm_fn(builder, "llvm.ctpop.i64", _I64, [_I64])
            tail = builder.add(w0, builder.mul(n_steps, step))
            with cgutils.for_range_slice(builder, tail, w1, ir.Constant(intp, 1), intp=intp) as (w, _):
                bw = [builder.load(builder.gep(p, [w])) for p in b_rows]
                for t, pa in enumerate(a_rows):
                    aw = builder.load(builder.gep(pa, [w]))
                    for u in range(rb):
                        c = builder.call(ctpop64, [builder.xor(aw, bw[u])])
                        ptr = totals[t * rb + u]
                        builder.store(builder.add(builder.load(ptr), c), ptr)
            return context.make_tuple(builder, signature.return_type, [builder.load(p) for p in totals])

        return sig, codegen

    return tile


def _reduce8(builder, vs):
    """Eight <8 x i64> vectors -> one <8 x i64> whose lane t is the sum of vs[t]'s lanes (a transposing
    add network: 7 shuffle pairs + 7 adds instead of 8 separate horizontal sums)."""
    def shuf(x, y, mask):
        return builder.shuffle_vector(x, y, ir.Constant(ir.VectorType(_I32, 8), mask))

    masks = [([0, 8, 2, 10, 4, 12, 6, 14], [1, 9, 3, 11, 5, 13, 7, 15]),
             ([0, 1, 8, 9, 4, 5, 12, 13], [2, 3, 10, 11, 6, 7, 14, 15]),
             ([0, 1, 2, 3, 8, 9, 10, 11], [4, 5, 6, 7, 12, 13, 14, 15])]
    level = list(vs)
    for lo, hi in masks:
        level = [builder.add(shuf(level[2 * p], level[2 * p + 1], lo), shuf(level[2 * p], level[2 * p + 1], hi))
                 for p in range(len(level) // 2)]
    # after the three levels lane order is [0, 1, 2, ..., 7] of the inputs
    return level[0]


@intrinsic
def _tile_q512_store(typingctx, a, b, out, i, j, w0, w1, k, first, last):
    """4 x 4 tile with ``<8 x i64>`` VPOPCNTQ counters that writes ``out[i:i+4, j:j+4]`` itself:
    ``v = (first ? 0 : out) + sum_{w in [w0, w1)} popcount(a[i+r, w] ^ b[j+c, w])`` and stores
    ``k - 2 v`` when ``last`` else ``v``. The 16 horizontal sums go through two transposing add
    networks (a vector of 8 sums each: rows r, r+1) and two 128-bit stores per pair of rows."""
    sig = types.void(a, b, out, types.intp, types.intp, types.intp, types.intp, types.int64,
                     types.boolean, types.boolean)

    def codegen(context, builder, signature, args):
        intp = context.get_value_type(types.intp)
        a_arr = context.make_array(signature.args[0])(context, builder, args[0])
        b_arr = context.make_array(signature.args[1])(context, builder, args[1])
        o_arr = context.make_array(signature.args[2])(context, builder, args[2])
        i, j, w0, w1, k, first, last = args[3:]
        vec = ir.VectorType(_I64, 8)
        n_words = cgutils.unpack_tuple(builder, a_arr.shape)[1]
        n_out = cgutils.unpack_tuple(builder, o_arr.shape)[1]

        def rows(arr, start, count):
            return [builder.gep(arr.data, [builder.mul(builder.add(start, ir.Constant(intp, t)), n_words)])
                    for t in range(count)]

        a_rows, b_rows = rows(a_arr, i, 4), rows(b_arr, j, 4)
        accs = []
        for _ in range(16):
            ptr = cgutils.alloca_once(builder, vec)
            builder.store(ir.Constant(vec, None), ptr)
            accs.append(ptr)
        ctpop = _llvm_fn(builder, "llvm.ctpop.v8i64", vec, [vec])
        step = ir.Constant(intp, 8)
        n_steps = builder.sdiv(builder.sub(w1, w0), step)
        with cgutils.for_range(builder, n_steps, intp=intp) as loop:
            w = builder.add(w0, builder.mul(loop.index, step))

            def load(p):
                return builder.load(builder.bitcast(builder.gep(p, [w]), vec.as_pointer()), align=8)

            bv = [load(p) for p in b_rows]
            for t, pa in enumerate(a_rows):
                av = load(pa)
                for u in range(4):
                    acc = accs[4 * t + u]
                    builder.store(builder.add(builder.load(acc), builder.call(ctpop, [builder.xor(av, bv[u])])), acc)
        # trailing 1-7 words: one masked vector load per row (masked-off lanes read as 0 in both
        # operands, so their XOR counts nothing); AVX-512 does it natively, elsewhere LLVM scalarises
        tail = builder.add(w0, builder.mul(n_steps, step))
        left = builder.sub(w1, tail)
        i1v = ir.VectorType(ir.IntType(1), 8)
        lanes = ir.Constant(ir.VectorType(_I64, 8), list(range(8)))
        left_v = builder.shuffle_vector(builder.insert_element(ir.Constant(vec, ir.Undefined), builder.sext(left, _I64)
                                                               if left.type.width < 64 else left, ir.Constant(_I32, 0)),
                                        ir.Constant(vec, ir.Undefined), ir.Constant(ir.VectorType(_I32, 8), [0] * 8))
        mask = builder.icmp_signed("<", lanes, left_v)
        masked_load = _llvm_fn(builder, "llvm.masked.load.v8i64.p0", vec,
                               [vec.as_pointer(), _I32, i1v, vec])
        with builder.if_then(builder.icmp_signed(">", left, ir.Constant(intp, 0)), likely=False):
            def mload(p):
                ptr = builder.bitcast(builder.gep(p, [tail]), vec.as_pointer())
                return builder.call(masked_load, [ptr, ir.Constant(_I32, 8), mask, ir.Constant(vec, None)])

            bv = [mload(p) for p in b_rows]
            for t, pa in enumerate(a_rows):
                av = mload(pa)
                for u in range(4):
                    acc = accs[4 * t + u]
                    builder.store(builder.add(builder.load(acc), builder.call(ctpop, [builder.xor(av, bv[u])])), acc)
        zero32 = ir.Constant(_I32, 0)
        v4 = ir.VectorType(_I32, 4)
        kk = builder.trunc(k, _I32)
        k_vec = builder.shuffle_vector(builder.insert_element(ir.Constant(v4, ir.Undefined), kk, zero32),
                                       ir.Constant(v4, ir.Undefined), ir.Constant(v4, [0, 0, 0, 0]))
        two = ir.Constant(v4, [2, 2, 2, 2])
        for half in range(2):
            sums = builder.trunc(_reduce8(builder, [builder.load(p) for p in accs[8 * half: 8 * half + 8]]),
                                 ir.VectorType(_I32, 8))
            for q in range(2):
                r = 2 * half + q
                part = builder.shuffle_vector(sums, sums, ir.Constant(v4, [4 * q + c for c in range(4)]))
                offset = builder.add(builder.mul(builder.add(i, ir.Constant(intp, r)), n_out), j)
                optr = builder.bitcast(builder.gep(o_arr.data, [offset]), v4.as_pointer())
                prev = builder.load(optr, align=4)
                val = builder.select(first, part, builder.add(prev, part))
                val = builder.select(last, builder.sub(k_vec, builder.mul(two, val)), val)
                builder.store(val, optr, align=4)
        return context.get_dummy_value()

    return sig, codegen


def _make_bcast_tile(ra: int, rg: int):
    """Intrinsic ``tile(a, bil, out, i, g, w0, w1, k, first, last)`` writing ``out[i:i+ra, 8g:8g+8rg]``.

    ``bil`` (n/8, W, 8) holds b interleaved by groups of 8 rows: word w of rows 8g..8g+7 is one
    ``<8 x i64>``. Each step broadcasts word w of every a row (folded into VPXORQ's memory operand),
    XORs it with the rg group vectors, VPOPCNTQ, VPADDQ: lane l of accumulator (t, u) counts the pair
    (i + t, 8(g + u) + l), so no horizontal sums are needed; the 8 int32 results of each (t, u) are
    one store. ``v = (first ? 0 : out) + counts``, stored as ``k - 2 v`` when ``last`` else ``v``."""

    @intrinsic
    def tile(typingctx, a, bil, out, i, g, w0, w1, k, first, last):
        sig = types.void(a, bil, out, types.intp, types.intp, types.intp, types.intp, types.int64, types.boolean, types.boolean)
        def codegen(context, builder, signature, args):
            intp = context.get_value_type(types.intp)
            a_arr = context.make_array(signature.args[0])(context, builder, args[0])
            b_arr = context.make_array(signature.args[1])(context, builder, args[1])
            o_arr = context.make_array(signature.args[2])(context, builder, args[2])
            i, g, w0, w1, k, first, last = args[3:]
            vec = ir.VectorType(_I64, 8)
            n_words = cgutils.unpack_tuple(builder, a_arr.shape)[1]
            n_out = cgutils.unpack_tuple(builder, o_arr.shape)[1]
            m_rows = cgutils.unpack_tuple(builder, o_arr.shape)[0]
            last_row = builder.sub(m_rows, ir.Constant(intp, 1))

            def a_row(t):  # rows past the end of a read its last row; their results are not stored
                r = builder.add(i, ir.Constant(intp, t))
                return builder.select(builder.icmp_signed(">", r, last_row), last_row, r)

            a_rows = [builder.gep(a_arr.data, [builder.mul(a_row(t), n_words)]) for t in range(ra)]
            # group g row block starts at g * W * 8
            b_grps = [builder.gep(b_arr.data, [builder.mul(builder.mul(builder.add(g, ir.Constant(intp, u)), n_words), ir.Constant(intp, 8))]) for u in range(rg)]
            accs = []
            for _ in range(ra * rg):
                p = cgutils.alloca_once(builder, vec); builder.store(ir.Constant(vec, None), p); accs.append(p)
            ctpop = _llvm_fn(builder, "llvm.ctpop.v8i64", vec, [vec])
            undef = ir.Constant(vec, ir.Undefined)
            zeros8 = ir.Constant(ir.VectorType(_I32, 8), [0] * 8)
            with cgutils.for_range_slice(builder, w0, w1, ir.Constant(intp, 1), intp=intp) as (w, _):
                bv = [builder.load(builder.bitcast(builder.gep(p, [builder.mul(w, ir.Constant(intp, 8))]), vec.as_pointer()), align=8) for p in b_grps]
                for t, pa in enumerate(a_rows):
                    aw = builder.load(builder.gep(pa, [w]))
                    av = builder.shuffle_vector(builder.insert_element(undef, aw, ir.Constant(_I32, 0)), undef, zeros8)
                    for u in range(rg):
                        acc = accs[t * rg + u]
                        builder.store(builder.add(builder.load(acc), builder.call(ctpop, [builder.xor(av, bv[u])])), acc)
            v8 = ir.VectorType(_I32, 8)
            kk = builder.trunc(k, _I32)
            k_vec = builder.shuffle_vector(builder.insert_element(ir.Constant(v8, ir.Undefined), kk, ir.Constant(_I32, 0)), ir.Constant(v8, ir.Undefined), zeros8)
            two = ir.Constant(v8, [2] * 8)
            i1v8 = ir.VectorType(ir.IntType(1), 8)
            mload = _llvm_fn(builder, "llvm.masked.load.v8i32.p0", v8, [v8.as_pointer(), _I32, i1v8, v8])
            mstore = _llvm_fn(builder, "llvm.masked.store.v8i32.p0", ir.VoidType(), [v8, v8.as_pointer(), _I32, i1v8])
            lane_ids = ir.Constant(ir.VectorType(_I64, 8), list(range(8)))
            n_cols = n_out
            for u in range(rg):
                col = builder.mul(builder.add(g, ir.Constant(intp, u)), ir.Constant(intp, 8))
                room = builder.sext(builder.sub(n_cols, col), _I64) if n_cols.type.width < 64 else builder.sub(n_cols, col)
                room_v = builder.shuffle_vector(builder.insert_element(ir.Constant(vec, ir.Undefined), room, ir.Constant(_I32, 0)),
                                                ir.Constant(vec, ir.Undefined), zeros8)
                mask = builder.icmp_signed("<", lane_ids, room_v)  # columns that exist (n is not padded)
                for t in range(ra):
                    row = builder.add(i, ir.Constant(intp, t))
                    with builder.if_then(builder.icmp_signed("<", row, m_rows), likely=True):
                        part = builder.trunc(builder.load(accs[t * rg + u]), v8)
                        optr = builder.bitcast(builder.gep(o_arr.data, [builder.add(builder.mul(row, n_out), col)]),
                                               v8.as_pointer())
                        prev = builder.call(mload, [optr, ir.Constant(_I32, 4), mask, ir.Constant(v8, None)])
                        val = builder.select(first, part, builder.add(prev, part))
                        val = builder.select(last, builder.sub(k_vec, builder.mul(two, val)), val)
                        builder.call(mstore, [val, optr, ir.Constant(_I32, 4), mask])
            return context.get_dummy_value()
        return sig, codegen
    return tile


# Broadcast tile of the VPOPCNTQ path: 4 rows of a x 3 groups of 8 rows of b (12 accumulators).
BCAST_RA, BCAST_RG = 4, 3
_tile_bcast = _make_bcast_tile(BCAST_RA, BCAST_RG)
# From this many rows of a on, interleaving b (one copy of it) pays for itself.
BCAST_MIN_ROWS = 32


# path -> (RA, RB, 64-bit lanes per vector, byte counters)
TILES = {
    "avx512_vpopcntdq": (4, 4, 8, False),
    "avx2": (4, 2, 4, True),
    "portable": (4, 2, 2, True),
}
_tile_b256 = _make_tile(*TILES["avx2"])
_tile_n256 = _make_tile(*TILES["avx2"], nibbles=True)
_tile_b128 = _make_tile(*TILES["portable"])

# The three drivers differ only in the micro-kernel they call (numba caches a function by its source
# location, so each path gets its own function rather than a closure).


# Work is split in cells: (b block, tile of a, unit of b), where a unit is one register tile's worth of
# b rows (RB rows, or RG groups of 8 for the broadcast tile), ordered b block outermost. Each of the
# ``n_parts`` parallel iterations (one per thread) takes an equal contiguous range of cells, so the
# threads do equal work whatever the block sizes (whole (block, tile) jobs split unevenly when the
# last b block is short: 58% / 42% for 1024 x 1024 x 4096 before), and each sweeps its tiles of a past
# one b block (kept in L2) before moving on; a short a (a single query) still gives every thread work.


@njit(cache=True, nogil=True)
def _cell_run(c, c1, n_tiles, n_units, jb_units):
    """(tile of a, first unit of b, units) of the run of cells that starts at cell ``c``: up to ``c1``
    or the end of the (b block, tile) it lies in."""
    span = n_tiles * jb_units
    blk = c // span
    off = c - blk * span
    size = min(jb_units, n_units - blk * jb_units)
    tile = off // size
    u0 = off - tile * size
    return tile, blk * jb_units + u0, min(size - u0, c1 - c)


@njit(cache=True, parallel=True, nogil=True)
def _gemm_q512(a, b, out, k, jb_units, kb_words, n_parts):
    m, nw = a.shape
    n_tiles = m // 4
    n_units = b.shape[0] // 4
    total = n_tiles * n_units
    for p in prange(n_parts):
        c = total * p // n_parts
        c1 = total * (p + 1) // n_parts
        while c < c1:
            tile, u0, cnt = _cell_run(c, c1, n_tiles, n_units, jb_units)
            i = 4 * tile
            for k_start in range(0, nw, kb_words):
                k_stop = min(nw, k_start + kb_words)
                for u in range(u0, u0 + cnt):
                    _tile_q512_store(a, b, out, i, 4 * u, k_start, k_stop, k, k_start == 0, k_stop == nw)
            c += cnt


@njit(cache=True, parallel=True, nogil=True)
def _gemm_b256(a, b, out, k, jb_units, kb_words, n_parts):
    m, nw = a.shape
    n_tiles = m // 4
    n_units = b.shape[0] // 2
    total = n_tiles * n_units
    for p in prange(n_parts):
        c = total * p // n_parts
        c1 = total * (p + 1) // n_parts
        while c < c1:
            tile, u0, cnt = _cell_run(c, c1, n_tiles, n_units, jb_units)
            i = 4 * tile
            for k_start in range(0, nw, kb_words):
                k_stop = min(nw, k_start + kb_words)
                first = k_start == 0
                last = k_stop == nw
                for u in range(u0, u0 + cnt):
                    j = 2 * u
                    s = _tile_b256(a, b, i, j, k_start, k_stop)
                    for r in range(4):
                        for q in range(2):
                            v = s[2 * r + q] if first else out[i + r, j + q] + s[2 * r + q]
                            out[i + r, j + q] = k - 2 * v if last else v
            c += cnt


@njit(cache=True, parallel=True, nogil=True)
def _gemm_n256(a, b, out, k, jb_units, kb_words, n_parts):
    m, nw = a.shape
    n_tiles = m // 4
    n_units = b.shape[0] // 2
    total = n_tiles * n_units
    for p in prange(n_parts):
        c = total * p // n_parts
        c1 = total * (p + 1) // n_parts
        while c < c1:
            tile, u0, cnt = _cell_run(c, c1, n_tiles, n_units, jb_units)
            i = 4 * tile
            for k_start in range(0, nw, kb_words):
                k_stop = min(nw, k_start + kb_words)
                first = k_start == 0
                last = k_stop == nw
                for u in range(u0, u0 + cnt):
                    j = 2 * u
                    s = _tile_n256(a, b, i, j, k_start, k_stop)
                    for r in range(4):
                        for q in range(2):
                            v = s[2 * r + q] if first else out[i + r, j + q] + s[2 * r + q]
                            out[i + r, j + q] = k - 2 * v if last else v
            c += cnt


@njit(cache=True, parallel=True, nogil=True)
def _gemm_b128(a, b, out, k, jb_units, kb_words, n_parts):
    m, nw = a.shape
    n_tiles = m // 4
    n_units = b.shape[0] // 2
    total = n_tiles * n_units
    for p in prange(n_parts):
        c = total * p // n_parts
        c1 = total * (p + 1) // n_parts
        while c < c1:
            tile, u0, cnt = _cell_run(c, c1, n_tiles, n_units, jb_units)
            i = 4 * tile
            for k_start in range(0, nw, kb_words):
                k_stop = min(nw, k_start + kb_words)
                first = k_start == 0
                last = k_stop == nw
                for u in range(u0, u0 + cnt):
                    j = 2 * u
                    s = _tile_b128(a, b, i, j, k_start, k_stop)
                    for r in range(4):
                        for q in range(2):
                            v = s[2 * r + q] if first else out[i + r, j + q] + s[2 * r + q]
                            out[i + r, j + q] = k - 2 * v if last else v
            c += cnt


@njit(cache=True, parallel=True, nogil=True)
def _gemm_bcast(a, bil, out, k, jb_units, kb_words, n_parts):
    m, nw = a.shape
    n_tiles = (m + 3) // 4
    n_units = bil.shape[0] // 3
    total = n_tiles * n_units
    for p in prange(n_parts):
        c = total * p // n_parts
        c1 = total * (p + 1) // n_parts
        while c < c1:
            tile, u0, cnt = _cell_run(c, c1, n_tiles, n_units, jb_units)
            i = 4 * tile
            for k_start in range(0, nw, kb_words):
                k_stop = min(nw, k_start + kb_words)
                for u in range(u0, u0 + cnt):
                    _tile_bcast(a, bil, out, i, 3 * u, k_start, k_stop, k, k_start == 0, k_stop == nw)
            c += cnt


@njit(cache=True, parallel=True, nogil=True)
def _interleave(b, bil):
    """bil[g, w, l] = b[8 g + l, w] (0 past the last row), groups split over the threads (a serial numpy
    transpose of b took ~7% of a 1024 x 1024 x 4096 product on two threads)."""
    n, nw = b.shape
    for g in prange(bil.shape[0]):
        for w in range(nw):
            for lane in range(8):
                r = 8 * g + lane
                bil[g, w, lane] = b[r, w] if r < n else np.uint64(0)


_DRIVERS = {"avx512_vpopcntdq": _gemm_q512, "avx2": _gemm_b256, "portable": _gemm_b128}
# Paths with a nibble-spread driver (``spread_nibbles``), used when m n / (m + n) >= NIBBLE_MIN: the
# spread copies both operands (twice the words; a fresh buffer, page faults included, ~4 ns per
# word here) to save ~15% of the O(m n W) kernel, so it pays only when both operands are long
# (measured on AVX2 code, K = 4096: m = 1 x n = 16384 took 6 ms spread against 0.7 ms without).
_NIBBLE_DRIVERS = {"avx2": _gemm_n256}
NIBBLE_MIN = 256
# Bytes of b kept hot per cache block (a quarter of a 512 KiB L2; Zen 4 has 1 MiB, Intel 1-2 MiB).
_B_BLOCK_BYTES = 128 * 1024
# Words of K per block on the 64-bit-counter path (2 KiB per row: a 4-row tile of a stays in L1).
_K_BLOCK_WORDS = 256


def _pad_rows(x: np.ndarray, multiple: int) -> np.ndarray:
    extra = (-x.shape[0]) % multiple
    if extra == 0:
        return x
    return np.concatenate([x, np.zeros((extra,) + x.shape[1:], x.dtype)], axis=0)


def blocking(path: str, n_words: int, nibbles: bool = False) -> tuple[int, int]:
    """(units of b per cache block, words of K per block) for ``path`` and operands of ``n_words``
    words (nibble-spread ones on the nibble paths): a unit is one register tile's RB rows of b; a
    block of b is about ``_B_BLOCK_BYTES``; byte counters bound the steps per K block (31, or 63 when
    a byte holds at most 4 bits)."""
    ra, rb, lanes, byte_counters = TILES[path]
    steps = 63 if nibbles else 31
    kb = min(n_words, steps * lanes if byte_counters else _K_BLOCK_WORDS)
    return int(max(1, _B_BLOCK_BYTES // (8 * max(1, kb) * rb))), int(kb)


_NIBBLE_MASK = np.uint64(0x0F0F0F0F0F0F0F0F)


def spread_nibbles(words: np.ndarray) -> np.ndarray:
    """(rows, 2W) uint64 from (rows, W): the low nibble of every byte, then the high nibble moved down
    (``[w & 0x0F.., (w >> 4) & 0x0F..]``). The bits of a row are the same bits, each byte holding 4;
    popcounts of XORs of two rows spread alike are unchanged."""
    out = np.empty((words.shape[0], 2 * words.shape[1]), np.uint64)  # C-contiguous whatever words is
    np.bitwise_and(words, _NIBBLE_MASK, out=out[:, : words.shape[1]])
    np.bitwise_and(words >> np.uint64(4), _NIBBLE_MASK, out=out[:, words.shape[1] :])
    return out


def _gemm_interleaved(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    import numba

    m, n, nw = a.shape[0], b.shape[0], a.shape[1]
    ap = np.ascontiguousarray(a)  # rows past m are clamped in the kernel, columns past n masked
    groups = -(-n // (8 * BCAST_RG)) * BCAST_RG
    bil = np.empty((groups, nw, 8), np.uint64)
    _interleave(np.ascontiguousarray(b), bil)
    out = np.empty((m, n), np.int32)
    kb = min(nw, _K_BLOCK_WORDS)
    jb = max(1, _B_BLOCK_BYTES // (64 * kb * BCAST_RG))  # units of BCAST_RG groups of 8 rows
    _gemm_bcast(ap, bil, out, int(k), int(jb), int(kb), numba.get_num_threads())
    return out


def gemm(a: np.ndarray, b: np.ndarray, k: int, path: str) -> np.ndarray:
    """int32 (m, n) ``k - 2 popcount(a ^ b)`` with the micro-kernel of ``path`` (a resolved path name).
    a (m, W), b (n, W) uint64, m, n >= 1; threads as numba's current setting."""
    ra, rb, _, _ = TILES[path]
    m, n = a.shape[0], b.shape[0]
    if path == "avx512_vpopcntdq" and m >= BCAST_MIN_ROWS:
        return _gemm_interleaved(a, b, k)
    import numba

    nibbles = path in _NIBBLE_DRIVERS and m * n >= NIBBLE_MIN * (m + n)
    if nibbles:
        a, b = spread_nibbles(a), spread_nibbles(b)
    ap = _pad_rows(np.ascontiguousarray(a), ra)
    bp = _pad_rows(np.ascontiguousarray(b), rb)
    out = np.empty((ap.shape[0], bp.shape[0]), np.int32)
    jb, kb = blocking(path, ap.shape[1], nibbles)
    driver = _NIBBLE_DRIVERS[path] if nibbles else _DRIVERS[path]
    driver(ap, bp, out, int(k), jb, kb, numba.get_num_threads())
    if out.shape != (m, n):
        out = np.ascontiguousarray(out[:m, :n])
    return out
