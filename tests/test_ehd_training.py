"""Training in the binary domain (gnetlab.ehd.training): BPDA forward, classifier fine-tuning, EHD-aware
training."""

import math

import numpy as np
import pytest
import torch

from gnetlab import ehd
from gnetlab.ehd import training as T
from gnetlab.gnet.models import MODELS, GNet

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _dense(activation="rasu", seed=0, hidden=(24, 16), n_in=30, n_classes=4):
    return GNet(MODELS["mnist_dense"](activation=activation, seed=seed, hidden=hidden, input_features=n_in,
                                      n_classes=n_classes)).eval()


def _conv(activation="tasu", seed=0):
    cfg = {"input_shape": [2, 9, 8], "activation": activation, "n_classes": 3, "seed": seed,
           "blocks": [{"kind": "conv2d", "out": 5, "kernel_size": 3, "padding": 1, "pool": 2, "bias_init": 0.05},
                      {"kind": "dense", "out": 6}]}
    return GNet(cfg).eval()


def _x(model, n=12, seed=0):
    return np.random.default_rng(seed).random((n, *model.input_shape)).astype(np.float32)


@pytest.mark.parametrize("make,act", [(_dense, "rasu"), (_dense, "tasu"), (_conv, "tasu"), (_conv, "rasu")])
@pytest.mark.parametrize("embedding", ["gaussian", "rademacher"])
@pytest.mark.parametrize("path", ["float", "packed"])
def test_bpda_forward_equals_ehd(make, act, embedding, path):
    model = make(act)
    e = ehd.embed_gnet(model, hyperdim=[130, 70, 90][-len(model.layers) - 1:], embedding=embedding, seed=5)
    X = _x(model)
    out = T.bpda_forward(model, e, torch.from_numpy(X), path=path)
    N = e.classifier.hyperdim
    ref = e.scores(X, path="float").astype(np.float32) * np.float32(math.pi / (2 * N))
    np.testing.assert_array_equal(out.detach().numpy(), ref)
    np.testing.assert_array_equal(out.argmax(1).numpy(), e.predict(X))
    # the hidden EHD values are the EHD network's own (estimates -> activations)
    hidden = []
    T.bpda_forward(model, e, X, hidden=hidden)
    z0 = e.estimates(X, path="float")[0]
    a0 = model.activations[0].binary_pass(z0, e.layers[0].alpha)
    if model.pools[0] > 1:
        a0 = torch.nn.functional.max_pool2d(torch.from_numpy(a0), model.pools[0]).numpy()
    np.testing.assert_array_equal(hidden[0].detach().numpy(), a0)


def test_bpda_gradients_finite_and_reach_input_and_weights():
    model = _conv("rasu")
    e = ehd.embed_gnet(model, hyperdim=200, embedding="gaussian", seed=1)
    x = torch.from_numpy(_x(model)).requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(8 * T.bpda_forward(model, e, x), torch.arange(12) % 3)
    loss.backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert model.layers[0].weight.grad.abs().sum() > 0 and model.output.weight.grad.abs().sum() > 0
    assert not model.training  # mode restored


def _plain_float(model, x):
    """The surrogate network written out independently: layers, activations, pools, arcsin(cos) head."""
    h = (x - model.input_shift) / model.input_scale
    for layer, act, pool in zip(model.layers, model.activations, model.pools):
        if h.ndim > 2 and layer.weight.ndim == 2:
            h = h.flatten(1)
        h = act(layer(h))
        if pool > 1:
            h = torch.nn.functional.max_pool2d(h, pool)
    h = h.flatten(1) + model.output.bias
    c = model.output.normalized_weight()
    cos = (h / (h.norm(dim=1, keepdim=True) + model.output.q)) @ (c / (c.norm(dim=0, keepdim=True) + model.output.q))
    return torch.asin(cos.clamp(-1, 1))


@pytest.mark.parametrize("make", [_dense, _conv])
def test_bpda_gradient_is_the_float_gradient_without_embedding(make):
    # with the EHD values replaced by the float layers' (ehd=None in the shared loop) the spliced forward
    # is the surrogate network: same values and the same gradients in x and in every weight
    model = make("rasu")
    X = torch.from_numpy(_x(model))
    w = torch.randn(12, model.n_classes, generator=torch.Generator().manual_seed(0))
    grads = []
    for f in (lambda x: T._spliced(model, None, x, "float", None), lambda x: _plain_float(model, x),
              lambda x: T.surrogate_forward(model, x)):
        model.zero_grad()
        x = X.clone().requires_grad_(True)
        (f(x) * w).sum().backward()
        grads.append([x.grad.clone()] + [p.grad.clone() for p in model.parameters()])
    for g in grads[1:]:
        for a, b in zip(grads[0], g):
            torch.testing.assert_close(a, b)


