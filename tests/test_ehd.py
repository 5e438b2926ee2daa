"""EHD G-Net: embedding, bit-packed vs float-simulated inference, flips, chunked protocol (gnetlab.ehd)."""

import copy
import math

import numpy as np
import pytest
import torch

import warnings

from gnetlab import bench, bits, ehd, gnet
from gnetlab.bits import pack_signs, unpack_signs
from gnetlab.embed import hoeffding_radius
from gnetlab.gnet.models import MODELS, GNet


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _dense(activation="rasu", seed=0, hidden=(24, 16), n_in=30, n_classes=4):
    model = GNet(MODELS["mnist_dense"](activation=activation, seed=seed, hidden=hidden, input_features=n_in,
                                       n_classes=n_classes))
    return model.eval()


def _conv(activation="tasu", seed=0):
    cfg = {"input_shape": [2, 9, 8], "activation": activation, "n_classes": 3, "seed": seed,
           "blocks": [{"kind": "conv2d", "out": 5, "kernel_size": 3, "padding": 1, "pool": 2, "bias_init": 0.05},
                      {"kind": "conv2d", "out": 4, "kernel_size": 3, "padding": 2, "stride": 2, "bias_init": 0.1},
                      {"kind": "dense", "out": 6}]}
    return GNet(cfg).eval()


def _conv1d(activation="tasu"):
    cfg = {"input_shape": [2, 17], "activation": activation, "n_classes": 3, "seed": 1,
           "blocks": [{"kind": "conv1d", "out": 4, "kernel_size": 5, "padding": 2, "pool": 2, "bias_init": 0.05},
                      {"kind": "conv1d", "out": 3, "kernel_size": 3, "padding": 1, "bias_init": -0.2}]}
    return GNet(cfg).eval()


def _exact_arcsine(model, X):
    """arcsin(cos(x + b, w~_i)) of the first dense layer without eps terms (float64)."""
    with torch.no_grad():
        x = model.prepare_input(X).double().numpy() + model.layers[0].bias.item()
        w = model.layers[0].folded_weight().double().numpy()
    cos = (x @ w.T) / np.linalg.norm(x, axis=1, keepdims=True) / np.linalg.norm(w, axis=1)[None, :]
    return np.arcsin(cos)


def _x(model, n=12, seed=0):
    return np.random.default_rng(seed).random((n, model.n_features), dtype=np.float32)


# -- hyperdimension rule --------------------------------------------------------------------------

def test_round_hyperdim_is_the_official_rounding():
    assert ehd.round_hyperdim(9408) == 10000
    assert ehd.round_hyperdim(4100) == 4000
    assert ehd.round_hyperdim(4100.5) == 5000
    assert ehd.round_hyperdim(50) == 0
    assert ehd.round_hyperdim(5000) == 5000


def test_paper_mnist_ratios_give_the_published_hyperdims():
    model = gnet.build_model("mnist")
    assert ehd.layer_sizes(model) == [800, 51200, 3136, 512]
    base = (12, 1.15 / 6, 3, 18)
    assert ehd.resolve_hyperdims(model, ratio=[0.5 * r for r in base]) == [5000] * 4
    assert ehd.resolve_hyperdims(model, ratio=[1.5 * r for r in base]) == [15000, 15000, 15000, 14000]


def test_hyperdim_errors():
    model = _dense()
    with pytest.raises(ValueError, match="hyperdim"):
        ehd.embed_gnet(model, hyperdim=0, seed=0)
    with pytest.raises(ValueError, match="exactly one"):
        ehd.embed_gnet(model, hyperdim=100, ratio=2, seed=0)
    with pytest.raises(ValueError, match="3 values"):
        ehd.embed_gnet(model, hyperdim=[100, 100], seed=0)
    with pytest.raises(ValueError, match="rounds to N = 0"):
        ehd.embed_gnet(model, ratio=1.0, seed=0)
    with pytest.raises(TypeError, match="hyperdim"):
        ehd.embed_gnet(model, hyperdim=100.0, seed=0)
    with pytest.raises(ValueError, match="embedding.*'bernoulli'"):
        ehd.embed_gnet(model, hyperdim=100, embedding="bernoulli", seed=0)
    with pytest.raises(TypeError, match="seed"):
        ehd.embed_gnet(model, hyperdim=100, seed=None)
    with pytest.raises(TypeError, match="GNet"):
        ehd.embed_gnet(torch.nn.Linear(3, 3), hyperdim=100, seed=0)


