"""Learning class hypervectors: :class:`Centroid` (bundling) and :func:`train_binary_linear`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import as_array, check_choice, check_positive_int
from ..bits import PackedBits, pack_signs, unpack_signs
from . import functional as F

__all__ = ["Centroid", "train_binary_linear"]


def _child_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**63 - 1))


# --------------------------------------------------------------------------------------------------
# Centroid model (torchhd.models.Centroid for binary hypervectors)


class Centroid:
    """Class prototypes by bundling: per class, the majority of its hypervectors.

    ``add(input, target)`` accumulates the +-1 sums of hypervectors ``input`` ((n, d) packed or +-1)
    with integer class indices ``target`` (n,) in ``0 .. n_classes - 1``; ``binarize(seed=...)`` takes the
    per-class majority (ties broken by a random hypervector from ``seed``, or ``tie_break="plus"``) into
    ``weight`` (PackedBits (n_classes, d)); ``similarity(input)`` is the Hamming similarity (*, n_classes)
    and ``predict`` its argmax. A class that received no hypervector is refused at ``binarize``.

    Parameters
    ----------
    hyperdim : int
        d.
    n_classes : int
        Number of classes.
    """

    def __init__(self, hyperdim: int, n_classes: int):
        self.hyperdim = check_positive_int(hyperdim, "hyperdim")
        self.n_classes = check_positive_int(n_classes, "n_classes")
        self.sums = np.zeros((self.n_classes, self.hyperdim), np.int64)
        self.counts = np.zeros(self.n_classes, np.int64)
        self.weight: PackedBits | None = None

    def add(self, input: Any, target: Any) -> "Centroid":
        t = as_array(target, "target", dtype_kind="iu", ndim=1)
        if t.size and (t.min() < 0 or t.max() >= self.n_classes):
            raise ValueError(f"target: class indices must lie in 0..{self.n_classes - 1}, got {t.min()}..{t.max()}")
        packed = F.to_packed(input, "input")
        if packed.words.ndim != 2 or packed.k != self.hyperdim:
            raise ValueError(f"input: expected hypervectors of shape (n, {self.hyperdim}), got {packed.shape}")
        if packed.words.shape[0] != t.shape[0]:
            raise ValueError(f"input, target: {packed.words.shape[0]} hypervectors but {t.shape[0]} labels")
        step = max(1, 2**24 // self.hyperdim)
        for r in range(0, t.shape[0], step):
            signs = unpack_signs(packed[r:r + step], dtype=np.int8)
            tb = t[r:r + step]
            for c in np.unique(tb):
                self.sums[c] += signs[tb == c].sum(axis=0, dtype=np.int64)
        self.counts += np.bincount(t, minlength=self.n_classes)
        return self

    def binarize(self, *, tie_break: str = "random", seed=None) -> PackedBits:
        empty = np.flatnonzero(self.counts == 0)
        if empty.size:
            raise ValueError(f"Centroid: classes {empty.tolist()} received no hypervector")
        self.weight = F.majority(self.sums, tie_break=tie_break, seed=seed)
        return self.weight

    def similarity(self, input: Any) -> np.ndarray:
        if self.weight is None:
            raise RuntimeError("Centroid: call binarize() before similarity()")
        return F.hamming_similarity(F.to_packed(input, "input"), self.weight)

    def predict(self, input: Any) -> np.ndarray:
        return np.argmax(self.similarity(input), axis=-1)


# --------------------------------------------------------------------------------------------------
# Binary linear classifier (RFF-HDC, Laplace-HDC)


def train_binary_linear(H: PackedBits, y: np.ndarray, n_classes: int, *, mode: str, epochs: int, lr: float,
                        batch_size: int, rng: np.random.Generator) -> PackedBits:
    """Train class hypervectors as the binary weights of a linear softmax classifier.

    ``logits = x W^T / sqrt(d)`` on +-1 query hypervectors ``x``, cross-entropy, Adam(lr), shuffled
    mini-batches, weights initialised U(-1/sqrt(d), 1/sqrt(d)) (PyTorch's ``nn.Linear`` default). Returns
    ``sign(W)`` as PackedBits (n_classes, d) (sign(0) = +1). Two modes, as the two official codes:

    ``"ste"``    RFF-HDC (``model.py``: ``BinaryLinear`` with ``FastSign``): the forward pass uses
                 ``sign(W)``, the backward pass the gradient of ``clamp(W, -1.3, 1.3)``
                 (straight-through estimator).
    ``"clamp"``  Laplace-HDC (``laplace_hdc_classifier.binary_sgd``): float weights clamped to [-1, 1]
                 after every step, binarised at the end.

    Parameters
    ----------
    H : PackedBits, shape (n, d)
        Query hypervectors.
    y : ndarray, int64, shape (n,)
        Class indices ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes.
    mode : {"ste", "clamp"}
        See above.
    epochs : int
        Passes over the data.
    lr : float
        Adam learning rate.
    batch_size : int
        Mini-batch size.
    rng : numpy.random.Generator
        Initialisation and shuffling.

    Returns
    -------
    PackedBits, shape (n_classes, d)
        ``sign(W)``.
    """
    import torch

    check_choice(mode, "mode", ("ste", "clamp"))
    d = H.k
    n = int(y.shape[0])
    gen = torch.Generator().manual_seed(_child_seed(rng))
    bound = 1.0 / math.sqrt(d)
    W = ((torch.rand(n_classes, d, generator=gen) * 2 - 1) * bound).requires_grad_(True)
    opt = torch.optim.Adam([W], lr=lr)
    yt = torch.from_numpy(np.asarray(y, np.int64))
    scale = 1.0 / math.sqrt(d)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen).numpy()
        for i in range(0, n, batch_size):
            idx = np.sort(perm[i:i + batch_size])
            x = torch.from_numpy(unpack_signs(H[idx], dtype=np.float32))
            if mode == "ste":
                clamped = W.clamp(-1.3, 1.3)
                Wf = clamped + (torch.where(W >= 0, 1.0, -1.0) - clamped).detach()
            else:
                Wf = W
            loss = torch.nn.functional.cross_entropy((x @ Wf.T) * scale, yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if mode == "clamp":
                with torch.no_grad():
                    W.clamp_(-1.0, 1.0)
    return pack_signs(W.detach().numpy())
