"""Bad input to gnetlab.ehd (embedding, inference, flips, the chunked protocol)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gnetlab import bench, ehd, gnet

M = gnet.build_model("mnist_dense", activation="tasu", hidden=(8,), input_features=20, n_classes=3)
E = ehd.embed_gnet(M, hyperdim=64, seed=0)
MC = gnet.build_model("mnist_dense", activation="relu", kernel="cosine", hidden=(8,), input_features=20, n_classes=3)
X = np.random.default_rng(0).random((6, 20)).astype(np.float32)
Y = np.array([0, 1, 2, 0, 1, 2])
SIGNS = np.ones((2, 10))
WORDS = np.zeros((2, 1), np.uint64)

CASES = [
    # embed / hyperdims (issue 11: a string hyperdim is not split into characters)
    ("embed-hyperdim-str", lambda: ehd.embed_gnet(M, hyperdim="64", seed=0), TypeError, r"hyperdim: expected a number or a list.*'64'"),
    ("embed-hyperdim-float", lambda: ehd.embed_gnet(M, hyperdim=64.5, seed=0), TypeError, "hyperdim: expected an integer"),
    ("embed-hyperdim-zero", lambda: ehd.embed_gnet(M, hyperdim=0, seed=0), ValueError, "hyperdim: expected an integer >= 1"),
    ("embed-hyperdim-len", lambda: ehd.embed_gnet(M, hyperdim=[64, 64, 64], seed=0), ValueError, "hyperdim: expected an int or 2 values"),
    ("embed-hyperdim-dict", lambda: ehd.embed_gnet(M, hyperdim={"a": 1}, seed=0), TypeError, "hyperdim: expected a number or a list"),
    ("embed-both", lambda: ehd.embed_gnet(M, hyperdim=64, ratio=1.0, seed=0), ValueError, "give exactly one of hyperdim="),
    ("embed-neither", lambda: ehd.embed_gnet(M, seed=0), ValueError, "give exactly one of hyperdim="),
    ("embed-ratio-neg", lambda: ehd.embed_gnet(M, ratio=-1.0, seed=0), ValueError, "ratio: expected positive finite"),
    ("embed-ratio-nan", lambda: ehd.embed_gnet(M, ratio=float("nan"), seed=0), ValueError, "ratio: expected positive finite"),
    ("embed-ratio-str", lambda: ehd.embed_gnet(M, ratio="2", seed=0), TypeError, "ratio: expected a number or a list"),
    ("embed-ratio-tiny", lambda: ehd.embed_gnet(M, ratio=1e-9, seed=0), ValueError, "ratio: .* rounds to N = 0"),
    ("embed-model", lambda: ehd.embed_gnet("model", hyperdim=64, seed=0), TypeError, "model: expected a gnetlab.gnet.GNet"),
    ("embed-embedding", lambda: ehd.embed_gnet(M, hyperdim=64, embedding="binary", seed=0), ValueError, "embedding: unknown value"),
    ("embed-class-vectors", lambda: ehd.embed_gnet(M, hyperdim=64, class_vectors="scaled", seed=0), ValueError, "class_vectors: unknown value"),
    ("embed-seed-none", lambda: ehd.embed_gnet(M, hyperdim=64, seed=None), TypeError, "seed: an explicit seed"),
    ("embed-seed-neg", lambda: ehd.embed_gnet(M, hyperdim=64, seed=-1), ValueError, "seed: expected a non-negative"),
    # the cosine kernel (distortion ablation)
    ("embed-cosine-estimate-on-arcsine", lambda: ehd.embed_gnet(M, hyperdim=64, seed=0, cosine_estimate="inverted"), ValueError, "cosine_estimate: only for cosine-kernel G-Nets"),
    ("embed-cosine-estimate-unknown", lambda: ehd.embed_gnet(MC, hyperdim=64, seed=0, cosine_estimate="arcsine"), ValueError, "cosine_estimate: unknown value 'arcsine'"),
    ("embed-cosine-estimate-list", lambda: ehd.embed_gnet(MC, hyperdim=64, seed=0, cosine_estimate=["inverted"]), TypeError, "cosine_estimate: expected one of"),
    ("sweep-cosine-estimate-on-arcsine", lambda: ehd.hyperdim_sweep(M, X, Y, hyperdims=[64], n_chunks=2, seed=0, progress=False, cosine_estimate="uncompensated"), ValueError, "cosine_estimate: only for cosine-kernel"),
    ("layer-estimate-unknown", lambda: ehd.EHDLayer(**{**{f: getattr(E.layers[0], f) for f in E.layers[0].__dataclass_fields__ if f != "_cache"}, "estimate": "cosine"}), ValueError, "estimate: unknown value 'cosine'"),
    ("round-hyperdim-neg", lambda: ehd.round_hyperdim(-5), ValueError, "n: expected a finite non-negative"),
    ("round-hyperdim-nan", lambda: ehd.round_hyperdim(float("nan")), ValueError, "n: expected a finite non-negative"),
    ("truncated-larger", lambda: E.truncated(128), ValueError, "hyperdim: cannot truncate N = 64 to a larger N = 128"),
    ("truncated-str", lambda: E.truncated("32"), TypeError, "hyperdim: expected a number or a list"),
    # inference
    ("scores-1d", lambda: E.scores(X[0]), ValueError, r"X: expected shape \(batch, 20\).*X\[None\]"),
    ("scores-width", lambda: E.scores(X[:, :5]), ValueError, r"X: expected shape \(batch, 20\)"),
    ("scores-nan", lambda: E.scores(np.full((2, 20), np.nan)), ValueError, "X: contains non-finite"),
    ("scores-complex", lambda: E.scores(np.ones((2, 20), complex)), TypeError, "X: expected a float"),
    ("scores-overflow", lambda: E.scores(np.full((2, 20), 1e300)), ValueError, "X: values beyond the float32 range"),
    ("scores-path", lambda: E.scores(X, path="gpu"), ValueError, "path: unknown value 'gpu'"),
    ("scores-batch-zero", lambda: E.scores(X, batch_size=0), ValueError, "batch_size: expected an integer >= 1"),
    ("scores-batch-neg", lambda: E.predict(X, batch_size=-1), ValueError, "batch_size: expected an integer >= 1"),
    ("scores-data-flip-range", lambda: E.scores(X, data_flip=1.5, seed=0), ValueError, r"data_flip: expected a flip fraction in \[0, 1\]"),
    ("scores-data-flip-nan", lambda: E.scores(X, data_flip=float("nan"), seed=0), ValueError, "data_flip: expected a flip fraction"),
    ("scores-data-flip-no-seed", lambda: E.scores(X, data_flip=0.1), TypeError, "seed: an explicit seed"),
    ("scores-flip-layer", lambda: E.scores(X, data_flip=0.1, data_flip_layers=(5,), seed=0), ValueError, "data_flip_layers: layer index 5 out of range"),
    ("scores-flip-layers-int", lambda: E.scores(X, data_flip=0.1, data_flip_layers=0, seed=0), TypeError, "data_flip_layers: expected a list"),
    ("scores-flip-model", lambda: E.scores(X, data_flip=0.1, flip_model="bernoulli", seed=0), ValueError, "flip_model: unknown value"),
    ("estimates-path", lambda: E.estimates(X, path="fast"), ValueError, "path: unknown value 'fast'"),
    ("weight-flips-fraction", lambda: E.with_weight_flips(-0.1, seed=0), ValueError, "fraction: expected a flip fraction"),
    ("weight-flips-layers", lambda: E.with_weight_flips(0.1, seed=0, layers=[2]), ValueError, "layers: layer index 2 out of range"),
    ("weight-flips-layers-bool", lambda: E.with_weight_flips(0.1, seed=0, layers=[True]), ValueError, "layers: layer index True"),
    ("weight-flips-seed", lambda: E.with_weight_flips(0.1, seed=1.5), TypeError, "seed: expected an int"),
    # flips
    ("flip-signs-nonsign", lambda: ehd.flip_signs(np.zeros((2, 4)), 0.1, seed=0), ValueError, r"signs: expected entries in \{-1, \+1\}"),
    ("flip-signs-0d", lambda: ehd.flip_signs(np.float64(1.0), 0.1, seed=0), ValueError, "signs: expected an array of shape"),
    ("flip-signs-bool", lambda: ehd.flip_signs(np.ones(4, bool), 0.1, seed=0), TypeError, "signs: expected a float"),
    ("flip-signs-fraction-str", lambda: ehd.flip_signs(SIGNS, "0.1", seed=0), ValueError, "fraction: expected a flip fraction"),
    ("flip-signs-model", lambda: ehd.flip_signs(SIGNS, 0.1, model="iid", seed=0), ValueError, "model: unknown value 'iid'"),
    ("flip-signs-seed", lambda: ehd.flip_signs(SIGNS, 0.1, seed=None), TypeError, "seed: an explicit seed"),
    ("flip-packed-dtype", lambda: ehd.flip_packed(np.zeros((2, 1), np.uint32), 10, 0.1, seed=0), ValueError, "words: expected uint64"),
    ("flip-packed-width", lambda: ehd.flip_packed(WORDS, 100, 0.1, seed=0), ValueError, r"words: expected uint64 of shape \(R, 2\)"),
    ("flip-packed-nbits", lambda: ehd.flip_packed(WORDS, 0, 0.1, seed=0), ValueError, "(k|n_bits): expected an integer >= 1"),
    ("flip-packed-signed", lambda: ehd.flip_packed(np.zeros((2, 1), np.int64), 10, 0.1, seed=0), TypeError, "words: expected a unsigned"),
    # the chunked protocol
    ("chunks-seed-float", lambda: ehd.evaluate_chunks(M, X, Y, hyperdim=64, n_chunks=2, seed=0.5), TypeError, "seed: expected an int >= 0"),
    ("chunks-seed-neg", lambda: ehd.evaluate_chunks(M, X, Y, hyperdim=64, n_chunks=2, seed=-2), ValueError, "seed: expected a non-negative"),
    ("chunks-too-many", lambda: ehd.evaluate_chunks(M, X, Y, hyperdim=64, n_chunks=7, seed=0), ValueError, "n_chunks: 7 chunks for 6 test samples"),
    ("chunks-y-len", lambda: ehd.evaluate_chunks(M, X, Y[:4], hyperdim=64, n_chunks=2, seed=0), ValueError, "X, y: 6 samples but 4 labels"),
    ("chunks-y-float", lambda: ehd.evaluate_chunks(M, X, Y * 1.0, hyperdim=64, n_chunks=2, seed=0), TypeError, "y: expected a signed integer"),
    ("chunks-weight-flip", lambda: ehd.evaluate_chunks(M, X, Y, hyperdim=64, n_chunks=2, seed=0, weight_flip=2), ValueError, "weight_flip: expected a flip fraction"),
    ("sweep-hyperdims-int", lambda: ehd.hyperdim_sweep(M, X, Y, hyperdims=64, n_chunks=2, seed=0), TypeError, "hyperdims: expected a list"),
    ("sweep-hyperdims-empty", lambda: ehd.hyperdim_sweep(M, X, Y, hyperdims=[], n_chunks=2, seed=0), ValueError, "hyperdims: expected at least one"),
    ("flip-sweep-fractions-float", lambda: ehd.flip_sweep(M, X, Y, fractions=0.1, hyperdim=64, n_chunks=2, seed=0), TypeError, "fractions: expected a list"),
    ("flip-sweep-fraction-range", lambda: ehd.flip_sweep(M, X, Y, fractions=[0.1, 3], hyperdim=64, n_chunks=2, seed=0), ValueError, "fractions: expected a flip fraction"),
    ("chunk-summary-column", lambda: ehd.chunk_summary(__import__("pandas").DataFrame({"a": [1]}), ["hyperdim"]), ValueError, r"by/value: columns \['hyperdim', 'accuracy'\] are not in df"),
    ("chunk-summary-type", lambda: ehd.chunk_summary([1, 2], ["a"]), TypeError, "df: expected a pandas DataFrame"),
    ("benchmark-batch-str", lambda: bench.bench_ehd(M, hyperdim=64, batch_sizes=["1"], repeats=1), TypeError, "batch_sizes: expected an integer"),
    ("benchmark-clock", lambda: bench.bench_ehd(M, hyperdim=64, clock="gpu"), ValueError, "clock: unknown value 'gpu'"),
    ("flip-signs-empty-D", lambda: ehd.flip_signs(np.ones((2, 0)), 0.1, seed=0), ValueError, r"signs: expected an array of shape \(\.\.\., D\) with D >= 1"),
    ("layer-sizes-model", lambda: ehd.layer_sizes("m"), TypeError, "model: expected a gnetlab.gnet.GNet"),
    ("resolve-hyperdims-model", lambda: ehd.resolve_hyperdims(None, hyperdim=64), TypeError, "model: expected a gnetlab.gnet.GNet"),
    ("sweep-param", lambda: ehd.sweep(M, X, Y, param="hyperdimm", values=[64], seed=0, n_chunks=1), ValueError, "param: unknown value 'hyperdimm'"),
    ("sweep-values-int", lambda: ehd.sweep(M, X, Y, param="hyperdim", values=64, seed=0, n_chunks=1), TypeError, "values: expected a list"),
    ("flip-sweep-target", lambda: ehd.flip_sweep(M, X, Y, fractions=[0.1], target="bias", hyperdim=64, n_chunks=2, seed=0), ValueError, "target: unknown value 'bias'"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@settings(max_examples=25, deadline=None)
@given(fraction=st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=1.0 + 1e-9), st.just(float("nan"))))
def test_flip_fraction_outside_unit_interval(fraction):
    with pytest.raises(ValueError, match="fraction: expected a flip fraction in"):
        ehd.flip_signs(SIGNS, fraction, seed=0)


@settings(max_examples=25, deadline=None)
@given(text=st.text(alphabet="0123456789", min_size=1, max_size=5))
def test_hyperdim_as_text_is_refused_whole(text):
    with pytest.raises(TypeError, match=f"hyperdim: expected a number or a list of 2 numbers .*'{text}'"):
        ehd.embed_gnet(M, hyperdim=text, seed=0)
