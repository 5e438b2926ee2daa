# Conv G-Nets (issue 13): RASU vs TASU and weight flips with a conv MNIST G-Net, and the paper's
# per-dataset protocol (float G-Net, EHD G-Net vs mean N, five HDC baselines) on several datasets.

ALL_TARGETS += ["figures/ehd_conv_rasu_tasu.png", "figures/gnet_datasets.png", "results/gnet_datasets_table.csv"]


def _gnet_datasets_model_files():
    """Checkpoints of the datasets gnet_datasets runs (config["gnet_datasets"]["datasets"])."""
    section = config["gnet_datasets"]
    return sorted(set(model_files({d: section["settings"][d]["model"] for d in section["datasets"]})))


rule ehd_conv_rasu_tasu:
    """Conv G-Nets on MNIST: EHD accuracy vs N (the same N in every layer) for RASU vs TASU with Gaussian
    and Rademacher projections, and accuracy under flips of every stored weight embedding (exact and
    with-replacement flip models), beside the paper's conv MNIST values. Makes
    figures/ehd_conv_rasu_tasu.{png,pdf} and results/ehd_conv_rasu_tasu.csv from
    notebooks/13_ehd_conv_rasu_tasu.ipynb and the conv G-Nets trained by rule train_gnet
    (config["ehd_conv_rasu_tasu"]["models"]; gnetlab.ehd, gnetlab.gnet, gnetlab.kernels,
    gnetlab.gnet_datasets, gnetlab/data/paper/gnet_official_results.csv.gz)."""
    input:
        notebook="notebooks/13_ehd_conv_rasu_tasu.ipynb",
        code=gnetlab_modules("ehd", "gnet", "embed", "bits", "kernels", "datasets", "gnet_datasets"),
        models=_gnet_model_files("ehd_conv_rasu_tasu"),
        paper="gnetlab/data/paper/gnet_official_results.csv.gz",
    output:
        **figure_outputs("ehd_conv_rasu_tasu", "G-Net and EHD G-Net"),
    log:
        notebook="results/notebooks/13_ehd_conv_rasu_tasu.ipynb",
    params:
        parameters=notebook_parameters("ehd_conv_rasu_tasu"),
    threads: 1  # small conv products: one thread beats two on a shared 2-core machine (measured)
    resources:
        mem_mb=2500,
    shell:
        RUN_NOTEBOOK


rule gnet_datasets:
    """The paper's protocol per dataset (config["gnet_datasets"]["datasets"]): float G-Net accuracy, EHD
    G-Net accuracy vs mean N (per-layer N from ratios, Gaussian and Rademacher, chunked protocol) and the
    five HDC baselines at D = mean N. Makes figures/gnet_datasets.{png,pdf} (one panel per dataset, the
    paper's curves where it has the dataset), results/gnet_datasets.csv and the table
    results/gnet_datasets_table.{csv,md,tex} beside the paper's values, from
    notebooks/14_gnet_datasets.ipynb and the G-Nets trained by rule train_gnet (gnetlab.gnet_datasets,
    gnetlab.ehd, gnetlab.hdc, gnetlab.gnet, gnetlab.datasets, gnetlab/data/paper/gnet_official_results.csv.gz)."""
    input:
        notebook="notebooks/14_gnet_datasets.ipynb",
        code=gnetlab_modules("gnet_datasets", "ehd", "hdc", "gnet", "embed", "bits", "kernels", "datasets"),
        models=_gnet_datasets_model_files(),
        paper="gnetlab/data/paper/gnet_official_results.csv.gz",
    output:
        **figure_outputs("gnet_datasets", "G-Net datasets"),
        table=report("results/gnet_datasets_table.csv",
                     caption=str(Path(workflow.basedir) / "report" / "gnet_datasets_table.rst"),
                     category="G-Net datasets"),
        table_md="results/gnet_datasets_table.md",
        table_tex="results/gnet_datasets_table.tex",
    log:
        notebook="results/notebooks/14_gnet_datasets.ipynb",
    params:
        parameters=notebook_parameters("gnet_datasets"),
    threads: 1  # small conv products: one thread beats two on a shared 2-core machine (measured)
    resources:
        mem_mb=3000,
    shell:
        RUN_NOTEBOOK
