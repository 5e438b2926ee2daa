"""gnetlab."""
__version__ = "0.1.0"

# Short spin-waits for OpenMP runtimes loaded from here on (numba's pool, torch's): set before anything
# loads libgomp, which reads them once (gnetlab.threads explains the measurement behind it).
from gnetlab.threads import configure_openmp as _configure_openmp

_configure_openmp()
del _configure_openmp

# Public names re-exported lazily: ``import gnetlab`` stays cheap (no numba compilation, no torch
# import); the submodule is imported on first attribute access. name -> submodule.
_LAZY = {
    # bit packing and popcount kernels
    "PackedBits": "gnetlab.bits",
    "pack_signs": "gnetlab.bits",
    "unpack_signs": "gnetlab.bits",
    "binary_matmul": "gnetlab.kernels",
    "sign_weight_matmul": "gnetlab.kernels",
    "hamming_distance": "gnetlab.kernels",
    "hamming_similarity": "gnetlab.kernels",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gnetlab' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
