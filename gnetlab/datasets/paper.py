"""The papers' reported values, shipped as package data in ``gnetlab/data/paper/`` (provenance:
``gnetlab/data/paper/README.md``), read with ``importlib.resources`` so an installed wheel has them.

These are the *papers'* numbers (labelled "paper" wherever they are drawn), never our results.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

from .download import sha256sum, HashMismatchError

__all__ = ["gnet_official_results", "onebit_rf_reference", "seed002_fgsm", "FILES"]

# Pinned so an accidental edit of the reference data is caught, not plotted.
FILES = {
    "gnet_official_results.csv.gz": "ecbbedbb558dbc063fa7bed5434cda5fe452f7267855b6f2e0d6585e07d85a6e",
    "onebit_rf_reference.csv": "637ff6c1beaade6cd45d58a6dc554e109e914afbd4db17848a725b0db0d279c0",
    "seed002_fgsm.csv": "cfcd147784364acea2c55bb977688bcf7d80f73eb8532b364ee000782f91aa0e",
}


def _read(name: str, **kwargs) -> pd.DataFrame:
    ref = resources.files("gnetlab") / "data" / "paper" / name
    if not ref.is_file():
        raise FileNotFoundError(
            f"paper reference file {ref} is missing: it is package data of gnetlab (gnetlab/data/paper/); "
            "restore it with `git checkout -- gnetlab/data/paper` or reinstall gnetlab"
        )
    with resources.as_file(ref) as path:
        got = sha256sum(path)
        if got != FILES[name]:
            raise HashMismatchError(f"{path}: sha256 {got}, expected {FILES[name]} (the reference data was modified)")
        return pd.read_csv(path, **kwargs)


@lru_cache(maxsize=None)
def _gnet() -> pd.DataFrame:
    return _read("gnet_official_results.csv.gz", dtype={"N_per_layer": "string"})


@lru_cache(maxsize=None)
def _onebit() -> pd.DataFrame:
    return _read("onebit_rf_reference.csv")


def gnet_official_results(**filters) -> pd.DataFrame:
    """Results published with the official G-Net code (one row per test chunk).

    Keyword filters select rows by column value, e.g.
    ``gnet_official_results(experiment="activation_sweep", dataset="mnist")``. Unknown columns raise.
    """
    df = _gnet()
    return _filter(df, filters).reset_index(drop=True)


def onebit_rf_reference(**filters) -> pd.DataFrame:
    """Values read off the figures of the one-bit random-features paper (arXiv 2510.16250)."""
    return _filter(_onebit(), filters).reset_index(drop=True)


def seed002_fgsm() -> pd.DataFrame:
    """Seed document 002's FGSM table (CIFAR-10, ResNet-18, FP32 vs binary): ``model, eps, accuracy`` (%).

    A claim of that document about a different model and dataset, shown beside our measurements.
    """
    return _read("seed002_fgsm.csv")


def _filter(df: pd.DataFrame, filters: dict) -> pd.DataFrame:
    for col, val in filters.items():
        if col not in df.columns:
            raise KeyError(f"filters: unknown column {col!r}; columns: {', '.join(df.columns)}")
        if not (df[col] == val).any():
            raise ValueError(f"filters: no rows with {col} == {val!r}; values: {sorted(df[col].dropna().unique().tolist())}")
        df = df[df[col] == val]
    return df.copy()
