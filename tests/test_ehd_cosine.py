"""The cosine kernel (the distortion ablation): float layers, the EHD estimates of a cosine layer, and
that the arcsine G-Nets are untouched by the option."""

import json

import numpy as np
import pytest
import torch

from gnetlab import ehd, gnet
from gnetlab.embed import hoeffding_radius
from gnetlab.gnet import layers as L

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _dense(kernel="cosine", activation="relu", hidden=(40, 16), n_in=30, n_classes=4, seed=0):
    return gnet.build_model("mnist_dense", activation=activation, kernel=kernel, seed=seed, hidden=hidden,
                            input_features=n_in, n_classes=n_classes).eval()


def _spread_cosines(model, X, seed=0):
    """Set the first layer's rows to mixtures of the (bias-tricked) inputs and noise, so the cosines
    cover most of [-1, 1] (random rows give |cos| ~ 0.1, where the distortion is nearly linear)."""
    rng = np.random.default_rng(seed)
    layer = model.layers[0]
    with torch.no_grad():
        x = (model.prepare_input(X) + layer.bias).numpy()
        m = layer.weight.shape[0]
        mix = np.linspace(-1, 1, m)[:, None]
        rows = mix * x[rng.integers(0, len(x), m)] + (1 - np.abs(mix)) * rng.standard_normal((m, x.shape[1]))
        layer.weight.copy_(torch.from_numpy(rows.astype(np.float32)))
        layer.bn_weight.copy_(torch.ones(m))
    return model


def _exact_cosine(model, X):
    """cos(x + b, w~_i) of the first dense layer, without eps terms (float64)."""
    with torch.no_grad():
        x = model.prepare_input(X).double().numpy() + model.layers[0].bias.item()
        w = model.layers[0].folded_weight().double().numpy()
    return (x @ w.T) / np.linalg.norm(x, axis=1, keepdims=True) / np.linalg.norm(w, axis=1)[None, :]


def _x(n_features, n=20, seed=0):
    return np.random.default_rng(seed).random((n, n_features), dtype=np.float32)


# -- float layers ---------------------------------------------------------------------------------

def test_cosine_dense_layer_is_the_closed_form_cosine():
    model = _spread_cosines(_dense(), _x(30))
    X = _x(30)
    with torch.no_grad():
        c = model.layers[0](model.prepare_input(X)).double().numpy()
    exact = _exact_cosine(model, X)
    assert exact.min() < -0.8 and exact.max() > 0.8  # the test covers the nonlinear part of arcsin
    np.testing.assert_allclose(c, exact, atol=1e-4)  # the eps terms of the norms only
    # and it is the sine of the arcsine layer with the same weights
    arc = L.ArcsineDense(30, 40)
    arc.load_state_dict(model.layers[0].state_dict())
    arc.eval()
    with torch.no_grad():
        z = arc(model.prepare_input(X)).double().numpy()
    np.testing.assert_allclose(np.sin(z), c, atol=1e-5)


@pytest.mark.parametrize("cls,shape", [(L.ArcsineConv2d, (3, 2, 7, 6)), (L.ArcsineConv1d, (3, 2, 11))])
def test_cosine_conv_layer_is_the_sine_of_the_arcsine_layer(cls, shape):
    gen = torch.Generator().manual_seed(0)
    cos_layer = cls(2, 4, 3, padding=1, generator=gen, kernel="cosine", bias_init=0.1).eval()
    arc_layer = cls(2, 4, 3, padding=1, bias_init=0.1).eval()
    arc_layer.load_state_dict(cos_layer.state_dict())
    x = torch.randn(*shape, generator=gen)
    with torch.no_grad():
        c, z = cos_layer(x), arc_layer(x)
    assert c.shape == z.shape
    torch.testing.assert_close(c, torch.sin(z), atol=1e-5, rtol=0)
    assert float(c.abs().max()) <= 1.0


def test_relu_unit_is_the_rectified_scaled_cosine():
    act = L.make_activation("relu")
    assert isinstance(act, L.ReLU) and act.alpha.item() == 5.0
    c = torch.linspace(-1, 1, 21)
    torch.testing.assert_close(act(c), torch.relu(5.0 * c))
    z = np.linspace(-1, 1, 21, dtype=np.float32)
    np.testing.assert_array_equal(act.binary_pass(z, 2.0), np.maximum(np.float32(2.0) * z, 0))


