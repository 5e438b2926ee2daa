"""Bit-packed products behind one dispatch.

Backends (all give bit-identical integer results; the float product agrees to float32 rounding):

``"numpy"``  reference: simple, chunked so temporaries stay below 32 MiB.
``"numba"``  CPU fast path (popcount micro-kernel with register and cache tiling; vector select
             kernel for one-bit weights), see ``gnetlab.kernels.numba_backend``.
``"cupy"``   NVIDIA GPU through CuPy RawModule kernels compiled from ``popcount.cu``.
``"auto"``   the fastest available: cupy when the operands already live on the GPU, else numba
             (numpy where numba cannot be imported).

Operands are :class:`gnetlab.bits.PackedBits` (see ``gnetlab.bits`` for the bit convention).
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

import numpy as np

from gnetlab._validation import as_array, check_choice
from gnetlab.bits import PackedBits, _is_device_array

__all__ = [
    "available_backends",
    "binary_matmul",
    "hamming_distance",
    "hamming_similarity",
    "sign_weight_matmul",
    "BACKENDS",
]

BACKENDS = ("numpy", "numba", "cupy")


@functools.lru_cache(maxsize=None)
def _backend_module(name: str):
    return importlib.import_module(f"gnetlab.kernels.{name}_backend")


@functools.lru_cache(maxsize=None)
def _usable(name: str) -> bool:
    if name == "numpy":
        return True
    try:
        mod = _backend_module(name)
    except Exception:  # ImportError, or CuPy present without a driver
        return False
    if name == "cupy":
        return bool(mod.device_available())
    return True


def available_backends() -> list[str]:
    """Names of the backends that work here, fastest first (e.g. ``["numba", "numpy"]``)."""
    order = ("cupy", "numba", "numpy")
    return [name for name in order if _usable(name)]


def _resolve(backend: str, on_device: bool) -> str:
    check_choice(backend, "backend", ("auto",) + BACKENDS)
    if backend == "auto":
        if on_device:
            return "cupy"
        return "numba" if _usable("numba") else "numpy"
    if on_device and backend != "cupy":
        raise TypeError(f"backend={backend!r}: the operands are CuPy arrays; use backend='cupy' or 'auto'")
    if not _usable(backend):
        raise RuntimeError(
            f"backend={backend!r} is not available here (available: {', '.join(available_backends())})"
        )
    return backend


def _check_packed(p: Any, name: str, ndim: tuple[int, ...] = (2,)) -> PackedBits:
    if not isinstance(p, PackedBits):
        raise TypeError(
            f"{name}: expected gnetlab.bits.PackedBits, got {type(p).__name__}; pack +-1 or real "
            f"values first with gnetlab.pack_signs({name})"
        )
    if p.words.ndim not in ndim:
        want = " or ".join(str(d - 1) for d in ndim)
        hint = " (for one vector use pack_signs(x.reshape(1, -1)))" if p.words.ndim == 1 else ""
        raise ValueError(f"{name}: expected {want} leading dimension(s) of packed rows, got shape {p.shape}{hint}")
    return p


def _check_pair(a: PackedBits, b: PackedBits, names=("a", "b")) -> bool:
    if a.k != b.k:
        raise ValueError(f"{names[0]} and {names[1]}: K differs ({names[0]}.k={a.k}, {names[1]}.k={b.k})")
    dev_a, dev_b = _is_device_array(a.words), _is_device_array(b.words)
    if dev_a != dev_b:
        raise TypeError(f"{names[0]} and {names[1]}: one is on the GPU (CuPy) and the other is not")
    return dev_a


def binary_matmul(a: PackedBits, b: PackedBits, *, backend: str = "auto"):
    """Exact +-1 matrix product of packed sign rows.

    Shapes: ``a`` (m, K) and ``b`` (n, K) packed (words (m, W), (n, W)) -> int32 (m, n) equal to
    ``unpack_signs(a) @ unpack_signs(b).T``, computed as ``K - 2 popcount(a XOR b)``. m or n may be 0.
    Returns numpy, or CuPy when the operands are CuPy arrays.
    """
    _check_packed(a, "a")
    _check_packed(b, "b")
    on_device = _check_pair(a, b)
    name = _resolve(backend, on_device)
    return _backend_module(name).binary_matmul(a.words, b.words, a.k)


def hamming_distance(a: PackedBits, b: PackedBits, *, backend: str = "auto"):
    """Number of differing signs between each row of ``a`` (m, K) and of ``b`` (n, K): int32 (m, n).

    ``hamming = (K - a @ b.T) / 2``, from the same kernels as :func:`binary_matmul`.
    """
    dot = binary_matmul(a, b, backend=backend)
    return (a.k - dot) // 2


def hamming_similarity(input: PackedBits, others: PackedBits, *, backend: str = "auto"):
    """Number of equal signs, torchhd-style.

    Shapes: ``input`` (*, K) packed, ``others`` (n, K) packed -> int32 (*, n), where ``*`` is any
    leading shape (including none: a single vector gives (n,)). ``similarity = K - hamming``.
    """
    if not isinstance(input, PackedBits):
        raise TypeError(f"input: expected gnetlab.bits.PackedBits, got {type(input).__name__}; pack it first "
                        "with gnetlab.pack_signs(input)")
    _check_packed(others, "others")
    on_device = _check_pair(input, others, ("input", "others"))
    lead = tuple(input.words.shape[:-1])
    flat = PackedBits(input.words.reshape(-1, input.n_words), input.k)
    name = _resolve(backend, on_device)
    dot = _backend_module(name).binary_matmul(flat.words, others.words, input.k)
    sim = (input.k + dot) // 2
    return sim.reshape(lead + (others.words.shape[0],))


def _check_float32_range(a: np.ndarray, name: str) -> None:
    """The product is computed in float32: refuse values the cast would turn into inf."""
    limit = float(np.finfo(np.float32).max)
    if a.size and a.dtype.itemsize > 4 and float(np.abs(a).max()) > limit:
        raise ValueError(f"{name}: values beyond the float32 range (max |{name}| = {float(np.abs(a).max()):.3g} "
                         f"> {limit:.3g}); the product is computed in float32, rescale {name} first")


def sign_weight_matmul(x: Any, w_packed: PackedBits, *, scale: Any = None, backend: str = "auto"):
    """Float activations times one-bit weights: ``(x @ sign(W).T) * scale``.

    Shapes: ``x`` (batch, K) or (K,), float (numpy or torch); ``w_packed`` (n, K) packed -> float32
    (batch, n) or (n,). ``scale``: None, a finite scalar, or a finite array (n,) (per output row, e.g.
    XNOR-Net's alpha or ``1/sqrt(K)`` for random features). Computed in float32 (``x`` is read as
    float32); the result is a torch tensor when ``x`` is one, else numpy (CuPy for backend "cupy" with
    CuPy weights).
    """
    _check_packed(w_packed, "w_packed")
    on_device = _is_device_array(w_packed.words)
    is_torch = type(x).__module__.startswith("torch")
    if on_device:
        name = _resolve(backend, True)
        float_x = x.is_floating_point() if is_torch else np.dtype(getattr(x, "dtype", np.float32)).kind == "f"
        if not float_x:  # the device path casts to float32: refuse what the host path refuses
            raise TypeError(f"x: expected a float array, got dtype={x.dtype}")
        out = _backend_module(name).sign_weight_matmul_device(x, w_packed.words, w_packed.k)
        squeeze = out.ndim == 1
    else:
        xa = as_array(x, "x", dtype_kind="f", ndim=(1, 2), finite=True)
        _check_float32_range(xa, "x")
        squeeze = xa.ndim == 1
        x2 = np.ascontiguousarray(xa.reshape(1, -1) if squeeze else xa, dtype=np.float32)
        if x2.shape[1] != w_packed.k:
            raise ValueError(
                f"x and w_packed: K differs (x has {x2.shape[1]} columns, w_packed.k={w_packed.k})"
            )
        name = _resolve(backend, False)
        out = _backend_module(name).sign_weight_matmul(x2, w_packed.words, w_packed.k)
        if squeeze:
            out = out[0]
    n = w_packed.words.shape[0]
    if scale is not None:
        s = as_array(scale, "scale", dtype_kind="fiu", ndim=(0, 1), finite=True)
        _check_float32_range(s, "scale")
        if s.ndim == 1 and s.shape[0] != n:
            raise ValueError(f"scale: expected a scalar or shape ({n},), got shape {s.shape}")
        if on_device:
            import cupy

            s = cupy.asarray(s)
        out = out * s.astype(np.float32)
    if is_torch:
        import torch

        out = torch.from_numpy(np.ascontiguousarray(out))
        if x.device.type != "cpu":
            out = out.to(x.device)
    return out
