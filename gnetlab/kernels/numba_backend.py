"""CPU fast path: numba kernels for bit-packed products.

Compiled for the CPU numba targets (the host, or ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES``); the
kernels that use a vector unit are picked by probing that target, never the raw host flags; cached
on disk (``cache=True``, keyed by numba on the target CPU). The inner loops are written as LLVM vector
IR inside ``numba.extending.intrinsic`` functions, because numba's own array indexing (negative-index
wraparound on every access) keeps LLVM from vectorising the loads of a register tile.

XOR-popcount matmul (``binary_matmul``)
    Micro-kernels per CPU path in ``gnetlab.kernels.popcount_gemm`` (512-bit VPOPCNTQ, AVX2 nibble
    table, portable 128-bit); the path follows what numba compiles for
    (``gnetlab.kernels.cpu_features``), forced with ``path=`` or ``$GNETLAB_KERNEL_PATH``. Threads split
    (block of b, tile of a) jobs, so both cores have work for a single query against a large memory.

One-bit weights x float activations (``sign_weight_matmul``)
    ``out[e, r] = sum_k x[e, k] s[r, k]`` with ``s = +-1`` from bits. When numba's target has AVX2
    (path ``avx2`` or ``avx512_vpopcntdq``, see ``gnetlab.kernels.cpu_features``): tables of partial sums over groups of 3 bits are built once per input vector
    (``_build_tables``: 8 entries per group, 11 groups per 32-bit word, 11 bytes of table per input)
    and shared by all rows; ``_perm_rows`` puts 8 weight rows in the 8 lanes of a vector (8 words of
    each row loaded and transposed in registers), then per group one shift + one VPERMPS (an 8-entry
    table lookup for all 8 rows at once) + one add does 24 multiply-accumulates. Elsewhere, the
    portable select kernel ``_signdot`` (generic IR): broadcast a 32-bit weight word, shift bit l into
    the sign bit of lane l, select -x or x, add (8 products per shift + select + add). We also tried
    scalar lookup tables over groups of 8 bits (bitnet.cpp's TL idea with float tables): limited by
    L1/L2 table loads to ~2 cycles per weight byte here, slower than both kernels above.

    Where the table kernel stands (AMD EPYC Zen 4, one core, CPU time, K = 16384): 16-21 cycles per
    32-bit word of 8 rows (45-50 G MACs/s), against ~9 for a bare C loop of shift + VPERMPS + add on
    one word, which is bound by the latency of the 4 add chains that fix each row's float order.
    Variants that keep every row's float sums in the same order (so results stay bitwise equal)
    measured no faster: 16 rows per step as two 8-row blocks (8 chains) or one 512-bit VPERMPS with
    the table broadcast to both halves, index extraction by VPMULHUW instead of shifts. With the
    weights in cache, software prefetch of the weight rows gained nothing either; with the weights
    evicted (the benchmark's sgemv streams 256 MiB before each kernel call), prefetching the next
    8-row block while the current one is summed took the 2-thread kernel from 68 / 75 / 80 to
    75 / 87 / 89 G MACs/s at n = 8192 / 16384 / 32768 (``python -m gnetlab.bench gemv``, one run
    each, paired with the sgemv). A kernel that changes the order, 16 rows per 512-bit VPERMPS on
    16-entry tables of 4 inputs (8 groups per word, 64 multiply-accumulates per permute), measured 1.1-1.2x faster with the weights in cache and no
    faster with them evicted (slower with the prefetch, whose 16 extra loads per step it cannot
    afford); not adopted, since it would also make AVX-512 and AVX2 machines round differently.
"""

from __future__ import annotations

import contextlib
import sys
import threading

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from gnetlab.kernels import popcount_gemm
from gnetlab.kernels.cpu_features import resolve_path
from gnetlab.kernels.popcount_gemm import popcount64
from gnetlab.threads import SERIAL_WORK, blas_handoff, quiesce_blas, serial_below, start_numba_workers

__all__ = ["binary_matmul", "sign_weight_matmul", "popcount64"]

