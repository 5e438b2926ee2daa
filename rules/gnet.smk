# G-Net and EHD G-Net: trained float G-Nets (one rule, shared) and the three EHD figures built on them.

ALL_TARGETS += [f"figures/{slug}.png" for slug in
                ("ehd_accuracy_vs_n", "ehd_activation_sweep", "ehd_distortion_ablation", "ehd_bitflip_robustness")]

GNET_MODELS = sorted(name for name, spec in config["gnet_models"].items() if "ehd_aware" not in spec)  # those: rules/ehd_training.smk


wildcard_constraints:
    gnet_model="|".join(GNET_MODELS),


def _gnet_model_files(section):
    """The checkpoints a notebook section uses (its ``models`` parameter names them)."""
    return model_files(config[section]["models"])


rule train_gnet:
    """Train the float G-Net config["gnet_models"][<name>] (dataset, architecture, activation, Adam +
    ReduceLROnPlateau, best validation epoch kept) and write results/models/<name>.pt with its sidecar
    <name>.json (weights, JSON config and training metadata; loaded with torch.load(weights_only=True)).
    Runs only for models without a committed checkpoint of the same spec (data/models/), or for all with
    --config retrain_models=true (gnetlab.gnet, gnetlab.datasets)."""
    input:
        code=gnetlab_modules("gnet", "datasets"),
    output:
        model="results/models/{gnet_model}.pt",
    log:
        "results/models/{gnet_model}.log",
    params:
        spec=lambda wc: json.dumps(config["gnet_models"][wc.gnet_model], sort_keys=True),
    threads: 1  # small model: training runs single-threaded (gnetlab.gnet.train.single_thread)
    resources:
        mem_mb=1500,
    shell:
        MODELS_ENV + "python -m gnetlab.gnet {output.model:q} --spec {params.spec:q} --threads {threads} > {log:q} 2>&1"


rule ehd_accuracy_vs_n:
    """EHD G-Net accuracy vs hyperdimension N converging to the float G-Net (Gaussian and Rademacher,
    band = +-0.5 std over test chunks with a fresh G each), the gap to the float accuracy with the
    paper's MNIST curves overlaid, and the share of test inputs where EHD and float predict the same
    class. Makes figures/ehd_accuracy_vs_n.{png,pdf} and results/ehd_accuracy_vs_n.csv from
    notebooks/08_ehd_accuracy_vs_n.ipynb and the trained G-Net (gnetlab.ehd, gnetlab.gnet,
    gnetlab.kernels, gnetlab/data/paper/gnet_official_results.csv.gz)."""
    input:
        notebook="notebooks/08_ehd_accuracy_vs_n.ipynb",
        code=gnetlab_modules("ehd", "gnet", "embed", "bits", "kernels", "datasets"),
        models=_gnet_model_files("ehd_accuracy_vs_n"),
        paper="gnetlab/data/paper/gnet_official_results.csv.gz",
    output:
        **figure_outputs("ehd_accuracy_vs_n", "G-Net and EHD G-Net"),
    log:
        notebook="results/notebooks/08_ehd_accuracy_vs_n.ipynb",
    params:
        parameters=notebook_parameters("ehd_accuracy_vs_n"),
    threads: 2
    resources:
        mem_mb=2500,
    shell:
        RUN_NOTEBOOK


rule ehd_activation_sweep:
    """RASU vs TASU x Gaussian vs Rademacher EHD G-Nets, the same N in every layer (paper section B),
    with the paper's MNIST curves overlaid, and the distortion ablation: the same architecture with plain
    cosine layers + ReLU (no arcsine), its binary twin uncompensated and with the distortion inverted, the
    layer estimates against the float cosine and every network's accuracy gap to its float G-Net. Makes
    figures/ehd_activation_sweep.{png,pdf}, figures/ehd_distortion_ablation.{png,pdf} and their CSVs
    from notebooks/09_ehd_activation_sweep.ipynb and the three trained G-Nets (gnetlab.ehd, gnetlab.gnet,
    gnetlab.kernels, gnetlab/data/paper/gnet_official_results.csv.gz)."""
    input:
        notebook="notebooks/09_ehd_activation_sweep.ipynb",
        code=gnetlab_modules("ehd", "gnet", "embed", "bits", "kernels", "datasets"),
        models=_gnet_model_files("ehd_activation_sweep"),
        paper="gnetlab/data/paper/gnet_official_results.csv.gz",
    output:
        **{f"sweep_{k}": v for k, v in figure_outputs("ehd_activation_sweep", "G-Net and EHD G-Net").items()},
        **{f"ablation_{k}": v for k, v in figure_outputs("ehd_distortion_ablation", "G-Net and EHD G-Net").items()},
    log:
        notebook="results/notebooks/09_ehd_activation_sweep.ipynb",
    params:
        parameters=notebook_parameters("ehd_activation_sweep"),
    threads: 2
    resources:
        mem_mb=2500,
    shell:
        RUN_NOTEBOOK


rule ehd_bitflip_robustness:
    """EHD G-Net accuracy vs the fraction of flipped stored weight bits (all layers), RASU vs TASU,
    for the official with-replacement flip model (paper section C overlaid) and for exact flips.
    Makes figures/ehd_bitflip_robustness.{png,pdf} and results/ehd_bitflip_robustness.csv from
    notebooks/10_ehd_bitflip_robustness.ipynb and the two trained G-Nets (gnetlab.ehd, gnetlab.gnet,
    gnetlab.kernels, gnetlab/data/paper/gnet_official_results.csv.gz)."""
    input:
        notebook="notebooks/10_ehd_bitflip_robustness.ipynb",
        code=gnetlab_modules("ehd", "gnet", "embed", "bits", "kernels", "datasets"),
        models=_gnet_model_files("ehd_bitflip_robustness"),
        paper="gnetlab/data/paper/gnet_official_results.csv.gz",
    output:
        **figure_outputs("ehd_bitflip_robustness", "G-Net and EHD G-Net"),
    log:
        notebook="results/notebooks/10_ehd_bitflip_robustness.ipynb",
    params:
        parameters=notebook_parameters("ehd_bitflip_robustness"),
    threads: 2
    resources:
        mem_mb=2500,
    shell:
        RUN_NOTEBOOK