def test_cosine_model_config_round_trips_and_arcsine_configs_are_unchanged():
    m = _dense()
    assert m.kernel == "cosine" and m.config["kernel"] == "cosine"
    back = gnet.GNet.from_config(json.dumps(m.config))
    back.load_state_dict(m.state_dict())
    X = _x(30, 5)
    torch.testing.assert_close(back.eval()(X), m(X))
    # the option leaves the paper's G-Nets as they were: no key, the same parameters
    for act in ("asu", "rasu", "tasu"):
        a = gnet.build_model("mnist_dense", activation=act, seed=3, hidden=(8,), input_features=12)
        b = gnet.build_model("mnist_dense", activation=act, kernel="arcsine", seed=3, hidden=(8,), input_features=12)
        assert "kernel" not in a.config and a.config == b.config and a.kernel == "arcsine"
        for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
            assert ka == kb and torch.equal(va, vb)
    assert gnet.GNet({**a.config, "kernel": "arcsine"}).config == a.config


def test_cosine_spec_trains_through_model_kwargs():
    from gnetlab.gnet.train import _check_spec

    spec = _check_spec({"dataset": "mnist5k", "model": "mnist_dense", "model_kwargs": {"kernel": "cosine"},
                        "activation": "relu", "train": {"epochs": 1, "batch_size": 10, "lr": 0.01}})
    m = gnet.build_model(spec["model"], activation=spec["activation"], seed=spec["seed"], **spec["model_kwargs"])
    assert m.kernel == "cosine" and all(layer.kernel == "cosine" for layer in m.layers)


def test_distorted_limit_replaces_each_cosine_by_its_arcsine_distortion():
    model = _dense(hidden=(12,), n_in=10, n_classes=3)
    X = _x(10, 8)
    with torch.no_grad():
        xin = model.prepare_input(X)
        c = model.layers[0](xin)
        h = model.activations[0](torch.asin(c) * 2 / np.pi)
        want = model.output(h)
    torch.testing.assert_close(model(X, distort_cosine=True), want)
    assert not torch.allclose(model(X, distort_cosine=True), model(X))


# -- EHD estimates of a cosine layer --------------------------------------------------------------

def _first_estimates(model, X, N, estimate, embedding="gaussian", seed=1):
    e = ehd.embed_gnet(model, hyperdim=N, embedding=embedding, seed=seed, cosine_estimate=estimate)
    assert [l.estimate for l in e.layers] == [estimate] * len(model.layers)
    return e.estimates(X)[0]


def test_uncompensated_estimate_converges_to_the_arcsine_distortion_not_the_cosine():
    model = _spread_cosines(_dense(), _x(30))
    X = _x(30)
    c = _exact_cosine(model, X)
    distorted = 2 / np.pi * np.arcsin(c)
    errs = []
    for N in (512, 8192):
        h = _first_estimates(model, X, N, "uncompensated")
        errs.append(np.sqrt(np.mean((h - distorted) ** 2)))
        # h averages N iid +-1 terms with mean (2/pi) arcsin(cos); union bound over all entries
        assert np.abs(h - distorted).max() <= hoeffding_radius(N, delta=1e-3 / c.size)
        # ... and it stays away from the cosine by the distortion itself, at every N
        gap = np.abs(distorted - c)
        far = gap > 0.15
        assert far.sum() > 20
        assert np.all(np.abs(h - c)[far] > gap[far] - hoeffding_radius(N, delta=1e-3 / c.size))
    assert errs[1] < 0.4 * errs[0]  # ~ 1/sqrt(N)


@pytest.mark.parametrize("embedding", ["gaussian", "rademacher"])
def test_inverted_estimate_converges_to_the_cosine(embedding):
    model = _spread_cosines(_dense(), _x(30))
    X = _x(30)
    c = _exact_cosine(model, X)
    errs = []
    for N in (512, 8192):
        s = _first_estimates(model, X, N, "inverted", embedding=embedding)
        errs.append(np.sqrt(np.mean((s - c) ** 2)))
        if embedding == "gaussian":  # sin((pi/2) h) is (pi/2)-Lipschitz in h
            assert np.abs(s - c).max() <= np.pi / 2 * hoeffding_radius(N, delta=1e-3 / c.size)
    assert errs[1] < 0.4 * errs[0]
    assert errs[1] < 0.03