def test_bpda_backward_is_the_float_layer_at_the_ehd_input():
    # one hidden layer: d out / d x = J_layer0(x)^T J_head(h_ehd)
    model = _dense("rasu", hidden=(20,))
    e = ehd.embed_gnet(model, hyperdim=300, embedding="rademacher", seed=2)
    X = torch.from_numpy(_x(model))
    w = torch.randn(12, model.n_classes, generator=torch.Generator().manual_seed(1))
    x = X.clone().requires_grad_(True)
    (T.bpda_forward(model, e, x) * w).sum().backward()
    hidden = []
    T.bpda_forward(model, e, X, hidden=hidden)
    h = hidden[0].detach().clone().requires_grad_(True)
    (T._classifier_surrogate(model, h, "normalized") * w).sum().backward()
    x2 = X.clone().requires_grad_(True)
    with T._EvalMode(model):
        a = model.activations[0](model.layers[0](model.prepare_input(x2)))
    (a * h.grad).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)


def test_redraw_and_eot_module():
    model = _dense("tasu")
    e = ehd.embed_gnet(model, hyperdim=64, embedding="gaussian", seed=0)
    X = _x(model, 20)
    a = T.bpda_forward(model, e, X, seed=7).detach()
    b = T.bpda_forward(model, ehd.embed_gnet(model, hyperdim=64, embedding="gaussian", seed=7), X).detach()
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(a, T.bpda_forward(model, e, X).detach())
    m = T.BPDAEHD(model, e, eot_seed=3)
    o1, o2 = m(torch.from_numpy(X)), m(torch.from_numpy(X))
    assert m.calls == 2 and not torch.equal(o1, o2)
    torch.testing.assert_close(T.BPDAEHD(model, e, eot_seed=3)(X), o1, rtol=0, atol=0)


def test_reembed_equals_embed_after_weight_change():
    model = _dense("rasu")
    e = ehd.embed_gnet(model, hyperdim=[50, 60, 70], embedding="rademacher", seed=4)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    fresh = ehd.embed_gnet(model, hyperdim=[50, 60, 70], embedding="rademacher", seed=4)
    re = T.reembed(model, e)
    X = _x(model)
    np.testing.assert_array_equal(re.scores(X), fresh.scores(X))
    for a, b in zip(re.all_layers, fresh.all_layers):
        np.testing.assert_array_equal(a.weight_bits, b.weight_bits)
        assert a.bias == b.bias and a.alpha == b.alpha


def test_bpda_bad_input():
    model = _dense()
    e = ehd.embed_gnet(model, hyperdim=32, embedding="gaussian", seed=0)
    with pytest.raises(TypeError, match="model"):
        T.bpda_forward("net", e, _x(model))
    with pytest.raises(TypeError, match="ehd"):
        T.bpda_forward(model, object(), _x(model))
    with pytest.raises(ValueError, match="ehd: not an embedding"):
        T.bpda_forward(model, ehd.embed_gnet(_dense(hidden=(8,)), hyperdim=32, seed=0), _x(model))
    with pytest.raises(ValueError, match="path"):
        T.bpda_forward(model, e, _x(model), path="gpu")
    with pytest.raises(ValueError, match="x"):
        T.bpda_forward(model, e, np.zeros((3, 7), np.float32))
    with pytest.raises(TypeError, match="hidden"):
        T.bpda_forward(model, e, _x(model), hidden=())


# -- fine-tuning the classifier --------------------------------------------------------------------

