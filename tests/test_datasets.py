import gzip

import numpy as np
import pytest

from gnetlab import datasets
from gnetlab.datasets import download, idx


# ---------------------------------------------------------------- IDX parser

def _idx_bytes(arr):
    return bytes([0, 0, 0x08, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes() + arr.astype(np.uint8).tobytes()


def test_idx_round_trip_plain_and_gzip(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7, dtype=np.uint8)
    idx.write_idx(tmp_path / "images.idx", images)
    idx.write_idx(tmp_path / "labels.idx.gz", labels)
    np.testing.assert_array_equal(idx.read_idx(tmp_path / "images.idx"), images)
    np.testing.assert_array_equal(idx.read_idx(tmp_path / "labels.idx.gz"), labels)
    # Our writer agrees with the format written by hand.
    assert (tmp_path / "images.idx").read_bytes() == _idx_bytes(images)


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x01\x00\x08\x01" + (3).to_bytes(4, "big") + b"abc", "bad magic"),
        (b"\x00\x00\x07\x01" + (3).to_bytes(4, "big") + b"abc", "unknown data type"),
        (b"\x00\x00\x08\x02" + (3).to_bytes(4, "big"), "ends after"),
        (b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + b"abc", "truncated"),
        (b"\x00\x00", "too short"),
    ],
)
def test_idx_rejects_malformed_files(tmp_path, payload, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(payload)
    with pytest.raises(idx.IDXFormatError, match=message):
        idx.read_idx(path)


def test_idx_rejects_corrupt_gzip(tmp_path):
    good = gzip.compress(_idx_bytes(np.zeros((4, 4), np.uint8)))
    path = tmp_path / "bad.idx.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(idx.IDXFormatError, match="decompress"):
        idx.read_idx(path)


# ---------------------------------------------------------------- downloads and the cache

def _entries(tmp_path, content: bytes):
    return {"toy/file.idx.gz": download.RegistryEntry("toy/file.idx.gz", _sha(content), "https://example.invalid/file")}


def _sha(b):
    import hashlib

    return hashlib.sha256(b).hexdigest()


def test_fetch_downloads_verifies_and_caches(tmp_path):
    content = gzip.compress(_idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4)), mtime=0)
    calls = []

    def fake_download(url, out):
        calls.append(url)
        out.write_bytes(content)

    entries = _entries(tmp_path, content)
    path = download.fetch("toy/file.idx.gz", cache_dir=tmp_path, download=fake_download, entries=entries)
    assert path == tmp_path / "toy" / "file.idx.gz"
    np.testing.assert_array_equal(idx.read_idx(path), np.arange(12).reshape(3, 4))
    # Second fetch uses the cache (and re-verifies it) without downloading.
    download.fetch("toy/file.idx.gz", cache_dir=tmp_path, download=fake_download, entries=entries)
    assert len(calls) == 1


def test_fetch_rejects_corrupted_download_and_leaves_nothing(tmp_path):
    content = b"the real bytes"
    entries = _entries(tmp_path, content)

    def corrupt_download(url, out):
        out.write_bytes(b"the REAL bytes")  # same size, different bytes

    with pytest.raises(download.HashMismatchError, match="expected"):
        download.fetch("toy/file.idx.gz", cache_dir=tmp_path, download=corrupt_download, entries=entries)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []


def test_fetch_interrupted_download_leaves_nothing(tmp_path):
    entries = _entries(tmp_path, b"x")

    def broken_download(url, out):
        out.write_bytes(b"partial")
        raise ConnectionError("network unreachable")

    with pytest.raises(download.DataUnavailableError, match="network unreachable"):
        download.fetch("toy/file.idx.gz", cache_dir=tmp_path, download=broken_download, entries=entries)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_fetch_refuses_corrupt_cached_file(tmp_path):
    content = b"good"
    entries = _entries(tmp_path, content)
    target = tmp_path / "toy" / "file.idx.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"bad!")
    with pytest.raises(download.HashMismatchError, match="delete it"):
        download.fetch("toy/file.idx.gz", cache_dir=tmp_path, download=lambda u, o: o.write_bytes(content),
                       entries=entries)
    assert target.read_bytes() == b"bad!"  # not silently replaced