# -- the embedding approximates the arcsine layers ------------------------------------------------

def test_first_layer_estimates_within_hoeffding_bound_gaussian():
    model = _dense(hidden=(40, 16))
    X = _x(model, 20)
    N = 8192
    e = ehd.embed_gnet(model, hyperdim=N, embedding="gaussian", seed=1)
    zhat = e.estimates(X)[0]
    z = _exact_arcsine(model, X)
    # (2/pi) z^ averages N iid +-1 terms with mean (2/pi) z; union bound over all B*m entries
    t = hoeffding_radius(N, delta=1e-3 / z.size)
    err = np.abs(zhat - z) * 2 / np.pi
    assert err.max() <= t
    assert err.mean() < 0.5 * t  # and typically much smaller
    # the float layer differs from the exact arcsine only by its eps terms (rows with a small folded
    # norm ||w~|| are shrunk by ||w~|| / (||w~|| + eps))
    with torch.no_grad():
        zf = model.layers[0](model.prepare_input(X)).numpy()
    wn = np.linalg.norm(model.layers[0].folded_weight().detach().numpy(), axis=1)
    big = wn > 0.05
    np.testing.assert_allclose(zf[:, big], z[:, big], atol=0.01)


def test_conv_estimates_converge():
    model = _conv(activation="rasu")
    X = _x(model, 4)
    layer = model.layers[0]
    with torch.no_grad():  # exact arcsin(cos(patch, w~)) per position, without the float layer's eps terms
        x = model.prepare_input(X).double() + layer.bias.item()
        w = layer.folded_weight().double()
        dots = torch.nn.functional.conv2d(x, w, padding=layer.padding)
        pn = torch.nn.functional.conv2d(x.square(), torch.ones_like(w[:1]), padding=layer.padding).sqrt()
        z = torch.asin(dots / pn / w.flatten(1).norm(dim=1)[None, :, None, None]).numpy()
    errs = []
    for N in (256, 4096):
        zhat = ehd.embed_gnet(model, hyperdim=N, seed=2).estimates(X)[0]
        assert zhat.shape == z.shape
        errs.append(np.sqrt(np.mean((zhat - z) ** 2)))
    assert errs[1] < 0.4 * errs[0]  # ~ 1/sqrt(N): 4x smaller errors for 16x larger N
    assert errs[1] * 2 / np.pi < hoeffding_radius(4096, delta=0.3)


def test_rademacher_estimates_are_close():
    model = _dense(hidden=(40, 16))
    X = _x(model, 20)
    zhat = ehd.embed_gnet(model, hyperdim=8192, embedding="rademacher", seed=1).estimates(X)[0]
    z = _exact_arcsine(model, X)
    assert np.abs(zhat - z).mean() < 0.05  # spread-out inputs: close to the Gaussian identity


def test_large_n_agrees_with_float_model():
    model = _dense(activation="rasu", hidden=(32, 32), n_classes=5)
    X = _x(model, 60)
    e = ehd.embed_gnet(model, hyperdim=30000, seed=3)
    assert np.mean(e.predict(X) == model.predict(X)) >= 0.9


# -- the two inference paths ----------------------------------------------------------------------

@pytest.mark.parametrize("builder,activation,embedding", [
    (_dense, "rasu", "gaussian"), (_dense, "tasu", "rademacher"), (_dense, "tasu", "gaussian"),
    (_dense, "asu", "rademacher"), (_conv, "tasu", "rademacher"), (_conv, "rasu", "gaussian"),
    (_conv1d, "tasu", "rademacher"),
])
def test_packed_and_float_paths_are_identical(builder, activation, embedding):
    model = builder(activation=activation)
    X = _x(model, 9)
    e = ehd.embed_gnet(model, hyperdim=[130, 200, 77, 64][: len(model.layers) + 1], embedding=embedding, seed=5)
    sp = e.scores(X, path="packed", batch_size=4)
    sf = e.scores(X, path="float", batch_size=4)
    assert sp.dtype == np.int32 and sp.shape == (9, model.n_classes)
    np.testing.assert_array_equal(sp, sf)
    for a, b in zip(e.estimates(X, path="packed"), e.estimates(X, path="float")):
        np.testing.assert_array_equal(a, b)
    # with faults drawn from the same seed too
    f = e.with_weight_flips(0.2, model="replacement", seed=1)
    kw = dict(data_flip=0.3, data_flip_layers=(0, -1), flip_model="exact", batch_size=4)
    np.testing.assert_array_equal(f.scores(X, path="packed", seed=2, **kw), f.scores(X, path="float", seed=2, **kw))


