"""Bad input to gnetlab.hdc (functional core, classifiers, the comparison protocol)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gnetlab import hdc
from gnetlab.bits import pack_signs
from gnetlab.hdc import functional as F

S = np.array([[1, -1, 1, 1], [-1, -1, 1, -1]], np.int8)
P = pack_signs(S)
P5 = pack_signs(np.ones((2, 5)))
XTR = np.random.default_rng(0).random((12, 4))
YTR = np.arange(12) % 2

CASES = [
    # random hypervectors
    ("random-num-zero", lambda: hdc.random(0, 8, seed=0), ValueError, "num_vectors: expected an integer >= 1"),
    ("random-dim-float", lambda: hdc.random(2, 8.0, seed=0), TypeError, "dimensions: expected an integer"),
    ("random-seed-none", lambda: hdc.random(2, 8, seed=None), TypeError, "seed: an explicit seed"),
    ("level-num-bool", lambda: hdc.level(True, 8, seed=0), TypeError, "num_vectors: expected an integer"),
    ("level-seed-neg", lambda: hdc.level(3, 8, seed=-4), ValueError, "seed: expected a non-negative"),
    # algebra
    ("bind-mixed", lambda: hdc.bind(P, S), TypeError, "input and other: one is packed"),
    ("bind-dim", lambda: hdc.bind(S, np.ones((2, 5))), ValueError, r"input and other: dimensions differ \(4 and 5\)"),
    ("bind-packed-dim", lambda: hdc.bind(P, P5), ValueError, "input and other: dimensions differ"),
    ("bind-broadcast", lambda: hdc.bind(np.ones((3, 4)), np.ones((2, 4))), ValueError, "input and other: leading shapes"),
    ("bind-packed-broadcast", lambda: hdc.bind(pack_signs(np.ones((3, 4))), P), ValueError, "input and other: leading shapes"),
    ("bind-nonsign", lambda: hdc.bind(np.zeros(4), S[0]), ValueError, r"input: expected \+-1 entries"),
    ("bind-bool", lambda: hdc.bind(np.ones(4, bool), S[0]), TypeError, "input: got a bool array"),
    ("bind-0d", lambda: hdc.bind(np.float64(1.0), S[0]), ValueError, "input: expected hypervectors of shape"),
    ("bind-str", lambda: hdc.bind(np.array(["a"]), S[0]), TypeError, "input: expected a float"),
    ("bundle-broadcast", lambda: hdc.bundle(np.ones((3, 4)), np.ones((2, 4)), tie_break="plus"), ValueError, "input and other: leading shapes"),
    ("bundle-1d", lambda: hdc.bundle(S[0], tie_break="plus"), ValueError, r"input: expected hypervectors \(\*, k, d\)"),
    ("bundle-tie-break", lambda: hdc.bundle(S, tie_break="minus"), ValueError, "tie_break: unknown value 'minus'"),
    ("bundle-random-no-seed", lambda: hdc.bundle(S), TypeError, "seed"),
    ("multiset-mixed", lambda: hdc.bundle(P, S), TypeError, "input and other: one is packed"),
    ("majority-nan", lambda: F.majority(np.array([np.nan, 1.0]), tie_break="plus"), ValueError, "sums: contains non-finite"),
    ("majority-0d", lambda: F.majority(np.int64(1), tie_break="plus"), ValueError, "sums: expected shape"),
    ("majority-tie-vector", lambda: F.majority(np.zeros(4), tie_vector=np.ones(3)), ValueError, r"tie_vector: expected shape \(4,\)"),
    ("permute-float", lambda: hdc.permute(S, 1.5), TypeError, "shifts: expected an int"),
    ("permute-bool", lambda: hdc.permute(S, True), TypeError, "shifts: expected an int"),
    # similarity
    ("sim-mixed", lambda: hdc.hamming_similarity(P, S), TypeError, "input and others: one is packed"),
    ("sim-others-1d", lambda: hdc.hamming_similarity(S, S[0]), ValueError, r"others: expected a \(n, d\)"),
    ("sim-dim", lambda: hdc.hamming_similarity(S, np.ones((2, 5))), ValueError, "input and others: dimensions differ"),
    ("sim-packed-others-3d", lambda: hdc.hamming_similarity(P, pack_signs(np.ones((1, 2, 4)))), ValueError, "others: expected a"),
    ("sim-backend", lambda: hdc.hamming_similarity(P, P, backend="tpu"), ValueError, "backend: unknown value 'tpu'"),
    ("dist-nonsign", lambda: hdc.hamming_distance(S * 2, S), ValueError, r"input: expected \+-1 entries"),
    # flips
    ("flip-fraction", lambda: hdc.flip(S, 2.0, seed=0), ValueError, r"fraction: expected a flip fraction in \[0, 1\]"),
    ("flip-model", lambda: hdc.flip(S, 0.1, model="poisson", seed=0), ValueError, "model: unknown value 'poisson'"),
    ("flip-seed", lambda: hdc.flip(S, 0.1, seed="0"), TypeError, "seed: expected an int"),
    # Centroid
    ("centroid-hyperdim", lambda: hdc.Centroid(0, 2), ValueError, "hyperdim: expected an integer >= 1"),
    ("centroid-target-range", lambda: hdc.Centroid(4, 2).add(S, [0, 2]), ValueError, r"target: class indices must lie in 0..1"),
    ("centroid-target-float", lambda: hdc.Centroid(4, 2).add(S, [0.0, 1.0]), TypeError, "target: expected a signed integer"),
    ("centroid-input-dim", lambda: hdc.Centroid(5, 2).add(S, [0, 1]), ValueError, r"input: expected hypervectors of shape \(n, 5\)"),
    ("centroid-len", lambda: hdc.Centroid(4, 2).add(S, [0]), ValueError, "input, target: 2 hypervectors but 1 labels"),
    ("centroid-empty-class", lambda: hdc.Centroid(4, 3).add(S, [0, 1]).binarize(tie_break="plus"), ValueError, r"Centroid: classes \[2\] received no"),
    ("centroid-unbinarized", lambda: hdc.Centroid(4, 2).similarity(S), RuntimeError, "Centroid: call binarize"),
    # classifiers
    ("clf-hyperdim-str", lambda: hdc.ClassicHDC("64", seed=0).fit(XTR, YTR), TypeError, "hyperdim: expected an integer"),
    ("clf-seed-none", lambda: hdc.ClassicHDC(64, seed=None).fit(XTR, YTR), TypeError, "seed: an explicit seed"),
    ("clf-seed-neg", lambda: hdc.RFFHDC(64, seed=-1).fit(XTR, YTR), ValueError, "seed: expected a non-negative"),
    ("clf-levels", lambda: hdc.ClassicHDC(64, seed=0, levels="gray").fit(XTR, YTR), ValueError, "levels: unknown value 'gray'"),
    ("clf-n-levels", lambda: hdc.ClassicHDC(64, seed=0, n_levels=1).fit(XTR, YTR), ValueError, "n_levels: expected an integer >= 2"),
    ("clf-value-range", lambda: hdc.ClassicHDC(64, seed=0, value_range=(1, 0)).fit(XTR, YTR), ValueError, "value_range: expected 'auto' or"),
    ("clf-value-range-str", lambda: hdc.ClassicHDC(64, seed=0, value_range="minmax").fit(XTR, YTR), ValueError, "value_range: unknown value"),
    ("rff-gamma", lambda: hdc.RFFHDC(64, seed=0, gamma=-1.0).fit(XTR, YTR), ValueError, "gamma: expected a finite number > 0"),
    ("laplace-bandwidth", lambda: hdc.LaplaceHDC(64, seed=0, bandwidth=float("nan")).fit(XTR, YTR), ValueError, "bandwidth: expected a finite number > 0"),
    ("onlinehd-lr", lambda: hdc.OnlineHD(64, seed=0, lr=0.0).fit(XTR, YTR), ValueError, "lr: expected a finite number > 0"),
    ("onlinehd-epochs", lambda: hdc.OnlineHD(64, seed=0, epochs=-1).fit(XTR, YTR), ValueError, "epochs: expected an integer >= 0"),
    ("fit-1d", lambda: hdc.ClassicHDC(64, seed=0).fit(XTR[:, 0], YTR), ValueError, r"X: expected a 2-D array.*reshape\(1, -1\)"),
    ("fit-nan", lambda: hdc.ClassicHDC(64, seed=0).fit(np.full((4, 2), np.nan), [0, 1, 0, 1]), ValueError, "X: contains non-finite"),
    ("fit-empty", lambda: hdc.ClassicHDC(64, seed=0).fit(np.ones((0, 2)), np.zeros(0, int)), ValueError, r"X: 0 sample\(s\)"),
    ("fit-y-len", lambda: hdc.ClassicHDC(64, seed=0).fit(XTR, YTR[:5]), ValueError, "X, y: 12 samples but 5 labels"),
    ("fit-y-float", lambda: hdc.ClassicHDC(64, seed=0).fit(XTR, YTR * 1.0), TypeError, "y: expected a signed integer"),
    ("fit-one-class", lambda: hdc.ClassicHDC(64, seed=0).fit(XTR, np.zeros(12, int)), ValueError, "y: need at least 2 classes"),
    ("predict-unfitted", lambda: hdc.ClassicHDC(64, seed=0).predict(XTR), ValueError, "ClassicHDC instance is not fitted yet"),
    ("predict-features", lambda: hdc.ClassicHDC(64, seed=0).fit(XTR, YTR).predict(XTR[:, :3]), ValueError, "X has 3 features, but ClassicHDC is expecting 4"),
    ("predict-encoded-dim", lambda: hdc.ClassicHDC(64, seed=0).fit(XTR, YTR).predict_encoded(P), ValueError, r"H: expected query hypervectors of shape \(n, 64\)"),
    ("score-y-len", lambda: hdc.ClassicHDC(64, seed=0).fit(XTR, YTR).score(XTR, YTR[:3]), ValueError, "X, y: 12 samples but 3 labels"),
    # protocol
    ("make-classifier", lambda: hdc.make_classifier("svm", 64, seed=0), ValueError, "method: unknown value 'svm'"),
    ("chunk-acc-shape", lambda: hdc.chunk_accuracy([0, 1], [0], 1), ValueError, "pred, y: shapes differ"),
    ("chunk-acc-chunks", lambda: hdc.chunk_accuracy([0, 1], [0, 1], 3), ValueError, "n_chunks: 3 chunks for 2 test samples"),
    ("evaluate-methods-str", lambda: hdc.evaluate("classic_hdc", XTR, YTR, XTR, YTR, hyperdims=[64], seed=0, progress=False), TypeError, "methods: expected a list"),
    ("evaluate-hyperdims-int", lambda: hdc.evaluate(["classic_hdc"], XTR, YTR, XTR, YTR, hyperdims=64, seed=0, progress=False), TypeError, "hyperdims: expected a list"),
    ("evaluate-hyperdims-empty", lambda: hdc.evaluate(["classic_hdc"], XTR, YTR, XTR, YTR, hyperdims=[], seed=0, progress=False), ValueError, "hyperdims: expected at least one"),
    ("evaluate-seed-neg", lambda: hdc.evaluate(["classic_hdc"], XTR, YTR, XTR, YTR, hyperdims=[64], seed=-1, progress=False), ValueError, "seed: expected a non-negative"),
    ("evaluate-seed-float", lambda: hdc.evaluate(["classic_hdc"], XTR, YTR, XTR, YTR, hyperdims=[64], seed=0.5, progress=False), TypeError, "seed: expected an int >= 0"),
    ("evaluate-fractions", lambda: hdc.evaluate(["classic_hdc"], XTR, YTR, XTR, YTR, hyperdims=[64], seed=0, flip_fractions=[1.5], progress=False), ValueError, r"flip_fractions: expected fractions in \[0, 1\]"),
    ("evaluate-flip-hyperdims", lambda: hdc.evaluate(["classic_hdc"], XTR, YTR, XTR, YTR, hyperdims=[64], seed=0, flip_hyperdims=[128], progress=False), ValueError, r"flip_hyperdims: \[128\] are not among"),
    ("quantizer-fit-str", lambda: hdc.encoders.LevelQuantizer(4).fit(np.array(["a"])), TypeError, "X: expected a float"),
    ("quantizer-fit-nan", lambda: hdc.encoders.LevelQuantizer(4).fit(np.array([np.nan, 1.0])), ValueError, "X: contains non-finite"),
    ("quantizer-unfitted", lambda: hdc.encoders.LevelQuantizer(4).transform(np.ones(3)), RuntimeError, r"LevelQuantizer: call fit\(X\) first"),
    ("kernel-levels-square", lambda: hdc.kernel_level_hypervectors(np.ones((2, 3)), 64, rng=np.random.default_rng(0)), ValueError, r"kernel: expected a square \(Q, Q\)"),
    ("kernel-levels-diag", lambda: hdc.kernel_level_hypervectors(np.zeros((2, 2)), 64, rng=np.random.default_rng(0)), ValueError, "kernel: expected a symmetric matrix with unit diagonal"),
    ("kernel-levels-rng", lambda: hdc.kernel_level_hypervectors(np.eye(2), 64, rng=None), TypeError, "rng: an explicit seed"),
    ("to-signs-dtype", lambda: F.to_signs(S, dtype=bool), TypeError, "dtype: expected a float or signed integer"),
    ("summarize-column", lambda: hdc.summarize(__import__("pandas").DataFrame({"a": [1]}), ["b"]), ValueError, r"by/value: columns \['b', 'accuracy'\] are not in df"),
    ("comparison-table-type", lambda: hdc.comparison_table("x", "y", dataset="mnist"), TypeError, "ours: expected a pandas DataFrame"),
    ("paper-summary-experiment", lambda: hdc.paper_summary("nope", "mnist"), ValueError, "experiment: unknown value 'nope'"),
    ("train-binary-linear-mode", lambda: hdc.train_binary_linear(P, np.zeros(2, int), 2, mode="x", epochs=1, lr=0.1, batch_size=2, rng=np.random.default_rng(0)), ValueError, "mode: unknown value 'x'"),
    ("evaluate-method-kwargs", lambda: hdc.evaluate(["classic_hdc"], XTR, YTR, XTR, YTR, hyperdims=[64], seed=0, method_kwargs={"svm": {}}, progress=False), ValueError, "method_kwargs: unknown methods"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@settings(max_examples=30, deadline=None)
@given(a=st.lists(st.integers(1, 4), min_size=1, max_size=3), b=st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_bind_leading_shapes(a, b):
    x, y = np.ones((*a, 8)), -np.ones((*b, 8))
    try:
        shape = np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        with pytest.raises(ValueError, match="input and other: leading shapes"):
            hdc.bind(x, y)
    else:
        assert hdc.bind(x, y).shape == (*shape, 8)


@settings(max_examples=25, deadline=None)
@given(dtype=st.sampled_from([np.complex128, np.str_, object, np.bool_]),
       rows=st.integers(1, 4))
def test_classifier_wrong_dtype(dtype, rows):
    clf = hdc.ClassicHDC(64, seed=0).fit(XTR, YTR)
    with pytest.raises((TypeError, ValueError), match="X: "):
        clf.predict(np.ones((rows, 4)).astype(dtype))
