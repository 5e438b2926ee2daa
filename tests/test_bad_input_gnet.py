"""Bad input to gnetlab.gnet (configs, builders, predict, train, evaluate, checkpoints)."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gnetlab import gnet

CFG = gnet.build_model("mnist_dense", hidden=(8,), input_features=20, n_classes=3).config
M = gnet.GNet(CFG)
X = np.random.default_rng(0).random((6, 20)).astype(np.float32)
Y = np.array([0, 1, 2, 0, 1, 2])


def cfg(**changes):
    c = json.loads(json.dumps(CFG))
    c.update(changes)
    return c


def block(**changes):
    c = json.loads(json.dumps(CFG))
    c["blocks"][0].update(changes)
    return c


CASES = [
    # issue 11: no int() truncation of sizes
    ("hidden-float", lambda: gnet.build_model("mnist_dense", hidden=(2.7,)), TypeError, r"hidden\[0\]: expected an integer"),
    ("hidden-zero", lambda: gnet.build_model("mnist_dense", hidden=(0,)), ValueError, r"hidden\[0\]: expected an integer >= 1"),
    ("hidden-str", lambda: gnet.build_model("mnist_dense", hidden="64"), TypeError, "hidden: expected a list or tuple"),
    ("hidden-empty", lambda: gnet.build_model("mnist_dense", hidden=()), ValueError, "hidden: at least one hidden layer"),
    ("dropout-one", lambda: gnet.build_model("mnist_dense", dropout=1.0), ValueError, r"dropout: expected a number in \[0, 1\)"),
    ("input-features-float", lambda: gnet.build_model("mnist_dense", input_features=784.0), TypeError, "input_features: expected an integer"),
    ("n-classes-one", lambda: gnet.build_model("mnist_dense", n_classes=1), ValueError, "n_classes: expected an integer >= 2"),
    # the cosine kernel (distortion ablation): kernel names and the kernel/unit pairing
    ("build-kernel-unknown", lambda: gnet.build_model("mnist_dense", activation="relu", kernel="sine"), ValueError, "kernel: unknown value 'sine'"),
    ("build-kernel-list", lambda: gnet.build_model("mnist_dense", activation="relu", kernel=["cosine"]), TypeError, "kernel: expected one of"),
    ("build-relu-on-arcsine", lambda: gnet.build_model("mnist_dense", activation="relu"), ValueError, "activation: 'relu' is a unit of the 'cosine' kernel, but kernel is 'arcsine'"),
    ("build-rasu-on-cosine", lambda: gnet.build_model("mnist_dense", activation="rasu", kernel="cosine"), ValueError, "activation: 'rasu' is a unit of the 'arcsine' kernel, but kernel is 'cosine'"),
    ("config-kernel-unknown", lambda: gnet.GNet(cfg(kernel="tan", activation="relu")), ValueError, "kernel: unknown value 'tan'"),
    ("config-tasu-on-cosine", lambda: gnet.GNet(cfg(kernel="cosine")), ValueError, "activation: 'rasu' is a unit of the 'arcsine' kernel"),
    ("config-relu-no-kernel", lambda: gnet.GNet(cfg(activation="relu")), ValueError, "activation: 'relu' is a unit of the 'cosine' kernel"),
    ("layer-kernel-unknown", lambda: gnet.ArcsineDense(3, 2, kernel="sine"), ValueError, "kernel: unknown value 'sine'"),
    ("conv-kernel-unknown", lambda: gnet.ArcsineConv2d(1, 2, 3, kernel=None), ValueError, "kernel: unknown value None"),
    ("distort-cosine-on-arcsine", lambda: M.predict(X, distort_cosine=True), ValueError, "distort_cosine: only for cosine-kernel G-Nets"),
    ("build-unknown-name", lambda: gnet.build_model("resnet"), ValueError, "name: unknown architecture 'resnet'"),
    ("build-name-list", lambda: gnet.build_model(["mnist"]), ValueError, "name: unknown architecture"),
    ("build-activation", lambda: gnet.build_model("mnist_dense", activation="gelu"), ValueError, "activation: unknown value 'gelu'"),
    ("build-unknown-kwarg", lambda: gnet.build_model("mnist_dense", hiden=(8,)), TypeError, r"unexpected options \['hiden'\]"),
    # issue 11: one seed rule (int >= 0) everywhere
    ("build-seed-neg", lambda: gnet.build_model("mnist_dense", seed=-1), ValueError, "seed: expected a non-negative integer"),
    ("build-seed-float", lambda: gnet.build_model("mnist_dense", seed=1.0), TypeError, "seed: expected an int >= 0"),
    ("build-seed-none", lambda: gnet.build_model("mnist_dense", seed=None), TypeError, "seed: an explicit seed"),
    ("build-seed-bool", lambda: gnet.build_model("mnist_dense", seed=True), TypeError, "seed: expected an int >= 0"),
    # GNet config
    ("config-not-dict", lambda: gnet.GNet([1, 2]), TypeError, "config: expected a dict"),
    ("config-json-str-bad", lambda: gnet.GNet.from_config("[]"), TypeError, "config: expected a dict"),
    ("config-missing-key", lambda: gnet.GNet({k: v for k, v in CFG.items() if k != "blocks"}), ValueError, "config: missing key 'blocks'"),
    ("config-shape-float", lambda: gnet.GNet(cfg(input_shape=[20.9])), TypeError, r"config\['input_shape'\]\[0\]: expected an integer"),
    ("config-shape-zero", lambda: gnet.GNet(cfg(input_shape=[0])), ValueError, r"config\['input_shape'\]\[0\]: expected an integer >= 1"),
    ("config-shape-int", lambda: gnet.GNet(cfg(input_shape=20)), ValueError, r"config\['input_shape'\]: expected a non-empty list"),
    ("config-shape-empty", lambda: gnet.GNet(cfg(input_shape=[])), ValueError, r"config\['input_shape'\]: expected a non-empty list"),
    ("config-shift-nan", lambda: gnet.GNet(cfg(input_shift=float("nan"))), ValueError, r"config\['input_shift'\]: expected a finite"),
    ("config-shift-inf", lambda: gnet.GNet(cfg(input_shift=float("inf"))), ValueError, r"config\['input_shift'\]: expected a finite"),
    ("config-shift-str", lambda: gnet.GNet(cfg(input_shift="0.5")), TypeError, r"config\['input_shift'\]: expected a finite real"),
    ("config-scale-zero", lambda: gnet.GNet(cfg(input_scale=0.0)), ValueError, r"config\['input_scale'\]: expected a nonzero"),
    ("config-scale-nan", lambda: gnet.GNet(cfg(input_scale=float("nan"))), ValueError, r"config\['input_scale'\]: expected a finite"),
    ("config-seed-neg", lambda: gnet.GNet(cfg(seed=-3)), ValueError, r"config\['seed'\]: expected a non-negative"),
    ("config-seed-float", lambda: gnet.GNet(cfg(seed=0.5)), TypeError, r"config\['seed'\]: expected an int"),
    ("config-activation", lambda: gnet.GNet(cfg(activation="sigmoid")), ValueError, "activation: unknown value 'sigmoid'"),
    ("config-n-classes", lambda: gnet.GNet(cfg(n_classes=2.0)), ValueError, "config: n_classes must be an integer >= 2"),
    ("config-blocks-empty", lambda: gnet.GNet(cfg(blocks=[])), ValueError, r"config\['blocks'\]: at least one"),
    ("config-block-not-dict", lambda: gnet.GNet(cfg(blocks=[8])), TypeError, r"config\['blocks'\]\[0\]: expected a dict"),
    ("config-block-kind", lambda: gnet.GNet(block(kind="lstm")), ValueError, "config: block 0 has unknown kind 'lstm'"),
    ("config-block-out-float", lambda: gnet.GNet(block(out=8.5)), ValueError, "config: block 0 needs 'out' >= 1"),
    ("config-block-dropout", lambda: gnet.GNet(block(dropout=1.5)), ValueError, r"config\['blocks'\]\[0\]\['dropout'\]"),
    ("config-block-std-nan", lambda: gnet.GNet(block(weight_std=float("nan"))), ValueError, r"config\['blocks'\]\[0\]\['weight_std'\]"),
    ("config-conv-kernel-float", lambda: gnet.GNet(cfg(input_shape=[1, 8], blocks=[{"kind": "conv1d", "out": 2, "kernel_size": 2.5}])),
     TypeError, r"config\['blocks'\]\[0\]\['kernel_size'\]: expected an integer"),
    ("config-conv-pool-zero", lambda: gnet.GNet(cfg(input_shape=[1, 8], blocks=[{"kind": "conv1d", "out": 2, "kernel_size": 3, "pool": 0}])),
     ValueError, r"config\['blocks'\]\[0\]\['pool'\]: expected an integer >= 1"),
    ("config-conv-no-kernel", lambda: gnet.GNet(cfg(input_shape=[1, 8], blocks=[{"kind": "conv1d", "out": 2}])),
     ValueError, "config: block 0 \\(conv1d\\) needs 'kernel_size'"),
    ("config-output-not-dict", lambda: gnet.GNet(cfg(output=[0.6])), TypeError, r"config\['output'\]: expected a dict"),
    # predict / forward inputs
    ("predict-batch-neg", lambda: M.predict(X, batch_size=-1), ValueError, "batch_size: expected an integer >= 1"),
    ("predict-batch-zero", lambda: M.predict(X, batch_size=0), ValueError, "batch_size: expected an integer >= 1"),
    ("predict-batch-float", lambda: M.predict(X, batch_size=2.5), TypeError, "batch_size: expected an integer"),
    ("predict-1d", lambda: M.predict(X[0]), ValueError, r"x: expected shape \(batch, 20\).*x\[None\]"),
    ("predict-width", lambda: M.predict(X[:, :19]), ValueError, r"x: expected shape \(batch, 20\)"),
    ("predict-nan", lambda: M.predict(np.full((2, 20), np.nan)), ValueError, "x: contains non-finite values"),
    ("predict-complex", lambda: M.predict(np.ones((2, 20), complex)), TypeError, "x: expected a float"),
    ("predict-complex-tensor", lambda: M.predict(torch.ones((2, 20), dtype=torch.complex64)), TypeError, "x: expected a real"),
    ("predict-str", lambda: M.predict(np.array([["a"] * 20])), TypeError, "x: expected a float"),
    ("predict-object", lambda: M.predict([[1.0] * 20, [1.0] * 19]), TypeError, "x: cannot be read as an array"),
    # evaluate / train
    ("evaluate-y-len", lambda: gnet.evaluate(M, X, Y[:5]), ValueError, "X, y: 6 samples but 5 labels"),
    ("evaluate-y-float", lambda: gnet.evaluate(M, X, Y.astype(float)), TypeError, "y: expected a signed integer"),
    ("evaluate-y-range", lambda: gnet.evaluate(M, X, Y + 1), ValueError, "y: labels must lie in 0..2"),
    ("evaluate-y-2d", lambda: gnet.evaluate(M, X, Y[:, None]), ValueError, "y: expected a 1-D array"),
    ("evaluate-batch", lambda: gnet.evaluate(M, X, Y, batch_size=0), ValueError, "batch_size: expected an integer >= 1"),
    ("evaluate-empty", lambda: gnet.evaluate(M, X[:0], Y[:0]), ValueError, "X: expected at least one sample"),
    ("evaluate-model", lambda: gnet.evaluate("model", X, Y), TypeError, "model: expected a gnetlab.gnet.GNet"),
    ("train-epochs", lambda: gnet.train(M, X, Y, epochs=0, batch_size=2, lr=0.1, seed=0, val_size=3), ValueError, "epochs: expected an integer >= 1"),
    ("train-lr-nan", lambda: gnet.train(M, X, Y, epochs=1, batch_size=2, lr=float("nan"), seed=0, val_size=3), ValueError, "lr: expected a finite"),
    ("train-lr-neg", lambda: gnet.train(M, X, Y, epochs=1, batch_size=2, lr=-0.1, seed=0, val_size=3), ValueError, r"lr: expected a number in \(0"),
    ("train-wd-neg", lambda: gnet.train(M, X, Y, epochs=1, batch_size=2, lr=0.1, weight_decay=-1, seed=0, val_size=3), ValueError, "weight_decay: expected a number"),
    ("train-seed-neg", lambda: gnet.train(M, X, Y, epochs=1, batch_size=2, lr=0.1, seed=-1, val_size=3), ValueError, "seed: expected a non-negative"),
    ("train-batch-one", lambda: gnet.train(M, X, Y, epochs=1, batch_size=1, lr=0.1, seed=0, val_size=3), ValueError, "batch_size: expected an integer >= 2"),
    ("train-no-val", lambda: gnet.train(M, X, Y, epochs=1, batch_size=2, lr=0.1, seed=0), ValueError, "train: give X_val/y_val or val_size"),
    ("make-activation", lambda: gnet.make_activation("gelu"), ValueError, "activation: unknown name 'gelu'"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_load_checkpoint_missing_is_file_not_found(tmp_path):
    from gnetlab.checkpoints import CheckpointError

    with pytest.raises(FileNotFoundError, match="does not exist"):
        gnet.load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        gnet.load_checkpoint(tmp_path / "missing.pt")


@settings(max_examples=30, deadline=None)
@given(size=st.floats(min_value=0.01, max_value=1000).filter(lambda v: not float(v).is_integer()))
def test_fractional_sizes_are_refused(size):
    with pytest.raises(TypeError, match=r"hidden\[0\]: expected an integer"):
        gnet.build_model("mnist_dense", hidden=(size,))
    with pytest.raises(TypeError, match=r"config\['input_shape'\]\[0\]: expected an integer"):
        gnet.GNet(cfg(input_shape=[size]))


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 5), min_size=1, max_size=4).filter(lambda s: not (len(s) == 2 and s[1] == 20)))
def test_predict_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"x: expected shape \(batch, 20\)"):
        M.predict(np.zeros(shape, np.float32))


LAYER_CASES = [
    ("dense-in-float", lambda: gnet.ArcsineDense(4.5, 3), TypeError, "in_features: expected an integer"),
    ("dense-out-zero", lambda: gnet.ArcsineDense(4, 0), ValueError, "out_features: expected an integer >= 1"),
    ("conv-kernel-float", lambda: gnet.ArcsineConv2d(1, 3, 2.5), ValueError, "kernel_size: expected an integer >= 1"),
    ("conv-padding-neg", lambda: gnet.ArcsineConv1d(1, 3, 3, padding=-1), ValueError, "padding: expected an integer >= 0"),
    ("output-classes", lambda: gnet.NormalizedOutput(4, 1.5), TypeError, "n_classes: expected an integer >= 2"),
    ("output-q", lambda: gnet.NormalizedOutput(4, 3, q=0.0), ValueError, r"q: expected a number in \(0"),
    ("activation-alpha-nan", lambda: gnet.make_activation("rasu", alpha=float("nan")), ValueError, "alpha: expected a finite"),
    ("from-config-bad-json", lambda: gnet.GNet.from_config("{bad"), ValueError, "config: expected a dict or its JSON text"),
    ("save-metadata-not-json", lambda: gnet.save_checkpoint(M, "/tmp/never.pt", metadata={"a": object()}), TypeError, "metadata: expected a JSON-able dict"),
    ("save-metadata-list", lambda: gnet.save_checkpoint(M, "/tmp/never.pt", metadata=[1]), TypeError, "metadata: expected a JSON-able dict"),
    ("save-model", lambda: gnet.save_checkpoint("m", "/tmp/never.pt"), TypeError, "model: expected a gnetlab.gnet.GNet"),
    ("model-path-name", lambda: gnet.model_path("a/b"), ValueError, "name: expected a plain model name"),
    ("spec-split", lambda: gnet.spec_data({"dataset": "digits", "model": "mnist_dense", "activation": "rasu", "train": {}}, split="val"), ValueError, "split: unknown value 'val'"),
    ("spec-not-dict", lambda: gnet.train_from_spec([1]), TypeError, "spec: expected a dict"),
    ("spec-train-list", lambda: gnet.train_from_spec({"dataset": "digits", "model": "mnist_dense", "activation": "rasu", "train": []}), TypeError, r"spec\['train'\]: expected a dict"),
    ("spec-seed-neg", lambda: gnet.train_from_spec({"dataset": "digits", "model": "mnist_dense", "activation": "rasu", "train": {}, "seed": -1}), ValueError, r"spec\['seed'\]: expected a non-negative"),
    ("spec-unknown-key", lambda: gnet.train_from_spec({"dataset": "digits", "model": "mnist_dense", "activation": "rasu", "train": {}, "sed": 1}), ValueError, r"spec: unknown keys \['sed'\]"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in LAYER_CASES], ids=[c[0] for c in LAYER_CASES])
def test_bad_input_layers_and_checkpoints(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
