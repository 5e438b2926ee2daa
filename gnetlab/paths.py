"""Repository-anchored paths.

papermill, nbval, Snakemake and JupyterLab all start Python in different working directories, so no
code in gnetlab or the notebooks uses relative paths: everything is built from these constants.

``GNETLAB_FIGURES_DIR`` and ``GNETLAB_RESULTS_DIR`` redirect figure and result outputs (the test suite
points them at a temporary directory so that running the notebooks under nbval never touches the
committed figures). ``GNETLAB_ROOT`` overrides the root (e.g. when the package is installed non-editable and the
pipeline runs from a checkout elsewhere). ``GNETLAB_DATA_DIR`` overrides where downloaded datasets are
cached (default: ``<root>/data/cache``).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ROOT", "DATA", "PAPER_DATA", "FIGURES", "RESULTS", "NOTEBOOKS", "CONFIG", "data_cache_dir"]


def _find_root() -> Path:
    env = os.environ.get("GNETLAB_ROOT")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "Snakefile").exists():
        return here
    # Installed (non-editable) package: fall back to the working directory if it is a checkout.
    cwd = Path.cwd().resolve()
    for cand in (cwd, *cwd.parents):
        if (cand / "Snakefile").exists() and (cand / "gnetlab").is_dir():
            return cand
    return here


ROOT: Path = _find_root()
DATA: Path = ROOT / "data"
PAPER_DATA: Path = DATA / "paper"
FIGURES: Path = Path(os.environ["GNETLAB_FIGURES_DIR"]).resolve() if os.environ.get("GNETLAB_FIGURES_DIR") else ROOT / "figures"
RESULTS: Path = Path(os.environ["GNETLAB_RESULTS_DIR"]).resolve() if os.environ.get("GNETLAB_RESULTS_DIR") else ROOT / "results"
NOTEBOOKS: Path = ROOT / "notebooks"
CONFIG: Path = ROOT / "config"


def data_cache_dir() -> Path:
    """Directory where downloaded datasets are cached (created lazily by the downloaders)."""
    env = os.environ.get("GNETLAB_DATA_DIR")
    return Path(env).expanduser().resolve() if env else DATA / "cache"
