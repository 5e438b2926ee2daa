"""Bit-packed products behind one dispatch.

Backends (all give bit-identical integer results; the float product agrees to float32 rounding):

``"numpy"``  reference: simple, chunked so temporaries stay below 32 MiB.
``"numba"``  CPU fast path (popcount micro-kernels with register and cache tiling; table-permute
             and select kernels for one-bit weights), see ``gnetlab.kernels.numba_backend``. The
             CPU path (``avx512_vpopcntdq``, ``avx2``, ``portable``) follows what numba compiles
             for (``gnetlab.kernels.cpu_features``); ``GNETLAB_KERNEL_PATH`` forces one.
``"cupy"``   NVIDIA GPU through CuPy RawModule kernels compiled from ``popcount.cu``.
``"auto"``   the fastest available: cupy when the operands already live on the GPU, else numba
             (numpy where numba cannot be imported).

Operands are :class:`gnetlab.bits.PackedBits` (see ``gnetlab.bits`` for the bit convention).

Products: :func:`binary_matmul` (+-1 x +-1, int32), :func:`sign_weight_matmul` (float x one-bit
weights), :func:`uint8_sign_matmul` (8-bit integers x one-bit weights, exact, by bit planes), and the
fused forms that return the thresholded signs already packed, :func:`binary_matmul_signs` and
:func:`sign_weight_matmul_signs`. Mixing BLAS and numba: see ``gnetlab.threads``.
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
    "binary_matmul_signs",
    "uint8_sign_matmul",
    "sign_weight_matmul_signs",
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
        out = _backend_module(name).sign_weight_matmul_device(x, w_packed.words, w_packed.k)
        squeeze = out.ndim == 1
    else:
        xa = as_array(x, "x", dtype_kind="f", ndim=(1, 2), finite=True)
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


def _threshold_table(threshold: Any, m: int, n: int) -> np.ndarray | None:
    """Validated thresholds as float64 (P, n) with m % P == 0, or None for 0."""
    if threshold is None:
        return None
    if _is_device_array(threshold):
        threshold = threshold.get()
    t = as_array(threshold, "threshold", dtype_kind="fiu", ndim=(0, 1, 2), finite=True).astype(np.float64)
    if t.ndim == 0:
        return np.full((1, n), float(t))
    t = t.reshape(1, -1) if t.ndim == 1 else t
    if t.shape[1] != n or (m and m % t.shape[0]):
        raise ValueError(f"threshold: expected a scalar, shape ({n},) or (P, {n}) with P dividing the {m} rows "
                         f"(row r uses threshold[r % P]), got shape {np.shape(threshold)}")
    return np.ascontiguousarray(t)


def _pack_below_reference(values: np.ndarray, thr: np.ndarray | None) -> np.ndarray:
    m, n = values.shape
    if thr is None:
        below = values < 0
    else:
        below = values < np.tile(thr, (max(1, m // thr.shape[0]), 1))[:m]
    by = np.packbits(below, axis=-1, bitorder="little")
    words = np.zeros((m, 8 * ((n + 63) // 64)), np.uint8)
    words[:, : by.shape[1]] = by
    return words.view("<u8").astype(np.uint64, copy=False)


def binary_matmul_signs(a: PackedBits, b: PackedBits, threshold: Any = None, *, backend: str = "auto") -> PackedBits:
    """Packed signs of a thresholded +-1 product, without an int32 or boolean (m, n) array.

    Shapes: ``a`` (m, K), ``b`` (n, K) packed -> PackedBits (m, n) whose bit (r, j) is 1 (i.e. -1)
    exactly when ``(a @ b.T)[r, j] < threshold`` (sign(0) = +1 for the default threshold 0).
    ``threshold``: None (0), a scalar, (n,) per output column, or (P, n) with P dividing m (row r uses
    row ``r % P``: e.g. P = positions of a convolution whose rows are images x positions). Compared as
    float64, which is exact against the integer products. numba (CPU) fuses the comparison into the
    packing, block by block; other backends compute the product, then pack.
    """
    _check_packed(a, "a")
    _check_packed(b, "b")
    on_device = _check_pair(a, b)
    m, n = a.words.shape[0], b.words.shape[0]
    thr = _threshold_table(threshold, m, n)
    name = _resolve(backend, on_device)
    if n == 0:
        raise ValueError("b: at least one row is needed (the packed result holds n >= 1 signs per row)")
    if name == "numba" and m:
        from gnetlab.kernels import fused

        return PackedBits(fused.binary_matmul_signs(a.words, b.words, a.k, thr), n)
    dot = _backend_module(name).binary_matmul(a.words, b.words, a.k)
    if _is_device_array(dot):
        dot = dot.get()
    return PackedBits(_pack_below_reference(np.asarray(dot), thr), n)


def sign_weight_matmul_signs(x: Any, w_packed: PackedBits, threshold: Any = None, *, backend: str = "auto") -> PackedBits:
    """Packed signs of a thresholded one-bit-weight product (e.g. a Rademacher first layer on real inputs).

    Shapes: ``x`` (batch, K) float (numpy or torch, read as float32), ``w_packed`` (n, K) -> PackedBits
    (batch, n) whose bit (r, j) is 1 exactly when ``(x @ sign(W).T)[r, j] < threshold`` (the float32
    product of :func:`sign_weight_matmul`; ``threshold`` as in :func:`binary_matmul_signs`, e.g. ``-b``
    for the sign of ``x @ sign(W).T + b``).
    """
    _check_packed(w_packed, "w_packed")
    if _is_device_array(w_packed.words):
        raise TypeError("w_packed: sign_weight_matmul_signs runs on the CPU; use numpy words")
    xa = as_array(x, "x", dtype_kind="f", ndim=(2,), finite=True)
    x2 = np.ascontiguousarray(xa, dtype=np.float32)
    if x2.shape[1] != w_packed.k:
        raise ValueError(f"x and w_packed: K differs (x has {x2.shape[1]} columns, w_packed.k={w_packed.k})")
    m, n = x2.shape[0], w_packed.words.shape[0]
    if n == 0:
        raise ValueError("w_packed: at least one row is needed")
    thr = _threshold_table(threshold, m, n)
    name = _resolve(backend, False)
    if name == "numba" and m:
        from gnetlab.kernels import fused

        return PackedBits(fused.sign_weight_matmul_signs(x2, w_packed.words, w_packed.k, thr), n)
    out = _backend_module(name).sign_weight_matmul(x2, w_packed.words, w_packed.k)
    return PackedBits(_pack_below_reference(out, thr), n)


def uint8_sign_matmul(x: Any, w_packed: PackedBits, *, backend: str = "auto") -> np.ndarray:
    """Exact ``x @ sign(W).T`` for 8-bit unsigned integer inputs (e.g. raw image pixels), by bit planes.

    Shapes: ``x`` (batch, K) integers in [0, 255] (any integer dtype, numpy or torch), ``w_packed``
    (n, K) packed -> int32 (batch, n) (exact for K < 8 million). With ``x = sum_b 2^b x_b`` (x_b in {0, 1}) and
    ``x_b @ s = (sum(s) - <1 - 2 x_b, s>) / 2``, the product is 8 binary XOR-popcount products, done as
    one :func:`binary_matmul` of the (8 batch, K) packed planes against the weights: about 8/20 of a
    float32 sgemm's time at K x n = 784 x 10000, and exact. A first layer on pixels ``p / 255`` then
    is ``(p @ sign(W).T) / 255`` (any affine input normalisation folds in the same way).
    """
    _check_packed(w_packed, "w_packed")
    xa = as_array(x, "x", dtype_kind="iu", ndim=(2,))
    if xa.size and (xa.min() < 0 or xa.max() > 255):
        raise ValueError(f"x: expected integers in [0, 255], got values in [{xa.min()}, {xa.max()}]")
    batch, k = xa.shape
    if k != w_packed.k:
        raise ValueError(f"x and w_packed: K differs (x has {k} columns, w_packed.k={w_packed.k})")
    on_device = _is_device_array(w_packed.words)
    words = np.asarray(w_packed.words.get() if on_device else w_packed.words)
    n = words.shape[0]
    if batch == 0 or n == 0:
        return np.zeros((batch, n), np.int32)
    x8 = xa.astype(np.uint8)
    n_words = words.shape[1]
    planes = np.zeros((8, batch, 8 * n_words), np.uint8)
    for b in range(8):
        by = np.packbits((x8 >> b) & 1, axis=-1, bitorder="little")  # bit 1 (-1) where x_b = 1
        planes[b, :, : by.shape[1]] = by
    packed = PackedBits(planes.reshape(8 * batch, -1).view("<u8").astype(np.uint64, copy=False), k)
    name = _resolve(backend, False)
    dots = np.asarray(_backend_module(name).binary_matmul(packed.words, words, k)).reshape(8, batch, n)
    from gnetlab.bits import popcount

    row_sums = (k - 2 * popcount(words).sum(axis=1, dtype=np.int64)).astype(np.int32)  # sum_k s_jk
    # sum_b 2^b (rows - d_b) / 2 = (255 rows - sum_b 2^b d_b) / 2, in place on int32 (|.| <= 255 K)
    acc = dots[7].copy()
    for b in range(6, -1, -1):
        acc *= 2
        acc += dots[b]
    np.subtract(255 * row_sums, acc, out=acc)
    acc //= 2
    return acc
