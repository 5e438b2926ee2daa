"""G-Net layers, models, training and checkpoints (gnetlab.gnet)."""

import math

import numpy as np
import pytest
import torch

from gnetlab import gnet
from gnetlab.gnet import layers as L
from gnetlab.gnet.models import MODELS, GNet


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _np_dense(x, W, gamma, var, b, eps):
    xb = x + b
    w = (gamma / np.sqrt(var + eps))[:, None] * W
    cos = (xb @ w.T) / ((np.linalg.norm(w, axis=1) + eps)[None, :] * (np.linalg.norm(xb, axis=1, keepdims=True) + eps))
    return np.arcsin(np.clip(cos, -1, 1))


def _np_conv2d(x, W, gamma, var, b, eps, padding, stride):
    B, C, H, Wd = x.shape
    O, _, k, _ = W.shape
    xp = np.pad(x + b, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    w = (gamma / np.sqrt(var + eps))[:, None, None, None] * W
    nw = np.sqrt((w ** 2).sum(axis=(1, 2, 3)) + eps)
    Ho, Wo = (H + 2 * padding - k) // stride + 1, (Wd + 2 * padding - k) // stride + 1
    out = np.empty((B, O, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            p = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k].reshape(B, -1)
            npatch = np.sqrt((p ** 2).sum(1) + eps) + eps
            out[:, :, i, j] = np.arcsin(np.clip((p @ w.reshape(O, -1).T) / (npatch[:, None] * nw[None, :]), -1, 1))
    return out


def _np_conv1d(x, W, gamma, var, b, eps, padding, stride):
    B, C, Lx = x.shape
    O, _, k = W.shape
    xp = np.pad(x + b, ((0, 0), (0, 0), (padding, padding)))
    w = (gamma / np.sqrt(var + eps))[:, None, None] * W
    nw = np.sqrt((w ** 2).sum(axis=(1, 2)) + eps)
    Lo = (Lx + 2 * padding - k) // stride + 1
    res = np.empty((B, O, Lo))
    for i in range(Lo):
        p = xp[:, :, i * stride:i * stride + k].reshape(B, -1)
        npatch = np.sqrt((p ** 2).sum(1) + eps) + eps
        res[:, :, i] = np.arcsin(np.clip((p @ w.reshape(O, -1).T) / (npatch[:, None] * nw[None, :]), -1, 1))
    return res


def _params(layer):
    return (layer.weight.detach().double().numpy(), layer.bn_weight.detach().double().numpy(),
            layer.bias.item(), layer.eps)


def test_dense_matches_numpy_formula_eval_and_train():
    layer = L.ArcsineDense(7, 5, generator=_gen(1), bias_init=0.3).double()
    with torch.no_grad():
        layer.running_var.copy_(torch.rand(5, generator=_gen(2), dtype=torch.float64) + 0.5)
    x = torch.randn(6, 7, generator=_gen(3), dtype=torch.float64)
    W, gamma, b, eps = _params(layer)
    layer.eval()
    want = _np_dense(x.numpy(), W, gamma, layer.running_var.numpy(), b, eps)
    np.testing.assert_allclose(layer(x).detach().numpy(), want, rtol=1e-10, atol=1e-12)
    # training mode: the folded scale uses the batch variance of <W_i, x + b>
    layer.train()
    batch_var = ((x.numpy() + b) @ W.T).var(axis=0)
    want = _np_dense(x.numpy(), W, gamma, batch_var, b, eps)
    np.testing.assert_allclose(layer(x).detach().numpy(), want, rtol=1e-10, atol=1e-12)


def test_dense_output_range_and_sign_of_gamma():
    layer = L.ArcsineDense(10, 4, generator=_gen(0)).eval()
    x = torch.randn(8, 10, generator=_gen(1))
    z = layer(x)
    assert z.abs().max() <= math.pi / 2
    with torch.no_grad():
        layer.bn_weight.neg_()  # the folded BatchNorm scale enters through its sign
    torch.testing.assert_close(layer(x), -z)


@pytest.mark.parametrize("padding,stride", [(2, 1), (0, 2), (1, 1)])
def test_conv2d_matches_numpy_formula(padding, stride):
    layer = L.ArcsineConv2d(3, 4, 3, padding=padding, stride=stride, generator=_gen(4), bias_init=0.2).double().eval()
    with torch.no_grad():
        layer.running_var.copy_(torch.rand(4, generator=_gen(5), dtype=torch.float64) + 0.5)
    x = torch.randn(2, 3, 7, 6, generator=_gen(6), dtype=torch.float64)
    W, gamma, b, eps = _params(layer)
    want = _np_conv2d(x.numpy(), W, gamma, layer.running_var.numpy(), b, eps, padding, stride)
    got = layer(x).detach().numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_conv1d_matches_numpy_formula():
    layer = L.ArcsineConv1d(2, 3, 5, padding=2, generator=_gen(7), bias_init=0.1).double().eval()
    x = torch.randn(3, 2, 11, generator=_gen(8), dtype=torch.float64)
    W, gamma, b, eps = _params(layer)
    want = _np_conv1d(x.numpy(), W, gamma, layer.running_var.numpy(), b, eps, 2, 1)
    np.testing.assert_allclose(layer(x).detach().numpy(), want, rtol=1e-9, atol=1e-11)


def test_running_variance_updates_like_batchnorm():
    layer = L.ArcsineDense(5, 3, generator=_gen(0), bias_init=0.0)
    x = torch.randn(16, 5, generator=_gen(1))
    layer.train()
    layer(x)
    pre = (x @ layer.weight.T).detach()
    want = 0.9 * 1.0 + 0.1 * pre.var(dim=0, unbiased=True)
    torch.testing.assert_close(layer.running_var, want)


@pytest.mark.parametrize("name,alpha0,fn", [
    ("asu", 2 / math.pi, lambda a, z: a * z),
    ("rasu", 5.0, lambda a, z: np.maximum(a * z, 0)),
    ("tasu", 10.0, lambda a, z: np.tanh(a * z)),
])
def test_activations_formula_and_alpha_is_learnable(name, alpha0, fn):
    act = L.make_activation(name)
    assert act.alpha.item() == pytest.approx(alpha0)
    assert act.alpha.requires_grad
    z = torch.linspace(-1.5, 1.5, 31)
    np.testing.assert_allclose(act(z).detach().numpy(), fn(alpha0, z.numpy()), rtol=1e-6, atol=1e-6)
    opt = torch.optim.SGD(act.parameters(), lr=0.1)
    loss = (act(z) - 0.3).square().mean()
    loss.backward()
    assert act.alpha.grad is not None and act.alpha.grad.abs().item() > 0
    opt.step()
    assert act.alpha.item() != pytest.approx(alpha0)
    assert "alpha" in dict(act.named_parameters())


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="activation.*'gelu'"):
        L.make_activation("gelu")
    with pytest.raises(ValueError, match="activation"):
        gnet.build_model("mnist_dense", activation="sigmoid")


def test_normalized_output_normalises_rows_not_columns():
    out = L.NormalizedOutput(6, 3, generator=_gen(0), bias_init=0.1)
    x = torch.randn(4, 6, generator=_gen(1))
    W = out.weight.detach().numpy()
    Wn = W / (np.linalg.norm(W, axis=1, keepdims=True) + out.q)
    xb = x.numpy() + 0.1
    want = (xb / (np.linalg.norm(xb, axis=1, keepdims=True) + out.q)) @ Wn
    np.testing.assert_allclose(out(x).detach().numpy(), want, rtol=1e-5, atol=1e-6)
    rows = np.linalg.norm(out.normalized_weight().detach().numpy(), axis=1)
    np.testing.assert_allclose(rows, 1.0, atol=1e-5)  # rows are unit vectors; the class columns are not
    assert out(x).shape == (4, 3)


@pytest.mark.parametrize("name,shape", [
    ("mnist", (2, 1, 28, 28)), ("fashion_mnist", (2, 784)), ("cifar10", (2, 3, 32, 32)),
    ("epilepsy", (2, 3, 206)), ("wss", (2, 3, 206)), ("forda", (2, 1, 500)), ("mnist_dense", (3, 784)),
    ("mnist_conv_small", (2, 784)),
])
def test_builders_forward_shapes(name, shape):
    model = gnet.build_model(name, activation="tasu", seed=0).eval()
    out = model(torch.rand(shape))
    assert out.shape == (shape[0], model.n_classes)
    assert torch.isfinite(out).all()


def test_paper_mnist_layout():
    model = gnet.build_model("mnist")
    assert [type(l).__name__ for l in model.layers] == ["ArcsineConv2d", "ArcsineConv2d", "ArcsineDense"]
    assert model.layers[2].in_features == 3136 and model.layers[2].out_features == 512
    assert model.output.weight.shape == (512, 10)


def test_wrong_input_size_is_a_clear_error():
    model = gnet.build_model("mnist_dense")
    with pytest.raises(ValueError, match=r"expected shape \(batch, 784\)"):
        model(torch.rand(2, 783))
    with pytest.raises(ValueError, match="one sample"):
        model(torch.rand(784))
    with pytest.raises(ValueError, match="name: unknown architecture"):
        gnet.build_model("resnet")


def test_seeded_construction_is_reproducible():
    a = gnet.build_model("mnist_dense", seed=3)
    b = gnet.build_model("mnist_dense", seed=3)
    c = gnet.build_model("mnist_dense", seed=4)
    assert torch.equal(a.layers[0].weight, b.layers[0].weight)
    assert not torch.equal(a.layers[0].weight, c.layers[0].weight)


def _toy(n=240, d=20, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = rng.normal(size=(3, d)) * 2
    X = (centers[y] + rng.normal(size=(n, d))).astype(np.float32)
    return X, y


def _toy_model(seed=0, activation="rasu"):
    return GNet(MODELS["mnist_dense"](activation=activation, seed=seed, hidden=(16, 16), input_features=20,
                                      n_classes=3))


def test_training_learns_keeps_best_and_is_seeded():
    X, y = _toy()
    m1, m2 = _toy_model(), _toy_model()
    r1 = gnet.train(m1, X, y, epochs=8, batch_size=40, lr=0.02, val_size=40, seed=1, progress=False)
    gnet.train(m2, X, y, epochs=8, batch_size=40, lr=0.02, val_size=40, seed=1, progress=False)
    assert list(r1.history.columns) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"]
    assert r1.best_val_acc == r1.history["val_acc"].max()
    assert r1.history["train_loss"].iloc[-1] < r1.history["train_loss"].iloc[0]
    assert r1.best_val_acc > 0.8
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p1, p2)
    assert not m1.training
    # the restored weights are the best epoch's: validation accuracy equals the recorded best
    assert gnet.evaluate(m1, X, y)[1] > 0.8


def test_training_input_errors():
    X, y = _toy()
    m = _toy_model()
    with pytest.raises(ValueError, match="labels"):
        gnet.train(m, X, y[:-1], epochs=1, batch_size=40, lr=0.01, val_size=10, seed=0, progress=False)
    with pytest.raises(TypeError, match="seed"):
        gnet.train(m, X, y, epochs=1, batch_size=40, lr=0.01, val_size=10, seed=None, progress=False)
    with pytest.raises(ValueError, match="x: expected shape"):
        gnet.train(m, X[:, :5], y, epochs=1, batch_size=40, lr=0.01, val_size=10, seed=0, progress=False)


def test_checkpoint_round_trip(tmp_path):
    X, y = _toy()
    m = _toy_model(activation="tasu")
    gnet.train(m, X, y, epochs=2, batch_size=40, lr=0.02, val_size=40, seed=0, progress=False)
    path = gnet.save_checkpoint(m, tmp_path / "sub" / "m.pt", metadata={"note": "x", "acc": 0.5})
    assert not list((tmp_path / "sub").glob(".m.pt*"))  # no temp file left behind
    m2, meta = gnet.load_checkpoint(path)
    assert meta == {"note": "x", "acc": 0.5}
    assert m2.config == m.config
    np.testing.assert_array_equal(m2.predict(X), m.predict(X))
    for (k1, v1), (k2, v2) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2)
    # the file is loadable without unpickling code
    payload = torch.load(path, weights_only=True)
    assert isinstance(payload["config"], str)


