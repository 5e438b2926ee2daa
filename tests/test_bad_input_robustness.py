"""Bad input to gnetlab.robustness (attacks and accuracy)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gnetlab import bnn, robustness

M = bnn.build_model("fp32", in_features=6, hidden=(8,), n_classes=3, seed=0)
X = np.random.default_rng(0).random((5, 6)).astype(np.float32)
Y = np.array([0, 1, 2, 0, 1])

CASES = [
    ("fgsm-eps-neg", lambda: robustness.fgsm(M, X, Y, -0.1), ValueError, r"eps: expected a number in \[0, inf\)"),
    ("fgsm-eps-nan", lambda: robustness.fgsm(M, X, Y, float("nan")), ValueError, "eps: expected a finite"),
    ("fgsm-eps-str", lambda: robustness.fgsm(M, X, Y, "0.1"), TypeError, "eps: expected a finite real"),
    ("fgsm-X-range", lambda: robustness.fgsm(M, X + 1, Y, 0.1), ValueError, r"X: attacks expect inputs scaled to \[0, 1\]"),
    ("fgsm-X-int", lambda: robustness.fgsm(M, X.astype(int), Y, 0.1), TypeError, "X: expected a float array"),
    ("fgsm-X-nan", lambda: robustness.fgsm(M, np.full((5, 6), np.nan, np.float32), Y, 0.1), ValueError, "X: contains non-finite"),
    ("fgsm-X-1d", lambda: robustness.fgsm(M, X[0], Y[:1], 0.1), ValueError, r"X: expected a batch of inputs.*X\[None\]"),
    ("fgsm-y-len", lambda: robustness.fgsm(M, X, Y[:2], 0.1), ValueError, "X, y: 5 inputs vs 2 labels"),
    ("fgsm-y-float", lambda: robustness.fgsm(M, X, Y * 1.0, 0.1), TypeError, "y: expected a signed integer"),
    ("fgsm-y-none", lambda: robustness.fgsm(M, X, None, 0.1), TypeError, "y: expected integer labels"),
    ("fgsm-model", lambda: robustness.fgsm("model", X, Y, 0.1), TypeError, "model: expected a torch module or a callable"),
    ("fgsm-grad-model", lambda: robustness.fgsm(M, X, Y, 0.1, grad_model=3), TypeError, "grad_model: expected a torch module"),
    ("pgd-steps", lambda: robustness.pgd(M, X, Y, 0.1, steps=0), ValueError, "steps: expected an integer >= 1"),
    ("pgd-steps-float", lambda: robustness.pgd(M, X, Y, 0.1, steps=2.5), TypeError, "steps: expected an integer"),
    ("pgd-step-size", lambda: robustness.pgd(M, X, Y, 0.1, step_size=-1.0), ValueError, r"step_size: expected a number in \(0"),
    ("pgd-seed-neg", lambda: robustness.pgd(M, X, Y, 0.1, seed=-1), ValueError, "seed: expected a non-negative"),
    ("pgd-seed-float", lambda: robustness.pgd(M, X, Y, 0.1, seed=1.5), TypeError, "seed: expected an int >= 0"),
    ("accuracy-y-short", lambda: robustness.accuracy(M, X, [0]), ValueError, "y: expected one label per input"),
    ("accuracy-y-2d", lambda: robustness.accuracy(M, X, Y[:, None]), ValueError, "y: expected a 1-D array"),
    ("accuracy-batch", lambda: robustness.accuracy(M, X, Y, batch_size=-1), ValueError, "batch_size: expected an integer >= 1"),
    ("accuracy-X-nan", lambda: robustness.accuracy(M, np.full((5, 6), np.nan), Y), ValueError, "X: contains non-finite"),
    ("accuracy-empty", lambda: robustness.accuracy(M, X[:0], Y[:0]), ValueError, "X: expected at least one input"),
    ("accuracy-model", lambda: robustness.accuracy(None, X, Y), TypeError, "model: expected a torch module"),
    ("attack-name", lambda: robustness.attack_accuracy(M, X, Y, 0.1, attack="cw"), ValueError, "attack: unknown value 'cw'"),
    ("attack-batch", lambda: robustness.attack_accuracy(M, X, Y, 0.1, batch_size=0), ValueError, "batch_size: expected an integer >= 1"),
    ("attack-eps", lambda: robustness.attack_accuracy(M, X, Y, -1.0), ValueError, "eps: expected a number"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_accuracy_issue_style_broadcast_is_refused():
    """Labels [0] must not broadcast against 5 predictions (a silent wrong accuracy before)."""
    assert 0.0 <= robustness.accuracy(M, X, Y) <= 1.0
    with pytest.raises(ValueError, match="y: expected one label per input"):
        robustness.accuracy(M, torch.from_numpy(X), np.array([0]))


@settings(max_examples=25, deadline=None)
@given(eps=st.one_of(st.floats(max_value=-1e-12), st.just(float("inf")), st.just(float("nan"))))
def test_bad_eps(eps):
    with pytest.raises(ValueError, match="eps: expected"):
        robustness.fgsm(M, X, Y, eps)


SQ = robustness.square_attack
IMG = (2, 3)
SQ_CASES = [
    ("square-fn", lambda: SQ("model", X, Y, 0.1, seed=0, image_shape=IMG), TypeError, "score_fn: expected a callable"),
    ("square-seed-none", lambda: SQ(M, X, Y, 0.1, seed=None, image_shape=IMG), TypeError, "seed: an explicit seed"),
    ("square-seed-float", lambda: SQ(M, X, Y, 0.1, seed=0.5, image_shape=IMG), TypeError, "seed: expected an int"),
    ("square-eps-neg", lambda: SQ(M, X, Y, -0.1, seed=0, image_shape=IMG), ValueError, r"eps: expected a number in \[0"),
    ("square-eps-vec-neg", lambda: SQ(M, X, Y, np.array([0.1, -0.1, 0.1, 0.1, 0.1]), seed=0, image_shape=IMG),
     ValueError, "eps: expected radii >= 0"),
    ("square-eps-vec-len", lambda: SQ(M, X, Y, np.array([0.1, 0.1]), seed=0, image_shape=IMG), ValueError,
     "eps: expected a scalar or one radius per input"),
    ("square-eps-vec-nan", lambda: SQ(M, X, Y, np.array([0.1, np.nan, 0.1, 0.1, 0.1]), seed=0, image_shape=IMG),
     ValueError, "eps: contains non-finite"),
    ("square-queries", lambda: SQ(M, X, Y, 0.1, queries=1, seed=0, image_shape=IMG), ValueError, "queries: expected an integer >= 2"),
    ("square-queries-float", lambda: SQ(M, X, Y, 0.1, queries=10.0, seed=0, image_shape=IMG), TypeError, "queries: expected an integer"),
    ("square-p", lambda: SQ(M, X, Y, 0.1, p_init=0.0, seed=0, image_shape=IMG), ValueError, r"p_init: expected a number in \(0"),
    ("square-p-big", lambda: SQ(M, X, Y, 0.1, p_init=1.5, seed=0, image_shape=IMG), ValueError, "p_init: expected a number"),
    ("square-flat-no-shape", lambda: SQ(M, X, Y, 0.1, seed=0), ValueError, "image_shape: required for inputs of shape"),
    ("square-shape-size", lambda: SQ(M, X, Y, 0.1, seed=0, image_shape=(2, 2)), ValueError, "image_shape: .* has 4 values"),
    ("square-shape-type", lambda: SQ(M, X, Y, 0.1, seed=0, image_shape="2x3"), TypeError, "image_shape: expected a tuple"),
    ("square-shape-thin", lambda: SQ(M, X, Y, 0.1, seed=0, image_shape=(1, 6)), ValueError, "image_shape: squares need H, W >= 2"),
    ("square-X-range", lambda: SQ(M, X + 1, Y, 0.1, seed=0, image_shape=IMG), ValueError, r"X: attacks expect inputs scaled to \[0, 1\]"),
    ("square-X-int", lambda: SQ(M, X.astype(int), Y, 0.1, seed=0, image_shape=IMG), TypeError, "X: expected a float array"),
    ("square-X-1d", lambda: SQ(M, X[0], Y[:1], 0.1, seed=0, image_shape=IMG), ValueError, "X: expected a batch of inputs"),
    ("square-X-empty", lambda: SQ(M, X[:0], Y[:0], 0.1, seed=0, image_shape=IMG), ValueError, "X: expected at least one input"),
    ("square-y-len", lambda: SQ(M, X, Y[:2], 0.1, seed=0, image_shape=IMG), ValueError, "X, y: 5 inputs vs 2 labels"),
    ("square-y-none", lambda: SQ(M, X, None, 0.1, seed=0, image_shape=IMG), TypeError, "y: expected integer labels"),
    ("square-y-range", lambda: SQ(M, X, Y + 5, 0.1, seed=0, image_shape=IMG), ValueError, "y: label 7 out of range for 3 scores"),
    ("square-scores-shape", lambda: SQ(lambda x: np.zeros((len(x), 3, 1)), X, Y, 0.1, seed=0, image_shape=IMG), ValueError,
     "score_fn output: expected a 2-D array"),
    ("square-scores-nan", lambda: SQ(lambda x: np.full((len(x), 3), np.nan), X, Y, 0.1, seed=0, image_shape=IMG), ValueError,
     "score_fn output: contains non-finite"),
    ("square-fraction-it", lambda: robustness.square_fraction(0.5, 11, 10), ValueError, r"iteration: expected an integer in \[1, 10\]"),
    ("pgd-loss", lambda: robustness.pgd(M, X, Y, 0.1, loss="hinge"), ValueError, "loss: unknown value 'hinge'"),
    ("pgd-grad-empty", lambda: robustness.pgd(M, X, Y, 0.1, grad_model=[]), ValueError, "grad_model: expected at least one"),
    ("pgd-grad-item", lambda: robustness.pgd(M, X, Y, 0.1, grad_model=[M, 3]), TypeError, r"grad_model\[1\]: expected a torch"),
    ("pgd-eot", lambda: robustness.pgd(M, X, Y, 0.1, grad_model=[M], eot_samples=0), ValueError, "eot_samples: expected an integer >= 1"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in SQ_CASES], ids=[c[0] for c in SQ_CASES])
def test_bad_input_square(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
