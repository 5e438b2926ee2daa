# Foundations: Grothendieck's identity (the vertical slice every other figure builds on).

ALL_TARGETS += ["figures/grothendieck_identity.png", "results/grothendieck_identity.csv"]


rule grothendieck_identity:
    """Grothendieck's identity for Gaussian and Rademacher sign embeddings: (a) estimate vs
    (2/pi) arcsin(cos), (b) error vs N with the 1/sqrt(N) rate and Hoeffding's bound, (c) the
    Rademacher floor on sparse vectors. Makes figures/grothendieck_identity.{png,pdf} and
    results/grothendieck_identity.csv from notebooks/01_grothendieck_identity.ipynb (gnetlab.embed)."""
    input:
        notebook="notebooks/01_grothendieck_identity.ipynb",
        code=gnetlab_modules("embed"),
    output:
        **figure_outputs("grothendieck_identity", "Foundations"),
    log:
        notebook="results/notebooks/01_grothendieck_identity.ipynb",
    params:
        parameters=notebook_parameters("grothendieck_identity"),
    threads: 2
    resources:
        mem_mb=1500,
    shell:
        RUN_NOTEBOOK