def test_offline_error_says_which_files_to_put_where(tmp_path, monkeypatch):
    monkeypatch.setenv("GNETLAB_OFFLINE", "1")
    with pytest.raises(download.DataUnavailableError) as err:
        datasets.load("mnist", cache_dir=tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "mnist") in msg
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        assert name in msg
    assert "https://" in msg


def test_registry_is_well_formed():
    reg = download.registry()
    assert {e.dataset for e in reg.values()} == {"mnist", "fashion_mnist", "cifar10"}
    assert len(reg) == 9
    assert all(len(e.sha256) == 64 and e.url.startswith("http") for e in reg.values())


def test_registry_parser_names_the_bad_line():
    with pytest.raises(ValueError, match="reg.txt:2"):
        download._parse_registry("# ok\nmnist/a.gz not-a-hash http://x\n", "reg.txt")


def test_load_mnist_from_a_populated_cache(tmp_path):
    """The full loader path on small IDX files placed in the cache with matching hashes."""
    rng = np.random.default_rng(1)
    entries = {}
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 6, dtype=np.uint8),
    }
    for name, arr in arrays.items():
        path = idx.write_idx(tmp_path / "mnist" / name, arr)
        entries[f"mnist/{name}"] = download.RegistryEntry(f"mnist/{name}", download.sha256sum(path), "https://x")
    X, y = datasets._load_idx_pair("mnist", "train",
                                   lambda key: download.fetch(key, cache_dir=tmp_path, entries=entries))
    assert X.shape == (6, 784) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X * 255, arrays["train-images-idx3-ubyte.gz"].reshape(6, -1), atol=1e-4)


# ---------------------------------------------------------------- bundled datasets

def test_mnist5k_split_is_stratified_deterministic_and_disjoint():
    Xtr, ytr = datasets.load("mnist5k", "train", seed=0)
    Xte, yte = datasets.load("mnist5k", "test", seed=0)
    assert Xtr.shape == (4000, 784) and Xte.shape == (1000, 784)
    assert Xtr.dtype == np.float32 and ytr.dtype == np.int64
    assert 0.0 <= Xtr.min() and Xtr.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(yte), np.full(10, 100))
    # shuffled: any contiguous chunk of the test split mixes classes (the chunked EHD protocol)
    assert all(len(np.unique(chunk)) >= 8 for chunk in np.array_split(yte, 20))
    Xtr2, _ = datasets.load("mnist5k", "train", seed=0)
    np.testing.assert_array_equal(Xtr, Xtr2)
    Xother, _ = datasets.load("mnist5k", "train", seed=1)
    assert not np.array_equal(Xtr, Xother)
    # Train and test are disjoint and together are the whole file.
    Xall, _ = datasets.load("mnist5k", "all")
    assert Xall.shape == (5000, 784)
    rows = {r.tobytes() for r in Xtr} | {r.tobytes() for r in Xte}
    assert len({r.tobytes() for r in Xall} - rows) == 0


def test_mnist5k_images_shape():
    X, _ = datasets.load("mnist5k", "test", as_images=True)
    assert X.shape == (1000, 1, 28, 28)


def test_mnist5k_parser_checks_hash_and_shape(tmp_path):
    bad = tmp_path / "m.csv.gz"
    bad.write_bytes(gzip.compress(b"1,2,3\n4,5,6\n"))
    with pytest.raises(datasets.HashMismatchError):
        datasets.read_mnist5k_csv(bad)
    with pytest.raises(ValueError, match="785"):
        datasets.read_mnist5k_csv(bad, sha256=None)


def test_digits_and_synthetic():
    X, y = datasets.load("digits", "test")
    assert X.shape == (360, 64) and X.max() <= 1.0
    Xs, ys = datasets.load("synthetic", "train", seed=3, n=100, d=5)
    assert Xs.shape == (100, 5) and set(np.unique(ys)) == {0, 1}
    Xt, _ = datasets.load("synthetic", "test", seed=3, n=100, d=5)
    assert not np.array_equal(Xs, Xt)
    np.testing.assert_array_equal(Xs, datasets.load("synthetic", "train", seed=3, n=100, d=5)[0])


