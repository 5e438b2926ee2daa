"""Bit packing of sign vectors: the project's one bit convention.

Convention (as in Larq Compute Engine; see DEVELOPING.md):

* bit 1 encodes -1, bit 0 encodes +1;
* least-significant bit first: element ``j`` of a row is bit ``j % 64`` of word ``j // 64``;
* 64 signs per ``uint64`` word; a row of ``K`` signs takes ``W = ceil(K / 64)`` words;
* the ``64 W - K`` padding bits of the last word are 0 in every packed array, so they cancel in
  ``a XOR b`` and the +-1 dot product is exactly ``K - 2 popcount(a XOR b)``;
* ``sign(0) = +1``: a value is packed as -1 exactly when it is ``< 0``.

``pack_signs`` reads float or integer arrays (numpy or torch) and packs their signs; NaN and inf are
refused (their sign is not a sign). Boolean arrays are refused too: whether ``True`` means +1 or -1 is a
choice that should be visible at the call site (write ``pack_signs(np.where(mask, -1, 1))``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gnetlab._validation import as_array

__all__ = ["PackedBits", "pack_signs", "unpack_signs", "popcount", "words_for"]

WORD_BITS = 64


def words_for(k: int) -> int:
    """Number of uint64 words that hold ``k`` signs: ``ceil(k / 64)``."""
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
    """Inverse of :func:`pack_signs`: +-1 values of shape (..., K).

    dtype: any numpy float or signed integer dtype (default float32).
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
    """Per-element population count of an unsigned integer array (uint8 result of the same shape)."""
    words = np.asarray(words)
    if words.dtype.kind != "u":
        raise TypeError(f"words: expected an unsigned integer array, got dtype={words.dtype}")
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    by = np.ascontiguousarray(words).view(np.uint8).reshape(words.shape + (words.dtype.itemsize,))
    return _BYTE_POPCOUNT[by].sum(axis=-1, dtype=np.uint8)  # pragma: no cover - numpy < 2
