"""Test-session setup shared by the unit tests and nbval (at the repository root, so it also applies
when only notebooks are collected, e.g. `pytest notebooks/`).

Notebook kernels started by nbval inherit this process's environment, so the variables set here make
every notebook write its figures and CSVs into a temporary directory (never over the committed
figures/) and switch progress bars off (their output would differ from the stored one).
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


def pytest_collection_modifyitems(config, items):
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