def test_tasu_rademacher_is_binary_after_the_first_layer():
    e = ehd.embed_gnet(_dense(activation="tasu"), hyperdim=128, embedding="rademacher", seed=0)
    assert [l.binary_data_side for l in e.all_layers] == [False, True, True]
    e = ehd.embed_gnet(_dense(activation="rasu"), hyperdim=128, embedding="rademacher", seed=0)
    assert not any(l.binary_data_side for l in e.all_layers)
    e = ehd.embed_gnet(_dense(activation="tasu"), hyperdim=128, embedding="gaussian", seed=0)
    assert not any(l.binary_data_side for l in e.all_layers)


def test_binary_padding_and_bias_are_exact():
    # +-1 inputs with zero padding and the bias trick: the algebraic data side equals the direct product
    model = _conv(activation="tasu")
    e = ehd.embed_gnet(model, hyperdim=96, embedding="rademacher", seed=4)
    layer = e.layers[1]
    x = np.where(np.random.default_rng(0).random((3, 5, 4, 4)) < 0.5, -1, 1).astype(np.float32)
    rows, spatial, pad = ehd.model._patches(x, layer)
    dot = ehd.model._binary_dot(bits.pack_bool(rows < 0), layer.projection_bits(), layer.fan_in).astype(np.float64)
    pos = np.arange(rows.shape[0]) % pad["L"]
    got = dot - pad["pad_int"][pos] + pad["bvalid"][pos]
    direct, _ = ehd.model._unfold(x + np.float32(layer.bias), layer, 0.0)
    np.testing.assert_allclose(got, direct.astype(np.float64) @ layer.projection.T.astype(np.float64), atol=1e-4)


def test_stored_weights_are_packed_signs_of_the_projected_rows():
    model = _dense()
    e = ehd.embed_gnet(model, hyperdim=100, seed=7)
    w = model.layers[0].folded_weight().detach().numpy()
    want = pack_signs(w @ e.layers[0].projection.T)
    np.testing.assert_array_equal(e.layers[0].weight_bits, want.words)
    assert e.weight_nbytes(packed=False) == 4 * 100 * (24 + 16 + 4)
    e64 = ehd.embed_gnet(model, hyperdim=128, seed=7)
    assert e64.weight_nbytes(packed=False) == 32 * e64.weight_nbytes(packed=True)


def test_class_vectors_options():
    model = _dense()
    X = _x(model)
    a = ehd.embed_gnet(model, hyperdim=256, seed=0, class_vectors="raw")
    b = ehd.embed_gnet(model, hyperdim=256, seed=0, class_vectors="normalized")
    assert a.classifier.weight_bits.shape == b.classifier.weight_bits.shape == (4, 4)
    assert a.predict(X).shape == (12,)
    with pytest.raises(ValueError, match="class_vectors"):
        ehd.embed_gnet(model, hyperdim=256, seed=0, class_vectors="columns")


def test_inference_input_errors():
    model = _dense()
    e = ehd.embed_gnet(model, hyperdim=64, seed=0)
    with pytest.raises(ValueError, match=r"expected shape \(batch, 30\)"):
        e.predict(np.zeros((2, 31), np.float32))
    with pytest.raises(ValueError, match="one sample"):
        e.predict(np.zeros(30, np.float32))
    with pytest.raises(ValueError, match="non-finite"):
        e.predict(np.full((2, 30), np.nan, np.float32))
    with pytest.raises(ValueError, match="path"):
        e.predict(_x(model), path="gpu")
    with pytest.raises(TypeError, match="seed"):
        e.predict(_x(model), data_flip=0.1)
    with pytest.raises(ValueError, match="out of range"):
        e.predict(_x(model), data_flip=0.1, data_flip_layers=(5,), seed=0)


# -- faults ---------------------------------------------------------------------------------------

