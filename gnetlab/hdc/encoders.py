"""Encoders of the HDC baselines: real feature vectors -> packed binary hypervectors.

Every encoder is a plain object built from a ``numpy.random.Generator`` (its random item memories are
drawn once, at construction) with an ``encode(...) -> PackedBits (n, d)`` method. They are the
building blocks of the estimators in :mod:`gnetlab.hdc.models`; the docstrings there say which
publication each one follows.

``LevelQuantizer``          real values -> level indices 0 .. n_levels - 1 (min-max range from training data)
``RecordEncoder``           Classic HDC: majority_i (position_i * level[x_i])
``XorShiftEncoder``         RFF-HDC, Laplace-HDC: XOR_i roll(level[x_i], shift_i)
``HoloGNEncoder``           HoloGN: majority_i (x_i active ? roll(base_i, 1) : base_i)
``NonlinearEncoder``        OnlineHD: h_j = cos(<x, b_j> + c_j) sin(<x, b_j>), real valued; sign() packs it
``kernel_level_hypervectors``  level hypervectors whose expected similarity is a given kernel matrix
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import as_array, check_choice, check_positive_int, resolve_rng
from ..bits import PackedBits, clear_padding, pack_bool, pack_signs, unpack_bits, unpack_signs, words_for
from . import functional as F

__all__ = [
    "LEVEL_KINDS",
    "LevelQuantizer",
    "kernel_level_hypervectors",
    "RecordEncoder",
    "XorShiftEncoder",
    "HoloGNEncoder",
    "NonlinearEncoder",
]

LEVEL_KINDS = ("random", "id_level")
_BLOCK_BYTES = 32 * 2**20  # working memory per block of rows


def _rows_per_block(bytes_per_row: int) -> int:
    return max(1, _BLOCK_BYTES // max(1, bytes_per_row))


# --------------------------------------------------------------------------------------------------
# Quantisation


class LevelQuantizer:
    """Real features -> integer levels ``0 .. n_levels - 1``.

    ``value_range="auto"`` takes the global minimum and maximum of the training data (one range for
    all features, as the official code's fixed pixel range [0, 1] / 0..255); or pass ``(low, high)``.
    ``transform`` maps ``low`` to level 0 and ``high`` to level ``n_levels - 1`` by rounding to the
    nearest level and clips values outside the range (for MNIST in [0, 1] with 256 levels the level is
    exactly the original 0..255 grey value).
    """

    def __init__(self, n_levels: int, value_range="auto"):
        self.n_levels = check_positive_int(n_levels, "n_levels", minimum=2)
        if isinstance(value_range, str):
            check_choice(value_range, "value_range", ("auto",))
        else:
            vr = as_array(value_range, "value_range", dtype_kind="fiu", ndim=1, finite=True)
            if vr.shape != (2,) or not vr[0] < vr[1]:
                raise ValueError(f"value_range: expected 'auto' or (low, high) with low < high, got {value_range!r}")
        self.value_range = value_range
        self.low_ = self.high_ = None

    def fit(self, X: np.ndarray) -> "LevelQuantizer":
        X = as_array(X, "X", dtype_kind="fiu", finite=True, allow_empty=False)
        if isinstance(self.value_range, str):
            lo, hi = float(X.min()), float(X.max())
            if not hi > lo:
                raise ValueError(f"X: all training values equal {lo}; there is no range to quantise "
                                 "(pass value_range=(low, high))")
        else:
            lo, hi = (float(v) for v in self.value_range)
        self.low_, self.high_ = lo, hi
        return self

    def scale(self, X: np.ndarray) -> np.ndarray:
        """Values mapped to [0, 1] by the fitted range (clipped), float64."""
        if self.low_ is None:
            raise RuntimeError("LevelQuantizer: call fit(X) first")
        X = as_array(X, "X", dtype_kind="fiu", finite=True)
        return np.clip((np.asarray(X, np.float64) - self.low_) / (self.high_ - self.low_), 0.0, 1.0)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Level indices, int32 of the shape of ``X``."""
        return np.rint(self.scale(X) * (self.n_levels - 1)).astype(np.int32)


# --------------------------------------------------------------------------------------------------
# Level hypervectors


def kernel_level_hypervectors(kernel, hyperdim: int, *, rng: np.random.Generator) -> PackedBits:
    """Level hypervectors whose expected normalised similarity is ``kernel``: PackedBits (Q, hyperdim).

    The construction of RFF-HDC (Yu et al., NeurIPS 2022) and Laplace-HDC (Pourmand et al., 2024), an
    application of Grothendieck's identity: with ``W = sin(pi/2 * kernel)`` factored as ``W = U^T U``
    (negative eigenvalues clipped to 0) and ``G`` a (hyperdim, Q) standard Gaussian matrix, level ``v``
    is ``sign(G u_v)``. Since ``W_vv = 1``, ``E[<L_a, L_b>] / d = (2/pi) arcsin(W_ab) = kernel_ab``
    exactly when ``W`` is positive semidefinite (e.g. ``1 - lambda |a - b|``); otherwise the clipped
    factorisation realises a nearby kernel, as in both official codes.

    Parameters
    ----------
    kernel : array_like, float, shape (Q, Q)
        Symmetric, unit diagonal, entries in [-1, 1].
    hyperdim : int
        d.
    rng : numpy.random.Generator
        Source of G.

    Returns
    -------
    PackedBits, shape (Q, hyperdim)
        Level ``v`` in row ``v``.
    """
    K = as_array(kernel, "kernel", dtype_kind="f", ndim=2, finite=True).astype(np.float64)
    if K.shape[0] != K.shape[1]:
        raise ValueError(f"kernel: expected a square (Q, Q) matrix, got shape {K.shape}")
    if not np.allclose(K, K.T, atol=1e-12) or not np.allclose(np.diag(K), 1.0) or np.abs(K).max() > 1 + 1e-12:
        raise ValueError("kernel: expected a symmetric matrix with unit diagonal and entries in [-1, 1]")
    hyperdim = check_positive_int(hyperdim, "hyperdim")
    rng = resolve_rng(rng, "rng")
    W = np.sin(np.pi / 2.0 * K)
    evals, evecs = np.linalg.eigh(W)
    U = np.sqrt(np.maximum(evals, 0.0))[:, None] * evecs.T  # U^T U = W (up to the clipped part)
    G = rng.standard_normal((hyperdim, K.shape[0]), dtype=np.float32)
    return pack_signs((G @ U.astype(np.float32)).T)


def _item_memory(kind: str, n: int, d: int, rng: np.random.Generator) -> PackedBits:
    if kind == "random":
        return F.random(n, d, seed=rng)
    return F.level(n, d, seed=rng)


# --------------------------------------------------------------------------------------------------
# Classic HDC: record-based encoding


class RecordEncoder:
    """Classic (record-based) HDC encoding.

    Each feature position ``i`` has a random position hypervector ``P_i`` and each level ``v`` a level
    hypervector ``L_v`` (``levels="random"``: independent, as the official G-Net comparison's vanilla
    HDC; ``"id_level"``: correlated levels, :func:`gnetlab.hdc.functional.level`). A sample with level
    indices ``x`` is encoded as ``majority_i (P_i * L_{x_i})`` (binding by multiplication / XOR, bundling
    by majority), ties broken by one fixed random tie-break hypervector drawn with the item memories.

    The sums are accumulated relative to the ``skip`` level (the most common training level, e.g. the
    black background of MNIST): ``sum_i P_i L_{x_i} = L_skip * sum_i P_i + sum_{x_i != skip} P_i (L_{x_i} -
    L_skip)``, so only informative features are visited.
    """

    def __init__(self, n_features: int, hyperdim: int, n_levels: int, *, levels: str = "random",
                 rng: np.random.Generator):
        self.n_features = check_positive_int(n_features, "n_features")
        self.hyperdim = check_positive_int(hyperdim, "hyperdim")
        self.n_levels = check_positive_int(n_levels, "n_levels", minimum=2)
        self.levels = check_choice(levels, "levels", LEVEL_KINDS)
        self.position = unpack_signs(F.random(self.n_features, self.hyperdim, seed=rng), dtype=np.int8)
        self.level = unpack_signs(_item_memory(levels, self.n_levels, self.hyperdim, rng), dtype=np.int8)
        self.tie = unpack_signs(F.random(1, self.hyperdim, seed=rng), dtype=np.int8)[0]
        self.set_skip(0)

    def set_skip(self, skip: int) -> None:
        """Use level ``skip`` as the reference level (the most frequent one makes encoding fastest)."""
        skip = int(skip)
        self.skip = skip
        self._diff = np.ascontiguousarray(self.level - self.level[skip])  # in {-2, 0, 2}
        self._base = (self.level[skip].astype(np.int32) * self.position.sum(axis=0, dtype=np.int32)).astype(np.int32)

    def sums(self, idx: np.ndarray) -> np.ndarray:
        """Per-dimension sums ``sum_i P_i * L_{x_i}``: int32 (n, hyperdim)."""
        from ._kernels import signed_sum_encode

        idx = np.ascontiguousarray(idx, dtype=np.int32)
        acc = np.empty((idx.shape[0], self.hyperdim), np.int32)
        signed_sum_encode(idx, np.int32(self.skip), self.position, self._diff, self._base, acc)
        return acc

    def encode(self, idx: np.ndarray) -> PackedBits:
        """Level indices (n, n_features) -> PackedBits (n, hyperdim)."""
        out = np.empty((idx.shape[0], words_for(self.hyperdim)), np.uint64)
        step = _rows_per_block(4 * self.hyperdim)
        for r in range(0, idx.shape[0], step):
            out[r:r + step] = F.majority(self.sums(idx[r:r + step]), tie_vector=self.tie).words
        return PackedBits(out, self.hyperdim)


# --------------------------------------------------------------------------------------------------
# RFF-HDC and Laplace-HDC: XOR of shifted level hypervectors


class XorShiftEncoder:
    """Binding of cyclically shifted level hypervectors: ``h = XOR_i roll(L_{x_i}, shift_i)``.

    In +-1 terms ``h = prod_i roll(L_{x_i}, shift_i)``, so ``E[<h(x), h(y)>] / d = prod_i K(x_i, y_i)``
    when the level hypervectors realise the per-feature kernel ``K`` (:func:`kernel_level_hypervectors`)
    and the shifts decorrelate the features: a product kernel on the whole input (RBF for RFF-HDC, the
    Laplace kernel exp(-lambda ||x - y||_1) approximately for Laplace-HDC).

    levels: PackedBits (Q, d); shifts: int (n_features,), e.g. ``i`` (Laplace-HDC's ``shift_1d``) or
    ``n_features - i`` (the RFF-HDC code's ``torch.roll(..., shifts=num_features - i)``).
    The XOR over features is computed relative to a reference level ``skip`` (see
    :class:`RecordEncoder`): ``h = c XOR XOR_{x_i != skip} roll(L_{x_i} XOR L_skip, shift_i)`` with the
    constant ``c = XOR_i roll(L_skip, shift_i)``.
    """

    def __init__(self, levels: PackedBits, shifts):
        if not isinstance(levels, PackedBits) or levels.words.ndim != 2:
            raise TypeError("levels: expected PackedBits of shape (Q, d)")
        self.levels = levels
        self.hyperdim = levels.k
        self.shifts = np.ascontiguousarray(as_array(shifts, "shifts", dtype_kind="iu", ndim=1), dtype=np.int64)
        self.n_features = int(self.shifts.shape[0])
        self._bits = unpack_bits(levels.words, levels.k)
        self.set_skip(0)

    def _extended(self, bits: np.ndarray) -> np.ndarray:
        """Packed cyclic extensions (rows of d + 64 bits: the d bits, then the first 64 again)."""
        d = self.hyperdim
        ext = bits[:, np.arange(d + 64) % d]
        return pack_bool(ext)

    def _run(self, idx: np.ndarray, skip: int, ext: np.ndarray, out: np.ndarray) -> None:
        from ._kernels import xor_shift_encode

        xor_shift_encode(np.ascontiguousarray(idx, dtype=np.int32), np.int32(skip), self.shifts, ext,
                         np.int64(self.hyperdim), out)
        clear_padding(out, self.hyperdim)

    def set_skip(self, skip: int) -> None:
        skip = int(skip)
        self.skip = skip
        self._ext_diff = self._extended(np.bitwise_xor(self._bits, self._bits[skip][None, :]))
        const = np.zeros((1, words_for(self.hyperdim)), np.uint64)
        self._run(np.full((1, self.n_features), skip, np.int32), -1, self._extended(self._bits), const)
        self._const = const[0]

    def encode(self, idx: np.ndarray) -> PackedBits:
        """Level indices (n, n_features) -> PackedBits (n, hyperdim)."""
        out = np.empty((idx.shape[0], words_for(self.hyperdim)), np.uint64)
        out[:] = self._const[None, :]
        self._run(idx, self.skip, self._ext_diff, out)
        return PackedBits(out, self.hyperdim)


# --------------------------------------------------------------------------------------------------
# HoloGN


class HoloGNEncoder:
    """HoloGN encoding as in the G-Net comparison ("HoloGN Extended").

    Each feature position ``i`` has a random base hypervector ``B_i``; an *active* feature (value above
    the threshold; pixels > 0.5 in the official code) contributes ``roll(B_i, shift)`` and an inactive
    one ``B_i``; the sample hypervector is the majority over all features, ties broken by a fixed random
    tie-break hypervector (the official code rounds the mean, which resolves ties to bit 0).
    """

    def __init__(self, n_features: int, hyperdim: int, *, shift: int = 1, rng: np.random.Generator):
        self.n_features = check_positive_int(n_features, "n_features")
        self.hyperdim = check_positive_int(hyperdim, "hyperdim")
        if isinstance(shift, bool) or not isinstance(shift, numbers.Integral):
            raise TypeError(f"shift: expected an int, got {shift!r}")
        self.shift = int(shift)
        base = unpack_signs(F.random(self.n_features, self.hyperdim, seed=rng), dtype=np.float32)
        self._base_sum = base.sum(axis=0)
        self._delta = np.roll(base, self.shift, axis=1) - base  # in {-2, 0, 2}, exact in float32
        self.tie = unpack_signs(F.random(1, self.hyperdim, seed=rng), dtype=np.int8)[0]

    def sums(self, active: np.ndarray) -> np.ndarray:
        """Per-dimension sums of the +-1 feature hypervectors, int32 (n, hyperdim); ``active`` bool (n, f)."""
        s = active.astype(np.float32) @ self._delta + self._base_sum[None, :]
        return np.rint(s).astype(np.int32)

    def encode(self, active: np.ndarray) -> PackedBits:
        out = np.empty((active.shape[0], words_for(self.hyperdim)), np.uint64)
        step = _rows_per_block(8 * self.hyperdim)
        for r in range(0, active.shape[0], step):
            out[r:r + step] = F.majority(self.sums(active[r:r + step]), tie_vector=self.tie).words
        return PackedBits(out, self.hyperdim)


# --------------------------------------------------------------------------------------------------
# OnlineHD


class NonlinearEncoder:
    """OnlineHD's encoder (Hernandez-Cano et al., DATE 2021; ``onlinehd/encoder.py``).

    ``h_j(x) = cos(<x, b_j> + c_j) * sin(<x, b_j>)`` with ``b_j ~ N(0, I)`` (rows of a (d, f) basis) and
    ``c_j ~ U(0, 2 pi)``: real-valued hypervectors (float32 (n, d)); ``encode_packed`` packs their signs.
    """

    def __init__(self, n_features: int, hyperdim: int, *, rng: np.random.Generator):
        self.n_features = check_positive_int(n_features, "n_features")
        self.hyperdim = check_positive_int(hyperdim, "hyperdim")
        self.basis = rng.standard_normal((self.hyperdim, self.n_features), dtype=np.float32)
        self.base = rng.uniform(0.0, 2.0 * np.pi, size=self.hyperdim).astype(np.float32)

    def encode(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float32)
        out = np.empty((X.shape[0], self.hyperdim), np.float32)
        step = _rows_per_block(8 * self.hyperdim)
        for r in range(0, X.shape[0], step):
            proj = X[r:r + step] @ self.basis.T
            out[r:r + step] = np.cos(proj + self.base[None, :]) * np.sin(proj)
        return out

    def encode_packed(self, X: np.ndarray) -> PackedBits:
        out = np.empty((X.shape[0], words_for(self.hyperdim)), np.uint64)
        step = _rows_per_block(8 * self.hyperdim)
        for r in range(0, X.shape[0], step):
            out[r:r + step] = pack_signs(self.encode(X[r:r + step])).words
        return PackedBits(out, self.hyperdim)
