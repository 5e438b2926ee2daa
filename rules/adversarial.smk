# Adversarial robustness without gradient masking: the gradient-free Square Attack on every model of
# bnn_comparison and adaptive BPDA / EOT attacks on the EHD G-Net.

ALL_TARGETS += ["figures/adversarial_gradient_free.png", "results/adversarial_gradient_free.csv"]


rule adversarial_gradient_free:
    """Settles whether the G-Nets' adversarial margin over the binarized MLPs (notebook 12) is gradient
    masking: Square Attack (score-based, gradient-free) on the six binarized MLPs, the float G-Net and the
    EHD G-Net's binary scores; PGD with layer-wise BPDA and with BPDA + EOT over redrawn G on the EHD
    G-Net; notebook 12's FGSM/PGD recomputed on the same images; the per-image worst case. Reads the same
    committed checkpoints as rule bnn_comparison; makes figures/adversarial_gradient_free.{png,pdf} and
    results/adversarial_gradient_free.csv from notebooks/16_adversarial_gradient_free.ipynb
    (gnetlab.robustness, gnetlab.ehd.training, gnetlab.bnn, gnetlab.gnet, gnetlab.ehd)."""
    input:
        notebook="notebooks/16_adversarial_gradient_free.ipynb",
        code=gnetlab_modules("robustness", "bnn", "gnet", "ehd", "bits", "kernels", "embed", "datasets",
                             "checkpoints"),
        models=model_files(config["adversarial_gradient_free"]["models"]),
        baselines=model_files(config["adversarial_gradient_free"]["baselines"]),
    output:
        **figure_outputs("adversarial_gradient_free", "Binarized networks"),
    log:
        notebook="results/notebooks/16_adversarial_gradient_free.ipynb",
    params:
        parameters=notebook_parameters("adversarial_gradient_free"),
    threads: 2
    resources:
        mem_mb=3000,
    shell:
        RUN_NOTEBOOK
