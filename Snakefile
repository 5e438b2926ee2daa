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

# An overlay (--configfile FILE / --config KEY=VALUE) may only set sections and keys the default config
# knows: a misspelled one would otherwise be merged and silently ignored.
import yaml
from gnetlab.pipeline import check_config

check_config(config, yaml.safe_load(Path(workflow.basedir, "config", "config.yaml").read_text()),
             source="snakemake config (config/config.yaml + overlays)")

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
    """This config section as JSON for ``python -m gnetlab.pipeline run --parameters``, in the config's own
    key order (the order of the notebook's defaults, so that a notebook iterating a dict parameter sees the
    same order under Snakemake as under nbval)."""
    if section not in config:
        raise ValueError(f"config has no section {section!r}; sections: {sorted(config)}")
    return json.dumps(config[section])


def figure_outputs(slug, caption_category):
    """The three outputs of a figure rule, the PNG registered in the HTML report with its caption."""
    return dict(
        png=report(f"figures/{slug}.png", caption=str(Path(workflow.basedir) / "report" / f"{slug}.rst"),
                   category=caption_category),
        pdf=f"figures/{slug}.pdf",
        csv=f"results/{slug}.csv",
    )


# Trained models. The defaults are committed under data/models/ (same weights on every CPU; see
# gnetlab.checkpoints) and a rule reads those. A model whose spec differs from the committed one (paper
# scale, an overlay) is trained by rule train_gnet / train_bnn into results/models/. Retraining every
# model: snakemake --cores 2 --config retrain_models=true (the notebooks then load results/models/).
_retrain = config.get("retrain_models", False)
if isinstance(_retrain, str) and _retrain.lower() in ("true", "false"):  # --config retrain_models=true
    _retrain = _retrain.lower() == "true"
if not isinstance(_retrain, bool):
    raise ValueError(f"config retrain_models: expected true or false, got {_retrain!r}")
RETRAIN_MODELS = _retrain
MODELS_ENV = "GNETLAB_MODELS_DIR=results/models " if RETRAIN_MODELS else ""


def _normalised(spec):
    return json.loads(json.dumps(spec, sort_keys=True))


def model_file(name, spec):
    """The checkpoint a rule reads for model ``name``: the committed one if it holds ``spec``."""
    sidecar = Path("data/models") / f"{name}.json"
    if not RETRAIN_MODELS and sidecar.exists() and json.loads(sidecar.read_text())["spec"] == _normalised(spec):
        return f"data/models/{name}.pt"
    return f"results/models/{name}.pt"


def model_files(entries):
    """Checkpoints of a notebook's ``models``/``baselines`` parameter ({label: {name, spec}})."""
    return [model_file(e["name"], e["spec"]) for e in entries.values()]


RUN_NOTEBOOK = (MODELS_ENV + "python -m gnetlab.pipeline run {input.notebook:q} {log.notebook:q} "
                "--parameters {params.parameters:q} --threads {threads}")


for _smk in sorted(Path("rules").glob("*.smk")):
    include: str(_smk)


rule all:
    """Every figure and table of the default configuration."""
    default_target: True
    input:
        ALL_TARGETS,
