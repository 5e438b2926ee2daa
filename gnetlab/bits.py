"""Bit packing of sign vectors: the project's one bit convention.

Convention (as in Larq Compute Engine; see DEVELOPING.md):

* bit 1 encodes -1, bit 0 encodes +1;
* least-significant bit first: element ``j`` of a row is bit ``j % 64`` of word ``j // 64``;
* 64 signs per ``uint64`` word; a row of ``K`` signs takes ``W = ceil(K / 64)`` words;
* the ``64 W - K`` padding bits of the last word are 0 in every packed array, so they cancel in
  ``a XOR b`` and the +-1 dot product is exactly ``K - 2 popcount(a XOR b)``;
* ``sign(0) = +1``: a value is packed as -1 exactly when it is ``< 0``.

Two levels of API:

* checked: :class:`PackedBits`, :func:`pack_signs`, :func:`unpack_signs` (any input, validated);
* word level, for hot loops that already hold valid arrays (no input checks): :func:`pack_bool`,
  :func:`unpack_bits`, :func:`unpack_float`, :func:`truncate_words`, :func:`valid_bits_mask`,
  :func:`clear_padding`.

Faults: bit flips are a fault model of stored bits (:func:`flip_signs`, :func:`flip_packed`,
:func:`flip_mask`; models in :data:`FLIP_MODELS`).

``pack_signs`` reads float or integer arrays (numpy or torch) and packs their signs; NaN and inf are
refused (their sign is not a sign). Boolean arrays are refused too: whether ``True`` means +1 or -1 is a
choice that should be visible at the call site (write ``pack_signs(np.where(mask, -1, 1))``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import numbers

from gnetlab._validation import as_array, check_choice, check_positive_int, resolve_rng

__all__ = ["PackedBits", "pack_signs", "unpack_signs", "popcount", "words_for", "WORD_BITS", "pack_bool",
           "unpack_bits", "unpack_float", "truncate_words", "valid_bits_mask", "clear_padding", "FLIP_MODELS",
           "check_fraction", "flip_mask", "flip_signs", "flip_packed"]

WORD_BITS = 64


def words_for(k: int) -> int:
    """Number of uint64 words that hold ``k`` signs.

    Parameters
    ----------
    k : int
        Number of signs.

    Returns
    -------
    int
        ``ceil(k / 64)``.
    """
    return (int(k) + WORD_BITS - 1) // WORD_BITS


def _is_device_array(words: Any) -> bool:
    return type(words).__module__.startswith("cupy")


@dataclass(frozen=True, eq=False)
class PackedBits:
    """Signs packed 64 to a ``uint64`` word.

    Attributes
    ----------
    words : ndarray, uint64, shape (..., W)
        C-contiguous packed rows, ``W = ceil(k / 64)``; padding bits are 0. A CuPy array is accepted
        too (for ``backend="cupy"``); everything else in gnetlab uses numpy.
    k : int
        Number of signs per row (the unpacked length), ``k >= 1``.

    Build one with :func:`pack_signs`; the constructor checks dtype, shape and that the padding bits
    are 0 (otherwise ``K - 2 popcount(a ^ b)`` would be wrong).

    Parameters
    ----------
    words : ndarray, uint64, shape (..., W)
        As the attribute.
    k : int
        As the attribute.
    """

    words: Any
    k: int

    def __post_init__(self) -> None:
        k = self.k
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"PackedBits.k: expected an int >= 1, got {k!r} ({type(k).__name__})")
        if k < 1:
            raise ValueError(f"PackedBits.k: expected an int >= 1, got {k}")
        object.__setattr__(self, "k", int(k))
        words = self.words
        if not _is_device_array(words):
            if not isinstance(words, np.ndarray):
                raise TypeError(f"PackedBits.words: expected a numpy uint64 array, got {type(words).__name__}")
            if not words.flags.c_contiguous:
                words = np.ascontiguousarray(words)
                object.__setattr__(self, "words", words)
        if words.dtype != np.uint64:
            raise TypeError(f"PackedBits.words: expected dtype uint64, got dtype={words.dtype}")
        if words.ndim < 1:
            raise ValueError("PackedBits.words: expected an array of shape (..., W), got a 0-D array")
        w = words_for(k)
        if words.shape[-1] != w:
            raise ValueError(
                f"PackedBits.words: k={k} needs W=ceil(k/64)={w} words per row, got shape {tuple(words.shape)}"
            )
        tail = k % WORD_BITS
        if tail and words.size:
            pad_mask = np.uint64(~((1 << tail) - 1) & 0xFFFFFFFFFFFFFFFF)
            if bool((words[..., -1] & pad_mask).any()):
                raise ValueError(
                    f"PackedBits.words: padding bits above bit {tail} of the last word must be 0 "
                    "(they would not cancel in XOR); pack with gnetlab.pack_signs"
                )

    @property
    def shape(self) -> tuple[int, ...]:
        """Leading (unpacked) shape: ``words.shape[:-1] + (k,)``."""
        return tuple(self.words.shape[:-1]) + (self.k,)

    @property
    def n_words(self) -> int:
        """Words per row, ``W``."""
        return int(self.words.shape[-1])

    @property
    def nbytes(self) -> int:
        """Bytes of the packed words (compare with ``4 * prod(shape)`` for float32)."""
        return int(self.words.nbytes)

    def __len__(self) -> int:
        return int(self.words.shape[0]) if self.words.ndim > 1 else 1

    def __getitem__(self, index) -> "PackedBits":
        """Index the leading dimensions (rows); the word axis is kept whole."""
        if self.words.ndim < 2:
            raise IndexError("PackedBits: a single packed row has no leading dimension to index")
        if isinstance(index, tuple):
            index = index + (slice(None),)
        else:
            index = (index, slice(None))
        sub = self.words[index]
        if sub.ndim < 1:  # pragma: no cover - the word axis is always kept
            raise IndexError("PackedBits: the word axis cannot be indexed")
        return PackedBits(np.ascontiguousarray(sub) if isinstance(sub, np.ndarray) else sub, self.k)

    def __repr__(self) -> str:
        return f"PackedBits(shape={self.shape}, n_words={self.n_words})"


def pack_signs(x: Any) -> PackedBits:
    """Pack the signs of a real array into ``uint64`` words.

    Parameters
    ----------
    x : array_like, float or integer, shape (..., K), K >= 1
        numpy array, torch tensor (CPU or CUDA; copied to host) or nested sequence. ``x < 0`` packs
        as bit 1 (-1); ``x >= 0`` packs as bit 0 (+1), so ``sign(0) = +1``. NaN or inf raise, bool
        arrays raise (see the module docstring).

    Returns
    -------
    PackedBits
        ``words`` of shape (..., ceil(K / 64)), dtype uint64, padding bits 0; ``k = K``.
    """
    if str(getattr(x, "dtype", "")) in ("bool", "torch.bool"):
        raise TypeError(
            "x: got a bool array; say which value is -1, e.g. pack_signs(np.where(mask, -1, 1))"
        )
    arr = as_array(x, "x", dtype_kind="fiu", finite=True)
    if arr.ndim < 1:
        raise ValueError("x: expected an array of shape (..., K), got a 0-D value (use x.reshape(1))")
    k = int(arr.shape[-1])
    if k < 1:
        raise ValueError(f"x: the last axis (K signs) must be non-empty, got shape {arr.shape}")
    neg = arr < 0 if arr.dtype.kind != "u" else np.zeros(arr.shape, dtype=bool)
    by = np.packbits(neg, axis=-1, bitorder="little")  # (..., ceil(K/8)) uint8, LSB first
    w = words_for(k)
    pad = w * 8 - by.shape[-1]
    if pad:
        by = np.concatenate([by, np.zeros(by.shape[:-1] + (pad,), np.uint8)], axis=-1)
    words = np.ascontiguousarray(by).view("<u8")
    if words.dtype != np.uint64:  # pragma: no cover - big-endian hosts only
        words = words.astype(np.uint64)
    return PackedBits(words, k)


def unpack_signs(packed: PackedBits, *, dtype: Any = np.float32) -> np.ndarray:
    """Inverse of :func:`pack_signs`.

    Parameters
    ----------
    packed : PackedBits
        Packed signs of shape (..., K).
    dtype : numpy dtype, default float32
        Any float or signed integer dtype.

    Returns
    -------
    ndarray, dtype ``dtype``, shape (..., K)
        The +-1 values.
    """
    if not isinstance(packed, PackedBits):
        raise TypeError(
            f"packed: expected gnetlab.bits.PackedBits (from pack_signs), got {type(packed).__name__}"
        )
    dt = np.dtype(dtype)
    if dt.kind not in "fi":
        raise TypeError(f"dtype: expected a float or signed integer dtype, got {dt}")
    words = packed.words
    if _is_device_array(words):
        words = words.get()
    by = np.ascontiguousarray(words).astype("<u8", copy=False).view(np.uint8)
    bits = np.unpackbits(by, axis=-1, count=packed.k, bitorder="little")
    return (1 - 2 * bits.astype(np.int8)).astype(dt)


_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount(words: np.ndarray) -> np.ndarray:
    """Per-element population count.

    Parameters
    ----------
    words : ndarray, unsigned integer
        Any shape.

    Returns
    -------
    ndarray, uint8, same shape as ``words``
        Number of set bits of each element.
    """
    words = np.asarray(words)
    if words.dtype.kind != "u":
        raise TypeError(f"words: expected an unsigned integer array, got dtype={words.dtype}")
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    by = np.ascontiguousarray(words).view(np.uint8).reshape(words.shape + (words.dtype.itemsize,))
    return _BYTE_POPCOUNT[by].sum(axis=-1, dtype=np.uint8)  # pragma: no cover - numpy < 2


# --------------------------------------------------------------------------------------------------
# Word level: the same convention for hot loops (callers guarantee valid inputs; nothing is checked)


def valid_bits_mask(k: int) -> np.uint64:
    """Mask of the valid bits of the last word of a row of ``k`` signs.

    Parameters
    ----------
    k : int
        Signs per row.

    Returns
    -------
    numpy.uint64
        Bits ``0 .. (k % 64) - 1`` set (all 64 bits when ``k`` is a multiple of 64).
    """
    tail = int(k) % WORD_BITS
    return np.uint64(0xFFFFFFFFFFFFFFFF if tail == 0 else (1 << tail) - 1)


def clear_padding(words: np.ndarray, k: int) -> None:
    """Zero the padding bits of the last word of every row, in place.

    Parameters
    ----------
    words : ndarray, uint64, shape (R, ceil(k / 64))
        Packed rows (modified).
    k : int
        Valid signs per row.
    """
    if int(k) % WORD_BITS:
        words[:, -1] &= valid_bits_mask(k)


def pack_bool(neg: np.ndarray) -> np.ndarray:
    """Pack a boolean array whose True entries are the -1 signs.

    Parameters
    ----------
    neg : ndarray, bool, shape (R, K)
        True where the sign is -1.

    Returns
    -------
    ndarray, uint64, shape (R, ceil(K / 64))
        Packed rows (LSB first, padding bits 0), C-contiguous.
    """
    R, K = neg.shape
    W = words_for(K)
    b = np.packbits(neg, axis=1, bitorder="little")
    if b.shape[1] != 8 * W:
        b = np.concatenate([b, np.zeros((R, 8 * W - b.shape[1]), np.uint8)], axis=1)
    return np.ascontiguousarray(b).view(np.uint64)


def unpack_bits(words: np.ndarray, k: int) -> np.ndarray:
    """Unpack rows of packed signs to their bits.

    Parameters
    ----------
    words : ndarray, uint64, shape (R, ceil(k / 64))
        Packed rows.
    k : int
        Signs per row.

    Returns
    -------
    ndarray, uint8, shape (R, k)
        1 where the sign is -1, 0 where it is +1.
    """
    return np.unpackbits(words.view(np.uint8), axis=1, bitorder="little", count=k)


def unpack_float(words: np.ndarray, k: int) -> np.ndarray:
    """Unpack rows of packed signs to float32 +-1.

    Parameters
    ----------
    words : ndarray, uint64, shape (R, ceil(k / 64))
        Packed rows.
    k : int
        Signs per row.

    Returns
    -------
    ndarray, float32, shape (R, k)
        The +-1 values.
    """
    return (1.0 - 2.0 * unpack_bits(words, k)).astype(np.float32)


def truncate_words(words: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` signs of each packed row.

    Parameters
    ----------
    words : ndarray, uint64, shape (R, W)
        Packed rows of at least ``k`` signs.
    k : int
        Signs to keep.

    Returns
    -------
    ndarray, uint64, shape (R, ceil(k / 64))
        A new array, padding bits cleared.
    """
    out = np.ascontiguousarray(words[:, : words_for(k)]).copy()
    clear_padding(out, k)
    return out


