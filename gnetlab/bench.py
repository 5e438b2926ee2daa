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
the paired medians over the alone ones, i.e. what running right after the other pool costs (1.0: no
contention; see ``gnetlab.threads``). Every row names the CPU model, the vector features
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
    alone = {}
    for name, fn in (("kernel", kernel), ("baseline", baseline)):
        fn()
        sync()
        times = []
        for _ in range(repeats):
            t0 = now()
            fn()
            sync()
            times.append(now() - t0)
        alone[name] = np.asarray(times)
    return {"baseline": np.asarray(tb), "kernel": np.asarray(tk),
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
    return dict(median_s=kk, baseline_median_s=kb, speedup=float(q[2]), ratio=float(q[2]),
                speedup_min=float(q[0]), speedup_q25=float(q[1]), speedup_q75=float(q[3]),
                speedup_max=float(q[4]), repeats=len(tb), kernel_alone_s=ka, baseline_alone_s=ba,
                kernel_paired_over_alone=kk / ka, baseline_paired_over_alone=kb / ba)


def machine_columns(backend: str) -> dict:
    """Where the numbers come from: CPU model and the vector features numba compiles for, the kernel
    path (``gnetlab.kernels.cpu_features``), thread counts and numba's threading layer, the BLAS."""
    cols = dict(cpu_model="", cpu_flags="", numba_cpu="", kernel_path="", threads=np.nan,
                threading_layer="", blas="", blas_threads=np.nan)
    try:
        from gnetlab.kernels import cpu_features

        cols["cpu_model"] = cpu_features.cpu_model()
        target = cpu_features.numba_target()
        cols["numba_cpu"] = target["cpu_name"]
        feats = [f[1:] for f in target["features"].split(",") if f.startswith("+")]
        keep = ("avx2", "avx512f", "avx512bw", "avx512vl", "avx512vpopcntdq", "avx512bitalg", "neon", "sve")
        cols["cpu_flags"] = " ".join(f for f in keep if f in feats) or "(cpu name defaults)"
        if backend == "numba":
            from gnetlab.threads import start_numba_workers, thread_count

            cols["kernel_path"] = cpu_features.kernel_path()
            cols["threading_layer"] = start_numba_workers()
            cols["threads"] = thread_count()
        elif backend == "numpy":
            cols["kernel_path"] = "numpy reference"
    except ImportError:  # pragma: no cover - numba missing
        pass
    try:
        from threadpoolctl import threadpool_info

        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            cols["blas"] = f"{blas[0].get('internal_api')} {blas[0].get('version')} {blas[0].get('architecture', '')}"
            cols["blas_threads"] = blas[0].get("num_threads")
    except ImportError:  # pragma: no cover
        pass
    return cols


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
    cols = ["op", "m", "n", "k", "backend", "kernel_path", "threads", "median_s", "gmacs", "baseline_median_s",
            "baseline_gmacs", "speedup", "speedup_q25", "speedup_q75", "kernel_paired_over_alone",
            "baseline_paired_over_alone", "packed_bytes", "float32_bytes"]
    view = df[cols].copy()
    view["median_ms"] = (view.pop("median_s") * 1e3).round(3)
    view["baseline_ms"] = (view.pop("baseline_median_s") * 1e3).round(3)
    for c in ("gmacs", "baseline_gmacs", "speedup", "speedup_q25", "speedup_q75", "kernel_paired_over_alone",
              "baseline_paired_over_alone"):
        view[c] = view[c].round(2)
    view = view.rename(columns={"kernel_paired_over_alone": "k_pair/alone",
                                "baseline_paired_over_alone": "b_pair/alone"})
    view["packed_MiB"] = (view.pop("packed_bytes") / 2**20).round(2)
    view["float32_MiB"] = (view.pop("float32_bytes") / 2**20).round(2)
    order = ["op", "m", "n", "k", "backend", "kernel_path", "threads", "median_ms", "gmacs", "baseline_ms",
             "baseline_gmacs", "speedup", "speedup_q25", "speedup_q75", "k_pair/alone", "b_pair/alone",
             "packed_MiB", "float32_MiB"]
    head = f"# {df.cpu_model.iloc[0]} | numba cpu {df.numba_cpu.iloc[0]} [{df.cpu_flags.iloc[0]}] | {df.blas.iloc[0]}"
    return head + "\n" + view[order].to_string(index=False)


def machine_columns(threads: int | None = None) -> dict:
    """The columns that name the machine and the kernel path in every end-to-end benchmark row.

    Parameters
    ----------
    threads : int, optional
        Threads used (default: numba's current count).

    Returns
    -------
    dict
        ``cpu_model``, ``cpu_flags`` (the SIMD flags the kernels care about), ``kernel_path`` and
        ``threads``.
    """
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("model name", "Model")) and model == "unknown":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith(("flags", "Features")) and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:  # pragma: no cover - not Linux
        import platform

        model = platform.processor() or "unknown"
    wanted = ("avx2", "avx512f", "avx512bw", "avx512_vpopcntdq", "avx512_vnni", "asimd", "sve")
    try:
        from gnetlab.kernels.cpu_features import kernel_path  # the kernel branch's dispatch, when merged

        path = kernel_path()
    except ImportError:
        try:
            from gnetlab.kernels import numba_backend

            path = "avx2" if getattr(numba_backend, "HAS_AVX2", False) else "portable"
        except ImportError:  # pragma: no cover - numba missing
            path = "numpy"
    if threads is None:
        try:
            import numba

            threads = numba.get_num_threads()
        except ImportError:  # pragma: no cover
            threads = 1
    return {"cpu_model": model, "cpu_flags": " ".join(f for f in wanted if f in flags), "kernel_path": path,
            "threads": int(threads)}


