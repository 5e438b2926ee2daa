"""Committed default checkpoints: present, verified, used without retraining, and reproducible by retraining."""

import importlib
import json
import shutil

import numpy as np
import pytest
import torch

from gnetlab import bnn, checkpoints, datasets, gnet, paths, pipeline, zoo
from gnetlab.checkpoints import CheckpointError

gtrain = importlib.import_module("gnetlab.gnet.train")  # `gnet.train` is the training function
CONFIG = pipeline.load_config()
GNET_MODELS = CONFIG["gnet_models"]
BNN_MODELS = CONFIG["bnn_models"]
# A retrained default model must land within this many accuracy points of the committed one (the
# committed one was trained on another CPU: torch's kernels and summation order differ between CPUs).
RETRAIN_TOLERANCE_POINTS = 1.5

TINY_SPEC = {"dataset": "digits", "data_seed": 0, "model": "mnist_dense",
             "model_kwargs": {"hidden": [16], "input_features": 64}, "activation": "rasu", "seed": 0,
             "train": {"epochs": 2, "batch_size": 100, "lr": 0.01, "weight_decay": 0.0, "val_size": 100}}


def _committed(name):
    return checkpoints.committed_dir() / f"{name}.pt"


USED = zoo.used_models(CONFIG)


def test_the_figures_use_models_of_both_kinds():
    assert {"ehd_rasu", "ehd_tasu", "bnn_fp32", "bnn_binarynet_progressive_kd"} <= set(USED)
    assert set(USED) <= set(GNET_MODELS) | set(BNN_MODELS)


@pytest.mark.parametrize("name", USED)
def test_every_default_model_is_committed_with_a_matching_sidecar(name):
    path = _committed(name)
    assert path.is_file(), f"{path} missing: python -m gnetlab.zoo retrain {name}"
    meta = checkpoints.verify(path)
    spec = GNET_MODELS.get(name) or BNN_MODELS[name]
    kind = "gnet" if name in GNET_MODELS else "bnn"
    assert meta["kind"] == kind
    normalised = gtrain._check_spec(spec) if kind == "gnet" else bnn.check_spec(spec)
    assert checkpoints.committed(name, normalised, kind=kind) == path
    assert meta["file_bytes"] < 2_000_000, "default checkpoints stay small"
    X, y = datasets.load(meta["spec"]["dataset"], split="train", seed=meta["spec"]["data_seed"])
    assert meta["data_sha256"] == checkpoints.data_fingerprint(X, y), "committed model trained on other data"


def test_load_model_uses_the_committed_checkpoint_without_training(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("load_model trained although a committed checkpoint matches")

    monkeypatch.setattr(gtrain, "train_from_spec", boom)
    model, meta = gnet.load_model("ehd_rasu", GNET_MODELS["ehd_rasu"])
    ref = torch.load(_committed("ehd_rasu"), weights_only=True)["state_dict"]
    assert all(torch.equal(v, ref[k]) for k, v in model.state_dict().items())
    assert not (paths.RESULTS / "models" / "ehd_rasu.pt").exists()


def test_load_baseline_uses_the_committed_checkpoint_and_restores_the_progressive_architecture(monkeypatch):
    monkeypatch.setattr(bnn, "train_from_spec", lambda *a, **k: pytest.fail("trained instead of loading"))
    model, meta = bnn.load_baseline("bnn_binarynet_progressive_kd", BNN_MODELS["bnn_binarynet_progressive_kd"])
    assert model.recipe == "binarynet"  # activations were binarized during training
    Xte, yte = datasets.load("mnist5k", split="test", seed=0)
    assert bnn.evaluate(model, Xte, yte) == pytest.approx(meta["test_acc"], abs=1e-12)


def test_another_spec_is_trained_into_results_not_taken_from_the_committed_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GNETLAB_MODELS_DIR", str(tmp_path))
    model, meta = gnet.load_model("ehd_rasu", TINY_SPEC, progress=False)
    assert (tmp_path / "ehd_rasu.pt").is_file() and (tmp_path / "ehd_rasu.json").is_file()
    assert meta["spec"]["dataset"] == "digits"
    side = checkpoints.verify(tmp_path / "ehd_rasu.pt")
    assert side["results"]["test_acc"] == meta["test_acc"]
    # the override wins even for the default spec: retraining mode never reads data/models
    calls = []
    monkeypatch.setattr(gtrain, "train_from_spec", lambda spec, progress=True: calls.append(spec) or (model, meta))
    gnet.load_model("ehd_tasu", GNET_MODELS["ehd_tasu"])
    assert calls, "GNETLAB_MODELS_DIR set: the default model must come from that directory"


@pytest.fixture()
def copied_checkpoint(tmp_path):
    for suffix in (".pt", ".json"):
        shutil.copy(_committed("ehd_rasu").with_suffix(suffix), tmp_path / f"ehd_rasu{suffix}")
    return tmp_path / "ehd_rasu.pt"


def test_modified_checkpoint_is_refused_with_the_fix(copied_checkpoint):
    data = bytearray(copied_checkpoint.read_bytes())
    data[-100] ^= 0xFF
    copied_checkpoint.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"sha256 .* differs .* retrain"):
        checkpoints.committed("ehd_rasu", gtrain._check_spec(GNET_MODELS["ehd_rasu"]), kind="gnet",
                              directory=copied_checkpoint.parent)