# One-bit GEMV: 32-bit weight words per x chunk (128 words = 4096 inputs = 16 KiB of x and of -x).
_CHUNK_WORDS = 128
# AVX2 table kernel: 32-bit words per chunk (64 words: 22 KiB of tables per batch row, in L1/L2).
_PERM_CHUNK_WORDS = 64
# Batch rows per call of the one-bit kernels (bounds the tables: 64 x 11 bytes per input).
_BATCH_BLOCK = 64


_I32 = ir.IntType(32)


def _llvm_fn(builder, name, ret, args):
    return cgutils.get_or_insert_function(builder.module, ir.FunctionType(ret, args), name)


@contextlib.contextmanager
def _parallel_section(work: int):
    """Serial below ``SERIAL_WORK``; above it, the cores are taken back from idle OpenBLAS workers
    first and numba's pool is started after the short OpenMP spin setting (``gnetlab.threads``)."""
    if work >= SERIAL_WORK:
        start_numba_workers()
        quiesce_blas()
    with serial_below(work):
        yield


def binary_matmul(a: np.ndarray, b: np.ndarray, k: int, *, path: str | None = None) -> np.ndarray:
    """Exact +-1 product ``a @ b.T`` = ``k - 2 popcount(a ^ b)``: int32 (m, n) from uint64 (m, W), (n, W).

    path: None / "auto" (``$GNETLAB_KERNEL_PATH``, else the fastest the numba target supports),
    "avx512_vpopcntdq", "avx2" or "portable" (see ``gnetlab.kernels.cpu_features``)."""
    path = resolve_path(path)
    m = a.shape[0]
    n = b.shape[0]
    if m == 0 or n == 0:
        return np.zeros((m, n), np.int32)
    with _parallel_section(m * n * a.shape[1]):
        return popcount_gemm.gemm(a, b, k, path)


# --------------------------------------------------------------------------------------------------
# One-bit weights x float activations
# --------------------------------------------------------------------------------------------------

_F32 = ir.FloatType()
_V8F = ir.VectorType(_F32, 8)
_V8I = ir.VectorType(_I32, 8)


def _make_signdot(nb: int):
    """Intrinsic ``signdot(xp, xn, w32, r, b, c0, c1) -> UniTuple(float32, nb)``.

    For batch rows ``b .. b+nb-1`` returns ``sum_{c in [c0, c1)} sum_{l<32} sel(bit l of
    w32[r, c], xn[b, 32c + l], xp[b, 32c + l])``, where ``xn = -xp``: the +-1 dot product of weight row
    ``r`` with those activations over the 32-bit words ``c0 .. c1-1``. xp, xn: float32 (B, 32C)
    C-contiguous; w32: uint32 (n, C) C-contiguous.
    """

    @intrinsic
    def signdot(typingctx, xp, xn, w32, r, b, c0, c1):
        sig = types.UniTuple(types.float32, nb)(xp, xn, w32, types.intp, types.intp, types.intp, types.intp)

        def codegen(context, builder, signature, args):
            intp = context.get_value_type(types.intp)
            xp_a = context.make_array(signature.args[0])(context, builder, args[0])
            xn_a = context.make_array(signature.args[1])(context, builder, args[1])
            w_a = context.make_array(signature.args[2])(context, builder, args[2])
            r, b, c0, c1 = args[3], args[4], args[5], args[6]
            n_cols = cgutils.unpack_tuple(builder, w_a.shape)[1]
            x_cols = cgutils.unpack_tuple(builder, xp_a.shape)[1]
            accs = []
            for _ in range(4 * nb):
                acc = cgutils.alloca_once(builder, _V8F)
                builder.store(ir.Constant(_V8F, None), acc)
                accs.append(acc)
            # lane l of sub-vector q holds bit 8q + l: shift it into the sign bit
            shifts = [ir.Constant(_V8I, [31 - 8 * q - lane for lane in range(8)]) for q in range(4)]
            zero = ir.Constant(_V8I, None)
            undef = ir.Constant(_V8I, ir.Undefined)
            splat0 = ir.Constant(_V8I, [0] * 8)
            row_off = builder.mul(r, n_cols)
            x_offs = [builder.mul(builder.add(b, ir.Constant(intp, e)), x_cols) for e in range(nb)]
            with cgutils.for_range_slice(builder, c0, c1, ir.Constant(intp, 1), intp=intp) as (c, _):
                word = builder.load(builder.gep(w_a.data, [builder.add(row_off, c)]))
                vec = builder.shuffle_vector(builder.insert_element(undef, word, ir.Constant(_I32, 0)), undef, splat0)
                xbase = builder.mul(c, ir.Constant(intp, 32))
                for q in range(4):
                    neg = builder.icmp_signed("<", builder.shl(vec, shifts[q]), zero)
                    for e in range(nb):
                        off = builder.add(x_offs[e], builder.add(xbase, ir.Constant(intp, 8 * q)))
                        vp = builder.load(builder.bitcast(builder.gep(xp_a.data, [off]), _V8F.as_pointer()), align=4)
                        vn = builder.load(builder.bitcast(builder.gep(xn_a.data, [off]), _V8F.as_pointer()), align=4)
                        acc = accs[4 * e + q]
                        builder.store(builder.fadd(builder.load(acc), builder.select(neg, vn, vp)), acc)
            sums = []
            for e in range(nb):
                v = builder.fadd(
                    builder.fadd(builder.load(accs[4 * e]), builder.load(accs[4 * e + 1])),
                    builder.fadd(builder.load(accs[4 * e + 2]), builder.load(accs[4 * e + 3])),
                )
                s = builder.extract_element(v, ir.Constant(_I32, 0))
                for lane in range(1, 8):
                    s = builder.fadd(s, builder.extract_element(v, ir.Constant(_I32, lane)))
                sums.append(s)
            return context.make_tuple(builder, signature.return_type, sums)

        return sig, codegen

    return signdot


