"""End-to-end benchmarks: EHD G-Net (dense and conv) packed vs float-simulated, packed BinaryNet vs torch fp32.

Each function returns a tidy pandas DataFrame with ``batch_size``, ``speedup`` (median over paired
rounds of baseline time / fast time, the two run back to back in every round) and its spread
(``speedup_p25`` / ``_p75`` / ``_min`` / ``_max``), plus :func:`machine_columns` (CPU model, the vector
features numba compiles for, the kernel path, threads, BLAS). The CLI is ``python -m gnetlab.bench
{ehd,bnn,conv} --csv FILE`` (:mod:`gnetlab.bench`).
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from gnetlab._validation import check_choice, check_positive_int, resolve_rng

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["bench_ehd", "bench_bnn", "bench_conv_ehd", "ehd_main", "machine_columns"]

_CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def machine_columns(backend: str) -> dict:
    """Where the numbers come from: CPU model and the vector features numba compiles for, the kernel
    path (``gnetlab.kernels.cpu_features``), thread counts, numba's threading layer and how its idle
    workers wait (``gnetlab.threads.openmp_spin_setting``), the BLAS."""
    from gnetlab.threads import openmp_spin_setting

    cols = dict(cpu_model="", cpu_flags="", numba_cpu="", kernel_path="", threads=np.nan,
                threading_layer="", openmp_wait=openmp_spin_setting(), blas="", blas_threads=np.nan)
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


_FLUSH_BUFFER: list = []


def _flush_bytes() -> int:
    """Bytes one flush reads: twice the largest cache the OS reports (Linux sysfs), at least 64 MiB."""
    import glob

    largest = 0
    for path in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        try:
            text = open(path).read().strip().upper()
            largest = max(largest, int(text.rstrip("KMG")) * {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1))
        except (OSError, ValueError):
            continue
    return max(64 << 20, 2 * largest)


def _flush_caches() -> None:
    """Evict the CPU caches with one single-threaded pass over :func:`_flush_bytes` (no BLAS, no numba
    pool)."""
    if not _FLUSH_BUFFER:
        _FLUSH_BUFFER.append(np.ones(_flush_bytes() // 4, np.float32))
    np.add.reduce(_FLUSH_BUFFER[0])


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
            "speedup_max": float(r.max()), "repeats": int(repeats),
            **_alone_columns(base, fast, repeats, now, float(np.median(tf)), float(np.median(tb)))}


def _timed_series(fn: Callable, repeats: int, now: Callable, *, before: Callable | None = None,
                  sync: Callable | None = None) -> np.ndarray:
    """Seconds of ``repeats`` calls of ``fn`` (each followed by ``sync``, e.g. a GPU synchronise), each
    after an untimed ``before()`` (e.g. :func:`_flush_caches`); at least 1e-12."""
    out = []
    for _ in range(repeats):
        if before is not None:
            before()
        t0 = now()
        fn()
        if sync is not None:
            sync()
        out.append(max(now() - t0, 1e-12))
    return np.asarray(out)


def _alone_columns(base: Callable, fast: Callable, repeats: int, now: Callable, fast_paired: float,
                   base_paired: float) -> dict:
    """Each path timed alone (``repeats`` calls back to back: its weights stay in cache, as in a deployed
    model that runs only that path) and the fast path right after a single-threaded cache flush
    (no thread pool involved; :func:`_flush_caches`): ``speedup_alone``, ``fast_paired_over_alone``,
    ``fast_flushed_over_alone`` (what evicted caches cost) and ``fast_paired_over_flushed`` (what
    running right after the baseline costs beyond that: thread contention, 1.0 when there is none)."""
    fa, ba = (float(np.median(_timed_series(fn, repeats, now))) for fn in (fast, base))
    ff = float(np.median(_timed_series(fast, repeats, now, before=_flush_caches)))
    return {"seconds_fast_alone": fa, "seconds_baseline_alone": ba, "speedup_alone": ba / fa,
            "fast_paired_over_alone": fast_paired / fa, "fast_flushed_over_alone": ff / fa,
            "fast_paired_over_flushed": fast_paired / ff}


def bench_bnn(hidden=(256, 256), *, batch_sizes=(1, 256), repeats: int = 21, seed: int = 0,
              clock: str = "wall") -> pd.DataFrame:
    """Packed BinaryNet (:class:`gnetlab.bnn.PackedBinaryMLP`) against a torch fp32 MLP of the same shape.

    Both get the same float32 inputs: random 8-bit images ``p / 255`` (p uniform in 0..255, the way
    :mod:`gnetlab.datasets` scales MNIST). The packed model recognises them and runs the whole network in
    one compiled call (``PackedBinaryMLP.decision_function``): first layer ``(2x - 1) . sign(W0)``
    exact in integers from the pixels (``(2 p . sign(W0) - 255 sum sign(W0)) / 255``, AVX-512 VNNI where
    available), the later layers XOR-popcount products; ``first_layer`` names the kernel. The
    baseline is ``bnn.build_model("fp32", hidden)`` in eval mode under ``torch.inference_mode`` (torch's
    own BLAS, the same threads). Untrained weights (speed does not depend on training); the BinaryNet's
    BatchNorm statistics come from one batch of such images (the untrained thresholds, all 0, would be
    exact ties that the float32 reference decides by its rounding).

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
        torch BinaryNet it was exported from), the columns of :func:`_alone_columns` and
        :func:`machine_columns`.
    """
    import pandas as pd
    import torch

    from gnetlab import bnn
    from gnetlab.bnn.fast import fused_path

    now = _CLOCKS[check_choice(clock, "clock", tuple(_CLOCKS))]
    repeats = check_positive_int(repeats, "repeats")
    hidden = tuple(int(h) for h in hidden)
    rng = resolve_rng(seed)

    def images(n):  # 8-bit images scaled as gnetlab.datasets scales MNIST
        return rng.integers(0, 256, (n, 784)).astype(np.float32) / np.float32(255)

    binet = bnn.build_model("binarynet", hidden=hidden, seed=seed)
    with torch.no_grad():  # BatchNorm statistics from one batch (untrained BN thresholds are all 0:
        binet.train()(torch.from_numpy(images(512)))  # exact ties that float32 rounding decides at random)
    binet.eval()
    packed = bnn.export_binarynet(binet)
    fp32 = bnn.build_model("fp32", hidden=hidden, seed=seed).eval()
    rows = []
    for bs in batch_sizes:
        bs = check_positive_int(bs, "batch_sizes")
        X = images(bs)
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
                     "first_layer": f"uint8 exact ({fused_path()})",
                     "clock": clock, **machine_columns("numba")})
    return pd.DataFrame(rows)


def bench_conv_ehd(model=None, *, hyperdim: int = 5000, embedding: str = "rademacher", batch_sizes=(1, 8),
                   repeats: int = 5, seed: int = 0, clock: str = "wall", sweep_hyperdims: int = 11,
                   sweep_images: int = 10_000, inputs: str = "pixels") -> pd.DataFrame:
    """Conv EHD G-Net inference, packed vs float-simulated path (same model, same G, paired repeats).

    With TASU and Rademacher G the packed path is the fused one of :mod:`gnetlab.ehd.conv_fast` (exact
    first layer: on 8-bit images and CPUs with AVX-512 VNNI from integer products of the patch codes,
    else from float32 register tiles; XOR-popcount conv layers with TASU and pooling fused, the dense
    layers of small batches in one compiled call); ``identical_scores`` checks it against the float
    path on the benchmark's own inputs.

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
    inputs : {"pixels", "uniform"}, default "pixels"
        Random 8-bit images ``p / 255`` (p uniform in 0..255, as :mod:`gnetlab.datasets` scales MNIST),
        or uniform float32 in [0, 1) (no 8-bit codes: the float32 first layer).

    Returns
    -------
    pandas.DataFrame
        One row per batch size: ``ms_per_image_fast`` (packed) / ``ms_per_image_baseline`` (float),
        ``speedup`` with its spread, ``identical_scores``, ``projected_sweep_hours``, ``inputs``, the columns of
        :func:`_alone_columns` and :func:`machine_columns`.
    """
    import pandas as pd

    from gnetlab.ehd import embed_gnet
    from gnetlab.gnet import build_model

    now = _CLOCKS[check_choice(clock, "clock", tuple(_CLOCKS))]
    check_choice(inputs, "inputs", ("pixels", "uniform"))
    repeats = check_positive_int(repeats, "repeats")
    if model is None:
        model = build_model("mnist", activation="tasu", seed=seed)
    ehd = embed_gnet(model, hyperdim=hyperdim, embedding=embedding, seed=seed)
    rng = resolve_rng(seed)
    rows = []
    for bs in batch_sizes:
        bs = check_positive_int(bs, "batch_sizes")
        if inputs == "pixels":  # 8-bit images scaled as gnetlab.datasets scales MNIST
            X = rng.integers(0, 256, (bs, model.n_features)).astype(np.float32) / np.float32(255)
        else:
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
                     "inputs": inputs, "clock": clock, **machine_columns("numba")})
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
        parser.add_argument("--inputs", choices=("pixels", "uniform"), default="pixels",
                            help="8-bit images p / 255 (as MNIST) or uniform floats in [0, 1)")
    args = parser.parse_args(list(argv))
    if args.threads is not None:
        from gnetlab.threads import set_threads

        set_threads(args.threads)
    if which == "bnn":
        df = bench_bnn(args.hidden, batch_sizes=args.batch, repeats=args.repeats, seed=args.seed, clock=args.clock)
    else:
        df = bench_conv_ehd(hyperdim=args.hyperdim, embedding=args.embedding, batch_sizes=args.batch,
                            repeats=args.repeats, seed=args.seed, clock=args.clock, inputs=args.inputs)
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


def bench_ehd(model=None, *, hyperdim: int = 10_000, embedding: str = "rademacher", batch_sizes=(1, 256),
              repeats: int = 7, seed: int = 0, clock: str = "wall") -> pd.DataFrame:
    """EHD inference throughput: bit-packed vs float-simulated path, same model, same G, same batch.

    model: a G-Net; default an untrained ``mnist_dense`` TASU model, 784-256-256-10 (throughput does not
    depend on training). Inputs: random 8-bit images ``p / 255`` (p uniform in 0..255, the way
    :mod:`gnetlab.datasets` scales MNIST). With TASU and Rademacher G everything after the first
    layer's real-valued projection sign(G x) is +-1 arithmetic; both paths decide that projection's
    signs exactly (the float path from a BLAS float32 product, re-summing the entries within rounding
    of the threshold; the packed path, on CPUs with AVX-512 VNNI, from exact
    integer products of the pixel codes, ``gnetlab.ehd.pixels.pixel_projection_signs``), which is what
    makes their scores identical.

    Method (as the kernel benchmarks): one warm-up call per path (numba compiles or loads its cache),
    then ``repeats`` rounds in which the float path and the packed path run back to back on the same
    batch, so both see the same background load; medians. The stage columns come from ``repeats`` more
    such rounds with per-stage timings (``scores(timings=...)``), so the instrumentation (a clock call
    per stage; on the packed batch-1 path two compiled calls instead of one) stays out of the ratios.
    ``clock``: ``"wall"`` or ``"cpu"`` (process CPU time; meaningful with one thread).

    Returns one row per batch size: ``images_per_s_packed``, ``images_per_s_float``, ``speedup``
    (median over rounds of float time / packed time, with ``speedup_p25`` / ``_p75`` / ``_min`` / ``_max``), ``speedup_after_first_projection`` (the same without the shared first
    projection: the part the packing changes), ``speedup_weight_products`` (the products with the stored
    weight embeddings alone: XOR-popcount vs float32 BLAS; NaN below 16 images, where the packed path runs
    all +-1 layers in one compiled call, ``gnetlab.ehd.fused_tail``), ``first_projection_share_packed`` (median share of
    the packed path's time spent in it, per instrumented round), ``weight_bytes_packed`` / ``weight_bytes_float`` (stored weight
    embeddings as bits vs float32 +-1), ``identical_scores``; and, as :func:`_alone_columns` measures them,
    ``speedup_alone`` (each path run back to back with itself) and ``packed_paired_over_alone``,
    ``packed_flushed_over_alone``, ``packed_paired_over_flushed`` (the interleaved rounds evict the
    packed weights from the caches: the float path streams 31 MB of float32 G per image at N = 10,000).
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
        X = rng.integers(0, 256, (bs, model.n_features)).astype(np.float32) / np.float32(255)  # 8-bit images
        ref = {p: ehd.scores(X, path=p, batch_size=bs) for p in PATHS}  # warm-up
        tot = {p: [] for p in PATHS}
        first = {p: [] for p in PATHS}
        wside = {p: [] for p in PATHS}
        for _ in range(repeats):  # the ratios: uninstrumented calls, back to back
            for p in ("float", "packed"):
                t0 = now()
                ehd.scores(X, path=p, batch_size=bs)
                tot[p].append(now() - t0)
        for _ in range(repeats):  # the stage shares: the same rounds with per-stage timings
            for p in ("float", "packed"):
                tm: dict = {"_clock": now}
                t0 = now()
                ehd.scores(X, path=p, batch_size=bs, timings=tm)
                first[p].append((tm.get("layer0:data", 0.0), now() - t0))
                wside[p].append(sum(v for k, v in tm.items() if k.endswith(":weights")))
        t = {p: float(np.median(tot[p])) for p in PATHS}
        alone = _alone_columns(lambda: ehd.scores(X, path="float", batch_size=bs),
                               lambda: ehd.scores(X, path="packed", batch_size=bs), repeats, now, t["packed"], t["float"])
        rest = {p: max(float(np.median([b - a for a, b in first[p]])), 1e-12) for p in PATHS}
        share = float(np.median([a / b for a, b in first["packed"]]))
        pair = np.divide(tot["float"], tot["packed"])  # per-round ratios (paired: same background load)
        widths = "-".join(str(w) for w in [model.n_features] + [l.n_out for l in ehd.layers] + [ehd.n_classes])
        rows.append({"model": f"{widths} {model.activation}",
                     "hyperdim": hyperdim, "embedding": embedding, "batch_size": bs,
                     "seconds_packed": t["packed"], "seconds_float": t["float"],
                     "images_per_s_packed": bs / t["packed"], "images_per_s_float": bs / t["float"],
                     "speedup": float(np.median(pair)), "speedup_p25": float(np.percentile(pair, 25)),
                     "speedup_p75": float(np.percentile(pair, 75)), "speedup_min": float(pair.min()),
                     "speedup_max": float(pair.max()), "repeats": repeats,
                     "speedup_after_first_projection": rest["float"] / rest["packed"],
                     "speedup_weight_products": (float(np.median(wside["float"])) / float(np.median(wside["packed"]))
                                                 if np.median(wside["packed"]) > 0 else np.nan),
                     "first_projection_share_packed": share,
                     "weight_bytes_packed": ehd.weight_nbytes(packed=True),
                     "weight_bytes_float": ehd.weight_nbytes(packed=False),
                     "identical_scores": bool(np.array_equal(ref["packed"], ref["float"])), "clock": clock,
                     **{k.replace("fast", "packed").replace("baseline", "float"): v for k, v in alone.items()},
                     **machine_columns("numba")})
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
    for flag, values in (("--hyperdim", [args.hyperdim]), ("--batch", args.batch), ("--hidden", args.hidden),
                         ("--repeats", [args.repeats]), ("--threads", [] if args.threads is None else [args.threads])):
        if min(values, default=1) < 1:
            parser.error(f"{flag}: expected integers >= 1, got {min(values)}")
    if args.seed < 0:
        parser.error(f"--seed: expected a non-negative integer, got {args.seed}")
    if args.threads is not None:
        from gnetlab.threads import set_threads

        set_threads(args.threads)
    from gnetlab.gnet.models import build_model

    model = build_model("mnist_dense", activation="tasu", seed=args.seed, hidden=tuple(args.hidden))
    df = bench_ehd(model, hyperdim=args.hyperdim, embedding=args.embedding, batch_sizes=args.batch,
                   repeats=args.repeats, seed=args.seed, clock=args.clock)
    view = df.drop(columns=["seconds_packed", "seconds_float", "cpu_flags", "numba_cpu", "threading_layer", "blas"],
                   errors="ignore").copy()
    for c in ("images_per_s_packed", "images_per_s_float"):
        view[c] = view[c].round(1)
    view = view.drop(columns=["seconds_packed_alone", "seconds_float_alone"], errors="ignore")
    for c in ("speedup", "speedup_after_first_projection", "speedup_weight_products", "first_projection_share_packed",
              "speedup_alone", "packed_paired_over_alone", "packed_flushed_over_alone", "packed_paired_over_flushed"):
        view[c] = view[c].round(2)
    print(view.to_string(index=False))
    if args.csv:
        from gnetlab.io import write_csv_atomic

        write_csv_atomic(df, args.csv)
    return 0