def test_load_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        gnet.load_checkpoint(tmp_path / "missing.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a gnetlab G-Net checkpoint"):
        gnet.load_checkpoint(tmp_path / "other.pt")


def test_ensure_trained_reuses_and_retrains(tmp_path):
    spec = {"dataset": "digits", "model": "mnist_dense",
            "model_kwargs": {"hidden": [16, 16], "input_features": 64}, "activation": "rasu", "seed": 0,
            "train": {"epochs": 2, "batch_size": 100, "lr": 0.02, "val_size": 100}}
    path = tmp_path / "m.pt"
    m1, meta1 = gnet.ensure_trained(path, spec, progress=False)
    assert 0 <= meta1["test_acc"] <= 1 and meta1["spec"]["data_seed"] == 0
    mtime = path.stat().st_mtime_ns
    m2, meta2 = gnet.ensure_trained(path, spec, progress=False)
    assert path.stat().st_mtime_ns == mtime  # reused, not retrained
    spec2 = {**spec, "seed": 1}
    m3, meta3 = gnet.ensure_trained(path, spec2, progress=False)
    assert meta3["spec"]["seed"] == 1
    # the same spec on other training data (e.g. a changed split) is retrained too
    model, meta = gnet.load_checkpoint(path)
    gnet.save_checkpoint(model, path, metadata={**meta, "data_sha256": "0" * 64})
    mtime = path.stat().st_mtime_ns
    gnet.ensure_trained(path, spec2, progress=False)
    assert path.stat().st_mtime_ns != mtime
    with pytest.raises(ValueError, match="unknown keys"):
        gnet.ensure_trained(path, {**spec, "epochs": 3}, progress=False)


def test_sign_tasu_limit():
    model = gnet.build_model("mnist_dense", activation="tasu", hidden=(16, 8)).eval()
    x = torch.rand(5, 784, generator=_gen(0))
    with torch.no_grad():
        for a in model.activations:
            a.alpha.fill_(1e4)  # tanh(alpha z) ~ sign(z)
        torch.testing.assert_close(model(x, sign_tasu=True), model(x), atol=1e-3, rtol=0)
    rasu = gnet.build_model("mnist_dense", activation="rasu", hidden=(16, 8)).eval()
    with torch.no_grad():
        assert torch.equal(rasu(x, sign_tasu=True), rasu(x))
