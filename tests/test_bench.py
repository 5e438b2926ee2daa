"""The benchmark's tables and CSVs have the documented columns (tiny shapes, one repeat: no timings
are asserted)."""

import pandas as pd

from gnetlab import bench

COLUMNS = {"batch_size", "speedup", "ratio", "speedup_q25", "speedup_q75", "speedup_min", "speedup_max",
           "cpu_model", "cpu_flags", "kernel_path", "threads", "median_s", "baseline_median_s",
           "kernel_paired_over_alone", "baseline_paired_over_alone", "threading_layer", "blas", "speedup_alone",
           "kernel_flushed_over_alone", "kernel_paired_over_flushed", "openmp_wait"}


def test_bench_functions_report_spread_machine_and_path():
    mm = bench.bench_binary_matmul([(8, 16, 130)], backends=["numba"], repeats=2)
    gv = bench.bench_sign_weight_matmul([64], k=200, backends=["numba"], repeats=2)
    for df in (mm, gv):
        assert COLUMNS <= set(df.columns)
        assert (df.speedup_min <= df.speedup).all() and (df.speedup <= df.speedup_max).all()
        assert df.kernel_path.iloc[0] in ("avx512_vpopcntdq", "avx2", "portable")
        assert df.cpu_model.iloc[0]
        assert (df.kernel_flushed_s > 0).all() and (df.speedup_alone > 0).all()
    assert gv.batch_size.iloc[0] == 1


def test_cli_writes_tidy_csv(tmp_path, capsys):
    out = tmp_path / "mm.csv"
    assert bench.main(["matmul", "--shape", "8", "8", "64", "--repeats", "1", "--threads", "1",
                       "--path", "portable", "--csv", str(out)]) == 0
    df = pd.read_csv(out)
    assert COLUMNS <= set(df.columns) and df.kernel_path.iloc[0] == "portable" and df.threads.iloc[0] == 1
    out2 = tmp_path / "gemv.csv"
    assert bench.main(["gemv", "--hidden", "64", "--k", "128", "--repeats", "1", "--csv", str(out2)]) == 0
    assert COLUMNS <= set(pd.read_csv(out2).columns)
    assert "speedup" in capsys.readouterr().out


def test_timing_columns_from_known_runs():
    import numpy as np

    runs = {"baseline": np.array([4.0, 6.0, 8.0]), "kernel": np.array([2.0, 2.0, 2.0]),
            "kernel_flushed": np.array([1.5, 1.5, 1.5]), "kernel_alone": np.array([1.0, 1.0, 1.2]),
            "baseline_alone": np.array([5.0, 5.0, 5.0])}
    t = bench._timing_columns(runs)
    assert t["speedup"] == 3.0 and t["speedup_min"] == 2.0 and t["speedup_max"] == 4.0  # per-round ratios
    assert t["speedup_alone"] == 5.0 and t["kernel_paired_over_alone"] == 2.0
    assert t["kernel_flushed_over_alone"] == 1.5 and abs(t["kernel_paired_over_flushed"] - 4 / 3) < 1e-12
    assert t["baseline_paired_over_alone"] == 6.0 / 5.0


def test_flush_reads_at_least_twice_the_largest_cache():
    from gnetlab import bench_e2e

    assert bench_e2e._flush_bytes() >= 64 << 20
