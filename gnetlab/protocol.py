"""The evaluation protocol shared by the EHD G-Net and its baselines: chunks, summaries, seed streams.

The official G-Net comparison splits the test set into ``n_chunks`` contiguous chunks
(``numpy.array_split``), reports the mean accuracy over chunks with a band of +-0.5 standard
deviation, and draws every random object from a stream derived from one integer ``seed``. Both
:mod:`gnetlab.ehd` and :mod:`gnetlab.hdc` evaluate through this module, so a baseline never imports
the model it is compared with.

Seed streams (each function below is the one definition of its derivation; results depend on them, so
they are kept exactly as the figures were produced):

==========================  ========================================================  =================
function                    stream                                                    used by
==========================  ========================================================  =================
:func:`chunk_streams`       ``SeedSequence(seed).spawn(n_chunks)``                    EHD chunks
:func:`keyed_streams`       ``SeedSequence([seed, key]).spawn(n)``                    EHD flip fractions
:func:`keyed_rng`           ``default_rng([seed, *key])``                             HDC query flips
:func:`keyed_int_seed`      first uint64 of ``SeedSequence([seed, *key])`` >> 1       HDC fit seeds
:func:`child_rng`           ``SeedSequence(seed, spawn_key=key)``                     random features
==========================  ========================================================  =================
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
import pandas as pd

from ._validation import as_array, check_positive_int, resolve_rng

__all__ = ["chunk_bounds", "chunk_accuracy", "chunk_summary", "check_n_chunks", "check_protocol_seed",
           "chunk_streams", "keyed_streams", "keyed_rng", "keyed_int_seed", "child_rng"]


def check_n_chunks(n_chunks, n_samples: int) -> int:
    """Validate a chunk count against the number of test samples.

    Parameters
    ----------
    n_chunks : int
        Requested number of chunks, >= 1.
    n_samples : int
        Number of test samples.

    Returns
    -------
    int
        ``n_chunks``, at most ``n_samples``.
    """
    n_chunks = check_positive_int(n_chunks, "n_chunks")
    if n_chunks > n_samples:
        raise ValueError(f"n_chunks: {n_chunks} chunks for {n_samples} test samples")
    return n_chunks


def check_protocol_seed(seed) -> int:
    """The integer ``seed`` every stream of a protocol run derives from.

    Parameters
    ----------
    seed : int
        Non-negative integer (a Generator is refused: streams are derived by key, not drawn in order).

    Returns
    -------
    int
        ``int(seed)``.
    """
    from ._validation import check_seed

    return check_seed(seed)  # the project's one seed rule (an int >= 0)


def chunk_bounds(n_samples: int, n_chunks: int) -> list[np.ndarray]:
    """Indices of ``n_chunks`` contiguous chunks of ``range(n_samples)``.

    Parameters
    ----------
    n_samples : int
        Number of test samples.
    n_chunks : int
        Number of chunks.

    Returns
    -------
    list of ndarray
        ``n_chunks`` int64 index arrays, as ``numpy.array_split`` (sizes differ by at most one).
    """
    return np.array_split(np.arange(n_samples), check_n_chunks(n_chunks, n_samples))


def chunk_accuracy(pred, y, n_chunks: int) -> np.ndarray:
    """Accuracy in percent on each of ``n_chunks`` contiguous chunks.

    Parameters
    ----------
    pred : array_like, shape (n,)
        Predicted labels.
    y : array_like, shape (n,)
        True labels.
    n_chunks : int
        Number of chunks (``numpy.array_split``), at most ``n``.

    Returns
    -------
    ndarray, float64, shape (n_chunks,)
        Percent correct per chunk.
    """
    p = as_array(pred, "pred", ndim=1)
    t = as_array(y, "y", ndim=1)
    if p.shape != t.shape:
        raise ValueError(f"pred, y: shapes differ ({p.shape} and {t.shape})")
    n_chunks = check_n_chunks(n_chunks, t.shape[0])
    return np.array([100.0 * np.mean(a == b) for a, b in zip(np.array_split(p, n_chunks), np.array_split(t, n_chunks))])


def chunk_summary(df: pd.DataFrame, by: Sequence[str], value: str = "accuracy") -> pd.DataFrame:
    """Mean, std and the paper's band (mean +- 0.5 std) of ``value`` over chunks, per group.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per chunk (and setting).
    by : sequence of str
        Grouping columns.
    value : str, default "accuracy"
        Column to summarise.

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted): the ``by`` columns, ``mean``, ``std`` (ddof 1), ``count``, ``lo``
        and ``hi`` (mean -+ 0.5 std).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df: expected a pandas DataFrame of chunk rows, got {type(df).__name__}")
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by, value] if c not in df.columns]
    if missing:
        raise ValueError(f"by/value: columns {missing} are not in df; its columns: {list(df.columns)}")
    g = df.groupby(by, sort=True)[value]
    out = g.agg(["mean", "std", "count"]).reset_index()
    out["lo"] = out["mean"] - 0.5 * out["std"]
    out["hi"] = out["mean"] + 0.5 * out["std"]
    return out


def chunk_streams(seed: int, n_chunks: int) -> list[np.random.SeedSequence]:
    """One independent stream per chunk, the same whatever else the run varies (common random numbers).

    Parameters
    ----------
    seed : int
        The run's seed.
    n_chunks : int
        Number of chunks.

    Returns
    -------
    list of numpy.random.SeedSequence
        ``SeedSequence(seed).spawn(n_chunks)``.
    """
    return np.random.SeedSequence(check_protocol_seed(seed)).spawn(n_chunks)


def keyed_streams(seed: int, key: int, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent streams under an integer ``key`` (e.g. one per flip fraction of chunk ``key``).

    Parameters
    ----------
    seed : int
        The run's seed.
    key : int
        Non-negative key.
    n : int
        Number of streams.

    Returns
    -------
    list of numpy.random.SeedSequence
        ``SeedSequence([seed, key]).spawn(n)``.
    """
    return np.random.SeedSequence([check_protocol_seed(seed), int(key)]).spawn(n)


def keyed_rng(seed: int, *key: int) -> np.random.Generator:
    """A generator for the entropy ``[seed, *key]``.

    Parameters
    ----------
    seed : int
        The run's seed.
    *key : int
        Non-negative integers naming the stream.

    Returns
    -------
    numpy.random.Generator
        ``default_rng([seed, *key])``.
    """
    return np.random.default_rng([check_protocol_seed(seed), *key])


def keyed_int_seed(seed: int, *key: int) -> int:
    """A non-negative 63-bit integer seed for ``[seed, *key]`` (for estimators that take an int).

    Parameters
    ----------
    seed : int
        The run's seed.
    *key : int
        Non-negative integers naming the stream.

    Returns
    -------
    int
        The first uint64 of ``SeedSequence([seed, *key]).generate_state``, shifted right by one.
    """
    state = np.random.SeedSequence([check_protocol_seed(seed), *key]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def child_rng(seed, *key: int) -> np.random.Generator:
    """An independent, order-free stream for ``(seed, key...)``: every trial is reproducible on its own.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        The run's seed (a Generator contributes one draw of 63 bits).
    *key : int
        Non-negative integers naming the stream.

    Returns
    -------
    numpy.random.Generator
        ``default_rng(SeedSequence(seed, spawn_key=key))``.
    """
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**63))
    resolve_rng(seed)  # validates
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key)))