# --------------------------------------------------------------------------------------------------
# Faults: bit flips

#: ``"exact"``: exactly round(p * D) distinct positions of each row of length D. ``"replacement"``:
#: the official EHD G-Net code's model, int(p * D) positions drawn with replacement, a position drawn
#: several times flipped once (so a nominal p flips 1 - exp(-p) of the entries in expectation).
FLIP_MODELS = ("exact", "replacement")


def check_fraction(fraction, name: str = "fraction") -> float:
    """Validate a flip fraction.

    Parameters
    ----------
    fraction : float
        A real number in [0, 1].
    name : str, default "fraction"
        Argument name for the error message.

    Returns
    -------
    float
        ``float(fraction)``.
    """
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 <= fraction <= 1:
        raise ValueError(f"{name}: expected a flip fraction in [0, 1], got {fraction!r}")
    return float(fraction)


def flip_mask(rows: int, D: int, fraction: float, model: str, rng: np.random.Generator) -> np.ndarray | None:
    """Positions to flip in each of ``rows`` rows of length ``D``.

    Parameters
    ----------
    rows : int
        Number of rows.
    D : int
        Row length (signs).
    fraction : float
        Flip fraction in [0, 1] (validated by the caller).
    model : {"exact", "replacement"}
        Flip model (:data:`FLIP_MODELS`).
    rng : numpy.random.Generator
        Source of the positions.

    Returns
    -------
    ndarray, bool, shape (rows, D), or None
        True at the positions to flip; None when nothing flips.
    """
    if model == "exact":
        k = int(round(fraction * D))
        if k == 0:
            return None
        if k >= D:
            return np.ones((rows, D), bool)
        keys = rng.random((rows, D), dtype=np.float32)
        idx = np.argpartition(keys, k - 1, axis=1)[:, :k]
    else:
        if fraction >= 1.0:  # the official code flips everything at p >= 1
            return np.ones((rows, D), bool)
        k = int(fraction * D)
        if k == 0:
            return None
        idx = rng.integers(0, D, size=(rows, k))
    mask = np.zeros(rows * D, bool)
    mask[(idx + (np.arange(rows, dtype=np.int64) * D)[:, None]).ravel()] = True
    return mask.reshape(rows, D)


