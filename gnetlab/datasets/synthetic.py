"""Gaussian data generators.

- :func:`gaussian_inputs`: isotropic inputs for the random-features theory. The one-bit RF paper's
  text says x ~ N(0, I_d / d), but its plotted errors are reproduced only with x ~ N(0, I_d) (see
  gnetlab/data/paper/README.md): ``scale="identity"`` (default) gives N(0, I_d),
  ``scale="1/d"`` the text's version.
- :func:`gaussian_mixture`: a two-class mixture N(+-mu, I_d), ||mu|| = separation / 2, for
  classification smoke tests (``datasets.load("synthetic")``).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_positive_int, check_real, resolve_rng

__all__ = ["gaussian_inputs", "gaussian_mixture"]


def gaussian_inputs(n: int, d: int, *, seed, scale: str = "identity", dtype=np.float32) -> np.ndarray:
    """``n`` iid draws of x ~ N(0, I_d) (``scale="identity"``) or N(0, I_d/d) (``scale="1/d"``), shape (n, d)."""
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    check_choice(scale, "scale", ("identity", "1/d"))
    rng = resolve_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float64)
    if scale == "1/d":
        X /= np.sqrt(d)
    return X.astype(dtype)


def gaussian_mixture(*, split: str = "train", seed=0, n: int = 1000, d: int = 64, separation: float = 4.0):
    """Two balanced classes N(-mu, I_d) (label 0) and N(+mu, I_d) (label 1) with ||2 mu|| = separation.

    The mean direction is drawn from ``seed``; train and test are independent draws from the same
    mixture (a split-specific stream derived from the seed), so the same seed gives a consistent pair.
    """
    n = check_positive_int(n, "n", minimum=2)
    d = check_positive_int(d, "d")
    separation = check_real(separation, "separation", minimum=0)
    check_choice(split, "split", ("train", "test", "all"))
    base = resolve_rng(seed)
    root = int(base.integers(0, 2**63 - 1))
    mu = np.random.default_rng([root, 0]).standard_normal(d)
    mu *= (separation / 2) / np.linalg.norm(mu)
    stream = {"train": 1, "test": 2, "all": 3}[split]
    rng = np.random.default_rng([root, stream])
    y = np.arange(n) % 2
    y = y[rng.permutation(n)]
    X = rng.standard_normal((n, d)) + np.where(y[:, None] == 1, 1.0, -1.0) * mu
    return X.astype(np.float32), y.astype(np.int64)
