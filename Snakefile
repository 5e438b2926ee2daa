"""gnetlab pipeline: one rule per figure or table; every rule runs its notebook through papermill.

    snakemake --cores 8                                  # every figure at the default (laptop) scale
    snakemake --cores 8 figures/grothendieck_identity.png  # one figure
    snakemake --cores 8 --configfile config/paper.yaml   # paper scale (GPU/cluster recommended)
    snakemake --report report.html                       # HTML report of every figure with its caption

Each rule lists its notebook and the gnetlab modules it uses as inputs, so editing a module re-runs
exactly the figures that depend on it. Rule families live in rules/*.smk.
"""

import json
from pathlib import Path

configfile: "config/config.yaml"

report: "report/workflow.rst"

# Modules every rule depends on: what notebooks import (paths, plotting, validation, the runner) and the
# shared leaves every model package uses (threads, protocol, activations, costs).
CORE_MODULES = ["__init__", "_validation", "_deprecation", "io", "paths", "plotting", "pipeline", "progress", "threads",
                "protocol", "activations", "costs"]

# Figure/table targets of every rule family; each rules/*.smk appends its own.
ALL_TARGETS = []


def gnetlab_modules(*names):
    """Source files of gnetlab modules (``"embed"`` or packages like ``"datasets"``) plus the core ones."""
    files = []
    for name in [*CORE_MODULES, *names]:
        pkg = Path("gnetlab") / name
        if pkg.is_dir():
            files += sorted(str(p) for p in pkg.rglob("*") if p.suffix in {".py", ".cu", ".txt"})
        else:
            files.append(f"gnetlab/{name}.py")
    return sorted(set(files))


def notebook_parameters(section):
    """This config section as JSON for ``python -m gnetlab.pipeline run --parameters``."""
    if section not in config:
        raise ValueError(f"config has no section {section!r}; sections: {sorted(config)}")
    return json.dumps(config[section], sort_keys=True)


def figure_outputs(slug, caption_category):
    """The three outputs of a figure rule, the PNG registered in the HTML report with its caption."""
    return dict(
        png=report(f"figures/{slug}.png", caption=str(Path(workflow.basedir) / "report" / f"{slug}.rst"),
                   category=caption_category),
        pdf=f"figures/{slug}.pdf",
        csv=f"results/{slug}.csv",
    )


RUN_NOTEBOOK = ("python -m gnetlab.pipeline run {input.notebook:q} {log.notebook:q} "
                "--parameters {params.parameters:q} --threads {threads}")


for _smk in sorted(Path("rules").glob("*.smk")):
    include: str(_smk)


rule all:
    """Every figure and table of the default configuration."""
    default_target: True
    input:
        ALL_TARGETS,
