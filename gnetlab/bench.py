"""Benchmarks of the bit-packed kernels against float32 BLAS, measured in the same run.

Two benchmarks, each a function returning a tidy pandas DataFrame (one row per shape and backend)
and together a CLI (``python -m gnetlab.bench`` or ``gnetlab-bench``):

* :func:`bench_binary_matmul`: +-1 GEMM ``(m, K) x (n, K)^T`` from packed bits, work ``m n K``
  binary multiply-accumulates (MACs), against ``numpy`` float32 ``a @ b.T`` (OpenBLAS sgemm) of the
  same shape.
* :func:`bench_ehd`: EHD G-Net inference, bit-packed vs float-simulated path, same model, same G
  (``python -m gnetlab.bench ehd``; every option: ``python -m gnetlab.bench ehd --help``).
* :func:`bench_sign_weight_matmul`: one-bit weights (n, K) times float activations (batch, K), the
  product of a one-bit random-features layer (the paper's Fig. 5 setting is batch 1, K = 16384,
  n = 4096 ... 32768), against float32 ``W @ x`` (sgemv for batch 1) with the same +-1 weights.

Method: one warm-up call (numba compiles or loads its cache), then ``repeats`` rounds; in each round
the float baseline and the kernel run back to back, so both see the same background load; the
tables report medians, and the speed-up is the median over rounds of the per-round ratio, with its
spread (``speedup_min``, ``speedup_q25``, ``speedup_q75``, ``speedup_max``). Each is then timed alone
(``repeats`` calls back to back): ``kernel_paired_over_alone`` and ``baseline_paired_over_alone`` are
the paired medians over the alone ones, i.e. what running right after the other costs: thread
contention (see ``gnetlab.threads``) and the kernel's operands evicted from the caches by the baseline
(a 256 MiB sgemv streams through every cache level). To tell the two apart the kernel is also timed
right after a single-threaded pass over twice the largest cache (at least 64 MiB) that evicts the
caches without any thread pool (``kernel_flushed_over_alone``); ``kernel_paired_over_flushed`` is then what the other pool's
threads cost (1.0: no contention). ``speedup_alone`` is the ratio of the alone medians: each operation
repeated back to back, as a deployed model that runs only the kernel, with its weights staying in
cache. Every row names the CPU model, the vector features
numba compiles for, the kernel path, the thread counts, numba's threading layer and the BLAS. ``clock="wall"`` (default) times elapsed time; ``clock="cpu"`` times the
process's CPU time, which on a shared machine is robust against being descheduled but is only
meaningful with one thread (with several it adds up the threads, spin-waiting included). The
``speedup`` column (also ``ratio``) is baseline time / kernel time (> 1: the kernel is faster).

To see what an AVX2-only CPU does on an AVX-512 machine, force numba and OpenBLAS to Haswell code:
``NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES= OPENBLAS_CORETYPE=Haswell python -m gnetlab.bench matmul``
(``NUMBA_CPU_NAME`` alone keeps the host's feature flags); ``--path`` forces a kernel path. CuPy rows compare with CuPy float32 (cuBLAS) on the same GPU and synchronise the device
around every call.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np

from gnetlab._validation import check_choice, check_positive_int, resolve_rng
from gnetlab.bench_e2e import _e2e_main, _flush_caches, _timed_series, bench_bnn, bench_conv_ehd, bench_ehd, ehd_main, machine_columns

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["bench_binary_matmul", "bench_sign_weight_matmul", "bench_ehd", "bench_bnn", "bench_conv_ehd", "ehd_main",
           "median_time", "main", "machine_columns"]


def median_time(fn: Callable[[], object], repeats: int = 3, *, clock: str = "wall") -> float:
    """Median time of ``repeats`` calls of ``fn`` after one warm-up call (numba compilation, caches).

    Parameters
    ----------
    fn : callable
        Called with no arguments.
    repeats : int, default 3
        Timed calls.
    clock : {"wall", "cpu"}, default "wall"
        Elapsed time, or the process's CPU time.

    Returns
    -------
    float
        Seconds per call (median).
    """
    repeats = check_positive_int(repeats, "repeats")
    now = _CLOCKS[check_choice(clock, "clock", tuple(_CLOCKS))]
    fn()
    times = []
    for _ in range(repeats):
        t0 = now()
        fn()
        times.append(now() - t0)
    return float(np.median(times))


def _sync_for(backend: str) -> Callable[[], None]:
    if backend == "cupy":
        import cupy

        return cupy.cuda.Device().synchronize
    return lambda: None


_CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _paired_runs(baseline: Callable, kernel: Callable, repeats: int, sync: Callable,
                 clock: str = "wall") -> dict:
    """Paired timings: per round, the baseline then the kernel back to back (so each also runs right
    after the other: the kernel after the baseline, the baseline after the previous round's kernel).
    Then each alone, ``repeats`` calls back to back, to measure what the pairing costs (contention
    between the BLAS and numba thread pools). Returns arrays of seconds."""
    now = _CLOCKS[clock]
    baseline()
    kernel()
    sync()
    tb, tk = [], []
    for _ in range(repeats):
        sync()
        t0 = now()
        baseline()
        sync()
        t1 = now()
        kernel()
        sync()
        t2 = now()
        tb.append(t1 - t0)
        tk.append(t2 - t1)
    flushed = _timed_series(kernel, repeats, now, before=lambda: (_flush_caches(), sync()), sync=sync)
    alone = {}
    for name, fn in (("kernel", kernel), ("baseline", baseline)):
        fn()  # its first call after the other's: not timed
        sync()
        alone[name] = _timed_series(fn, repeats, now, sync=sync)
    return {"baseline": np.asarray(tb), "kernel": np.asarray(tk), "kernel_flushed": flushed,
            "kernel_alone": alone["kernel"], "baseline_alone": alone["baseline"]}


def _paired_medians(baseline: Callable, kernel: Callable, repeats: int, sync: Callable,
                    clock: str = "wall") -> tuple[float, float]:
    runs = _paired_runs(baseline, kernel, repeats, sync, clock)
    return float(np.median(runs["baseline"])), float(np.median(runs["kernel"]))


def _timing_columns(runs: dict) -> dict:
    """Medians, the paired speed-up with its spread over rounds, and the pairing's cost."""
    tb, tk = runs["baseline"], runs["kernel"]
    per_round = tb / tk
    q = np.quantile(per_round, [0.0, 0.25, 0.5, 0.75, 1.0])
    kb, kk = float(np.median(tb)), float(np.median(tk))
    ka, ba = float(np.median(runs["kernel_alone"])), float(np.median(runs["baseline_alone"]))
    kf = float(np.median(runs["kernel_flushed"]))
    return dict(median_s=kk, baseline_median_s=kb, speedup=float(q[2]), ratio=float(q[2]),
                speedup_min=float(q[0]), speedup_q25=float(q[1]), speedup_q75=float(q[3]),
                speedup_max=float(q[4]), repeats=len(tb), kernel_alone_s=ka, baseline_alone_s=ba,
                speedup_alone=ba / ka, kernel_flushed_s=kf,
                kernel_paired_over_alone=kk / ka, baseline_paired_over_alone=kb / ba,
                kernel_flushed_over_alone=kf / ka, kernel_paired_over_flushed=kk / kf)


def _resolve_backends(backends: Iterable[str] | None) -> list[str]:
    from gnetlab.kernels import BACKENDS, available_backends

    avail = available_backends()
    if backends is None:
        return [b for b in ("numba", "cupy") if b in avail] or ["numpy"]
    out = []
    for b in backends:
        if b not in BACKENDS:
            raise ValueError(f"backends: unknown backend {b!r}; expected some of {', '.join(BACKENDS)}")
        if b in avail:
            out.append(b)
    return out


def _random_operand(rng: np.random.Generator, rows: int, k: int):
    """Uniform random signs as (PackedBits, float32 +-1 array of shape (rows, k)), drawn as packed
    words (cheap even for 32768 x 16384) and unpacked for the float baseline."""
    from gnetlab.bits import PackedBits, unpack_signs, words_for

    words = rng.integers(0, np.iinfo(np.uint64).max, size=(rows, words_for(k)), dtype=np.uint64, endpoint=True)
    if k % 64:
        words[:, -1] &= np.uint64((1 << (k % 64)) - 1)
    packed = PackedBits(words, k)
    return packed, unpack_signs(packed, dtype=np.float32)


def bench_binary_matmul(
    shapes: Sequence[tuple[int, int, int]] = ((1024, 1024, 4096),),
    *,
    backends: Iterable[str] | None = None,
    repeats: int = 7,
    seed=0,
    clock: str = "wall",
):
    """Time ``binary_matmul`` on each (m, n, K) in ``shapes`` against float32 ``a @ b.T``.

    Returns a DataFrame with columns: op, m, n, k, batch (NaN), batch_size (= m), backend, baseline,
    median_s, baseline_median_s, gmacs (G binary MAC/s = m n K / median_s / 1e9), baseline_gmacs,
    speedup = ratio (median per-round baseline / kernel time) and its spread, the paired-vs-alone
    columns, packed_bytes, float32_bytes (the two operands), memory_ratio, and the machine columns
    of :func:`machine_columns`.
    """
    import pandas as pd

    from gnetlab.kernels import binary_matmul

    repeats = check_positive_int(repeats, "repeats")
    check_choice(clock, "clock", tuple(_CLOCKS))
    rng = resolve_rng(seed)
    rows = []
    for m, n, k in shapes:
        m, n, k = (check_positive_int(v, name) for v, name in zip((m, n, k), ("m", "n", "k")))
        pa, a = _random_operand(rng, m, k)
        pb, b = _random_operand(rng, n, k)
        bt = np.ascontiguousarray(b.T)
        del b
        for backend in _resolve_backends(backends):
            sync = _sync_for(backend)
            if backend == "cupy":
                import cupy

                from gnetlab.bits import PackedBits

                ga, gb = cupy.asarray(a), cupy.asarray(bt)
                da, db = PackedBits(cupy.asarray(pa.words), k), PackedBits(cupy.asarray(pb.words), k)
                baseline, base_name = (lambda: ga @ gb), "cupy float32 matmul (cuBLAS)"
                kernel = lambda: binary_matmul(da, db, backend="cupy")  # noqa: E731
            else:
                baseline, base_name = (lambda: a @ bt), "numpy float32 matmul (sgemm)"
                kernel = lambda: binary_matmul(pa, pb, backend=backend)  # noqa: E731
            timing = _timing_columns(_paired_runs(baseline, kernel, repeats, sync, clock))
            tb, tk = timing["baseline_median_s"], timing["median_s"]
            macs = float(m) * n * k
            packed = pa.nbytes + pb.nbytes
            floats = 4 * (m + n) * k
            rows.append(dict(op="binary_matmul", m=m, n=n, k=k, batch=np.nan, batch_size=m, backend=backend,
                             clock=clock, baseline=base_name, **timing,
                             gmacs=macs / tk / 1e9, baseline_gmacs=macs / tb / 1e9,
                             packed_bytes=packed, float32_bytes=floats, memory_ratio=floats / packed,
                             **machine_columns(backend)))
    return pd.DataFrame(rows)


def bench_sign_weight_matmul(
    hidden: Sequence[int] = (4096, 8192),
    *,
    k: int = 16384,
    batch: int = 1,
    backends: Iterable[str] | None = None,
    repeats: int = 7,
    seed=0,
    clock: str = "wall",
):
    """Time ``sign_weight_matmul`` (one-bit weights (n, k) x float32 x (batch, k)) for n in ``hidden``
    against float32 ``W @ x`` with the same +-1 weights (sgemv when batch == 1).

    Returns a DataFrame with the columns of :func:`bench_binary_matmul` (m = batch; gmacs counts
    sign-weight MACs, batch n k per call; bytes are of the weights only).
    """
    import pandas as pd

    from gnetlab.kernels import sign_weight_matmul

    k = check_positive_int(k, "k")
    batch = check_positive_int(batch, "batch")
    repeats = check_positive_int(repeats, "repeats")
    check_choice(clock, "clock", tuple(_CLOCKS))
    rng = resolve_rng(seed)
    x = rng.standard_normal((batch, k), dtype=np.float32)
    rows = []
    for n in hidden:
        n = check_positive_int(n, "hidden")
        pw, w = _random_operand(rng, n, k)
        for backend in _resolve_backends(backends):
            sync = _sync_for(backend)
            if backend == "cupy":
                import cupy

                from gnetlab.bits import PackedBits

                gw, gx = cupy.asarray(w), cupy.asarray(x)
                dw = PackedBits(cupy.asarray(pw.words), k)
                if batch == 1:
                    baseline = lambda: gw @ gx[0]  # noqa: E731
                else:
                    baseline = lambda: gx @ gw.T  # noqa: E731
                base_name = "cupy float32 (cuBLAS)"
                kernel = lambda: sign_weight_matmul(gx, dw, backend="cupy")  # noqa: E731
            else:
                if batch == 1:
                    x0 = x[0]
                    baseline, base_name = (lambda: w @ x0), "numpy float32 matvec (sgemv)"
                else:
                    baseline, base_name = (lambda: x @ w.T), "numpy float32 matmul (sgemm)"
                kernel = lambda: sign_weight_matmul(x, pw, backend=backend)  # noqa: E731
            timing = _timing_columns(_paired_runs(baseline, kernel, repeats, sync, clock))
            tb, tk = timing["baseline_median_s"], timing["median_s"]
            macs = float(batch) * n * k
            rows.append(dict(op="sign_weight_matmul", m=batch, n=n, k=k, batch=batch, batch_size=batch,
                             backend=backend, clock=clock, baseline=base_name, **timing,
                             gmacs=macs / tk / 1e9, baseline_gmacs=macs / tb / 1e9,
                             packed_bytes=pw.nbytes, float32_bytes=4 * n * k,
                             memory_ratio=4 * n * k / pw.nbytes, **machine_columns(backend)))
        del w
    return pd.DataFrame(rows)


def _format(df) -> str:
    ratios = {"speedup": "speedup", "speedup_q25": "speedup_q25", "speedup_q75": "speedup_q75",
              "speedup_alone": "speedup_alone", "kernel_paired_over_alone": "k_pair/alone",
              "kernel_flushed_over_alone": "k_flush/alone", "kernel_paired_over_flushed": "k_pair/flush",
              "baseline_paired_over_alone": "b_pair/alone"}
    cols = ["op", "m", "n", "k", "backend", "kernel_path", "threads", "median_s", "gmacs", "baseline_median_s",
            "baseline_gmacs", *ratios, "packed_bytes", "float32_bytes"]
    view = df[cols].copy()
    view["median_ms"] = (view.pop("median_s") * 1e3).round(3)
    view["baseline_ms"] = (view.pop("baseline_median_s") * 1e3).round(3)
    for c in ("gmacs", "baseline_gmacs", *ratios):
        view[c] = view[c].round(2)
    view = view.rename(columns=ratios)
    view["packed_MiB"] = (view.pop("packed_bytes") / 2**20).round(2)
    view["float32_MiB"] = (view.pop("float32_bytes") / 2**20).round(2)
    order = ["op", "m", "n", "k", "backend", "kernel_path", "threads", "median_ms", "gmacs", "baseline_ms",
             "baseline_gmacs", *ratios.values(), "packed_MiB", "float32_MiB"]
    head = f"# {df.cpu_model.iloc[0]} | numba cpu {df.numba_cpu.iloc[0]} [{df.cpu_flags.iloc[0]}] | {df.blas.iloc[0]}"
    return head + "\n" + view[order].to_string(index=False)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gnetlab.bench [matmul|gemv|ehd|bnn|conv|all] [options]``: print the benchmark tables.

    ``ehd`` with options (``python -m gnetlab.bench ehd --hyperdim 5000 --batch 1 64``) runs
    :func:`ehd_main`; see ``python -m gnetlab.bench ehd --help``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status 0.
    """
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["ehd"] and len(args_in) > 1:
        return ehd_main(args_in[1:])
    if args_in[:1] in (["bnn"], ["conv"]):
        return _e2e_main(args_in[0], args_in[1:])
    parser = argparse.ArgumentParser(
        prog="python -m gnetlab.bench",
        description="Time gnetlab's bit-packed kernels against float32 BLAS in the same run.",
    )
    parser.add_argument("which", nargs="?", choices=("matmul", "gemv", "ehd", "bnn", "conv", "all"), default="all",
                        help="matmul / gemv: kernels vs float32 BLAS; ehd: EHD G-Net packed vs float-simulated")
    parser.add_argument("--shape", nargs=3, type=int, action="append", metavar=("M", "N", "K"),
                        help="binary_matmul shape (repeatable; default 1024 1024 4096)")
    parser.add_argument("--hidden", nargs="+", type=int, default=[4096, 8192, 16384, 32768],
                        help="one-bit GEMV output widths n (default 4096 8192 16384 32768)")
    parser.add_argument("--k", type=int, default=16384, help="one-bit GEMV input width (default 16384)")
    parser.add_argument("--batch", type=int, default=1, help="one-bit GEMV batch (default 1)")
    parser.add_argument("--backends", nargs="+", default=None, help="backends (default: numba and cupy if present)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None, help="threads for numba and BLAS")
    parser.add_argument("--path", default=None, choices=("auto", "avx512_vpopcntdq", "avx2", "portable"),
                        help="force the numba kernel path (default: $GNETLAB_KERNEL_PATH or the fastest)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clock", choices=tuple(_CLOCKS), default="wall",
                        help="wall: elapsed time (default); cpu: process CPU time (use with --threads 1)")
    parser.add_argument("--csv", default=None, help="also write the table to this CSV file")
    args = parser.parse_args(args_in)
    import contextlib

    with contextlib.ExitStack() as stack:
        if args.threads is not None:
            from gnetlab.threads import blas_threads, numba_threads

            stack.enter_context(numba_threads(args.threads))
            stack.enter_context(blas_threads(args.threads))
        if args.path is not None:
            from gnetlab.threads import env_vars

            stack.enter_context(env_vars(GNETLAB_KERNEL_PATH=args.path))
        return _run(args)


def _run(args) -> int:
    import pandas as pd

    frames = []
    if args.which in ("matmul", "all"):
        shapes = [tuple(s) for s in args.shape] if args.shape else [(1024, 1024, 4096)]
        frames.append(bench_binary_matmul(shapes, backends=args.backends, repeats=args.repeats, seed=args.seed,
                                          clock=args.clock))
    if args.which in ("gemv", "all"):
        frames.append(bench_sign_weight_matmul(args.hidden, k=args.k, batch=args.batch, backends=args.backends,
                                               repeats=args.repeats, seed=args.seed, clock=args.clock))
    if args.which in ("ehd", "all"):
        # Own table: images/s of the two EHD inference paths (columns differ from the kernel rows).
        ehd_df = bench_ehd(hyperdim=10000, batch_sizes=(1, 256), repeats=args.repeats, seed=args.seed,
                               clock=args.clock)
        print(ehd_df.to_string(index=False))
        if args.which == "ehd":
            if args.csv:
                from gnetlab.io import write_csv_atomic

                write_csv_atomic(ehd_df, args.csv)
            return 0
    df = pd.concat(frames, ignore_index=True)
    print(_format(df))
    if args.csv:
        from gnetlab.io import write_csv_atomic

        write_csv_atomic(df, args.csv)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