def flip_signs(signs, fraction: float, *, model: str = "exact", seed) -> np.ndarray:
    """Flip signs of each row of a +-1 array.

    Parameters
    ----------
    signs : array_like, float or integer, shape (..., D)
        Entries in {-1, +1}.
    fraction : float
        Flip fraction in [0, 1].
    model : {"exact", "replacement"}, default "exact"
        ``"exact"``: round(fraction * D) distinct positions per row; ``"replacement"``: the official
        code's int(fraction * D) draws with replacement, repeated positions flipped once.
    seed : int or numpy.random.Generator
        Source of the positions.

    Returns
    -------
    ndarray, same dtype and shape as ``signs``
        A new array.
    """
    s = as_array(signs, "signs", dtype_kind="fi")
    if s.ndim == 0 or s.shape[-1] == 0:
        raise ValueError(f"signs: expected an array of shape (..., D) with D >= 1, got shape {s.shape}")
    if not np.all(np.abs(s) == 1):
        raise ValueError("signs: expected entries in {-1, +1}")
    fraction = check_fraction(fraction)
    check_choice(model, "model", FLIP_MODELS)
    rng = resolve_rng(seed)
    flat = s.reshape(-1, s.shape[-1])
    mask = flip_mask(flat.shape[0], flat.shape[1], fraction, model, rng)
    out = flat.copy()
    if mask is not None:
        out[mask] = -out[mask]
    return out.reshape(s.shape)


