# Rademacher sign embeddings on trained G-Nets: the N -> infinity floor of the error (issue 15, part 3).

ALL_TARGETS += ["figures/rademacher_discrepancy.png", "results/rademacher_discrepancy.csv"]


rule rademacher_discrepancy:
    """The Rademacher floor on the (data row, weight row) pairs the EHD networks of the trained G-Nets
    embed, layer by layer: (a) RMS error against N for Gaussian and Rademacher G; (b) the floor (exact
    for short supports, else the Edgeworth term checked by Monte Carlo) against the spread of the pair;
    (c) N* from which the floor exceeds the sampling error, beside the paper's N. Makes
    figures/rademacher_discrepancy.{png,pdf} and results/rademacher_discrepancy.csv from
    notebooks/17_rademacher_discrepancy.ipynb and the committed checkpoints (gnetlab.rademacher,
    gnetlab.ehd, gnetlab.gnet, gnetlab/data/paper/gnet_official_results.csv.gz)."""
    input:
        notebook="notebooks/17_rademacher_discrepancy.ipynb",
        code=gnetlab_modules("rademacher", "ehd", "gnet", "embed", "bits", "kernels", "datasets"),
        models=model_files(config["rademacher_discrepancy"]["models"]),
        paper="gnetlab/data/paper/gnet_official_results.csv.gz",
    output:
        **figure_outputs("rademacher_discrepancy", "G-Net and EHD G-Net"),
    log:
        notebook="results/notebooks/17_rademacher_discrepancy.ipynb",
    params:
        parameters=notebook_parameters("rademacher_discrepancy"),
    threads: 2
    resources:
        mem_mb=2500,
    shell:
        RUN_NOTEBOOK
