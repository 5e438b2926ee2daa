# Bit-packed kernels: throughput of the popcount GEMM and the one-bit-weight GEMV against float32 BLAS.

ALL_TARGETS += ["figures/kernel_speed.png", "results/kernel_speed.csv"]


def _kernel_speed_mem_mb(wildcards):
    """Peak memory: the largest float32 +-1 weight matrix of the GEMV sweep, about 3x over while it is
    unpacked from bits, plus the interpreter."""
    cfg = config["kernel_speed"]
    weights = 4 * max(cfg["gemv_hidden"]) * cfg["gemv_input"]
    return int(1500 + 3 * weights / 2**20)


rule kernel_speed:
    """Speed of the bit-packed kernels against float32 BLAS measured in the same run: (a) binary
    GEMM throughput vs K, (b) vs hidden width, per available backend (numpy reference, numba CPU,
    CuPy GPU) against numpy sgemm; (c) the one-bit-weight GEMV speed-up over float32 sgemv vs hidden
    width, with the one-bit random-features paper's GPU speed-ups (Fig. 5) overlaid. Makes
    figures/kernel_speed.{png,pdf} and results/kernel_speed.csv from notebooks/02_kernel_speed.ipynb
    (gnetlab.bits, gnetlab.kernels, gnetlab.bench) and gnetlab/data/paper/onebit_rf_reference.csv.
    Timings: run it alone on the machine (the rule asks for every core it is given)."""
    input:
        notebook="notebooks/02_kernel_speed.ipynb",
        code=gnetlab_modules("bits", "kernels", "bench", "datasets"),
        paper="gnetlab/data/paper/onebit_rf_reference.csv",
    output:
        **figure_outputs("kernel_speed", "Binary kernels"),
    log:
        notebook="results/notebooks/02_kernel_speed.ipynb",
    params:
        parameters=notebook_parameters("kernel_speed"),
    threads: 2
    resources:
        mem_mb=_kernel_speed_mem_mb,
    shell:
        RUN_NOTEBOOK
