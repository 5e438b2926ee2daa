# Binarized-network baselines (BinaryConnect, BinaryNet, XNOR-Net, ternary) vs G-Nets: cost table
# and adversarial robustness.

ALL_TARGETS += ["results/bnn_table.csv", "figures/adversarial_robustness.png"]


rule bnn_comparison:
    """Trains FP32 / BinaryConnect / BinaryNet (+ progressive + KD) / XNOR-Net / ternary MLPs and a
    float G-Net (+ its EHD embedding) on the same data; makes the cost table results/bnn_table.{csv,md,tex}
    and the FGSM/PGD figure figures/adversarial_robustness.{png,pdf} (+ results/adversarial_robustness.csv)
    from notebooks/12_bnn_comparison.ipynb (gnetlab.bnn, gnetlab.robustness, gnetlab.gnet, gnetlab.ehd)."""
    input:
        notebook="notebooks/12_bnn_comparison.ipynb",
        code=gnetlab_modules("bnn", "robustness", "gnet", "ehd", "bits", "kernels", "embed", "datasets"),
        models=[f"results/models/{m['name']}.pt" for m in config["bnn_comparison"]["models"].values()],
        energy="gnetlab/data/energy_45nm.csv",
    output:
        **figure_outputs("adversarial_robustness", "Binarized networks"),
        table=report("results/bnn_table.csv", caption=str(Path(workflow.basedir) / "report" / "bnn_table.rst"),
                     category="Binarized networks"),
        table_md="results/bnn_table.md",
        table_tex="results/bnn_table.tex",
    log:
        notebook="results/notebooks/12_bnn_comparison.ipynb",
    params:
        parameters=notebook_parameters("bnn_comparison"),
    threads: 2
    resources:
        mem_mb=4000,
    shell:
        RUN_NOTEBOOK