def _task(n=300, n_in=30, n_classes=4, seed=0):
    """A learnable toy task: class = argmax of a fixed random projection of x."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_in)).astype(np.float32)
    W = np.random.default_rng(99).standard_normal((n_in, n_classes))
    return X, (X - 0.5) @ W


def _labels(scores):
    return scores.argmax(1).astype(np.int64)


def test_ehd_hidden_is_the_classifier_input():
    model = _dense("rasu")
    e = ehd.embed_gnet(model, hyperdim=64, embedding="gaussian", seed=0)
    X = _x(model)
    hidden = []
    T.bpda_forward(model, e, X, hidden=hidden)
    np.testing.assert_array_equal(T.ehd_hidden(e, X, batch_size=5), hidden[-1].detach().numpy())


@pytest.mark.parametrize("method", ["binary", "float"])
def test_fine_tune_classifier_improves_training_accuracy(method):
    X, s = _task()
    y = _labels(s)
    model = _dense("rasu", n_classes=4)  # untrained: the embedded classifier is near chance
    e = ehd.embed_gnet(model, hyperdim=256, embedding="gaussian", seed=1)
    e2, hist = T.fine_tune_classifier(model, e, X, y, method=method, epochs=15, lr=0.05, batch_size=20,
                                      val_size=60, seed=0)
    assert hist["epoch"].tolist() == list(range(16)) and hist["best"].sum() == 1
    # binary: N free signs per class fit the training set; float: 16-dimensional class vectors, less room
    assert hist["train_acc"].iloc[-1] > hist["train_acc"].iloc[0] + (0.3 if method == "binary" else 0.1)
    assert hist["val_acc"].max() >= hist["val_acc"].iloc[0]
    # only the classifier's weight signs changed; the hidden layers are shared
    assert all(a is b for a, b in zip(e2.layers, e.layers))
    assert not np.array_equal(e2.classifier.weight_bits, e.classifier.weight_bits)
    best = int(hist.loc[hist["best"], "epoch"].iloc[0])
    assert best > 0
    # the returned network's accuracy on the validation part is the recorded best
    rng = np.random.default_rng(0)
    from gnetlab.datasets import stratified_split
    _, va = stratified_split(y, 60, rng)
    assert np.mean(e2.predict(X[va]) == y[va]) == pytest.approx(hist["val_acc"].max(), abs=1e-6)


def test_fine_tune_keeps_the_post_hoc_classifier_when_nothing_helps():
    X, s = _task()
    y = _labels(s)
    model = _dense("rasu", n_classes=4)
    e = ehd.embed_gnet(model, hyperdim=64, embedding="rademacher", seed=1)
    e2, hist = T.fine_tune_classifier(model, e, X, y, epochs=1, lr=1e-9, val_size=60, seed=0)
    assert bool(hist["best"].iloc[0]) and np.array_equal(e2.classifier.weight_bits, e.classifier.weight_bits)


def test_fine_tune_bad_input():
    X, s = _task(n=100)
    y = _labels(s)
    model = _dense("rasu", n_classes=4)
    e = ehd.embed_gnet(model, hyperdim=64, seed=0)
    with pytest.raises(ValueError, match="method"):
        T.fine_tune_classifier(model, e, X, y, method="sgd", seed=0)
    with pytest.raises(ValueError, match="epochs"):
        T.fine_tune_classifier(model, e, X, y, epochs=0, seed=0)
    with pytest.raises(ValueError, match="temperature"):
        T.fine_tune_classifier(model, e, X, y, temperature=-1.0, seed=0)
    with pytest.raises(ValueError, match="X, y"):
        T.fine_tune_classifier(model, e, X, y[:-1], seed=0)
    with pytest.raises(ValueError, match="y: labels"):
        T.fine_tune_classifier(model, e, X, y + 4, seed=0)
    with pytest.raises(ValueError, match="seed"):
        T.fine_tune_classifier(model, e, X, y, seed=-1)
    with pytest.raises(TypeError, match="ehd"):
        T.ehd_hidden("net", X)


# -- EHD-aware training ----------------------------------------------------------------------------

@pytest.mark.parametrize("redraw,hyperdim", [(True, 128), (False, 128), (True, [64, 256]), (False, [64, 256])])
def test_train_ehd_aware_improves_the_ehd_network_and_keeps_the_best_epoch(redraw, hyperdim):
    from gnetlab.ehd import aware

    X, s = _task(n=400)
    y = _labels(s)
    model = _dense("rasu", n_classes=4, hidden=(32,))
    start = {k: v.clone() for k, v in model.state_dict().items()}
    hist = aware.train_ehd_aware(model, X, y, hyperdim=hyperdim, redraw=redraw, epochs=6, lr=0.02, temperature=8.0,
                                 batch_size=50, val_size=80, seed=0, progress=False)
    assert hist["val_acc"].max() > hist["val_acc"].iloc[0] + 0.1
    assert hist["train_acc"].iloc[1:].notna().all() and np.isfinite(hist["train_loss"].iloc[1:]).all()
    assert not all(torch.equal(v, start[k]) for k, v in model.state_dict().items())
    assert not model.training


def test_train_ehd_aware_bad_input():
    from gnetlab.ehd import aware

    X, s = _task(n=100)
    y = _labels(s)
    model = _dense("rasu", n_classes=4)
    with pytest.raises(TypeError, match="redraw"):
        aware.train_ehd_aware(model, X, y, hyperdim=64, redraw="yes", seed=0)
    with pytest.raises(ValueError, match="embedding"):
        aware.train_ehd_aware(model, X, y, hyperdim=64, embedding="binary", seed=0)
    with pytest.raises(ValueError, match="hyperdim"):
        aware.train_ehd_aware(model, X, y, hyperdim=0, seed=0)
    with pytest.raises(ValueError, match="hyperdim"):
        aware.train_ehd_aware(model, X, y, hyperdim=[], seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        aware.train_ehd_aware(model, X, y, hyperdim=64, batch_size=1, seed=0)
    with pytest.raises(ValueError, match="X, y"):
        aware.train_ehd_aware(model, X, y[:5], hyperdim=64, seed=0)


def test_aware_spec_checking():
    from gnetlab import pipeline
    from gnetlab.ehd import aware
    from gnetlab.gnet.train import train_from_spec

    spec = pipeline.load_config()["gnet_models"]["ehd_rasu_aware_gaussian"]
    assert aware.check_spec(spec)["ehd_aware"]["base"] == "ehd_rasu"
    with pytest.raises(ValueError, match="gnetlab.ehd"):
        train_from_spec(spec)  # the float trainer refuses, naming the right one
    bad = {**spec, "ehd_aware": {**spec["ehd_aware"], "lr_typo": 1}}
    with pytest.raises(ValueError, match="lr_typo"):
        aware.check_spec(bad)
    with pytest.raises(ValueError, match="missing keys"):
        aware.check_spec({**spec, "ehd_aware": {"base": "ehd_rasu"}})
    with pytest.raises(ValueError, match="ehd_aware"):
        aware.check_spec({k: v for k, v in spec.items() if k != "ehd_aware"})
    with pytest.raises(TypeError, match="ehd_aware"):
        aware.check_spec({**spec, "ehd_aware": [1]})


def test_committed_aware_model_loads_without_training(monkeypatch):
    from gnetlab import pipeline
    from gnetlab.ehd import aware

    monkeypatch.setattr(aware, "train_from_spec", lambda *a, **k: pytest.fail("trained instead of loading"))
    cfg = pipeline.load_config()
    for name in ("ehd_rasu_aware_gaussian", "ehd_rasu_aware_rademacher", "conv_rasu_aware_gaussian",
                 "conv_rasu_aware_rademacher"):
        model, meta = aware.load_model(name, cfg["gnet_models"][name], progress=False)
        assert meta["spec"]["ehd_aware"]["embedding"] in name and not model.training


def test_binary_training_sweep_rows_and_pairing():
    from gnetlab.ehd import aware

    X, s = _task(n=300)
    y = _labels(s)
    model = _dense("rasu", n_classes=4)
    df = aware.binary_training_sweep(model, X[:100], y[:100], X[100:], y[100:], hyperdims=[32, 64],
                                     finetune_hyperdims=[64], n_chunks=2, seed=0,
                                     finetune={"epochs": 2, "val_size": 40}, label="m", progress=False)
    assert len(df) == 2 * 2 + 2 and set(df.method) == set(aware.SWEEP_METHODS)
    post = df[df.method == "post-hoc"].set_index(["hyperdim", "chunk"]).accuracy
    ref = ehd.hyperdim_sweep(model, X[:100], y[:100], hyperdims=[32, 64], n_chunks=2, seed=0, progress=False)
    np.testing.assert_allclose(post.values, ref.accuracy.values)
    with pytest.raises(ValueError, match="finetune_hyperdims"):
        aware.binary_training_sweep(model, X[:100], y[:100], X, y, hyperdims=[32], finetune_hyperdims=[64], seed=0)
    with pytest.raises(ValueError, match="finetune"):
        aware.binary_training_sweep(model, X[:100], y[:100], X, y, hyperdims=[32], finetune={"seed": 1}, seed=0)
    per = aware.binary_training_sweep(model, X[:100], y[:100], X[100:], y[100:], hyperdims=[32, 64],
                                      finetune_hyperdims=[64], n_chunks=2, seed=0,
                                      finetune={"epochs": 2, "val_size": 40}, label="m", per_image=True,
                                      progress=False)
    assert len(per) == 100 * (2 + 1) and sorted(set(per.image)) == list(range(100))
    acc = per.groupby(["method", "hyperdim", "chunk"]).correct.mean().mul(100)
    np.testing.assert_allclose(acc.values, df.set_index(["method", "hyperdim", "chunk"]).accuracy.loc[acc.index].values)
    from gnetlab.ehd.training import ehd_hidden, fine_tune_classifier, layer_output

    e = ehd.embed_gnet(model, hyperdim=64, seed=3)
    net = fine_tune_classifier(model, e, X[100:], y[100:], epochs=2, val_size=40, seed=0)[0]
    np.testing.assert_array_equal(layer_output(net.classifier, ehd_hidden(e, X[:100])).argmax(1), net.predict(X[:100]))
    with pytest.raises(TypeError, match="per_image"):
        aware.binary_training_sweep(model, X[:100], y[:100], X, y, hyperdims=[32], per_image=1, seed=0)