def _paired_ratio_rows(base: Callable, fast: Callable, repeats: int, now: Callable) -> dict:
    """Paired repeats (baseline then fast, back to back): medians and the spread of the per-pair ratios."""
    base()
    fast()
    tb, tf = [], []
    for _ in range(repeats):
        t0 = now()
        base()
        t1 = now()
        fast()
        t2 = now()
        tb.append(t1 - t0)
        tf.append(max(t2 - t1, 1e-12))
    r = np.divide(tb, tf)
    return {"seconds_fast": float(np.median(tf)), "seconds_baseline": float(np.median(tb)),
            "speedup": float(np.median(r)), "speedup_p25": float(np.percentile(r, 25)),
            "speedup_p75": float(np.percentile(r, 75)), "speedup_min": float(r.min()),
            "speedup_max": float(r.max()), "repeats": int(repeats)}


def bench_bnn(hidden=(256, 256), *, batch_sizes=(1, 256), repeats: int = 21, seed: int = 0,
              clock: str = "wall") -> pd.DataFrame:
    """Packed BinaryNet (:class:`gnetlab.bnn.PackedBinaryMLP`) against a torch fp32 MLP of the same shape.

    Both get the same float32 inputs in [0, 1]; the packed model's first layer multiplies the real
    inputs by one-bit weights (``PackedBinaryMLP.decision_function``), its later layers are
    XOR-popcount products. The baseline is ``bnn.build_model("fp32", hidden)`` in eval mode under
    ``torch.inference_mode`` (torch's own BLAS, the same threads). Untrained weights (speed does not
    depend on training).

    Parameters
    ----------
    hidden : sequence of int, default (256, 256)
        Hidden widths (784 inputs, 10 classes).
    batch_sizes : sequence of int, default (1, 256)
        Batches.
    repeats : int, default 21
        Paired rounds.
    seed : int, default 0
        Weights and inputs.
    clock : {"wall", "cpu"}, default "wall"
        Timer.

    Returns
    -------
    pandas.DataFrame
        One row per batch size: ``seconds_fast`` (packed), ``seconds_baseline`` (torch fp32),
        ``us_per_image_*``, ``speedup`` (median of the per-pair ratios baseline / packed) with
        ``speedup_p25`` / ``_p75`` / ``_min`` / ``_max``, ``identical_predictions`` (packed vs the
        torch BinaryNet it was exported from) and :func:`machine_columns`.
    """
    import pandas as pd
    import torch

    from gnetlab import bnn

    now = _CLOCKS[check_choice(clock, "clock", tuple(_CLOCKS))]
    repeats = check_positive_int(repeats, "repeats")
    hidden = tuple(int(h) for h in hidden)
    binet = bnn.build_model("binarynet", hidden=hidden, seed=seed).eval()
    packed = bnn.export_binarynet(binet)
    fp32 = bnn.build_model("fp32", hidden=hidden, seed=seed).eval()
    rng = resolve_rng(seed)
    rows = []
    for bs in batch_sizes:
        bs = check_positive_int(bs, "batch_sizes")
        X = rng.random((bs, 784), dtype=np.float32)
        Xt = torch.from_numpy(X)
        with torch.inference_mode():
            ref = binet(Xt).numpy().argmax(1)

            def base():
                return fp32(Xt)

            row = _paired_ratio_rows(base, lambda: packed.predict(X), repeats, now)
        rows.append({"benchmark": "bnn", "model": "-".join(map(str, (784, *hidden, 10))), "batch_size": bs, **row,
                     "us_per_image_fast": 1e6 * row["seconds_fast"] / bs,
                     "us_per_image_baseline": 1e6 * row["seconds_baseline"] / bs,
                     "identical_predictions": bool(np.array_equal(packed.predict(X), ref)),
                     "clock": clock, **machine_columns()})
    return pd.DataFrame(rows)


