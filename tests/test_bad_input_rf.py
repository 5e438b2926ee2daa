"""Bad input to gnetlab.rf (random features, interpolation, metrics, experiments)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gnetlab import rf

RF = rf.RandomFeatures(4, (8, 8), seed=0)
RF1 = rf.RandomFeatures(4, (8,), weights="onebit", seed=0)
X = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
PHI = np.random.default_rng(1).standard_normal((3, 6))
YT = np.ones(3)
SCORES = np.eye(5, 3)

CASES = [
    # RandomFeatures
    ("rf-input-dim-float", lambda: rf.RandomFeatures(4.0, (8,), seed=0), TypeError, "input_dim: expected an integer"),
    ("rf-widths-str", lambda: rf.RandomFeatures(4, "64", seed=0), TypeError, "widths: expected a sequence of positive integers, got '64'"),
    ("rf-widths-empty", lambda: rf.RandomFeatures(4, (), seed=0), ValueError, "widths: expected at least one"),
    ("rf-widths-float", lambda: rf.RandomFeatures(4, (8.5,), seed=0), TypeError, r"widths\[0\]: expected an integer"),
    ("rf-widths-none", lambda: rf.RandomFeatures(4, None, seed=0), TypeError, "widths: expected a sequence"),
    ("rf-activation", lambda: rf.RandomFeatures(4, (8,), activation="gelu", seed=0), ValueError, "activation: unknown value 'gelu'"),
    ("rf-activation-int", lambda: rf.RandomFeatures(4, (8,), activation=3, seed=0), TypeError, "activation: expected one of"),
    ("rf-weights", lambda: rf.RandomFeatures(4, (8,), weights="binary", seed=0), ValueError, "weights: unknown value 'binary'"),
    ("rf-backend", lambda: rf.RandomFeatures(4, (8,), method="numba", seed=0), ValueError, "method: unknown value 'numba'"),
    ("rf-seed-none", lambda: rf.RandomFeatures(4, (8,), seed=None), TypeError, "seed: an explicit seed"),
    ("rf-seed-neg", lambda: rf.RandomFeatures(4, (8,), seed=-1), ValueError, "seed: expected a non-negative"),
    ("transform-cols", lambda: RF.transform(np.ones((2, 5), np.float32)), ValueError, r"X: expected 4 columns \(input_dim\)"),
    ("transform-1d", lambda: RF.transform(np.ones(4, np.float32)), ValueError, r"X: expected a 2-D array.*reshape\(1, -1\)"),
    ("transform-int", lambda: RF.transform(np.ones((2, 4), np.int64)), TypeError, "X: expected a float array"),
    ("transform-nan", lambda: RF.transform(np.full((2, 4), np.nan)), ValueError, "X: contains non-finite"),
    ("transform-overflow", lambda: RF.transform(np.full((2, 4), 1e300)), ValueError, "X: values beyond the float32 range"),
    ("transform-backend", lambda: RF.transform(X, method="fast"), ValueError, "method: unknown value 'fast'"),
    ("layer-weight-neg", lambda: RF.layer_weight(-1), ValueError, r"layer: expected a hidden-layer index in \[0, 2\)"),
    ("layer-weight-big", lambda: RF.layer_weight(2), ValueError, "layer: expected a hidden-layer index"),
    ("scale-float", lambda: RF.scale(0.0), ValueError, "layer: expected a hidden-layer index"),
    ("layer-signs-gaussian", lambda: RF.layer_signs(0), ValueError, "layer_signs: only one-bit models"),
    ("packed-weights-big", lambda: RF1.packed_weights(1), ValueError, r"layer: expected a hidden-layer index in \[0, 1\)"),
    ("to-onebit-twice", lambda: RF1.to_onebit(), ValueError, "to_onebit: the model already has one-bit weights"),
    # interpolation
    ("minnorm-n-ge-p", lambda: rf.min_norm_interpolate(PHI.T, np.ones(6)), ValueError, "features: interpolation needs fewer samples"),
    ("minnorm-rows", lambda: rf.min_norm_interpolate(PHI, np.ones(4)), ValueError, r"targets: expected 3 rows"),
    ("minnorm-int-features", lambda: rf.min_norm_interpolate(PHI.astype(int), YT), TypeError, "features: expected a float"),
    ("minnorm-nan-targets", lambda: rf.min_norm_interpolate(PHI, [1.0, np.nan, 1.0]), ValueError, "targets: contains non-finite"),
    ("minnorm-3d-targets", lambda: rf.min_norm_interpolate(PHI, np.ones((3, 1, 1))), ValueError, "targets: expected a 1 or 2-D"),
    ("minnorm-empty", lambda: rf.min_norm_interpolate(np.ones((0, 6)), np.ones(0)), ValueError, "features: expected a non-empty"),
    ("minnorm-singular", lambda: rf.min_norm_interpolate(np.ones((3, 6)), YT), ValueError, "features: the Gram matrix"),
    ("teacher-avg-cols", lambda: rf.min_norm_teacher_averaged_mse(PHI, np.ones((2, 5))), ValueError, "test_features: expected 6 columns"),
    ("teacher-avg-empty-test", lambda: rf.min_norm_teacher_averaged_mse(PHI, np.ones((0, 6))), ValueError, "test_features: expected a non-empty"),
    ("teacher-avg-chol-shape", lambda: rf.min_norm_teacher_averaged_mse(PHI, PHI, gram_cholesky=np.eye(2)), ValueError, r"gram_cholesky: expected shape \(3, 3\)"),
    ("teacher-avg-chol-nan", lambda: rf.min_norm_teacher_averaged_mse(PHI, PHI, gram_cholesky=np.full((3, 3), np.nan)), ValueError, "gram_cholesky: contains non-finite"),
    ("by-depth-model", lambda: rf.teacher_averaged_mse_by_depth("rf", X, X), TypeError, "model: expected a gnetlab.rf.RandomFeatures"),
    ("by-depth-cols", lambda: rf.teacher_averaged_mse_by_depth(RF, X, X[:, :3]), ValueError, "X_test: expected 4 columns"),
    ("mirror-name", lambda: rf.mirror_interpolate(PHI, YT, "l1"), ValueError, "mirror: unknown value 'l1'"),
    ("mirror-lq-no-q", lambda: rf.mirror_interpolate(PHI, YT, "lq"), TypeError, "q: the 'lq' mirror needs q > 1"),
    ("mirror-lq-q-one", lambda: rf.mirror_interpolate(PHI, YT, "lq", q=1.0), ValueError, "q: expected a finite number > 1"),
    ("mirror-lq-q-nan", lambda: rf.mirror_interpolate(PHI, YT, "lq", q=float("nan")), ValueError, "q: expected a finite number > 1"),
    ("mirror-beta-neg", lambda: rf.mirror_interpolate(PHI, YT, "negentropy", beta=-1.0), ValueError, "beta: expected a finite number > 0"),
    ("mirror-rtol", lambda: rf.mirror_interpolate(PHI, YT, rtol=0.0), ValueError, r"rtol: expected a number in \(0"),
    ("mirror-rtol-str", lambda: rf.mirror_interpolate(PHI, YT, rtol="1e-8"), TypeError, "rtol: expected a finite real"),
    ("mirror-max-iter", lambda: rf.mirror_interpolate(PHI, YT, max_iter=0), ValueError, "max_iter: expected an integer >= 1"),
    ("mirror-init-shape", lambda: rf.mirror_interpolate(PHI, YT, init=np.zeros(5)), ValueError, r"init: expected shape \(6,\)"),
    ("smd-lr-neg", lambda: rf.stochastic_mirror_descent(PHI, YT, lr=-0.1, epochs=1, seed=0), ValueError, r"lr: expected a number in \(0"),
    ("smd-lr-nan", lambda: rf.stochastic_mirror_descent(PHI, YT, lr=float("nan"), epochs=1, seed=0), ValueError, "lr: expected a finite"),
    ("smd-init-shape", lambda: rf.stochastic_mirror_descent(PHI, YT, lr=0.1, epochs=1, seed=0, init=np.zeros(2)), ValueError, r"init: expected shape \(6,\)"),
    ("smd-epochs", lambda: rf.stochastic_mirror_descent(PHI, YT, lr=0.1, epochs=0, seed=0), ValueError, "epochs: expected an integer >= 1"),
    ("smd-2d-targets", lambda: rf.stochastic_mirror_descent(PHI, np.ones((3, 2)), lr=0.1, epochs=1, seed=0), ValueError, "targets: stochastic_mirror_descent takes one"),
    # metrics (issue 11: rf.accuracy must not broadcast mismatched labels)
    ("accuracy-labels-short", lambda: rf.accuracy(SCORES, [0]), ValueError, r"labels: expected shape \(5,\) to match scores"),
    ("accuracy-labels-column", lambda: rf.accuracy(SCORES, np.zeros((5, 1), int)), ValueError, "labels: expected a 1-D array"),
    ("accuracy-labels-float", lambda: rf.accuracy(SCORES, np.zeros(5)), TypeError, "labels: expected a signed integer"),
    ("accuracy-scores-1d", lambda: rf.accuracy(np.ones(5), np.zeros(5, int)), ValueError, "scores: expected a 2-D array"),
    ("accuracy-scores-empty", lambda: rf.accuracy(np.ones((0, 3)), np.zeros(0, int)), ValueError, "scores: expected a non-empty"),
    ("accuracy-scores-nan", lambda: rf.accuracy(np.full((2, 3), np.nan), np.zeros(2, int)), ValueError, "scores: contains NaN"),
    ("accuracy-scores-str", lambda: rf.accuracy(np.array([["a"]]), np.zeros(1, int)), TypeError, "scores: expected a float"),
    ("mse-shape", lambda: rf.mse(np.ones(3), np.ones(4)), ValueError, "pred: shape"),
    ("mse-empty", lambda: rf.mse([], []), ValueError, "pred: expected a non-empty"),
    ("mse-str", lambda: rf.mse(["a"], [1.0]), TypeError, "pred: expected a float"),
    ("one-hot-range", lambda: rf.one_hot([0, 3], 3), ValueError, r"labels: expected values in \[0, 3\)"),
    ("one-hot-neg", lambda: rf.one_hot([-1, 0], 3), ValueError, r"labels: expected values in \[0, 3\)"),
    ("one-hot-float", lambda: rf.one_hot([0.0], 3), TypeError, "labels: expected a signed integer"),
    ("one-hot-classes", lambda: rf.one_hot([0], 0), ValueError, "num_classes: expected an integer >= 1"),
    ("teacher-p", lambda: rf.draw_teacher(0, seed=0), ValueError, "p: expected an integer >= 1"),
    ("teacher-seed", lambda: rf.draw_teacher(3, seed=1.5), TypeError, "seed: expected an int"),
    ("resolve-mirror-q-str", lambda: rf.resolve_mirror("lq", q="3"), ValueError, "q: expected a finite number > 1"),
    # experiments
    ("synthetic-width-small", lambda: rf.synthetic_experiment(input_dim=4, widths=(4,), n_train=5, n_test=2, trials=1, seed=0, show_progress=False),
     ValueError, "widths: every width must exceed n_train"),
    ("synthetic-weights-str", lambda: rf.synthetic_experiment(input_dim=4, widths=(8,), n_train=2, n_test=2, trials=1, seed=0, weights="binary", show_progress=False),
     ValueError, "weights: unknown value 'binary'"),
    ("synthetic-input-var", lambda: rf.synthetic_experiment(input_dim=4, widths=(8,), n_train=2, n_test=2, trials=1, seed=0, input_var=-1.0, show_progress=False),
     ValueError, r"input_var: expected a number in \(0"),
    ("synthetic-seed", lambda: rf.synthetic_experiment(input_dim=4, widths=(8,), n_train=2, n_test=2, trials=1, seed=None, show_progress=False),
     TypeError, "seed: an explicit seed"),
    ("mnist-depths-str", lambda: rf.mnist_experiment(X, np.arange(3), X, np.arange(3), widths=(8,), depths="1", seed=0, show_progress=False),
     TypeError, "depths: expected a sequence"),
    ("mnist-labels-len", lambda: rf.mnist_experiment(X, np.arange(2), X, np.arange(3), widths=(8,), depths=(1,), seed=0, show_progress=False),
     ValueError, "y_train/y_test: expected one label per image"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_accuracy_issue_examples():
    """The two broadcasting cases of issue 11 raise; the true accuracy is still computed."""
    scores = np.eye(5, 3)
    labels = scores.argmax(1)
    assert rf.accuracy(scores, labels) == 1.0
    with pytest.raises(ValueError, match="labels"):
        rf.accuracy(scores, [0])
    with pytest.raises(ValueError, match="labels"):
        rf.accuracy(scores, labels[:, None])


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 12).filter(lambda n: n != 5), extra=st.lists(st.integers(1, 3), max_size=2))
def test_accuracy_label_shape_mismatch(n, extra):
    labels = np.zeros((n, *extra), dtype=np.int64)
    with pytest.raises(ValueError, match="labels: expected"):
        rf.accuracy(SCORES, labels)


@settings(max_examples=25, deadline=None)
@given(cols=st.integers(1, 10).filter(lambda c: c != 4))
def test_transform_wrong_columns(cols):
    with pytest.raises(ValueError, match=r"X: expected 4 columns \(input_dim\)"):
        RF.transform(np.zeros((2, cols), np.float32))


@settings(max_examples=25, deadline=None)
@given(dtype=st.sampled_from([np.complex128, np.str_, object, np.bool_, np.int64]))
def test_transform_wrong_dtype(dtype):
    with pytest.raises(TypeError, match="X: expected a (float|numeric) array"):
        RF.transform(np.ones((2, 4)).astype(dtype))
