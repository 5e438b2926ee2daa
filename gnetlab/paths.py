"""Repository-anchored paths.

papermill, nbval, Snakemake and JupyterLab all start Python in different working directories, so no
code in gnetlab or the notebooks uses relative paths: everything is built from these constants.

``GNETLAB_FIGURES_DIR`` and ``GNETLAB_RESULTS_DIR`` redirect figure and result outputs (the test suite
points them at a temporary directory so that running the notebooks under nbval never touches the
committed figures). ``GNETLAB_ROOT`` overrides the root (e.g. when the package is installed non-editable and the
pipeline runs from a checkout elsewhere). ``GNETLAB_DATA_DIR`` overrides where downloaded datasets are
cached.

Installed as a wheel, outside a checkout (:data:`IN_CHECKOUT` is False): the root is the current working
directory, so outputs go to ``./figures`` and ``./results`` there (or the paths the variables above
name), never into the install prefix; downloads are cached in the per-user cache directory
(``pooch.os_cache("gnetlab")``). Reference data the code reads ships inside the package
(:data:`PACKAGE_DATA`, read through ``importlib.resources``).
"""

from __future__ import annotations

import os
from pathlib import Path

from importlib import resources

__all__ = ["ROOT", "IN_CHECKOUT", "DATA", "PACKAGE_DATA", "PAPER_DATA", "FIGURES", "RESULTS", "NOTEBOOKS", "CONFIG",
           "data_cache_dir"]


def _find_root() -> tuple[Path, bool]:
    env = os.environ.get("GNETLAB_ROOT")
    if env:
        return Path(env).expanduser().resolve(), True
    here = Path(__file__).resolve().parent.parent
    if (here / "Snakefile").exists():
        return here, True
    # Installed (non-editable) package: the working directory if it is (inside) a checkout, else the
    # working directory itself (outputs never go into the install prefix).
    cwd = Path.cwd().resolve()
    for cand in (cwd, *cwd.parents):
        if (cand / "Snakefile").exists() and (cand / "gnetlab").is_dir():
            return cand, True
    return cwd, False


ROOT, IN_CHECKOUT = _find_root()
DATA: Path = ROOT / "data"
#: Reference data shipped with the package (paper values, the energy table): read-only.
PACKAGE_DATA: Path = Path(str(resources.files("gnetlab") / "data"))
PAPER_DATA: Path = PACKAGE_DATA / "paper"
FIGURES: Path = Path(os.environ["GNETLAB_FIGURES_DIR"]).resolve() if os.environ.get("GNETLAB_FIGURES_DIR") else ROOT / "figures"
RESULTS: Path = Path(os.environ["GNETLAB_RESULTS_DIR"]).resolve() if os.environ.get("GNETLAB_RESULTS_DIR") else ROOT / "results"
NOTEBOOKS: Path = ROOT / "notebooks"
CONFIG: Path = ROOT / "config"


def data_cache_dir() -> Path:
    """Directory where downloaded datasets are cached (created lazily by the downloaders).

    Returns
    -------
    pathlib.Path
        ``$GNETLAB_DATA_DIR`` if set; else ``<checkout>/data/cache`` in a checkout; else the per-user
        cache directory ``pooch.os_cache("gnetlab")``.
    """
    env = os.environ.get("GNETLAB_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    if IN_CHECKOUT:
        return DATA / "cache"
    import pooch

    return Path(pooch.os_cache("gnetlab"))
