"""Bad input to gnetlab.io, gnetlab.plotting.save_figure, gnetlab.checkpoints and gnetlab.reference."""

import numpy as np
import pandas as pd
import pytest
import torch

from gnetlab import bnn, checkpoints, gnet, io, plotting, reference, zoo


@pytest.fixture
def fig():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f, _ = plt.subplots()
    yield f
    plt.close(f)


def test_atomic_path_refuses_directory_target(tmp_path):
    with pytest.raises(IsADirectoryError, match="target: .* is a directory"):
        io.write_text_atomic(tmp_path, "x")
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


@pytest.mark.parametrize("target, exc, match", [
    (3, TypeError, "target: expected a path"),
    (None, TypeError, "target: expected a path"),
    (b"bytes", TypeError, "target: expected a path"),
])
def test_atomic_path_bad_target(target, exc, match):
    with pytest.raises(exc, match=match):
        io.write_text_atomic(target, "x")


@pytest.mark.parametrize("text", [b"bytes", 3, None, ["a"]])
def test_write_text_atomic_needs_str(tmp_path, text):
    with pytest.raises(TypeError, match="text: expected a str"):
        io.write_text_atomic(tmp_path / "a.txt", text)
    assert not (tmp_path / "a.txt").exists()


@pytest.mark.parametrize("df", [{"a": [1]}, [[1, 2]], np.zeros((2, 2)), None])
def test_write_csv_atomic_needs_dataframe(tmp_path, df):
    with pytest.raises(TypeError, match="df: expected a pandas DataFrame"):
        io.write_csv_atomic(df, tmp_path / "a.csv")


@pytest.mark.parametrize("slug, exc, match", [
    ("", ValueError, "slug: expected a plain file stem"),
    ("a/b", ValueError, "slug: expected a plain file stem"),
    ("with space", ValueError, "slug: expected a plain file stem"),
    ("..\\up", ValueError, "slug: expected a plain file stem"),
    (3, TypeError, "slug: expected a plain file stem"),
    (None, TypeError, "slug: expected a plain file stem"),
])
def test_save_figure_bad_slug(fig, tmp_path, slug, exc, match):
    with pytest.raises(exc, match=match):
        plotting.save_figure(fig, slug, figures_dir=tmp_path, results_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_save_figure_bad_fig_and_data(fig, tmp_path):
    with pytest.raises(TypeError, match="fig: expected a matplotlib Figure"):
        plotting.save_figure("figure", "ok", figures_dir=tmp_path, results_dir=tmp_path)
    with pytest.raises(TypeError, match="data: expected a pandas DataFrame"):
        plotting.save_figure(fig, "ok", {"a": [1]}, figures_dir=tmp_path, results_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("threads, exc", [(0, ValueError), (1.5, TypeError), ("2", TypeError)])
def test_machine_note_threads(fig, threads, exc):
    with pytest.raises(exc, match="threads: expected an integer"):
        plotting.machine_note(fig, threads)


def test_checkpoint_files(tmp_path):
    """Missing, empty, corrupt and foreign checkpoint files: CheckpointError without unsafe advice."""
    with pytest.raises(FileNotFoundError, match="does not exist"):
        gnet.load_checkpoint(tmp_path / "none.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file at all")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    for name in ("empty.pt", "junk.pt", "foreign.pt"):
        for load in (gnet.load_checkpoint, bnn.load_checkpoint):
            with pytest.raises(checkpoints.CheckpointError) as info:
                load(tmp_path / name)
            assert "weights_only=False" not in str(info.value)
    (tmp_path / "dir.pt").mkdir()
    with pytest.raises(checkpoints.CheckpointError, match="is a directory"):
        checkpoints.safe_torch_load(tmp_path / "dir.pt")


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "with space", 3, None])
def test_committed_bad_name(name):
    with pytest.raises(ValueError, match="name: expected a plain model name"):
        checkpoints.committed(name, {}, kind="gnet")


def test_verify_without_sidecar(tmp_path):
    (tmp_path / "m.pt").write_bytes(b"x")
    with pytest.raises(checkpoints.CheckpointError, match="has no sidecar"):
        checkpoints.verify(tmp_path / "m.pt")


def test_reference_unknown_slug(tmp_path):
    with pytest.raises(ValueError, match="slug: 'no_such_figure' has no entry in tolerances.yaml"):
        reference.compare_slug("no_such_figure", tmp_path)
    with pytest.raises(ValueError, match="slugs: 'no_such_figure' has no entry"):
        reference.update(tmp_path, ["no_such_figure"])


def test_reference_bad_tolerances(tmp_path):
    path = tmp_path / "tolerances.yaml"
    path.write_text("fig:\n  notebook: x.ipynb\n  tolerance: 1\n")
    with pytest.raises(ValueError, match=r"entry 'fig' has unknown keys \['tolerance'\]"):
        reference.load_specs(path)
    path.write_text("fig:\n  keys: [a]\n")
    with pytest.raises(ValueError, match="entry 'fig' needs at least a 'notebook' key"):
        reference.load_specs(path)
    with pytest.raises(FileNotFoundError, match="tolerance file"):
        reference.load_specs(tmp_path / "missing.yaml")


MORE_CASES = [
    ("committed-kind", lambda: checkpoints.committed("ehd_rasu", {}, kind="svm"), ValueError, "kind: unknown value 'svm'"),
    ("committed-spec", lambda: checkpoints.committed("ehd_rasu", [1], kind="gnet"), TypeError, "spec: expected a dict"),
    ("retrain-names-str", lambda: zoo.retrain("ehd_rasu"), TypeError, "names: expected a list of model names"),
    ("retrain-unknown", lambda: zoo.retrain(["no_such_model"]), ValueError, r"names: unknown models \['no_such_model'\]"),
    ("reference-slug-list", lambda: reference.compare_slug(["a"], "."), ValueError, r"slug: \['a'\] has no entry"),
    ("reference-slugs-str", lambda: reference.compare_dir(".", "rf_speed"), TypeError, "slugs: expected a list of slugs"),
    ("reference-update-slugs-str", lambda: reference.update(".", "rf_speed"), TypeError, "slugs: expected a list of slugs"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in MORE_CASES], ids=[c[0] for c in MORE_CASES])
def test_bad_input_checkpoints_reference(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