_signdot1 = _make_signdot(1)
_signdot2 = _make_signdot(2)


@njit(cache=True, parallel=True, nogil=True)
def _sign_gemm_kernel(w32, xp, xn, out, rows_per_block, chunk_words):
    """out[b, r] = sum_k s[r, k] xp[b, k] for weight bits w32 (n, C) uint32, xp/xn (B, 32C)."""
    n, n_cols = w32.shape
    batch = xp.shape[0]
    n_blocks = (n + rows_per_block - 1) // rows_per_block
    for blk in prange(n_blocks):
        r0 = blk * rows_per_block
        r1 = min(n, r0 + rows_per_block)
        for e in range(batch):
            for r in range(r0, r1):
                out[e, r] = 0.0
        for c0 in range(0, n_cols, chunk_words):
            c1 = min(n_cols, c0 + chunk_words)
            for r in range(r0, r1):
                e = 0
                while e + 2 <= batch:
                    s = _signdot2(xp, xn, w32, r, e, c0, c1)
                    out[e, r] += s[0]
                    out[e + 1, r] += s[1]
                    e += 2
                if e < batch:
                    out[e, r] += _signdot1(xp, xn, w32, r, e, c0, c1)[0]


# --- AVX2 path: 8 weight rows in the 8 lanes, VPERMPS as an 8-entry table lookup ---------------------

_V8I_PTR = _V8I.as_pointer()
_LO32 = [0, 8, 1, 9, 4, 12, 5, 13]
_HI32 = [2, 10, 3, 11, 6, 14, 7, 15]
_LO64 = [0, 1, 8, 9, 4, 5, 12, 13]
_HI64 = [2, 3, 10, 11, 6, 7, 14, 15]
_LO128 = [0, 1, 2, 3, 8, 9, 10, 11]
_HI128 = [4, 5, 6, 7, 12, 13, 14, 15]
# A 32-bit weight word is split into 10 groups of 3 bits and one of 2; each group indexes a table of
# 8 partial sums of its 3 (or 2) activations.
_GROUPS = 11
_TABLE = 8 * _GROUPS




