#!/usr/bin/env bash
# Build the wheel, install it into a fresh venv (dependencies from the system site-packages: nothing is
# downloaded), and use it from outside the checkout: import, the paper data and the energy table
# (package data), a tiny embed + predict, and the bench CLI. Fails if anything is read from or written
# into the checkout or the install prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/gnetlab-wheel.XXXXXX")
# The checkout's state before (a pipeline run earlier in CI may have changed timing figures): the smoke
# test itself must not change it.
repo_before=$(git -C "$repo" status --porcelain --untracked-files=all -- gnetlab data figures results | md5sum)
trap 'rm -rf "$work"' EXIT
unset PYTHONPATH GNETLAB_ROOT GNETLAB_DATA_DIR GNETLAB_FIGURES_DIR GNETLAB_RESULTS_DIR

# --no-build-isolation: build with the installed setuptools instead of downloading one.
python -m pip wheel --no-deps --no-build-isolation -q -w "$work/dist" .
python -m venv --system-site-packages "$work/venv"
# --ignore-installed: an editable gnetlab in the system site-packages must not count as "installed".
"$work/venv/bin/python" -m pip install -q --no-deps --no-index --ignore-installed "$work"/dist/gnetlab-*.whl

mkdir -p "$work/elsewhere" "$work/cache"
cd "$work/elsewhere"
prefix=$("$work/venv/bin/python" -c 'import sys; print(sys.prefix)')
before=$(find "$prefix" -type f \( -name '*.csv' -o -name '*.png' -o -name '*.pdf' \) | sort | md5sum)
XDG_CACHE_HOME="$work/cache" GNETLAB_PROGRESS=0 REPO="$repo" "$work/venv/bin/python" - <<'PY'
import os
from pathlib import Path

import numpy as np

import gnetlab
from gnetlab import bnn, ehd, hdc, paths
from gnetlab.datasets import paper
from gnetlab.gnet import build_model

repo = Path(os.environ["REPO"]).resolve()
here = Path.cwd().resolve()
src = Path(gnetlab.__file__).resolve()
assert repo not in src.parents, f"gnetlab imported from the checkout: {src}"
assert "site-packages" in str(src), src
assert not paths.IN_CHECKOUT and paths.ROOT == here, (paths.IN_CHECKOUT, paths.ROOT)
assert paths.FIGURES == here / "figures" and paths.RESULTS == here / "results"
cache = paths.data_cache_dir()
assert str(cache).startswith(os.environ["XDG_CACHE_HOME"]), cache

g = paper.gnet_official_results(experiment="activation_sweep", dataset="mnist")
assert len(g) > 0 and {"accuracy", "embedding"} <= set(g.columns)
assert len(paper.onebit_rf_reference()) > 0 and len(paper.seed002_fgsm()) > 0
energy = bnn.load_energy_table()
assert energy["fp32_mult"] > energy["int8_add"] > 0

model = build_model("mnist_dense", activation="tasu", seed=0, hidden=(16, 16)).eval()
X = np.random.default_rng(0).random((8, 784), dtype=np.float32)
e = ehd.embed_gnet(model, hyperdim=256, embedding="rademacher", seed=0)
assert np.array_equal(e.predict(X, path="packed"), e.predict(X, path="float"))
rng = np.random.default_rng(1)
Xh, yh = rng.random((40, 6)), np.arange(40) % 2
assert 0.0 <= hdc.HoloGN(128, seed=0).fit(Xh, yh).score(Xh, yh) <= 1.0
print("wheel smoke: ok,", src.parent)
PY
"$work/venv/bin/python" -m gnetlab.bench --help > /dev/null
after=$(find "$prefix" -type f \( -name '*.csv' -o -name '*.png' -o -name '*.pdf' \) | sort | md5sum)
[ "$before" = "$after" ] || { echo "the smoke test wrote outputs into the install prefix" >&2; exit 1; }
[ -z "$(ls -A "$work/elsewhere")" ] || { echo "unexpected files in the working directory" >&2; exit 1; }
repo_after=$(git -C "$repo" status --porcelain --untracked-files=all -- gnetlab data figures results | md5sum)
[ "$repo_before" = "$repo_after" ] \
    || { echo "the smoke test changed the checkout" >&2; git -C "$repo" status --short >&2; exit 1; }
echo "== wheel smoke test passed in $(( $(date +%s) - start )) s"
