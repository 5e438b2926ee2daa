"""Bad input to gnetlab.bnn (quantizers, baselines, training config, packed export)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gnetlab import bnn

M = bnn.build_model("binarynet", in_features=6, hidden=(8,), n_classes=3, seed=0)
PACKED = bnn.export_binarynet(M)
X = np.random.default_rng(0).random((5, 6)).astype(np.float32)
Y = np.array([0, 1, 2, 0, 1])

CASES = [
    ("quantizer-name", lambda: bnn.get_quantizer("sgn"), ValueError, "name: unknown quantizer 'sgn'"),
    ("quantizer-list", lambda: bnn.get_quantizer(["ste_sign"]), ValueError, "name: unknown quantizer"),
    ("build-recipe", lambda: bnn.build_model("binary", seed=0), ValueError, "recipe: unknown value 'binary'"),
    ("build-recipe-list", lambda: bnn.build_model(["xnor"], seed=0), TypeError, "recipe: expected one of"),
    ("build-in-features", lambda: bnn.build_model("fp32", in_features=0, seed=0), ValueError, "in_features: expected an integer >= 1"),
    ("build-in-features-float", lambda: bnn.build_model("fp32", in_features=784.0, seed=0), TypeError, "in_features: expected an integer"),
    ("build-hidden-float", lambda: bnn.build_model("fp32", hidden=(2.7,), seed=0), TypeError, r"hidden\[0\]: expected an integer"),
    ("build-hidden-str", lambda: bnn.build_model("fp32", hidden="512", seed=0), TypeError, "hidden: expected a list or tuple"),
    ("build-hidden-zero", lambda: bnn.build_model("fp32", hidden=(0,), seed=0), ValueError, r"hidden\[0\]: expected an integer >= 1"),
    ("build-classes", lambda: bnn.build_model("fp32", n_classes=1, seed=0), ValueError, "n_classes: expected an integer >= 2"),
    ("build-dropout", lambda: bnn.build_model("fp32", dropout=-0.1, seed=0), ValueError, r"dropout: expected a number in \[0, 1\)"),
    ("build-dropout-nan", lambda: bnn.build_model("fp32", dropout=float("nan"), seed=0), ValueError, "dropout: expected a finite"),
    ("build-seed-neg", lambda: bnn.build_model("fp32", seed=-1), ValueError, "seed: expected a non-negative"),
    ("build-seed-none", lambda: bnn.build_model("fp32", seed=None), TypeError, "seed: an explicit seed"),
    ("build-seed-float", lambda: bnn.build_model("fp32", seed=0.0), TypeError, "seed: expected an int >= 0"),
    ("forward-shape", lambda: M(torch.ones(2, 5)), ValueError, r"x: expected shape \(batch, 6\)"),
    # evaluate: labels must not broadcast
    ("evaluate-y-short", lambda: bnn.evaluate(M, X, [0]), ValueError, "y: expected 5 labels"),
    ("evaluate-y-2d", lambda: bnn.evaluate(M, X, Y[:, None]), ValueError, "y: expected a 1-D array"),
    ("evaluate-y-float", lambda: bnn.evaluate(M, X, Y * 1.0), TypeError, "y: expected a signed integer"),
    ("evaluate-X-int", lambda: bnn.evaluate(M, X.astype(int), Y), TypeError, "X: expected a float array"),
    ("evaluate-X-nan", lambda: bnn.evaluate(M, np.full((5, 6), np.nan), Y), ValueError, "X: contains non-finite"),
    ("evaluate-batch", lambda: bnn.evaluate(M, X, Y, batch_size=0), ValueError, "batch_size: expected an integer >= 1"),
    ("evaluate-empty", lambda: bnn.evaluate(M, X[:0], Y[:0]), ValueError, "X: expected at least one sample"),
    ("evaluate-model", lambda: bnn.evaluate("m", X, Y), TypeError, "model: expected a torch.nn.Module"),
    # training config
    ("train-cfg-dict", lambda: bnn.train_classifier(M, X, Y, {"epochs": 1}), TypeError, "cfg: expected a gnetlab.bnn.TrainConfig"),
    ("train-epochs", lambda: bnn.train_classifier(M, X, Y, bnn.TrainConfig(epochs=0)), ValueError, "cfg.epochs: expected an integer >= 1"),
    ("train-batch", lambda: bnn.train_classifier(M, X, Y, bnn.TrainConfig(batch_size=2.5)), TypeError, "cfg.batch_size: expected an integer"),
    ("train-lr", lambda: bnn.train_classifier(M, X, Y, bnn.TrainConfig(lr=float("nan"))), ValueError, "cfg.lr: expected a finite"),
    ("train-val-fraction", lambda: bnn.train_classifier(M, X, Y, bnn.TrainConfig(val_fraction=1.0)), ValueError, r"cfg.val_fraction: expected a number in \[0, 1\)"),
    ("train-seed", lambda: bnn.train_classifier(M, X, Y, bnn.TrainConfig(seed=-1)), ValueError, "cfg.seed: expected a non-negative"),
    ("train-distill-alpha", lambda: bnn.train_classifier(M, X, Y, bnn.TrainConfig(distill_alpha=2.0)), ValueError, r"cfg.distill_alpha: expected a number in \[0, 1\]"),
    ("train-distill-no-teacher", lambda: bnn.train_classifier(M, X, Y, bnn.TrainConfig(distill_alpha=0.5)), ValueError, "distill_alpha > 0 needs a teacher"),
    ("train-temperature", lambda: bnn.train_classifier(M, X, Y, bnn.TrainConfig(distill_temperature=0)), ValueError, "cfg.distill_temperature: expected a number"),
    ("train-binarize-from", lambda: bnn.train_classifier(M, X, Y, bnn.TrainConfig(binarize_activations_from=-1)), ValueError, "cfg.binarize_activations_from: expected an integer >= 0"),
    ("train-y-len", lambda: bnn.train_classifier(M, X, Y[:3], bnn.TrainConfig(epochs=1)), ValueError, "X, y: 5 samples vs 3 labels"),
    ("train-model", lambda: bnn.train_classifier(None, X, Y, bnn.TrainConfig(epochs=1)), TypeError, "model: expected a torch.nn.Module"),
    # spec
    ("spec-not-dict", lambda: bnn.check_spec([]), TypeError, "spec: expected a dict"),
    ("spec-unknown-key", lambda: bnn.check_spec({"dataset": "digits", "recipe": "fp32", "hidden": [8], "seed": 0, "train": {}, "lr": 1}), ValueError, r"spec: unknown keys \['lr'\]"),
    ("spec-recipe", lambda: bnn.check_spec({"dataset": "digits", "recipe": "fp16", "hidden": [8], "seed": 0, "train": {}}), ValueError, r"spec\['recipe'\]: unknown value"),
    ("spec-hidden-int", lambda: bnn.check_spec({"dataset": "digits", "recipe": "fp32", "hidden": 8, "seed": 0, "train": {}}), (TypeError, ValueError), r"spec\['hidden'\]: expected a (non-empty )?list"),
    ("spec-seed-neg", lambda: bnn.check_spec({"dataset": "digits", "recipe": "fp32", "hidden": [8], "seed": -1, "train": {}}), ValueError, r"spec\['seed'\]: expected a non-negative"),
    ("spec-train-key", lambda: bnn.check_spec({"dataset": "digits", "recipe": "fp32", "hidden": [8], "seed": 0, "train": {"epoch": 1}}), ValueError, r"spec\['train'\]: expected a dict with keys"),
    # packed export
    ("export-fp32", lambda: bnn.export_binarynet(bnn.build_model("fp32", in_features=6, hidden=(8,), n_classes=3, seed=0)), ValueError, "export_binarynet: expected a BinaryMLP built with recipe='binarynet'"),
    ("packed-X-cols", lambda: PACKED.predict(X[:, :5]), ValueError, "X: expected 6 features, got 5"),
    ("packed-X-1d", lambda: PACKED.predict(X[0]), ValueError, "X: expected a 2-D array"),
    ("packed-X-int", lambda: PACKED.predict(X.astype(np.int64)), TypeError, "X: expected a float array"),
    ("costs-model", lambda: bnn.model_costs("m"), TypeError, "model: expected a torch.nn.Module"),
    ("packed-backend", lambda: PACKED.predict(X, backend="gpu"), ValueError, "backend: unknown value 'gpu'"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 12).filter(lambda n: n != 5))
def test_evaluate_label_count(n):
    with pytest.raises(ValueError, match=f"y: expected 5 labels .*got {n}"):
        bnn.evaluate(M, X, np.zeros(n, np.int64))