def _transpose8(builder, rows):
    """8x8 transpose of 32-bit lanes: rows[r][c] -> out[c][r] (three shuffle stages)."""

    def shuf(x, y, mask):
        return builder.shuffle_vector(x, y, ir.Constant(_V8I, mask))

    t = []
    for p in range(4):
        t += [shuf(rows[2 * p], rows[2 * p + 1], _LO32), shuf(rows[2 * p], rows[2 * p + 1], _HI32)]
    s = []
    for h in range(2):
        a, b, c, d = t[4 * h : 4 * h + 4]
        s += [shuf(a, c, _LO64), shuf(a, c, _HI64), shuf(b, d, _LO64), shuf(b, d, _HI64)]
    out = [None] * 8
    for q in range(4):
        out[q] = shuf(s[q], s[q + 4], _LO128)
        out[q + 4] = shuf(s[q], s[q + 4], _HI128)
    return out


@intrinsic
def _perm_rows(typingctx, w32, tab, r0, c0, c1):
    """``UniTuple(float32, 8)``: lane l = sum over words c in [c0, c1) of the +-1 dot product of weight
    row ``min(r0 + l, n - 1)`` with the activations behind ``tab`` (float32 (C, 11, 8): for word c and
    group q, entry i = sum_j (bit j of i ? -x : x)[32c + 3q + j]).

    Eight rows sit in the eight lanes: each step loads 8 words of the 8 rows, transposes them in
    registers so lane l holds row l's word, then for each group shifts the words right by 3q and uses
    VPERMPS (its index is the low 3 bits of each lane) to fetch every row's partial sum from the 8-entry
    table in one instruction: 24 multiply-accumulates per shift + permute + add. x86 AVX2 only.
    """
    sig = types.UniTuple(types.float32, 8)(w32, tab, types.intp, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        intp = context.get_value_type(types.intp)
        w_arr = context.make_array(signature.args[0])(context, builder, args[0])
        t_arr = context.make_array(signature.args[1])(context, builder, args[1])
        r0, c0, c1 = args[2], args[3], args[4]
        n_rows, n_cols = cgutils.unpack_tuple(builder, w_arr.shape)
        last = builder.sub(n_rows, ir.Constant(intp, 1))
        row_ptrs = []
        for lane in range(8):
            r = builder.add(r0, ir.Constant(intp, lane))
            r = builder.select(builder.icmp_signed(">", r, last), last, r)
            row_ptrs.append(builder.gep(w_arr.data, [builder.mul(r, n_cols)]))
        accs = []
        for _ in range(4):
            ptr = cgutils.alloca_once(builder, _V8F)
            builder.store(ir.Constant(_V8F, None), ptr)
            accs.append(ptr)
        permps = _llvm_fn(builder, "llvm.x86.avx2.permps", _V8F, [_V8F, _V8I])

        def word_groups(wv, c):
            tbase = builder.mul(c, ir.Constant(intp, _TABLE))
            for q in range(_GROUPS):
                idx = builder.lshr(wv, ir.Constant(_V8I, [3 * q] * 8)) if q else wv
                tp = builder.gep(t_arr.data, [builder.add(tbase, ir.Constant(intp, 8 * q))])
                tv = builder.load(builder.bitcast(tp, _V8F.as_pointer()), align=4)
                acc = accs[q % 4]
                builder.store(builder.fadd(builder.load(acc), builder.call(permps, [tv, idx])), acc)

        # software prefetch of the next 8-row block at the same words (the rows this thread reads next):
        # with the weights evicted from the caches, the hardware prefetcher alone left the kernel ~25% slower
        pf = _llvm_fn(builder, "llvm.prefetch.p0i8", ir.VoidType(), [ir.IntType(8).as_pointer(), _I32, _I32, _I32])
        pf_ptrs = []
        for lane in range(8):
            r = builder.add(r0, ir.Constant(intp, 8 + lane))
            r = builder.select(builder.icmp_signed(">", r, last), last, r)
            pf_ptrs.append(builder.gep(w_arr.data, [builder.mul(r, n_cols)]))
        n_steps = builder.sdiv(builder.sub(c1, c0), ir.Constant(intp, 8))
        with cgutils.for_range(builder, n_steps, intp=intp) as loop:
            c = builder.add(c0, builder.mul(loop.index, ir.Constant(intp, 8)))
            for p in pf_ptrs:
                builder.call(pf, [builder.bitcast(builder.gep(p, [c]), ir.IntType(8).as_pointer()), ir.Constant(_I32, 0),
                                  ir.Constant(_I32, 3), ir.Constant(_I32, 1)])
            rows = [builder.load(builder.bitcast(builder.gep(p, [c]), _V8I_PTR), align=4) for p in row_ptrs]
            cols = _transpose8(builder, rows)
            for k in range(8):
                word_groups(cols[k], builder.add(c, ir.Constant(intp, k)))
        tail = builder.add(c0, builder.mul(n_steps, ir.Constant(intp, 8)))
        undef = ir.Constant(_V8I, ir.Undefined)
        with cgutils.for_range_slice(builder, tail, c1, ir.Constant(intp, 1), intp=intp) as (c, _):
            wv = undef
            for lane in range(8):
                wv = builder.insert_element(wv, builder.load(builder.gep(row_ptrs[lane], [c])), ir.Constant(_I32, lane))
            word_groups(wv, c)
        v = builder.fadd(builder.fadd(builder.load(accs[0]), builder.load(accs[1])),
                         builder.fadd(builder.load(accs[2]), builder.load(accs[3])))
        return context.make_tuple(builder, signature.return_type,
                                  [builder.extract_element(v, ir.Constant(_I32, lane)) for lane in range(8)])

    return sig, codegen


@njit(cache=True, nogil=True)
def _fill_tables(xp, tab, c0, c1):
    """tab[e, c, q, i] = sum_j (bit j of i ? -1 : +1) xp[e, 32c + 3q + j], j < 3 (j < 2 for q = 10),
    for words c in [c0, c1); xp (B, 32C) zero padded, tab (B, C, 11, 8) float32."""
    batch = tab.shape[0]
    for c in range(c0, c1):
        for e in range(batch):
            for q in range(11):
                base = 32 * c + 3 * q
                x0 = xp[e, base]
                x1 = xp[e, base + 1]
                x2 = xp[e, base + 2] if q < 10 else np.float32(0.0)
                for i in range(8):
                    s0 = -x0 if i & 1 else x0
                    s1 = -x1 if i & 2 else x1
                    s2 = -x2 if i & 4 else x2
                    tab[e, c, q, i] = (s0 + s1) + s2


@njit(cache=True, parallel=True, nogil=True)
def _build_tables(xp, tab):
    """The tables of ``_fill_tables`` for all words, 64 words per parallel job. Built once per call,
    shared by all rows."""
    n_cols = tab.shape[1]
    for j in prange((n_cols + 63) // 64):
        _fill_tables(xp, tab, 64 * j, min(n_cols, 64 * j + 64))


# Table entries from which the table build runs in parallel (below it, e.g. batch 1 at K = 16384:
# ~20 us serial, less than waking the thread pool for a second parallel region costs).
_PARALLEL_TABLE_WORDS = 1 << 14


@njit(cache=True, parallel=True, nogil=True)
def _perm_gemm_kernel(w32, tab, out, chunk_words):
    """out[e, r] = sum_k s[r, k] x[e, k] from bits w32 (n, C) and tables tab (B, C, 11, 8)."""
    n, n_cols = w32.shape
    batch = tab.shape[0]
    n_blocks = (n + 7) // 8
    for blk in prange(n_blocks):
        r0 = blk * 8
        r1 = min(n, r0 + 8)
        for e in range(batch):
            for r in range(r0, r1):
                out[e, r] = 0.0
        for c0 in range(0, n_cols, chunk_words):
            c1 = min(n_cols, c0 + chunk_words)
            for e in range(batch):
                s = _perm_rows(w32, tab[e], r0, c0, c1)
                for lane in range(r1 - r0):
                    out[e, r0 + lane] += s[lane]


_SCRATCH = threading.local()
_SCRATCH_MAX = 1 << 20  # float32 entries a thread keeps (4 MiB: batch 1 up to K = 190,000)


def _scratch_tables(batch: int, n_words: int) -> np.ndarray:
    """The calling thread's table buffer (batch, n_words, 11, 8) float32, reused across calls: a fresh one
    (180 KiB at batch 1, K = 16384) came from mmap every call, with a page fault per 4 KiB on first write."""
    size = batch * n_words * _GROUPS * 8
    if size > _SCRATCH_MAX:  # large batches x long inputs: a fresh buffer, not kept by the thread
        return np.empty((batch, n_words, _GROUPS, 8), np.float32)
    buf = getattr(_SCRATCH, "tables", None)
    if buf is None or buf.size < size:
        buf = np.empty(size, np.float32)
        _SCRATCH.tables = buf
    return buf[:size].reshape(batch, n_words, _GROUPS, 8)


# Batch size from which sign_weight_matmul hands over to unpack + BLAS (measured crossover on a 2-core
# AVX2 machine, K = 8192, n = 4096: tables 0.85 s vs BLAS 1.04 s at batch 512, even at 1024).
BLAS_MIN_BATCH = 1024


def sign_weight_matmul(x: np.ndarray, w: np.ndarray, k: int, *, kernel: str = "auto",
                       path: str | None = None) -> np.ndarray:
    """float32 x (batch, k) times +-1 weights packed in w (n, W) -> float32 (batch, n).

    kernel: "auto" (the table-permute kernel when the path has AVX2, else the select kernel; from
    ``BLAS_MIN_BATCH`` rows on, unpack + BLAS), "select" or "tables" (never BLAS; the table kernel
    needs AVX2, so on the portable path "tables" runs the select kernel). path: as for
    :func:`binary_matmul`.
    """
    if kernel not in ("auto", "select", "tables"):
        raise ValueError(f"kernel: unknown value {kernel!r}; expected 'auto', 'select' or 'tables'")
    path = resolve_path(path)
    batch = x.shape[0]
    n, nw = w.shape
    if batch == 0 or n == 0:
        return np.zeros((batch, n), np.float32)
    if kernel == "auto" and batch >= BLAS_MIN_BATCH:
        # Large batches: unpacking each weight block once and running sgemm amortises the unpack over
        # the batch and beats the table kernels (whose cost grows linearly with the batch).
        from gnetlab.kernels import numpy_backend

        with blas_handoff():
            return numpy_backend.sign_weight_matmul(x, w, k)
    if sys.byteorder != "little":  # pragma: no cover - the uint32 view below assumes little-endian
        from gnetlab.kernels import numpy_backend

        return numpy_backend.sign_weight_matmul(x, w, k)
    if batch > _BATCH_BLOCK:
        return np.concatenate([sign_weight_matmul(x[i : i + _BATCH_BLOCK], w, k, kernel=kernel, path=path)
                               for i in range(0, batch, _BATCH_BLOCK)])
    xp = np.zeros((batch, 64 * nw), np.float32)  # zero-padded: padding bits select +0.0
    xp[:, :k] = x
    w = np.ascontiguousarray(w)  # the kernels stride rows by the row length
    w32 = w.view(np.uint32)  # little-endian: uint32 c holds signs 32c .. 32c+31, LSB first
    out = np.empty((batch, n), np.float32)
    if kernel != "select" and path != "portable":
        tab = _scratch_tables(batch, 2 * nw)
        with _parallel_section(8 * batch * n * nw):
            if batch * 2 * nw >= _PARALLEL_TABLE_WORDS:
                _build_tables(xp, tab)
            else:
                _fill_tables(xp, tab, 0, 2 * nw)
            _perm_gemm_kernel(w32, tab, out, _PERM_CHUNK_WORDS)
        return out
    xn = -xp
    threads = numba.get_num_threads()
    rows = int(min(256, max(8, -(-n // (4 * threads)))))
    with _parallel_section(8 * batch * n * nw):
        _sign_gemm_kernel(w32, xp, xn, out, rows, _CHUNK_WORDS)
    return out