def test_committed_ignores_another_spec_and_kind(copied_checkpoint):
    spec = gtrain._check_spec(GNET_MODELS["ehd_rasu"])
    d = copied_checkpoint.parent
    assert checkpoints.committed("ehd_rasu", spec, kind="gnet", directory=d) == copied_checkpoint
    assert checkpoints.committed("ehd_rasu", {**spec, "seed": 1}, kind="gnet", directory=d) is None
    assert checkpoints.committed("ehd_rasu", spec, kind="bnn", directory=d) is None
    assert checkpoints.committed("other", spec, kind="gnet", directory=d) is None


@pytest.mark.parametrize("content, match", [
    (b"", "empty"),
    (b"not a checkpoint at all", "not a torch checkpoint"),
    (None, "directory"),
])
def test_bad_checkpoint_files_give_clear_errors(tmp_path, content, match):
    path = tmp_path / "m.pt"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match):
        gnet.load_checkpoint(path)


def test_missing_and_truncated_checkpoints(tmp_path, copied_checkpoint):
    with pytest.raises(CheckpointError, match="does not exist"):
        gnet.load_checkpoint(tmp_path / "nope.pt")
    cut = tmp_path / "cut.pt"
    cut.write_bytes(copied_checkpoint.read_bytes()[: 4000])
    with pytest.raises(CheckpointError):
        gnet.load_checkpoint(cut)


def test_a_pickle_with_code_is_refused_without_suggesting_unsafe_loading(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": gtrain.CHECKPOINT_FORMAT, "payload": np.random.default_rng(0)}, path)
    with pytest.raises(CheckpointError) as info:
        gnet.load_checkpoint(path)
    assert "weights_only=False" not in str(info.value)
    assert "could not be read safely" in str(info.value)


def test_foreign_checkpoint_kinds_are_refused(copied_checkpoint):
    with pytest.raises(CheckpointError, match="not a gnetlab baseline checkpoint"):
        bnn.load_checkpoint(copied_checkpoint)
    with pytest.raises(CheckpointError, match="not a gnetlab G-Net checkpoint"):
        gnet.load_checkpoint(_committed("bnn_fp32"))


def test_sidecar_errors(tmp_path, copied_checkpoint):
    side = copied_checkpoint.with_suffix(".json")
    side.write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        checkpoints.read_sidecar(copied_checkpoint)
    side.write_text(json.dumps({"spec": {}}))
    with pytest.raises(CheckpointError, match="file_sha256"):
        checkpoints.read_sidecar(copied_checkpoint)
    with pytest.raises(CheckpointError, match="no sidecar"):
        checkpoints.verify(tmp_path / "lonely.pt")


def test_committed_rejects_bad_names():
    for bad in ("", "../x", "a b", ".hidden", 3):
        with pytest.raises(ValueError, match="name"):
            checkpoints.committed(bad, {}, kind="gnet")


def test_cli_verify_and_unknown_names(capsys):
    assert zoo.main(["verify"]) == 0
    out = capsys.readouterr().out
    for name in USED:
        assert name in out
    with pytest.raises(SystemExit):
        zoo.main(["retrain", "no_such_model", "--out", "/nonexistent"])
    assert "unknown models" in capsys.readouterr().err


@pytest.mark.slow
def test_retraining_a_default_gnet_reproduces_the_committed_accuracy(one_torch_thread):
    name = "ehd_rasu"
    committed_acc = checkpoints.verify(_committed(name))["results"]["test_acc"]
    _, meta = gtrain.train_from_spec(GNET_MODELS[name], progress=False)
    print(f"{name}: retrained test accuracy {100 * meta['test_acc']:.2f}%, committed {100 * committed_acc:.2f}%")
    assert abs(100 * meta["test_acc"] - 100 * committed_acc) <= RETRAIN_TOLERANCE_POINTS


@pytest.mark.slow
def test_retraining_a_default_bnn_baseline_reproduces_the_committed_accuracy(one_torch_thread):
    name = "bnn_binarynet"
    committed_acc = checkpoints.verify(_committed(name))["results"]["test_acc"]
    _, meta = bnn.train_from_spec(BNN_MODELS[name], progress=False)
    print(f"{name}: retrained test accuracy {100 * meta['test_acc']:.2f}%, committed {100 * committed_acc:.2f}%")
    assert abs(100 * meta["test_acc"] - 100 * committed_acc) <= RETRAIN_TOLERANCE_POINTS
