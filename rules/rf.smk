# One-bit random features (arXiv 2510.16250): Figs. 1, 2 and 5, the MNIST sweeps, and where the
# Gaussian-equivalence theory stops applying.

ALL_TARGETS += [
    "figures/rf_synthetic_mse.png", "figures/rf_mirror_mse.png", "figures/rf_mnist_width.png",
    "figures/rf_mnist_depth.png", "figures/rf_speed.png", "figures/rf_beyond_theory.png",
]

RF_MODULES = gnetlab_modules("rf", "theory", "bits", "kernels", "datasets")


def _prefixed(prefix, outputs):
    """figure_outputs(...) with keys prefixed, so that one rule can make two figures."""
    return {f"{prefix}_{k}": v for k, v in outputs.items()}


def _rf_synthetic_mem_mb(wildcards):
    """Inputs (n_train + n_test) x d, one Gaussian network and its signs, all L layers of features, the
    Gaussian-equivalent network of the theory cell, float32; plus the interpreter."""
    c = config["rf_synthetic"]
    n, d, w, L = c["n_train"] + c["n_test"], c["input_dim"], c["width"], c["max_depth"]
    weights = d * w + (L - 1) * w * w
    return int(1000 + (4 * n * d + 2 * 5 * weights + 4 * n * w * L + 4 * c["n_train"] * w * L) / 2**20)


rule rf_synthetic:
    """Figs. 1 and 2 of the one-bit random-features paper at its own scale: test MSE of min-l2 and of
    negative-entropy mirror-descent interpolation of a random-features teacher, tanh, Gaussian vs
    one-bit hidden weights, depth L = 1..max_depth, with the deterministic Gaussian-equivalence
    prediction (Fig. 1), the Gaussian-equivalent Monte Carlo (Fig. 2) and the paper's values. Makes
    figures/rf_synthetic_mse.{png,pdf}, figures/rf_mirror_mse.{png,pdf} and their results/*.csv from
    notebooks/03_rf_synthetic.ipynb (gnetlab.rf, gnetlab.theory, one-bit forward pass on
    gnetlab.kernels) and gnetlab/data/paper/onebit_rf_reference.csv."""
    input:
        notebook="notebooks/03_rf_synthetic.ipynb",
        code=RF_MODULES,
        paper="gnetlab/data/paper/onebit_rf_reference.csv",
    output:
        **_prefixed("mse", figure_outputs("rf_synthetic_mse", "One-bit random features")),
        **_prefixed("mirror", figure_outputs("rf_mirror_mse", "One-bit random features")),
    log:
        notebook="results/notebooks/03_rf_synthetic.ipynb",
    params:
        parameters=notebook_parameters("rf_synthetic"),
    threads: 2
    resources:
        mem_mb=_rf_synthetic_mem_mb,
    shell:
        RUN_NOTEBOOK


rule rf_mnist:
    """MNIST few-shot classification with ReLU random features and a min-l2 one-hot readout (n = 200,
    20 trials): accuracy vs hidden width at L = 2 and vs depth at width 512, Gaussian vs one-bit
    weights, the paired one-bit cost, and the paper's values. Makes figures/rf_mnist_width.{png,pdf},
    figures/rf_mnist_depth.{png,pdf} and their results/*.csv from notebooks/05_rf_mnist.ipynb
    (gnetlab.rf, gnetlab.datasets: the bundled mnist5k, or full MNIST in config/paper.yaml) and
    gnetlab/data/paper/onebit_rf_reference.csv."""
    input:
        notebook="notebooks/05_rf_mnist.ipynb",
        code=RF_MODULES,
        paper="gnetlab/data/paper/onebit_rf_reference.csv",
    output:
        **_prefixed("width", figure_outputs("rf_mnist_width", "One-bit random features")),
        **_prefixed("depth", figure_outputs("rf_mnist_depth", "One-bit random features")),
    log:
        notebook="results/notebooks/05_rf_mnist.ipynb",
    params:
        parameters=notebook_parameters("rf_mnist"),
    threads: 2
    resources:
        mem_mb=1500,
    shell:
        RUN_NOTEBOOK


def _rf_speed_mem_mb(wildcards):
    """The widest float32 +-1 weight matrix, about 3x while it is unpacked from bits, plus the interpreter."""
    c = config["rf_speed"]
    return int(1500 + 3 * 4 * max(c["hidden"]) * c["input_dim"] / 2**20)


rule rf_speed:
    """Fig. 5 of the one-bit random-features paper on this machine: one hidden layer, batch 1, input
    16384, hidden 4096k: time of the one-bit layer (packed-sign kernel) vs float32 BLAS with the same
    weights, and the speed-up per width next to the paper's GPU speed-ups. Makes
    figures/rf_speed.{png,pdf} and results/rf_speed.csv from notebooks/06_rf_speed.ipynb
    (gnetlab.bench, gnetlab.kernels) and gnetlab/data/paper/onebit_rf_reference.csv. Timings: run it alone."""
    input:
        notebook="notebooks/06_rf_speed.ipynb",
        code=gnetlab_modules("bits", "kernels", "bench", "datasets"),
        paper="gnetlab/data/paper/onebit_rf_reference.csv",
    output:
        **figure_outputs("rf_speed", "One-bit random features"),
    log:
        notebook="results/notebooks/06_rf_speed.ipynb",
    params:
        parameters=notebook_parameters("rf_speed"),
    threads: 2
    resources:
        mem_mb=_rf_speed_mem_mb,
    shell:
        RUN_NOTEBOOK


rule rf_beyond_theory:
    """Where the Gaussian-equivalence prediction of the min-norm test error holds beyond the paper's
    assumptions: (a) input scaling for tanh, (b) odd vs non-odd activations with and without mean
    terms, (c) MNIST images vs a Gaussian surrogate with the same mean and covariance. Makes
    figures/rf_beyond_theory.{png,pdf} and results/rf_beyond_theory.csv from
    notebooks/07_rf_beyond_theory.ipynb (gnetlab.rf, gnetlab.theory, gnetlab.datasets: mnist5k)."""
    input:
        notebook="notebooks/07_rf_beyond_theory.ipynb",
        code=RF_MODULES,
    output:
        **figure_outputs("rf_beyond_theory", "One-bit random features"),
    log:
        notebook="results/notebooks/07_rf_beyond_theory.ipynb",
    params:
        parameters=notebook_parameters("rf_beyond_theory"),
    threads: 2
    resources:
        mem_mb=2000,
    shell:
        RUN_NOTEBOOK