def test_zero_fraction_flips_change_nothing():
    model = _dense(activation="tasu")
    X = _x(model)
    e = ehd.embed_gnet(model, hyperdim=200, seed=0)
    f = e.with_weight_flips(0.0, seed=1)
    for a, b in zip(e.all_layers, f.all_layers):
        np.testing.assert_array_equal(a.weight_bits, b.weight_bits)
    np.testing.assert_array_equal(e.scores(X), e.scores(X, data_flip=0.0))
    np.testing.assert_array_equal(e.scores(X), e.scores(X, data_flip=0.0, seed=3))
    s = np.where(np.random.default_rng(0).random((5, 70)) < 0.5, -1, 1)
    for model_name in ehd.FLIP_MODELS:
        np.testing.assert_array_equal(ehd.flip_signs(s, 0.0, model=model_name, seed=0), s)
    w = pack_signs(s).words
    np.testing.assert_array_equal(ehd.flip_packed(w, 70, 0.0, seed=0), w)


@pytest.mark.parametrize("D,p", [(70, 0.1), (70, 0.25), (1000, 0.5), (129, 0.333), (64, 1.0)])
def test_exact_flips_flip_exactly_round_pD_bits(D, p):
    s = np.where(np.random.default_rng(1).random((6, D)) < 0.5, -1, 1).astype(np.int8)
    f = ehd.flip_signs(s, p, model="exact", seed=2)
    np.testing.assert_array_equal((f != s).sum(axis=1), round(p * D))
    words = pack_signs(s).words
    fw = ehd.flip_packed(words, D, p, model="exact", seed=2)
    from gnetlab.bits import PackedBits

    flipped = unpack_signs(PackedBits(fw, D), dtype=np.int8)  # also checks the padding stayed 0
    np.testing.assert_array_equal((flipped != s).sum(axis=1), round(p * D))


def test_weight_flips_exact_count_per_stored_row():
    model = _dense()
    e = ehd.embed_gnet(model, hyperdim=300, seed=0)
    f = e.with_weight_flips(0.2, model="exact", seed=3)
    for a, b in zip(e.all_layers, f.all_layers):
        diff = np.bitwise_count(np.bitwise_xor(a.weight_bits, b.weight_bits)).sum(axis=1)
        np.testing.assert_array_equal(diff, 60)
    g = e.with_weight_flips(0.2, model="exact", seed=3, layers=[0])
    np.testing.assert_array_equal(g.layers[1].weight_bits, e.layers[1].weight_bits)
    assert g.layers[1].projection is e.layers[1].projection  # G is shared, not copied


def test_replacement_flips_follow_the_official_model():
    D, p = 4000, 0.5
    s = np.ones((20, D), np.int8)
    f = ehd.flip_signs(s, p, model="replacement", seed=0)
    frac = (f < 0).mean()
    assert abs(frac - (1 - math.exp(-p))) < 0.01  # 39.3%: repeated draws flip once
    assert ((f < 0).sum(axis=1) <= int(p * D)).all()
    assert (ehd.flip_signs(s, 1.0, model="replacement", seed=0) == -1).all()


def test_flip_errors():
    s = np.ones((2, 10))
    with pytest.raises(ValueError, match="fraction"):
        ehd.flip_signs(s, 1.5, seed=0)
    with pytest.raises(ValueError, match="model"):
        ehd.flip_signs(s, 0.1, model="toggle", seed=0)
    with pytest.raises(ValueError, match=r"\{-1, \+1\}"):
        ehd.flip_signs(np.zeros((2, 10)), 0.1, seed=0)
    with pytest.raises(ValueError, match="uint64"):
        ehd.flip_packed(np.zeros((2, 3), np.uint64), 64, 0.1, seed=0)


def test_weight_flips_degrade_accuracy_towards_chance():
    model = _dense(activation="rasu", hidden=(32, 32), n_classes=5)
    X = _x(model, 80)
    e = ehd.embed_gnet(model, hyperdim=4096, seed=0)
    ref = model.predict(X)
    agree = [np.mean(e.with_weight_flips(p, seed=1).predict(X) == ref) for p in (0.0, 0.5)]
    assert agree[0] > 0.8 and agree[1] < 0.6


# -- the chunked protocol and the benchmark -------------------------------------------------------

