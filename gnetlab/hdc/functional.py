"""Binary hyperdimensional computing: a torchhd-compatible functional core on packed bits.

Hypervectors are binary (torchhd's BSC model) in the project's one bit convention (:mod:`gnetlab.bits`):
a hypervector of dimension ``d`` is a row of ``d`` signs, stored either

* **packed**: a :class:`gnetlab.bits.PackedBits` (bit 1 encodes -1, bit 0 encodes +1, least-significant
  bit first, 64 signs per ``uint64`` word, padding bits 0), or
* **unpacked**: a numpy array (or torch tensor) of +-1 values (any signed integer or float dtype).

Every operation accepts both and returns the representation it was given (packed in, packed out), and
the two agree exactly (the test suite checks it). Names, argument order and shapes follow torchhd
(``torchhd/functional.py``) where they overlap:

=========================  ================================  =========================================
operation                  +-1 values                        packed bits
=========================  ================================  =========================================
``bind(a, b)``             ``a * b``                         ``a XOR b``
``bundle(x)`` / multiset   ``sign(sum over axis -2)``        per-bit majority (popcount of the column)
``permute(x, shifts)``     ``roll(x, shifts, axis=-1)``      the same cyclic shift of the bit string
``hamming_similarity``     ``(d + <x, o>) / 2``              ``d - popcount(x XOR o)``
=========================  ================================  =========================================

Conventions stated once (torchhd leaves them to its code):

* ``sign(0) = +1`` everywhere in the project; a *majority* over an even number of hypervectors can tie,
  and ties are broken by a random hypervector drawn from ``seed`` (``tie_break="random"``, the default)
  or resolved to +1 (``tie_break="plus"``, the sign convention). A tie-break that draws needs a seed:
  ``None`` is refused.
* ``hamming_similarity(input (*, d), others (n, d)) -> int32 (*, n)`` counts *equal* signs, as torchhd's
  ``hamming_similarity``; binary products all run on the bit kernels of :mod:`gnetlab.kernels`, so
  every HDC method and the EHD G-Net use the same arithmetic.
* ``permute(x, shifts=k)`` moves element ``j`` to position ``(j + k) mod d`` (``torch.roll``), so
  ``permute(permute(x, k), -k) == x``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._validation import as_array, check_choice, check_positive_int, resolve_rng
from ..bits import PackedBits, clear_padding, flip_packed, pack_signs, unpack_signs, words_for

__all__ = [
    "TIE_BREAKS",
    "random",
    "level",
    "bind",
    "bundle",
    "multiset",
    "permute",
    "hamming_similarity",
    "hamming_distance",
    "flip",
    "majority",
    "to_packed",
    "to_signs",
]

TIE_BREAKS = ("random", "plus")


# --------------------------------------------------------------------------------------------------
# Representations


def _is_packed(x: Any) -> bool:
    return isinstance(x, PackedBits)


def _as_signs(x: Any, name: str) -> np.ndarray:
    """Read an unpacked hypervector array and check that every entry is -1 or +1."""
    if str(getattr(x, "dtype", "")) in ("bool", "torch.bool"):
        raise TypeError(f"{name}: got a bool array; pass +-1 values or packed bits "
                        f"(e.g. np.where(mask, -1, 1) or gnetlab.pack_signs)")
    arr = as_array(x, name, dtype_kind="fi")
    if arr.ndim < 1:
        raise ValueError(f"{name}: expected hypervectors of shape (..., d), got a 0-D value")
    if arr.shape[-1] < 1:
        raise ValueError(f"{name}: the hypervector dimension (last axis) must be >= 1, got shape {arr.shape}")
    if arr.size and not np.all((arr == 1) | (arr == -1)):
        bad = arr[(arr != 1) & (arr != -1)].ravel()[:3]
        raise ValueError(f"{name}: expected +-1 entries (or gnetlab.bits.PackedBits), found e.g. {bad.tolist()}")
    return arr


def _check_hv(x: Any, name: str):
    if _is_packed(x):
        return x
    if type(x).__module__.startswith("cupy"):  # pragma: no cover - no GPU in CI
        raise TypeError(f"{name}: CuPy arrays are not supported here; use PackedBits with numpy words")
    return _as_signs(x, name)


def to_packed(x: Any, name: str = "x") -> PackedBits:
    """``x`` as packed bits (a no-op for :class:`PackedBits`; +-1 arrays are validated and packed)."""
    if _is_packed(x):
        return x
    return pack_signs(_as_signs(x, name))


def to_signs(x: Any, name: str = "x", *, dtype: Any = np.int8) -> np.ndarray:
    """``x`` as a +-1 array of ``dtype`` (unpacks :class:`PackedBits`; validates +-1 arrays)."""
    if np.dtype(dtype).kind not in "fi":
        raise TypeError(f"dtype: expected a float or signed integer dtype for +-1 values, got {np.dtype(dtype)}")
    if _is_packed(x):
        return unpack_signs(x, dtype=dtype)
    return _as_signs(x, name).astype(dtype, copy=False)


def _check_broadcast(a_shape, b_shape, names=("input", "other")) -> None:
    """Leading axes must broadcast (numpy rules); say so in gnetlab's words rather than numpy's."""
    try:
        np.broadcast_shapes(tuple(a_shape), tuple(b_shape))
    except ValueError:
        raise ValueError(f"{names[0]} and {names[1]}: leading shapes {tuple(a_shape)} and {tuple(b_shape)} do "
                         "not broadcast; expected equal shapes or ones of size 1") from None
# --------------------------------------------------------------------------------------------------
# Random hypervectors


def random(num_vectors: int, dimensions: int, *, seed) -> PackedBits:
    """``num_vectors`` iid uniformly random hypervectors: PackedBits of shape (num_vectors, dimensions).

    Every sign is +1 or -1 with probability 1/2, independently (torchhd ``random`` for BSC).

    Parameters
    ----------
    num_vectors : int
        How many.
    dimensions : int
        d.
    seed : int or numpy.random.Generator
        Source of the signs.

    Returns
    -------
    PackedBits, shape (num_vectors, dimensions)
        The hypervectors.
    """
    num_vectors = check_positive_int(num_vectors, "num_vectors")
    dimensions = check_positive_int(dimensions, "dimensions")
    rng = resolve_rng(seed)
    w = words_for(dimensions)
    words = rng.integers(0, 2**64, size=(num_vectors, w), dtype=np.uint64, endpoint=False)
    clear_padding(words, dimensions)
    return PackedBits(words, dimensions)


def level(num_vectors: int, dimensions: int, *, seed) -> PackedBits:
    """Level (ID-level) hypervectors: PackedBits (num_vectors, dimensions) whose similarity decays linearly.

    As torchhd's ``level``: two random endpoint hypervectors ``a`` (level 0) and ``b`` (level n - 1) and
    one uniform threshold ``t_j`` per dimension; level ``i`` takes ``b_j`` where ``i / (n - 1) > t_j``
    and ``a_j`` elsewhere. Adjacent levels differ in about ``d / (2 (n - 1))`` signs and the two ends
    are independent (similarity ``d / 2`` in expectation).

    Parameters
    ----------
    num_vectors : int
        Number of levels n, >= 2.
    dimensions : int
        d.
    seed : int or numpy.random.Generator
        Source of the endpoints and thresholds.

    Returns
    -------
    PackedBits, shape (num_vectors, dimensions)
        Level ``i`` in row ``i``.
    """
    num_vectors = check_positive_int(num_vectors, "num_vectors")
    dimensions = check_positive_int(dimensions, "dimensions")
    rng = resolve_rng(seed)
    ends = rng.integers(0, 2, size=(2, dimensions), dtype=np.int8)
    thresholds = rng.random(dimensions)
    span = np.linspace(0.0, 1.0, num_vectors) if num_vectors > 1 else np.zeros(1)
    take_b = span[:, None] > thresholds[None, :]
    bits = np.where(take_b, ends[1][None, :], ends[0][None, :])
    return pack_signs(1 - 2 * bits.astype(np.int8))


# --------------------------------------------------------------------------------------------------
# Algebra


def bind(input: Any, other: Any):
    """Bind two hypervectors (or broadcastable stacks): ``input * other`` for +-1, XOR for packed bits.

    Shapes: ``input`` (*, d) and ``other`` (*, d), broadcast over the leading axes -> (*, d), in the
    representation of ``input`` (both must use the same one). Binding is its own inverse:
    ``bind(bind(a, b), b) == a``.

    Parameters
    ----------
    input : PackedBits or array_like of +-1, shape (*, d)
        Hypervectors.
    other : same representation as ``input``, shape (*, d)
        Hypervectors to bind with.

    Returns
    -------
    PackedBits or ndarray, shape (*, d)
        In the representation of ``input``.
    """
    a = _check_hv(input, "input")
    b = _check_hv(other, "other")
    if _is_packed(a) != _is_packed(b):
        raise TypeError("input and other: one is packed (PackedBits) and the other is not; "
                        "convert with gnetlab.hdc.functional.to_packed or to_signs")
    if _is_packed(a):
        if a.k != b.k:
            raise ValueError(f"input and other: dimensions differ ({a.k} and {b.k})")
        _check_broadcast(a.words.shape[:-1], b.words.shape[:-1])
        return PackedBits(np.ascontiguousarray(np.bitwise_xor(a.words, b.words)), a.k)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"input and other: dimensions differ ({a.shape[-1]} and {b.shape[-1]})")
    _check_broadcast(a.shape[:-1], b.shape[:-1])
    return a * b


def majority(sums: Any, *, tie_break: str = "random", seed=None, tie_vector: Any = None) -> PackedBits:
    """Packed majority of hypervectors given their per-dimension sums of +-1 values.

    sums: integer array (..., d), ``sum_k x_k`` over the bundled +-1 hypervectors (0 where they tie).
    Returns PackedBits (..., d) with sign(sums) and ties resolved by ``tie_vector`` (a +-1 array or
    PackedBits of shape (d,)), by a random hypervector from ``seed`` (``tie_break="random"``: the seed is
    required, the hypervector is drawn only when a tie occurs), or to +1 (``tie_break="plus"``).
    """
    s = as_array(sums, "sums", dtype_kind="iuf", finite=True)
    if s.ndim < 1 or s.shape[-1] < 1:
        raise ValueError(f"sums: expected shape (..., d) with d >= 1, got {s.shape}")
    check_choice(tie_break, "tie_break", TIE_BREAKS)
    d = s.shape[-1]
    t = None
    if tie_vector is not None:
        t = to_signs(tie_vector, "tie_vector")
        if t.shape != (d,):
            raise ValueError(f"tie_vector: expected shape ({d},), got {t.shape}")
    elif tie_break == "random":
        rng = resolve_rng(seed, "seed (the random tie-break draws; or use tie_break='plus')")
    neg = s < 0
    ties = s == 0
    if ties.any():
        if t is None and tie_break == "random":
            t = 1 - 2 * rng.integers(0, 2, size=d, dtype=np.int8)
        if t is not None:
            neg = neg | (ties & (t < 0))
    return pack_signs(np.where(neg, np.int8(-1), np.int8(1)))


def bundle(input: Any, other: Any = None, *, tie_break: str = "random", seed=None):
    """Bundle hypervectors by per-dimension majority.

    ``bundle(input)``: the majority over axis -2 of ``input`` (*, k, d) -> (*, d) (torchhd's
    ``multiset``); ``bundle(input, other)``: the majority of the two hypervectors (torchhd's two-argument
    ``bundle``), where every differing sign is a tie. Ties: see :func:`majority` (``tie_break="random"``
    draws one tie-break hypervector from ``seed``; ``"plus"`` resolves ties to +1). The result has the
    representation of ``input``. Bundling ``k`` copies of one hypervector returns it unchanged.

    Parameters
    ----------
    input : PackedBits or array_like of +-1, shape (*, k, d) or (*, d)
        Hypervectors.
    other : same representation as ``input``, shape (*, d), optional
        The second hypervector of a two-argument bundle.
    tie_break : {"random", "plus"}, default "random"
        How ties are resolved.
    seed : int or numpy.random.Generator, optional
        Source of the tie-break hypervector (required for ``"random"`` when a tie can occur).

    Returns
    -------
    PackedBits or ndarray, shape (*, d)
        In the representation of ``input``.
    """
    x = _check_hv(input, "input")
    packed = _is_packed(x)
    if other is not None:
        y = _check_hv(other, "other")
        if _is_packed(y) != packed:
            raise TypeError("input and other: one is packed (PackedBits) and the other is not")
        s = to_signs(x, "input")
        t = to_signs(y, "other")
        if s.shape[-1] != t.shape[-1]:
            raise ValueError(f"input and other: dimensions differ ({s.shape[-1]} and {t.shape[-1]})")
        _check_broadcast(s.shape[:-1], t.shape[:-1])
        s, t = np.broadcast_arrays(s, t)
        stack = np.stack([s, t], axis=-2)
    else:
        stack = to_signs(x, "input")
        if stack.ndim < 2:
            raise ValueError(f"input: expected hypervectors (*, k, d) to bundle over axis -2, got shape "
                             f"{stack.shape} (for two hypervectors use bundle(a, b))")
        if stack.shape[-2] < 1:
            raise ValueError("input: nothing to bundle (k = 0 hypervectors on axis -2)")
    sums = stack.sum(axis=-2, dtype=np.int64)
    out = majority(sums, tie_break=tie_break, seed=seed)
    return out if packed else unpack_signs(out, dtype=stack.dtype)


def multiset(input: Any, *, tie_break: str = "random", seed=None):
    """Majority of the hypervectors along axis -2 (torchhd name; see :func:`bundle`).

    Parameters
    ----------
    input : PackedBits or array_like of +-1, shape (*, k, d)
        Hypervectors.
    tie_break : {"random", "plus"}, default "random"
        How ties are resolved.
    seed : int or numpy.random.Generator, optional
        Source of the tie-break hypervector.

    Returns
    -------
    PackedBits or ndarray, shape (*, d)
        In the representation of ``input``.
    """
    return bundle(input, tie_break=tie_break, seed=seed)


def _roll_packed(p: PackedBits, shifts: int) -> PackedBits:
    signs = unpack_signs(p, dtype=np.int8)
    return pack_signs(np.roll(signs, shifts, axis=-1))


def permute(input: Any, shifts: int = 1):
    """Cyclic shift of every hypervector: element ``j`` moves to ``(j + shifts) mod d``.

    ``permute(permute(x, k), -k) == x``.

    Parameters
    ----------
    input : PackedBits or array_like of +-1, shape (*, d)
        Hypervectors.
    shifts : int, default 1
        Positions to shift by.

    Returns
    -------
    PackedBits or ndarray, shape (*, d)
        In the representation of ``input``.
    """
    x = _check_hv(input, "input")
    if isinstance(shifts, bool) or not isinstance(shifts, numbers.Integral):
        raise TypeError(f"shifts: expected an int, got {shifts!r} ({type(shifts).__name__})")
    if _is_packed(x):
        return _roll_packed(x, int(shifts))
    return np.roll(x, int(shifts), axis=-1)


# --------------------------------------------------------------------------------------------------
# Similarity


def hamming_similarity(input: Any, others: Any, *, backend: str = "auto") -> np.ndarray:
    """Number of equal signs between each hypervector of ``input`` and each row of ``others``.

    Shapes: ``input`` (*, d), ``others`` (n, d) -> int32 (*, n) (torchhd's ``hamming_similarity``).
    Both packed: the XOR-popcount kernels of :mod:`gnetlab.kernels` (``backend`` as there). Both +-1:
    ``(d + input @ others.T) / 2`` in exact integer arithmetic. Mixed representations are refused.

    Parameters
    ----------
    input : PackedBits or array_like of +-1, shape (*, d)
        Query hypervectors.
    others : same representation as ``input``, shape (n, d)
        Hypervectors to compare with.
    backend : {"auto", "numpy", "numba", "cupy"}, default "auto"
        Kernel backend (:mod:`gnetlab.kernels`) for packed inputs.

    Returns
    -------
    ndarray, int32, shape (*, n)
        Equal signs per pair.
    """
    x = _check_hv(input, "input")
    o = _check_hv(others, "others")
    if _is_packed(x) != _is_packed(o):
        raise TypeError("input and others: one is packed (PackedBits) and the other is not")
    if _is_packed(x):
        from .. import kernels

        if o.words.ndim != 2:
            raise ValueError(f"others: expected a (n, d) stack of hypervectors, got shape {o.shape}")
        if x.words.ndim == 1:
            x = PackedBits(x.words.reshape(1, -1), x.k)
            return kernels.hamming_similarity(x, o, backend=backend)[0]
        return kernels.hamming_similarity(x, o, backend=backend)
    if o.ndim != 2:
        raise ValueError(f"others: expected a (n, d) array of hypervectors, got shape {o.shape}")
    d = x.shape[-1]
    if o.shape[1] != d:
        raise ValueError(f"input and others: dimensions differ ({d} and {o.shape[1]})")
    dot = x.astype(np.int64).reshape(-1, d) @ o.astype(np.int64).T
    return ((d + dot) // 2).astype(np.int32).reshape(x.shape[:-1] + (o.shape[0],))


def hamming_distance(input: Any, others: Any, *, backend: str = "auto") -> np.ndarray:
    """Number of differing signs: ``d - hamming_similarity(input, others)``.

    Parameters
    ----------
    input : PackedBits or array_like of +-1, shape (*, d)
        Query hypervectors.
    others : same representation as ``input``, shape (n, d)
        Hypervectors to compare with.
    backend : {"auto", "numpy", "numba", "cupy"}, default "auto"
        Kernel backend for packed inputs.

    Returns
    -------
    ndarray, int32, shape (*, n)
        Differing signs per pair.
    """
    sim = hamming_similarity(input, others, backend=backend)
    d = input.k if _is_packed(input) else np.shape(input)[-1]
    return (d - sim).astype(np.int32)


# --------------------------------------------------------------------------------------------------
# Faults


def flip(input: Any, fraction: float, *, model: str = "exact", seed):
    """Flip signs of every hypervector (row); returns a new array in the representation of ``input``.

    model: ``"exact"`` flips exactly ``round(fraction * d)`` distinct positions per row (the flip model
    of the HDC baselines in the G-Net comparison); ``"replacement"`` draws ``int(fraction * d)`` positions
    with replacement and flips each drawn position once (the official EHD G-Net code). Both come from
    :func:`gnetlab.bits.flip_packed`, the fault model the baselines and the EHD G-Net share.

    Parameters
    ----------
    input : PackedBits or array_like of +-1, shape (*, d)
        Hypervectors.
    fraction : float
        Flip fraction in [0, 1].
    model : {"exact", "replacement"}, default "exact"
        Flip model.
    seed : int or numpy.random.Generator
        Source of the positions.

    Returns
    -------
    PackedBits or ndarray, shape (*, d)
        A new array in the representation of ``input``.
    """
    x = _check_hv(input, "input")
    packed = _is_packed(x)
    p = to_packed(x, "input")
    lead = p.words.shape[:-1]
    words = p.words.reshape(-1, p.n_words)
    out = flip_packed(words, p.k, fraction, model=model, seed=seed).reshape(lead + (p.n_words,))
    res = PackedBits(np.ascontiguousarray(out), p.k)
    return res if packed else unpack_signs(res, dtype=x.dtype)
