"""Bad input to gnetlab.datasets (load, splits, fetch, IDX files, paper data)."""

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gnetlab import datasets
from gnetlab.datasets import download, idx, paper, synthetic

CONTENT = b"gnetlab bad-input test file"
ENTRIES = {"toy/file.bin": download.RegistryEntry("toy/file.bin", hashlib.sha256(CONTENT).hexdigest(),
                                                  "https://example.invalid/file.bin")}

CASES = [
    # names (issue 11: a list is not "unhashable type")
    ("load-name-list", lambda: datasets.load(["mnist"]), ValueError, r"name: unknown dataset \['mnist'\] \(list\)"),
    ("load-name-unknown", lambda: datasets.load("mnist10k"), ValueError, "name: unknown dataset 'mnist10k'"),
    ("load-name-none", lambda: datasets.load(None), ValueError, "name: unknown dataset None"),
    ("load-split", lambda: datasets.load("digits", split="validation"), ValueError, "split: unknown value 'validation'"),
    ("load-split-list", lambda: datasets.load("digits", split=["train"]), TypeError, "split: expected one of"),
    # issue 11: the same seed rule for every dataset, used or not
    ("load-seed-none-digits", lambda: datasets.load("digits", seed=None), TypeError, "seed: an explicit seed"),
    ("load-seed-none-mnist", lambda: datasets.load("mnist", seed=None), TypeError, "seed: an explicit seed"),
    ("load-seed-none-cifar", lambda: datasets.load("cifar10", seed=None), TypeError, "seed: an explicit seed"),
    ("load-seed-float-synthetic", lambda: datasets.load("synthetic", seed=1.5), TypeError, "seed: expected an int"),
    ("load-seed-float-fashion", lambda: datasets.load("fashion_mnist", seed=1.5), TypeError, "seed: expected an int"),
    ("load-seed-neg-all", lambda: datasets.load("digits", split="all", seed=-1), ValueError, "seed: expected a non-negative"),
    ("load-seed-str", lambda: datasets.load("mnist5k", seed="0"), TypeError, "seed: expected an int"),
    ("load-test-size-float", lambda: datasets.load("digits", test_size=10.0), TypeError, "test_size: expected an integer"),
    ("load-test-size-zero", lambda: datasets.load("digits", test_size=0), ValueError, "test_size: expected an integer >= 1"),
    ("load-test-size-big", lambda: datasets.load("digits", test_size=10_000), ValueError, "test_size: expected 0 < test_size"),
    ("load-test-size-unused", lambda: datasets.load("mnist", test_size=100), TypeError, "test_size: only mnist5k and digits"),
    ("load-as-images-tabular", lambda: datasets.load("synthetic", as_images=True), ValueError, "as_images=True: dataset 'synthetic'"),
    ("load-as-images-str", lambda: datasets.load("digits", as_images="yes"), TypeError, "as_images: expected a bool"),
    ("load-kwargs", lambda: datasets.load("digits", n=10), TypeError, r"load\('digits'\): unexpected options"),
    ("synthetic-n", lambda: datasets.load("synthetic", n=1), ValueError, "n: expected an integer >= 2"),
    ("synthetic-d-float", lambda: datasets.load("synthetic", d=2.5), TypeError, "d: expected an integer"),
    ("synthetic-separation-nan", lambda: synthetic.gaussian_mixture(separation=float("nan")), ValueError, "separation: expected a finite"),
    ("synthetic-separation-str", lambda: synthetic.gaussian_mixture(separation="4"), TypeError, "separation: expected a finite real"),
    ("synthetic-split", lambda: synthetic.gaussian_mixture(split="val"), ValueError, "split: unknown value 'val'"),
    ("gaussian-inputs-scale", lambda: synthetic.gaussian_inputs(3, 2, seed=0, scale="1/n"), ValueError, "scale: unknown value '1/n'"),
    ("gaussian-inputs-seed", lambda: synthetic.gaussian_inputs(3, 2, seed=None), TypeError, "seed: an explicit seed"),
    # splits
    ("split-y-float", lambda: datasets.stratified_split(np.zeros(10), 2, 0), TypeError, "y: expected a signed integer"),
    ("split-y-2d", lambda: datasets.stratified_split(np.zeros((10, 1), int), 2, 0), ValueError, "y: expected a 1-D array"),
    ("split-test-size-float", lambda: datasets.stratified_split(np.arange(10) % 2, 2.0, 0), TypeError, "test_size: expected an integer"),
    ("split-test-size-all", lambda: datasets.stratified_split(np.arange(10) % 2, 10, 0), ValueError, "test_size: expected 0 < test_size < 10"),
    ("split-seed", lambda: datasets.stratified_split(np.arange(10) % 2, 2, None), TypeError, "seed: an explicit seed"),
    # fetch
    ("fetch-unknown", lambda: download.fetch("toy/other.bin", entries=ENTRIES), KeyError, "key: unknown data file 'toy/other.bin'"),
    ("fetch-key-list", lambda: download.fetch(["toy/file.bin"], entries=ENTRIES), KeyError, "key: unknown data file"),
    ("cifar-split", lambda: datasets.read_cifar10_archive("/nonexistent.tar.gz", "validation"), ValueError, "split: unknown value 'validation'"),
    ("cifar-not-archive", lambda: datasets.read_cifar10_archive(__file__, "test"), ValueError, "not a readable CIFAR-10 binary tar.gz"),
    ("mnist5k-csv-missing", lambda: datasets.read_mnist5k_csv("/nonexistent.csv.gz"), download.DataUnavailableError, "path: /nonexistent.csv.gz does not exist"),
    # IDX / paper data
    ("read-idx-missing", lambda: idx.read_idx("/nonexistent/file.idx"), FileNotFoundError, "IDX file not found"),
    ("write-idx-dtype", lambda: idx.write_idx("/tmp/never.idx", np.zeros(2, np.int64)), TypeError, "array: dtype int64 has no IDX type code"),
    ("write-idx-0d", lambda: idx.write_idx("/tmp/never.idx", np.uint8(3)), ValueError, "array: expected at least one dimension"),
    ("paper-unknown-column", lambda: paper.gnet_official_results(datasett="mnist"), KeyError, "filters: unknown column 'datasett'"),
    ("paper-no-rows", lambda: paper.gnet_official_results(dataset="imagenet"), ValueError, "filters: no rows with dataset == 'imagenet'"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_directory_in_place_of_cached_file(tmp_path):
    """Issue 11: a directory where a cached data file belongs gets the hash case's guidance."""
    (tmp_path / "toy" / "file.bin").mkdir(parents=True)
    with pytest.raises(download.HashMismatchError, match="is a directory.*delete it and fetch again"):
        download.fetch("toy/file.bin", cache_dir=tmp_path, entries=ENTRIES, download=lambda url, out: None)


def test_read_idx_directory(tmp_path):
    with pytest.raises(idx.IDXFormatError, match="is a directory.*delete it and fetch again"):
        idx.read_idx(tmp_path)


def test_read_idx_truncated(tmp_path):
    path = idx.write_idx(tmp_path / "a.idx", np.arange(6, dtype=np.uint8).reshape(2, 3))
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(idx.IDXFormatError, match="truncated or corrupt"):
        idx.read_idx(path)


@settings(max_examples=30, deadline=None)
@given(seed=st.one_of(st.none(), st.floats(allow_nan=True), st.text(max_size=3), st.booleans(),
                      st.integers(max_value=-1)),
       name=st.sampled_from(["mnist5k", "digits", "synthetic", "mnist", "fashion_mnist", "cifar10"]))
def test_seed_rule_is_the_same_for_every_dataset(seed, name):
    with pytest.raises((TypeError, ValueError), match="seed: "):
        datasets.load(name, seed=seed)