def test_evaluate_chunks_protocol():
    model = _dense()
    X = _x(model, 23)
    y = model.predict(X)
    df = ehd.evaluate_chunks(model, X, y, hyperdim=256, n_chunks=4, seed=0, progress=False)
    assert list(df["chunk"]) == [0, 1, 2, 3] and df["n_test"].sum() == 23
    assert set(df["n_test"]) == {5, 6}
    assert (df["float_accuracy"] == 100).all()
    np.testing.assert_allclose(df["accuracy"], df["agreement"])  # labels = float predictions here
    again = ehd.evaluate_chunks(model, X, y, hyperdim=256, n_chunks=4, seed=0, progress=False)
    assert df.equals(again)
    sw = ehd.sweep(model, X, y, param="hyperdim", values=[64, 256], n_chunks=2, seed=0, progress=False)
    assert list(sw["hyperdim"].unique()) == [64, 256] and len(sw) == 4
    summ = ehd.chunk_summary(sw, ["hyperdim"])
    assert {"mean", "std", "lo", "hi"} <= set(summ.columns)
    with pytest.raises(ValueError, match="n_chunks"):
        ehd.evaluate_chunks(model, X, y, hyperdim=64, n_chunks=30, seed=0, progress=False)


def test_fresh_projection_per_chunk():
    model = _dense()
    rng0 = np.random.default_rng(np.random.SeedSequence(0).spawn(2)[0])
    rng1 = np.random.default_rng(np.random.SeedSequence(0).spawn(2)[1])
    g0 = ehd.embed_gnet(model, hyperdim=64, seed=rng0).layers[0].projection
    g1 = ehd.embed_gnet(model, hyperdim=64, seed=rng1).layers[0].projection
    assert not np.array_equal(g0, g1)


def test_benchmark_smoke():
    df = bench.bench_ehd(_dense(activation="tasu"), hyperdim=256, batch_sizes=(1, 8), repeats=1)
    assert list(df["batch_size"]) == [1, 8]
    assert df["identical_scores"].all()
    assert (df["images_per_s_packed"] > 0).all() and (df["speedup"] > 0).all()
    assert (df["weight_bytes_packed"] * 32 == df["weight_bytes_float"]).all()
    assert (df["speedup_alone"] > 0).all() and (df["packed_flushed_over_alone"] > 0).all()
    assert {"packed_paired_over_alone", "packed_paired_over_flushed", "openmp_wait"} <= set(df.columns)


def test_flip_sweep_shares_the_embedding_and_starts_at_no_flips():
    model = _dense(activation="tasu")
    X = _x(model, 20)
    y = model.predict(X)
    base = ehd.evaluate_chunks(model, X, y, hyperdim=512, n_chunks=2, seed=4, progress=False)
    for target in ("weights", "data"):
        df = ehd.flip_sweep(model, X, y, fractions=[0.0, 0.3, 0.5], target=target, hyperdim=512, n_chunks=2,
                            seed=4, flip_model="exact", progress=False)
        assert len(df) == 6 and set(df["flip_target"]) == {target}
        no_flip = df[df["flip_fraction"] == 0.0].reset_index(drop=True)
        np.testing.assert_array_equal(no_flip["accuracy"], base["accuracy"])
    with pytest.raises(ValueError, match="target"):
        ehd.flip_sweep(model, X, y, fractions=[0.1], target="inputs", hyperdim=64, n_chunks=2, seed=0)


@pytest.mark.parametrize("embedding", ["gaussian", "rademacher"])
def test_truncation_equals_embedding_at_smaller_n(embedding):
    model = _conv(activation="tasu")
    big = ehd.embed_gnet(model, hyperdim=[300, 257, 130, 99], embedding=embedding, seed=11)
    small = ehd.embed_gnet(model, hyperdim=[131, 64, 129, 1], embedding=embedding, seed=11)
    cut = big.truncated([131, 64, 129, 1])
    for a, b in zip(small.all_layers, cut.all_layers):
        np.testing.assert_array_equal(a.projection, b.projection)
        np.testing.assert_array_equal(a.weight_bits, b.weight_bits)
    X = _x(model, 5)
    np.testing.assert_array_equal(small.scores(X), cut.scores(X))
    with pytest.raises(ValueError, match="larger"):
        small.truncated(200)


def test_hyperdim_sweep_matches_separate_evaluations():
    model = _dense(activation="rasu")
    X = _x(model, 15)
    y = np.arange(15) % 4
    sw = ehd.hyperdim_sweep(model, X, y, hyperdims=[100, 333], n_chunks=3, seed=2, progress=False)
    for N in (100, 333):
        one = ehd.evaluate_chunks(model, X, y, hyperdim=N, n_chunks=3, seed=2, progress=False)
        got = sw[sw["hyperdim"] == str(N)].reset_index(drop=True)
        np.testing.assert_array_equal(got["accuracy"], one["accuracy"])
        np.testing.assert_array_equal(got["agreement"], one["agreement"])


