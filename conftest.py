"""Test-session setup shared by the unit tests and nbval (at the repository root, so it also applies
when only notebooks are collected, e.g. `pytest notebooks/`).

Notebook kernels started by nbval inherit this process's environment, so the variables set here make
every notebook write its figures and CSVs into a temporary directory (never over the committed
figures/) and switch progress bars off.

nbval runs in lax mode: every cell must run without error, but only cells marked
``# NBVAL_CHECK_OUTPUT`` (machine-independent text) are compared with their stored output. The numbers
are checked instead through the notebook's tidy data: after the last cell of a notebook, one more test
item compares every ``results/<slug>.csv`` the notebook wrote with the committed default run in
``data/reference/`` under the per-column tolerances of ``data/reference/tolerances.yaml``
(``gnetlab.reference``).
"""

import os
import shutil
import tempfile

import pytest

_OUT = tempfile.mkdtemp(prefix="gnetlab-tests-")
os.environ.setdefault("GNETLAB_FIGURES_DIR", os.path.join(_OUT, "figures"))
os.environ.setdefault("GNETLAB_RESULTS_DIR", os.path.join(_OUT, "results"))
os.environ["GNETLAB_PROGRESS"] = "0"
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_unconfigure(config):
    shutil.rmtree(_OUT, ignore_errors=True)


def _has_gpu() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


class ReferenceDataMismatch(AssertionError):
    """A notebook's tidy data left the tolerances of the committed default run."""


class ReferenceDataItem(pytest.Item):
    """Compares the CSVs a notebook wrote (this session) with ``data/reference`` (runs after its cells)."""

    def __init__(self, *, slugs, **kwargs):
        super().__init__(**kwargs)
        self.slugs = list(slugs)

    def runtest(self):
        from gnetlab import reference

        results = os.environ["GNETLAB_RESULTS_DIR"]
        specs = reference.load_specs()
        problems = [p for slug in self.slugs for p in reference.compare_slug(slug, results, specs=specs)]
        if problems:
            raise ReferenceDataMismatch("\n".join(problems))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ReferenceDataMismatch):
            return ("tidy data differ from data/reference beyond tolerance (if the change is intended: "
                    "python -m gnetlab.reference update RESULTS_DIR SLUG):\n" + str(excinfo.value))
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.name}: {', '.join(self.slugs)}"


def _add_reference_items(items):
    """Append one :class:`ReferenceDataItem` after the last cell of each fully collected notebook."""
    try:
        from gnetlab import reference

        specs = reference.load_specs()
    except FileNotFoundError:
        return
    by_notebook = {}
    for spec in specs.values():
        by_notebook.setdefault(spec.notebook, []).append(spec.slug)
    out, i = [], 0
    while i < len(items):
        item = items[i]
        if item.path.suffix != ".ipynb":
            out.append(item)
            i += 1
            continue
        parent, j = item.parent, i
        while j < len(items) and items[j].parent is parent:
            j += 1
        cells = items[i:j]
        out.extend(cells)
        slugs = by_notebook.get(item.path.stem)
        if slugs and len(cells) == len(list(parent.collect())):  # the whole notebook runs: its CSVs exist
            out.append(ReferenceDataItem.from_parent(parent, name="tidy-data-vs-reference", slugs=slugs))
        i = j
    items[:] = out


def pytest_collection_modifyitems(config, items):
    if config.getoption("--nbval", default=False) or config.getoption("--nbval-lax", default=False):
        _add_reference_items(items)
    if _has_gpu():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a module's torch code on one thread: its tensors are tiny, thread hand-offs cost more than
    they save, and the pytest run may share the machine with notebook kernels."""
    from gnetlab.gnet.train import single_thread

    with single_thread():
        yield
