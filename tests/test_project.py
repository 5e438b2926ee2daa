"""The project's own promises: config <-> notebooks, pyproject <-> environment.yml, the Snakemake DAG."""

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from gnetlab import paths, pipeline

ROOT = paths.ROOT
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text()) or {}


def _section(nb: Path) -> str:
    m = re.fullmatch(r"\d\d_(\w+)", nb.stem)
    assert m, f"{nb.name}: notebooks are named NN_<name>.ipynb"
    return m.group(1)


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_defaults_equal_config(nb):
    params = pipeline.notebook_parameters(nb)
    section = _section(nb)
    assert section in CONFIG, f"config/config.yaml has no section {section!r} for {nb.name}"
    assert "seed" in params, f"{nb.name}: every notebook takes a seed parameter"
    declared = {k: v for k, v in params.items() if k != "threads"}
    assert declared == CONFIG[section], f"{nb.name}: parameters cell and config/config.yaml[{section}] differ"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean_and_runnable_by_ci(nb):
    import nbformat

    book = nbformat.read(str(nb), as_version=4)
    assert book.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code if c.source.strip()), \
        f"{nb.name}: commit notebooks executed (python -m gnetlab.pipeline refresh {nb.relative_to(ROOT)})"
    for c in code:
        for out in c.outputs:
            if out.get("name") == "stderr":
                pytest.fail(f"{nb.name}: stderr output committed (progress bar or warning?): {out.text[:200]}")
            text = out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
            machine = re.search(r"PosixPath|/(?:work|home|tmp|Users)/\S*", text)
            assert not machine, (f"{nb.name}: committed output shows a machine path {machine.group(0)!r} "
                                 "(assign save_figure's return value: _ = plotting.save_figure(...))")


def test_paper_config_only_overrides_known_keys():
    def walk(paper, base, where):
        for k, v in paper.items():
            assert k in base, f"config/paper.yaml: {where}{k} is not a key of config/config.yaml"
            if isinstance(v, dict):
                walk(v, base[k], f"{where}{k}.")

    walk(PAPER, CONFIG, "")


def test_every_notebook_has_a_rule_and_every_figure_a_caption():
    rules = "\n".join(p.read_text() for p in (ROOT / "rules").glob("*.smk"))
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.name}" in rules, f"{nb.name} is not used by any rule in rules/*.smk"
    for slug in re.findall(r'figure_outputs\("(\w+)"', rules):
        assert (ROOT / "report" / f"{slug}.rst").exists(), f"report/{slug}.rst (caption) is missing"


def _names(reqs):
    return {re.split(r"[<>=!~ \[;]", r.strip(), maxsplit=1)[0].lower().replace("_", "-") for r in reqs}


def test_environment_yml_lists_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(project["dependencies"]) | _names(project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = _names(d for d in env["dependencies"] if isinstance(d, str)) - {"python", "pip"}
    conda = {"torch" if n == "pytorch" else n for n in conda}  # conda-forge names torch "pytorch"
    assert conda == wanted
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section


def test_version_ranges_not_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"]:
        assert "==" not in req, f"pin in pyproject dependencies: {req}"


# Rules that run only when a model has no committed checkpoint of its spec (or retrain_models=true).
TRAIN_RULES = {"train_gnet", "train_bnn", "train_ehd_aware"}


def _dry_run(*extra):
    out = subprocess.run(["snakemake", "-n", "--forceall", "--quiet", "rules", *extra], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.skipif(shutil.which("snakemake") is None, reason="snakemake not installed")
def test_snakemake_dry_run_lists_every_notebook_rule():
    stdout = _dry_run()
    rules = "\n".join(p.read_text() for p in (ROOT / "rules").glob("*.smk"))
    names = set(re.findall(r"^rule (\w+):", rules, flags=re.M))
    assert TRAIN_RULES <= names
    for name in sorted(names - TRAIN_RULES):
        assert name in stdout, f"rule {name} is not in the DAG of `rule all`"
    for name in TRAIN_RULES:  # the default run uses the committed checkpoints
        assert not re.search(rf"\b{name}\b", stdout), f"{name} runs although data/models/ holds its models"


@pytest.mark.skipif(shutil.which("snakemake") is None, reason="snakemake not installed")
def test_snakemake_retrain_switch_schedules_every_training_rule():
    stdout = _dry_run("--config", "retrain_models=true")
    for name in TRAIN_RULES:
        assert re.search(rf"\b{name}\b", stdout), f"--config retrain_models=true does not schedule {name}"


def test_readme_gallery_shows_every_figure_with_its_rule():
    readme = (ROOT / "README.md").read_text()
    rules = {p.name: p.read_text() for p in (ROOT / "rules").glob("*.smk")}
    for text in rules.values():
        for rule_body in re.split(r"^rule ", text, flags=re.M)[1:]:
            name = rule_body.split(":", 1)[0]
            for slug in re.findall(r'figure_outputs\("(\w+)"', rule_body):
                assert "![" in readme and f"(figures/{slug}.png)" in readme, f"README gallery lacks {slug}"
                assert f"### `{slug}` — rule `{name}`" in readme, f"README names the wrong rule for {slug}"


def test_report_captions_name_only_real_config_keys():
    """Every ``snakemake.config[...]`` path a caption renders exists in the default and the paper config."""
    merged = pipeline.load_config(overlay=ROOT / "config" / "paper.yaml")
    found = 0
    for rst in sorted((ROOT / "report").glob("*.rst")):
        for expr in re.findall(r'snakemake\.config((?:\["[^"]+"\])+)', rst.read_text()):
            keys = re.findall(r'\["([^"]+)"\]', expr)
            for name, cfg in (("config.yaml", CONFIG), ("config.yaml + paper.yaml", merged)):
                node = cfg
                for k in keys:
                    assert isinstance(node, dict) and k in node, \
                        f"report/{rst.name}: snakemake.config{expr} is not a key of {name}"
                    node = node[k]
            found += 1
    assert found > 10, "no config references found in the captions: did the syntax change?"


@pytest.mark.parametrize("overlay, match", [
    ("grothendiek_identity: {trials: 20}\n", "unknown sections \\['grothendiek_identity'\\]"),
    ("grothendieck_identity: {trails: 20}\n", "unknown keys \\['trails'\\]"),
    ("grothendieck_identity: 3\n", "must be a mapping"),
])
def test_config_overlay_with_unknown_keys_is_refused(tmp_path, overlay, match):
    path = tmp_path / "overlay.yaml"
    path.write_text(overlay)
    with pytest.raises((ValueError, TypeError), match=match):
        pipeline.load_config(overlay=path)


def test_config_overlay_may_add_models_and_override_known_keys(tmp_path):
    path = tmp_path / "overlay.yaml"
    path.write_text("gnet_models: {my_model: {dataset: digits}}\ngrothendieck_identity: {trials: 2}\n")
    cfg = pipeline.load_config(overlay=path)
    assert cfg["grothendieck_identity"]["trials"] == 2 and "my_model" in cfg["gnet_models"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        pipeline.load_config(overlay=tmp_path / "missing.yaml")


@pytest.mark.skipif(shutil.which("snakemake") is None, reason="snakemake not installed")
def test_snakemake_refuses_a_misspelled_overlay(tmp_path):
    path = tmp_path / "overlay.yaml"
    path.write_text("grothendiek_identity: {trials: 20}\n")
    out = subprocess.run(["snakemake", "-n", "--configfile", str(path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode != 0 and "grothendiek_identity" in out.stdout + out.stderr