def bench_conv_ehd(model=None, *, hyperdim: int = 5000, embedding: str = "rademacher", batch_sizes=(1, 8),
                   repeats: int = 5, seed: int = 0, clock: str = "wall", sweep_hyperdims: int = 11,
                   sweep_images: int = 10_000) -> pd.DataFrame:
    """Conv EHD G-Net inference, packed vs float-simulated path (same model, same G, paired repeats).

    Parameters
    ----------
    model : GNet, optional
        Default: the paper's MNIST conv G-Net, ``gnet.build_model("mnist", activation="tasu")``, untrained.
    hyperdim : int, default 5000
        N of every layer.
    embedding : {"gaussian", "rademacher"}, default "rademacher"
        G.
    batch_sizes : sequence of int, default (1, 8)
        Images per call.
    repeats : int, default 5
        Paired rounds.
    seed : int, default 0
        G and inputs.
    clock : {"wall", "cpu"}, default "wall"
        Timer.
    sweep_hyperdims, sweep_images : int
        The paper-scale sweep the projection assumes: ``sweep_hyperdims`` N x 2 embeddings x
        ``sweep_images`` test images at the packed path's time per image (at this N).

    Returns
    -------
    pandas.DataFrame
        One row per batch size: ``ms_per_image_fast`` (packed) / ``ms_per_image_baseline`` (float),
        ``speedup`` with its spread, ``identical_scores``, ``projected_sweep_hours`` and
        :func:`machine_columns`.
    """
    import pandas as pd

    from gnetlab.ehd import embed_gnet
    from gnetlab.gnet import build_model

    now = _CLOCKS[check_choice(clock, "clock", tuple(_CLOCKS))]
    repeats = check_positive_int(repeats, "repeats")
    if model is None:
        model = build_model("mnist", activation="tasu", seed=seed)
    ehd = embed_gnet(model, hyperdim=hyperdim, embedding=embedding, seed=seed)
    rng = resolve_rng(seed)
    rows = []
    for bs in batch_sizes:
        bs = check_positive_int(bs, "batch_sizes")
        X = rng.random((bs, model.n_features), dtype=np.float32)
        same = bool(np.array_equal(ehd.scores(X, path="packed", batch_size=bs),
                                   ehd.scores(X, path="float", batch_size=bs)))
        row = _paired_ratio_rows(lambda: ehd.scores(X, path="float", batch_size=bs),
                                 lambda: ehd.scores(X, path="packed", batch_size=bs), repeats, now)
        ms = 1e3 * row["seconds_fast"] / bs
        rows.append({"benchmark": "conv_ehd", "model": f"mnist conv {model.activation}", "hyperdim": hyperdim,
                     "embedding": embedding, "batch_size": bs, **row, "ms_per_image_fast": ms,
                     "ms_per_image_baseline": 1e3 * row["seconds_baseline"] / bs, "identical_scores": same,
                     "projected_sweep_hours": ms * 1e-3 * sweep_hyperdims * 2 * sweep_images / 3600,
                     "clock": clock, **machine_columns()})
    return pd.DataFrame(rows)