def test_estimates_differ_only_in_the_readout_of_the_same_integers():
    model = _dense(hidden=(24,), n_in=30)
    X = _x(30, 10)
    N = 640
    h = _first_estimates(model, X, N, "uncompensated")
    s = _first_estimates(model, X, N, "inverted")
    np.testing.assert_allclose(s, np.sin(np.pi / 2 * h), atol=2e-6)
    k = h * N
    np.testing.assert_allclose(k, np.rint(k), atol=1e-3)  # the same integers <s, a_i>, scaled by 1/N


def test_default_estimates():
    cos_model = _dense(hidden=(8,), n_in=12)
    e = ehd.embed_gnet(cos_model, hyperdim=64, seed=0)
    assert [l.estimate for l in e.layers] == ["uncompensated"]
    assert e.truncated(32).layers[0].estimate == "uncompensated"
    assert e.with_weight_flips(0.1, seed=0).layers[0].estimate == "uncompensated"
    for act in ("asu", "rasu", "tasu"):
        arc = gnet.build_model("mnist_dense", activation=act, hidden=(8,), input_features=12).eval()
        e = ehd.embed_gnet(arc, hyperdim=64, seed=0)
        assert all(l.estimate == "arcsine" for l in e.all_layers)
        # the arcsine readout: (pi / (2N)) <s, a_i>, as before the option existed
        z = e.estimates(_x(12, 4))[0]
        k = z * 64 * 2 / np.pi
        np.testing.assert_allclose(k, np.rint(k), atol=1e-4)


@pytest.mark.parametrize("estimate", ["uncompensated", "inverted"])
@pytest.mark.parametrize("embedding", ["gaussian", "rademacher"])
def test_cosine_packed_and_float_paths_are_identical(estimate, embedding):
    model = _dense(hidden=(24, 16), n_in=30)
    X = _x(30, 9)
    e = ehd.embed_gnet(model, hyperdim=[130, 200, 77], embedding=embedding, seed=5, cosine_estimate=estimate)
    np.testing.assert_array_equal(e.scores(X, path="packed"), e.scores(X, path="float"))


def test_large_n_limits():
    # uncompensated: agrees with the distorted float network; inverted: with the float network itself
    model = _dense(hidden=(32, 32), n_in=30, n_classes=5)
    X = _x(30, 60, seed=4)
    unc = ehd.embed_gnet(model, hyperdim=30000, seed=3, cosine_estimate="uncompensated").predict(X)
    inv = ehd.embed_gnet(model, hyperdim=30000, seed=3, cosine_estimate="inverted").predict(X)
    assert np.mean(unc == model.predict(X, distort_cosine=True)) >= 0.9
    assert np.mean(inv == model.predict(X)) >= 0.9


def test_sweeps_pass_the_estimate_on():
    model = _dense(hidden=(16,), n_in=30, n_classes=3)
    X, y = _x(30, 20, seed=5), np.arange(20) % 3
    kw = dict(n_chunks=2, seed=0, progress=False)
    for est in ("uncompensated", "inverted"):
        sw = ehd.hyperdim_sweep(model, X, y, hyperdims=[96], cosine_estimate=est, **kw)
        one = ehd.evaluate_chunks(model, X, y, hyperdim=96, cosine_estimate=est, **kw)
        np.testing.assert_array_equal(sw["accuracy"], one["accuracy"])
        fl = ehd.flip_sweep(model, X, y, fractions=[0.0], hyperdim=96, cosine_estimate=est, **kw)
        np.testing.assert_array_equal(fl["accuracy"], one["accuracy"])
    default = ehd.evaluate_chunks(model, X, y, hyperdim=96, **kw)
    np.testing.assert_array_equal(default["accuracy"],
                                  ehd.evaluate_chunks(model, X, y, hyperdim=96, cosine_estimate="uncompensated",
                                                      **kw)["accuracy"])