def test_gaussian_inputs_scales():
    X = datasets.synthetic.gaussian_inputs(2000, 400, seed=0)
    Y = datasets.synthetic.gaussian_inputs(2000, 400, seed=0, scale="1/d")
    assert abs(X.var() - 1) < 0.02
    assert abs(Y.var() * 400 - 1) < 0.02


def test_stratified_split_exact_size():
    y = np.repeat([0, 1, 2], [5, 7, 11])
    tr, te = datasets.stratified_split(y, 6, seed=0)
    assert te.size == 6 and tr.size == 17 and not set(tr) & set(te)
    assert set(np.unique(y[tr])) == {0, 1, 2}


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: datasets.load("cifar100"), ValueError, "unknown dataset 'cifar100'"),
        (lambda: datasets.load("mnist5k", "validation"), ValueError, "split"),
        (lambda: datasets.load("mnist5k", seed=None), TypeError, "explicit seed"),
        (lambda: datasets.load("synthetic", as_images=True), ValueError, "not an image dataset"),
        (lambda: datasets.load("mnist5k", n=3), TypeError, "unexpected options"),
        (lambda: datasets.load("mnist5k", test_size=0), ValueError, "test_size"),
    ],
)
def test_bad_requests_fail_clearly(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_available_lists_everything():
    names = [d.name for d in datasets.available()]
    assert names == ["mnist5k", "digits", "synthetic", "mnist", "fashion_mnist", "cifar10", "basic_motions", "epilepsy",
                     "wss", "forda"]


# ---------------------------------------------------------------- paper reference data

def test_paper_reference_tables_load_and_filter():
    df = datasets.paper.gnet_official_results(experiment="activation_sweep", dataset="mnist")
    assert set(df.activation) == {"rasu", "tasu"}
    fig1 = datasets.paper.onebit_rf_reference(figure="fig1_sgd_synthetic", weights="gaussian")
    assert fig1.x.tolist() == [1, 2, 3, 4, 5]
    with pytest.raises(KeyError, match="unknown column"):
        datasets.paper.onebit_rf_reference(colour="red")
    with pytest.raises(ValueError, match="no rows"):
        datasets.paper.onebit_rf_reference(figure="fig9")


def _cifar_tarball(path, batches):
    import io as _io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for name, raw in batches.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(raw)
            tar.addfile(info, _io.BytesIO(raw))


def test_cifar10_binary_parser(tmp_path):
    rng = np.random.default_rng(0)
    batches, expected = {}, {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        labels = rng.integers(0, 10, 3, dtype=np.uint8)
        pixels = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
        batches[name] = np.concatenate([labels[:, None], pixels], axis=1).tobytes()
        expected[name] = (labels, pixels)
    path = tmp_path / "cifar-10-binary.tar.gz"
    _cifar_tarball(path, batches)
    X, y = datasets.read_cifar10_archive(path, "test")
    np.testing.assert_array_equal(y, expected["test_batch.bin"][0])
    np.testing.assert_allclose(X * 255, expected["test_batch.bin"][1], atol=1e-3)
    Xtr, ytr = datasets.read_cifar10_archive(path, "train")
    assert Xtr.shape == (15, 3072) and Xtr.dtype == np.float32 and ytr.dtype == np.int64
    # the full loader path through a verified cache entry
    entries = {"cifar10/cifar-10-binary.tar.gz": download.RegistryEntry(
        "cifar10/cifar-10-binary.tar.gz", download.sha256sum(path), "https://x")}
    cache = tmp_path / "cache"
    fetched = download.fetch("cifar10/cifar-10-binary.tar.gz", cache_dir=cache, entries=entries,
                             download=lambda url, out: out.write_bytes(path.read_bytes()))
    assert datasets.read_cifar10_archive(fetched, "all")[0].shape == (18, 3072)


def test_cifar10_parser_rejects_bad_archives(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    _cifar_tarball(bad, {"test_batch.bin": b"x" * 100})
    with pytest.raises(ValueError, match="whole number"):
        datasets.read_cifar10_archive(bad, "test")
    with pytest.raises(ValueError, match="lacks"):
        datasets.read_cifar10_archive(bad, "train")
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(ValueError, match="not a readable"):
        datasets.read_cifar10_archive(tmp_path / "junk.tar.gz", "test")