def _e2e_main(which: str, argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m gnetlab.bench {which}")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 256] if which == "bnn" else [1, 8])
    parser.add_argument("--repeats", type=int, default=21 if which == "bnn" else 5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--clock", choices=tuple(_CLOCKS), default="wall")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", default=None)
    if which == "bnn":
        parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    else:
        parser.add_argument("--hyperdim", type=int, default=5000)
        parser.add_argument("--embedding", choices=("gaussian", "rademacher"), default="rademacher")
    args = parser.parse_args(list(argv))
    if args.threads is not None:
        from gnetlab.threads import set_threads

        set_threads(args.threads)
    if which == "bnn":
        df = bench_bnn(args.hidden, batch_sizes=args.batch, repeats=args.repeats, seed=args.seed, clock=args.clock)
    else:
        df = bench_conv_ehd(hyperdim=args.hyperdim, embedding=args.embedding, batch_sizes=args.batch,
                            repeats=args.repeats, seed=args.seed, clock=args.clock)
    with_pd_opts = df.copy()
    for c in with_pd_opts.columns:
        if with_pd_opts[c].dtype.kind == "f":
            with_pd_opts[c] = with_pd_opts[c].round(4)
    print(with_pd_opts.drop(columns=["cpu_flags"]).to_string(index=False))
    print(f"CPU: {df['cpu_model'].iloc[0]} ({df['cpu_flags'].iloc[0]}), kernel path {df['kernel_path'].iloc[0]}, "
          f"{df['threads'].iloc[0]} thread(s)")
    if which == "conv":
        r = df.iloc[-1]
        print(f"Projected paper-scale sweep (11 N x 2 embeddings x 10k images) at {r['ms_per_image_fast']:.2f} ms "
              f"per image: {r['projected_sweep_hours']:.2f} h")
    if args.csv:
        from gnetlab.io import write_csv_atomic

        write_csv_atomic(df, args.csv)
    return 0


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


def bench_ehd(model=None, *, hyperdim: int = 10_000, embedding: str = "rademacher", batch_sizes=(1, 256),
              repeats: int = 7, seed: int = 0, clock: str = "wall") -> pd.DataFrame:
    """EHD inference throughput: bit-packed vs float-simulated path, same model, same G, same batch.

    model: a G-Net; default an untrained ``mnist_dense`` TASU model, 784-256-256-10 (throughput does not
    depend on training). With TASU and Rademacher G everything after the first layer's real-valued
    projection sign(G x) is +-1 arithmetic; that projection is the same float32 product in both paths
    (it is what makes their predictions identical), so it bounds the end-to-end ratio (Amdahl).

    Method (as the kernel benchmarks): one warm-up call per path (numba compiles or loads its cache),
    then ``repeats`` rounds in which the float path and the packed path run back to back on the same
    batch, so both see the same background load; medians. ``clock``: ``"wall"`` or ``"cpu"`` (process
    CPU time; meaningful with one thread).

    Returns one row per batch size: ``images_per_s_packed``, ``images_per_s_float``, ``speedup``
    (float time / packed time), ``speedup_after_first_projection`` (the same without the shared first
    projection: the part the packing changes), ``speedup_weight_products`` (the products with the stored
    weight embeddings alone: XOR-popcount vs float32 BLAS), ``first_projection_share_packed`` (share of the packed
    path's time spent in it), ``weight_bytes_packed`` / ``weight_bytes_float`` (stored weight
    embeddings as bits vs float32 +-1), ``identical_scores``.
    """
    import pandas as pd

    from gnetlab.ehd import PATHS, embed_gnet
    from gnetlab.gnet.models import build_model

    clocks = {"wall": time.perf_counter, "cpu": time.process_time}
    check_choice(clock, "clock", tuple(clocks))
    now = clocks[clock]
    if model is None:
        model = build_model("mnist_dense", activation="tasu", seed=seed)
    repeats = check_positive_int(repeats, "repeats")
    ehd = embed_gnet(model, hyperdim=hyperdim, embedding=embedding, seed=seed)
    rng = resolve_rng(seed)
    rows = []
    for bs in batch_sizes:
        bs = check_positive_int(bs, "batch_sizes")
        X = rng.random((bs, model.n_features), dtype=np.float32)
        ref = {p: ehd.scores(X, path=p, batch_size=bs) for p in PATHS}  # warm-up
        tot = {p: [] for p in PATHS}
        first = {p: [] for p in PATHS}
        wside = {p: [] for p in PATHS}
        for _ in range(repeats):
            for p in ("float", "packed"):
                tm: dict = {"_clock": now}
                t0 = now()
                ehd.scores(X, path=p, batch_size=bs, timings=tm)
                tot[p].append(now() - t0)
                first[p].append(tm.get("layer0:data", 0.0))
                wside[p].append(sum(v for k, v in tm.items() if k.endswith(":weights")))
        t = {p: float(np.median(tot[p])) for p in PATHS}
        f = {p: float(np.median(first[p])) for p in PATHS}
        rest = {p: max(float(np.median(np.subtract(tot[p], first[p]))), 1e-12) for p in PATHS}
        widths = "-".join(str(w) for w in [model.n_features] + [l.n_out for l in ehd.layers] + [ehd.n_classes])
        rows.append({"model": f"{widths} {model.activation}",
                     "hyperdim": hyperdim, "embedding": embedding, "batch_size": bs,
                     "seconds_packed": t["packed"], "seconds_float": t["float"],
                     "images_per_s_packed": bs / t["packed"], "images_per_s_float": bs / t["float"],
                     "speedup": t["float"] / t["packed"],
                     "speedup_after_first_projection": rest["float"] / rest["packed"],
                     "speedup_weight_products": float(np.median(wside["float"])) / max(float(np.median(wside["packed"])), 1e-12),
                     "first_projection_share_packed": f["packed"] / t["packed"],
                     "weight_bytes_packed": ehd.weight_nbytes(packed=True),
                     "weight_bytes_float": ehd.weight_nbytes(packed=False),
                     "identical_scores": bool(np.array_equal(ref["packed"], ref["float"])), "clock": clock})
    return pd.DataFrame(rows)


def ehd_main(argv: Sequence[str] | None = None) -> int:
    """``python -m gnetlab.bench ehd [options]``: print :func:`bench_ehd` with every option on the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status 0.
    """
    from gnetlab.embed import EMBEDDINGS

    parser = argparse.ArgumentParser(prog="python -m gnetlab.bench ehd", description=bench_ehd.__doc__.split("\n\n")[0])
    parser.add_argument("--hyperdim", type=int, default=10_000)
    parser.add_argument("--embedding", choices=EMBEDDINGS, default="rademacher")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 256])
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256], help="dense TASU model widths")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", default=None)
    args = parser.parse_args(argv)
    if args.threads is not None:
        from gnetlab.threads import set_threads

        set_threads(args.threads)
    from gnetlab.gnet.models import build_model

    model = build_model("mnist_dense", activation="tasu", seed=args.seed, hidden=tuple(args.hidden))
    df = bench_ehd(model, hyperdim=args.hyperdim, embedding=args.embedding, batch_sizes=args.batch,
                   repeats=args.repeats, seed=args.seed, clock=args.clock)
    view = df.drop(columns=["seconds_packed", "seconds_float"]).copy()
    for c in ("images_per_s_packed", "images_per_s_float"):
        view[c] = view[c].round(1)
    for c in ("speedup", "speedup_after_first_projection", "speedup_weight_products", "first_projection_share_packed"):
        view[c] = view[c].round(2)
    print(view.to_string(index=False))
    if args.csv:
        from gnetlab.io import write_csv_atomic

        write_csv_atomic(df, args.csv)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