@pytest.mark.parametrize("overlay", [None, "paper.yaml"])
def test_notebook_model_specs_match_the_trained_models(overlay):
    # The train_gnet rule trains gnet_models[name]; each EHD notebook repeats the spec it expects so it can
    # train standalone. A mismatch would make the notebook retrain over the rule's checkpoint.
    from gnetlab import paths, pipeline
    from gnetlab.gnet.train import _check_spec

    cfg = pipeline.load_config(overlay=None if overlay is None else paths.CONFIG / overlay)
    sections = [k for k in cfg if k.startswith("ehd_")]
    assert sections
    from gnetlab.gnet.layers import ACTIVATIONS

    def entries(node):  # {label: {name, spec}}, possibly nested one level (aware_models: model -> embedding)
        for label, entry in node.items():
            if "spec" in entry:
                yield label, entry
            else:
                yield from entries(entry)

    for section in sections:
        for key in ("models", "aware_models"):
            for label, entry in entries(cfg[section].get(key, {})):
                assert entry["spec"] == cfg["gnet_models"][entry["name"]], (section, label)
                if label in ACTIVATIONS:  # sections keyed by activation (rasu/tasu) must hold that activation
                    assert entry["spec"]["activation"] == label, (section, label)
                _check_spec(entry["spec"])


def test_deprecated_names_still_work():
    model = _dense()
    with pytest.warns(PendingDeprecationWarning, match="embed_gnet"):
        old = ehd.embed(model, hyperdim=64, seed=3)
    new = ehd.embed_gnet(model, hyperdim=64, seed=3)
    np.testing.assert_array_equal(old.layers[0].weight_bits, new.layers[0].weight_bits)
    with pytest.warns(PendingDeprecationWarning, match="bench_ehd"):
        assert ehd.benchmark is bench.bench_ehd
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ehd.flip_packed is bits.flip_packed and ehd.chunk_summary is not None


def test_bench_cli_runs_the_ehd_benchmark(capsys, tmp_path):
    out = tmp_path / "ehd.csv"
    assert bench.main(["ehd", "--hyperdim", "128", "--hidden", "16", "--batch", "2", "--repeats", "1",
                       "--csv", str(out)]) == 0
    assert "identical_scores" in capsys.readouterr().out and out.exists()


def test_real_input_signs_do_not_depend_on_the_summation_order():
    """Rademacher G on quantised pixels makes exact ties (+x_i - x_j, x_i = x_j); float32 sums of them
    land on either side of 0 depending on the order BLAS adds them in, i.e. on the CPU. The data
    embedding treats values within float rounding of 0 as 0, so any summation order gives the same signs."""
    from gnetlab.ehd.model import _data_signs

    rng = np.random.default_rng(0)
    model = gnet.build_model("mnist_dense", activation="tasu", seed=0, hidden=(16,)).eval()
    e = ehd.embed_gnet(model, hyperdim=512, embedding="rademacher", seed=0)
    layer = e.layers[0]
    # quantised inputs with many equal values: pairs of pixels cancel exactly under +-1 weights
    X = (rng.integers(0, 3, size=(64, layer.fan_in)) * 85 / 255).astype(np.float32)
    base = _data_signs(layer, X, None, "float")
    perm = rng.permutation(layer.fan_in)
    layer_perm = copy.copy(layer)
    layer_perm.projection = layer.projection[:, perm]
    layer_perm._cache = {}
    for order in (perm, perm[::-1]):
        layer_perm.projection = layer.projection[:, order]
        layer_perm._cache = {}  # G-derived caches (packed G) follow the new projection
        assert np.array_equal(_data_signs(layer_perm, X[:, order], None, "float"), base)
    # and it changes almost nothing away from ties (a band of 2^-18 of the projections' scale): a
    # Gaussian embedding of continuous inputs
    g = ehd.embed_gnet(model, hyperdim=512, embedding="gaussian", seed=0).layers[0]
    Xc = rng.random((64, g.fan_in), dtype=np.float32)
    plain = (Xc + np.float32(g.bias)) @ g.projection.T < 0
    assert np.mean(_data_signs(g, Xc, None, "float") != plain) < 1e-3
