"""The package's layering, read from its imports (ast, no execution).

Every ``import`` in ``gnetlab/`` counts, including the lazy ones inside functions: a lazy import is
still a dependency. The rules (DEVELOPING.md, "Module map"):

* kernels and bits know no models or datasets; theory is numerics (numpy/scipy) that knows no model
  class; datasets and embed know no models;
* the float G-Net (``gnet``) knows nothing of EHD; baselines (``hdc``, ``bnn``) know nothing of EHD or
  G-Net; ``rf`` knows no G-Net, EHD or baseline;
* shared machinery (threads, protocol, activations, costs, validation, deprecation) is a leaf;
* no import cycles between modules.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "gnetlab"

# Leaves everything may use.
BASE = {"_validation", "_deprecation", "threads", "progress", "io", "paths", "costs"}

# component -> the gnetlab components it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "_validation": set(),
    "_deprecation": set(),
    "paths": set(),
    "io": set(),
    "progress": set(),
    "costs": set(),
    "machine": {"kernels"},
    "threads": {"_validation"},
    "activations": {"_validation"},
    "protocol": {"_validation"},
    "bits": {"_validation"},
    "kernels": BASE | {"bits"},
    "embed": BASE,
    "rademacher": BASE | {"embed"},
    "datasets": BASE,
    "theory": BASE | {"activations"},
    "checkpoints": BASE | {"machine"},
    "reference": BASE,
    "gnet": BASE | {"datasets", "checkpoints"},
    "ehd": BASE | {"bits", "kernels", "embed", "gnet", "protocol", "datasets", "checkpoints"},
    "hdc": BASE | {"bits", "kernels", "protocol", "datasets"},
    "bnn": BASE | {"bits", "kernels", "datasets", "checkpoints"},
    "rf": BASE | {"bits", "kernels", "theory", "activations", "protocol"},
    "robustness": BASE,
    "plotting": BASE | {"machine"},
    "pipeline": BASE,
    "zoo": BASE | {"checkpoints", "gnet", "ehd", "bnn", "pipeline"},
    "gnet_datasets": BASE | {"ehd", "gnet", "hdc", "datasets"},
    "bench_e2e": BASE | {"bits", "kernels", "embed", "gnet", "ehd", "bnn"},
    "bench": BASE | {"bits", "kernels", "embed", "gnet", "ehd", "bench_e2e"},
    "__init__": {"bits", "kernels", "threads"},  # threads: OpenMP spin settings before anything loads libgomp
}

MODELS = {"gnet", "ehd", "hdc", "bnn", "rf"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Absolute gnetlab module names imported anywhere in the file."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "gnetlab")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "gnetlab":
                continue
            subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in known]
            out.update(subs)
            if len(subs) < len(node.names):
                out.add(mod)
    return {m for m in out if m != name}


def _component(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {name: _imports(path, name, known) for name, path in mods.items()}


def test_every_module_has_a_layer(graph):
    missing = sorted({_component(m) for m in graph} - set(ALLOWED))
    assert not missing, f"add these components to ALLOWED (and to DEVELOPING.md's module map): {missing}"


def test_imports_follow_the_layering(graph):
    bad = []
    for mod, targets in graph.items():
        src = _component(mod)
        for t in targets:
            dst = _component(t)
            if dst != src and dst != "__init__" and dst not in ALLOWED[src]:
                bad.append(f"{mod} -> {t}")
    assert not bad, "imports against the layering:\n" + "\n".join(sorted(bad))


@pytest.mark.parametrize("low", ["bits", "kernels", "theory", "datasets", "embed", "protocol", "threads",
                                 "activations", "costs"])
def test_low_layers_know_no_models(graph, low):
    hits = [f"{m} -> {t}" for m, ts in graph.items() if _component(m) == low for t in ts
            if _component(t) in MODELS]
    assert not hits


def test_baselines_know_neither_ehd_nor_gnet(graph):
    hits = [f"{m} -> {t}" for m, ts in graph.items() if _component(m) in ("hdc", "bnn") for t in ts
            if _component(t) in ("ehd", "gnet")]
    assert not hits


def test_no_import_cycles(graph):
    # Edges to a package's own __init__ from inside it are re-export plumbing, not dependencies.
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on stack, 2 done
    stack: list[str] = []
    cycles = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(edges.get(m, ())):
            if state[t] == 1:
                cycles.append(stack[stack.index(t):] + [t])
            elif state[t] == 0:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if state[m] == 0:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_files_stay_small():
    big = {str(p.relative_to(PKG.parent)): n for p in PKG.rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 660}
    assert not big, f"split these files by concern (limit ~600 lines): {big}"
