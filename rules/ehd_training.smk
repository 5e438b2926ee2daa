# Training in the binary domain (issue 15): EHD-aware fine-tunes of the float G-Net (their own training rule)
# and the figure comparing post-hoc EHD, a fine-tuned binary classifier and EHD-aware training.

ALL_TARGETS += ["figures/ehd_binary_training.png"]

EHD_AWARE_MODELS = sorted(name for name, spec in config["gnet_models"].items() if "ehd_aware" in spec)


wildcard_constraints:
    ehd_aware_model="|".join(EHD_AWARE_MODELS) or "$^",


def _aware_base_file(wc):
    """The checkpoint an EHD-aware fine-tune starts from: its base model (spec minus the ehd_aware stage)."""
    spec = config["gnet_models"][wc.ehd_aware_model]
    base = {k: v for k, v in spec.items() if k != "ehd_aware"}
    return model_file(spec["ehd_aware"]["base"], base)


rule train_ehd_aware:
    """Fine-tune config["gnet_models"][<name>]["ehd_aware"]["base"] through its EHD forward pass
    (gnetlab.ehd.aware: sign embeddings in the forward at the spec's N with a fresh G per step, the float
    layers' gradient at the EHD inputs in the backward) and write results/models/<name>.pt with its sidecar.
    Runs only without a committed checkpoint of the same spec (data/models/), or with
    --config retrain_models=true (gnetlab.ehd, gnetlab.gnet, gnetlab.datasets)."""
    input:
        code=gnetlab_modules("ehd", "gnet", "datasets"),
        base=_aware_base_file,
    output:
        model="results/models/{ehd_aware_model}.pt",
    log:
        "results/models/{ehd_aware_model}.log",
    params:
        spec=lambda wc: json.dumps(config["gnet_models"][wc.ehd_aware_model], sort_keys=True),
    threads: 1
    resources:
        mem_mb=1500,
    shell:
        MODELS_ENV + "python -m gnetlab.zoo train gnet {wildcards.ehd_aware_model} {output.model:q} "
        "--spec {params.spec:q} > {log:q} 2>&1"


rule ehd_binary_training:
    """Training EHD G-Nets in the binary domain: EHD accuracy vs N of the dense and the conv RASU G-Net
    post hoc, with their binary class vectors fine-tuned for each chunk's G, of their EHD-aware fine-tunes
    (one per embedding), and of both, for Gaussian and Rademacher G, with the float accuracy and the share
    of the gap each method recovers (with standard errors). Makes figures/ehd_binary_training.{png,pdf} and
    results/ehd_binary_training.csv from notebooks/15_ehd_binary_training.ipynb (gnetlab.ehd.training,
    gnetlab.ehd.aware, gnetlab.gnet)."""
    input:
        notebook="notebooks/15_ehd_binary_training.ipynb",
        code=gnetlab_modules("ehd", "gnet", "embed", "bits", "kernels", "datasets"),
        models=model_files(config["ehd_binary_training"]["models"]),
        aware_models=[f for per_model in config["ehd_binary_training"]["aware_models"].values()
                      for f in model_files(per_model)],
    output:
        **figure_outputs("ehd_binary_training", "G-Net and EHD G-Net"),
    log:
        notebook="results/notebooks/15_ehd_binary_training.ipynb",
    params:
        parameters=notebook_parameters("ehd_binary_training"),
    threads: 1
    resources:
        mem_mb=2000,
    shell:
        RUN_NOTEBOOK
