# Binarized-network baselines (BinaryConnect, BinaryNet, XNOR-Net, ternary) vs G-Nets: cost table
# and adversarial robustness.

ALL_TARGETS += ["results/bnn_table.csv", "figures/adversarial_robustness.png"]


BNN_MODELS = sorted(config.get("bnn_models", {}))


wildcard_constraints:
    bnn_model="|".join(BNN_MODELS) or "NO_BNN_MODEL",


def _bnn_teacher_files(wc):
    teacher = config["bnn_models"][wc.bnn_model].get("teacher")
    return [model_file(teacher["name"], teacher["spec"])] if teacher else []


rule train_bnn:
    """Train the binarized-network baseline config["bnn_models"][<name>] (gnetlab.bnn.train_from_spec:
    Adam + ReduceLROnPlateau, best validation epoch kept; a distilled student after its teacher) into
    results/models/<name>.pt with its sidecar <name>.json. Runs only for baselines without a committed
    checkpoint of the same spec (data/models/), or for all with --config retrain_models=true."""
    input:
        code=gnetlab_modules("bnn", "checkpoints", "zoo", "datasets"),
        teacher=_bnn_teacher_files,
    output:
        model="results/models/{bnn_model}.pt",
    log:
        "results/models/{bnn_model}.log",
    params:
        spec=lambda wc: json.dumps(config["bnn_models"][wc.bnn_model], sort_keys=True),
    threads: 1
    resources:
        mem_mb=1500,
    shell:
        MODELS_ENV + "python -m gnetlab.zoo train bnn {wildcards.bnn_model} {output.model:q} "
        "--spec {params.spec:q} > {log:q} 2>&1"


rule bnn_comparison:
    """Compares FP32 / BinaryConnect / BinaryNet (+ progressive + KD) / XNOR-Net / ternary MLPs (trained
    baselines, committed under data/models/) and a float G-Net (+ its EHD embedding) on the same data; makes the cost table results/bnn_table.{csv,md,tex}
    and the FGSM/PGD figure figures/adversarial_robustness.{png,pdf} (+ results/adversarial_robustness.csv)
    from notebooks/12_bnn_comparison.ipynb (gnetlab.bnn, gnetlab.robustness, gnetlab.gnet, gnetlab.ehd)."""
    input:
        notebook="notebooks/12_bnn_comparison.ipynb",
        code=gnetlab_modules("bnn", "robustness", "gnet", "ehd", "bits", "kernels", "embed", "datasets"),
        models=model_files(config["bnn_comparison"]["models"]),
        baselines=model_files(config["bnn_comparison"]["baselines"]),
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
