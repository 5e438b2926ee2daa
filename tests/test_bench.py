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
        # the decomposition multiplies out: paired / alone = (flushed / alone) (paired / flushed)
        prod = df.kernel_flushed_over_alone * df.kernel_paired_over_flushed
        assert ((prod - df.kernel_paired_over_alone).abs() < 1e-9 * prod).all()
        assert (df.speedup_alone == df.baseline_alone_s / df.kernel_alone_s).all()
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
