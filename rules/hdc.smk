# EHD G-Net vs the five HDC baselines (Classic HDC, RFF-HDC, OnlineHD, Laplace-HDC, HoloGN): accuracy vs
# hyperdimension, bit-flip robustness, and the table beside the paper's values.

ALL_TARGETS += ["figures/hdc_comparison.png", "figures/hdc_robustness.png", "results/hdc_table.csv"]


rule hdc_comparison:
    """EHD G-Net against Classic HDC, RFF-HDC, OnlineHD, Laplace-HDC and HoloGN on the same data, at the
    same hyperdimension, on the same bit kernels: figures/hdc_comparison.{png,pdf} (accuracy vs mean N,
    Gaussian and Rademacher panels), figures/hdc_robustness.{png,pdf} (accuracy vs flip fraction of the
    query hypervectors / the first data embedding), their CSVs, and the table
    results/hdc_table.{csv,md,tex} beside the paper's values, from notebooks/11_hdc_comparison.ipynb
    (gnetlab.hdc, gnetlab.ehd, gnetlab.gnet), the G-Nets trained by rule train_gnet
    (config["hdc_comparison"]["models"]) and gnetlab/data/paper/gnet_official_results.csv.gz."""
    input:
        notebook="notebooks/11_hdc_comparison.ipynb",
        code=gnetlab_modules("hdc", "ehd", "gnet", "embed", "bits", "kernels", "datasets"),
        models=_gnet_model_files("hdc_comparison"),
        paper="gnetlab/data/paper/gnet_official_results.csv.gz",
    output:
        **{f"comparison_{k}": v for k, v in figure_outputs("hdc_comparison", "HDC comparison").items()},
        **{f"robustness_{k}": v for k, v in figure_outputs("hdc_robustness", "HDC comparison").items()},
        table_csv="results/hdc_table.csv",
        table_md="results/hdc_table.md",
        table_tex="results/hdc_table.tex",
    log:
        notebook="results/notebooks/11_hdc_comparison.ipynb",
    params:
        parameters=notebook_parameters("hdc_comparison"),
    threads: 2
    resources:
        mem_mb=3000,
    shell:
        RUN_NOTEBOOK
