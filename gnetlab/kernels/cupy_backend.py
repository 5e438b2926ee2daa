"""GPU backend: CuPy RawModule kernels compiled (by NVRTC, at first use) from ``popcount.cu``.

``binary_matmul`` uses the binary tensor-core kernel (``and_popcount_mma``: AND-popcount MMA plus
row popcounts, popc(a ^ b) = popc(a) + popc(b) - 2 popc(a & b)) on sm_80+ GPUs, and the
shared-memory XOR-popcount kernel (``xor_popcount_matmul``) elsewhere or when asked
(``method="xor"``). Inputs may be numpy (copied to the device, result copied back) or CuPy arrays
(result stays on the device).

Importing this module needs CuPy; ``device_available()`` says whether a GPU answers.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

import cupy  # noqa: F401  - ImportError here means "backend unavailable" to the dispatch

__all__ = ["device_available", "binary_matmul", "sign_weight_matmul", "sign_weight_matmul_device", "kernel_source"]


def kernel_source() -> str:
    """Text of ``gnetlab/kernels/popcount.cu``."""
    return resources.files("gnetlab.kernels").joinpath("popcount.cu").read_text()



def device_available() -> bool:
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


@functools.lru_cache(maxsize=None)
def _module(device_id: int):
    return cupy.RawModule(code=kernel_source(), options=("--std=c++14",))


def _kernel(name: str):
    return _module(cupy.cuda.Device().id).get_function(name)


def compute_capability() -> int:
    """Compute capability of the current device as an int, e.g. 90 for sm_90."""
    return int(cupy.cuda.Device().compute_capability)


def _to_device(x):
    on_host = isinstance(x, np.ndarray)
    return cupy.ascontiguousarray(cupy.asarray(x)), on_host


def binary_matmul(a, b, k: int, *, method: str = "auto"):
    """Exact +-1 product ``a @ b.T`` from packed uint64 rows a (m, W), b (n, W): int32 (m, n)."""
    if method not in ("auto", "mma", "xor"):
        raise ValueError(f"method: unknown value {method!r}; expected 'auto', 'mma' or 'xor'")
    a_d, host = _to_device(a)
    b_d, _ = _to_device(b)
    m, w = a_d.shape
    n = b_d.shape[0]
    out = cupy.empty((m, n), dtype=cupy.int32)
    if m and n:
        use_mma = method == "mma" or (method == "auto" and compute_capability() >= 80)
        if use_mma:
            if compute_capability() < 80:
                raise RuntimeError("method='mma' needs an sm_80+ GPU (binary tensor cores)")
            pad = (-w) % 4  # whole 256-bit slices
            if pad:
                a_d = cupy.concatenate([a_d, cupy.zeros((m, pad), cupy.uint64)], axis=1)
                b_d = cupy.concatenate([b_d, cupy.zeros((n, pad), cupy.uint64)], axis=1)
            wp = w + pad
            pop_a = cupy.empty(m, cupy.int32)
            pop_b = cupy.empty(n, cupy.int32)
            rp = _kernel("row_popcount")
            rp(((m + 255) // 256,), (256,), (a_d, pop_a, np.int32(m), np.int32(wp)))
            rp(((n + 255) // 256,), (256,), (b_d, pop_b, np.int32(n), np.int32(wp)))
            grid = ((n + 31) // 32, (m + 63) // 64)
            _kernel("and_popcount_mma")(
                grid,
                (128,),
                (a_d.view(cupy.uint32), b_d.view(cupy.uint32), pop_a, pop_b, out,
                 np.int32(m), np.int32(n), np.int32(2 * wp), np.int32(k)),
            )
        else:
            grid = ((n + 63) // 64, (m + 63) // 64)
            _kernel("xor_popcount_matmul")(
                grid, (16, 16), (a_d, b_d, out, np.int32(m), np.int32(n), np.int32(w), np.int32(k))
            )
    return out.get() if host else out


def sign_weight_matmul_device(x, w, k: int):
    """float32 x (batch, k) or (k,) times +-1 weights packed in w (n, W) on the GPU."""
    x_d = cupy.asarray(x, dtype=cupy.float32)
    if x_d.ndim not in (1, 2):
        raise ValueError(f"x: expected a 1-D or 2-D array, got shape {x_d.shape}")
    squeeze = x_d.ndim == 1
    x2 = x_d.reshape(1, -1) if squeeze else x_d
    if x2.shape[1] != k:
        raise ValueError(f"x and w_packed: K differs (x has {x2.shape[1]} columns, w_packed.k={k})")
    if not bool(cupy.isfinite(x2).all()):
        raise ValueError("x: contains non-finite values")
    w_d, _ = _to_device(w)
    n, nw = w_d.shape
    batch = x2.shape[0]
    xp = cupy.zeros((batch, 64 * nw), cupy.float32)
    xp[:, :k] = x2
    out = cupy.empty((batch, n), cupy.float32)
    if batch and n:
        warps = 8
        _kernel("sign_weight_gemv")(
            ((n + warps - 1) // warps,), (32 * warps,),
            (xp, w_d.view(cupy.uint32), out, np.int32(batch), np.int32(n), np.int32(2 * nw)),
        )
    return out[0] if squeeze else out


def sign_weight_matmul(x: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """Host-in, host-out version of :func:`sign_weight_matmul_device` (x (batch, k) float32)."""
    return sign_weight_matmul_device(x, w, k).get()