def flip_packed(words: np.ndarray, k: int, fraction: float, *, model: str = "exact", seed) -> np.ndarray:
    """Flip bits of each row of packed signs; padding bits are never touched (they keep cancelling).

    Parameters
    ----------
    words : ndarray, uint64, shape (R, ceil(k / 64))
        Packed rows.
    k : int
        Valid bits per row.
    fraction : float
        Flip fraction in [0, 1].
    model : {"exact", "replacement"}, default "exact"
        See :func:`flip_signs`.
    seed : int or numpy.random.Generator
        Source of the positions.

    Returns
    -------
    ndarray, uint64, shape (R, ceil(k / 64))
        A new array.
    """
    w = as_array(words, "words", dtype_kind="u", ndim=2)
    k = check_positive_int(k, "k")
    if w.dtype != np.uint64 or w.shape[1] != words_for(k):
        raise ValueError(f"words: expected uint64 of shape (R, {words_for(k)}) for k={k}, "
                         f"got {w.dtype} {w.shape}")
    fraction = check_fraction(fraction)
    check_choice(model, "model", FLIP_MODELS)
    mask = flip_mask(w.shape[0], k, fraction, model, resolve_rng(seed))
    return w.copy() if mask is None else np.bitwise_xor(w, pack_bool(mask))
