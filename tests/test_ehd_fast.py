"""Fused packed-path helpers (gnetlab.ehd.fast, gnetlab.bnn.fast) and the packed paths that use them:
bit-exact against the plain numpy expressions and the float-simulated path."""

import math

import numpy as np
import pytest

from gnetlab import bench, ehd
from gnetlab.bits import pack_bool
from gnetlab.bnn.fast import pack_bn_sign
from gnetlab.ehd import fast
from gnetlab.gnet.layers import TASU
from gnetlab.gnet.models import MODELS, GNet

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("R,N", [(1, 1), (1, 63), (3, 64), (2, 65), (5, 130), (300, 4000)])
@pytest.mark.parametrize("dtype", [np.int32, np.float32])
def test_pack_less_equals_pack_bool(R, N, dtype):
    rng = _rng(R * N)
    vals = rng.integers(-20, 20, size=(R, N)).astype(dtype)
    thr = (rng.integers(-20, 20, size=N) + rng.choice([0.0, 0.5], size=N)).astype(np.float32)
    np.testing.assert_array_equal(fast.pack_less(vals, thr), pack_bool(vals < thr))


@pytest.mark.parametrize("R,m", [(1, 10), (4, 64), (3, 257), (400, 3000)])
@pytest.mark.parametrize("alpha", [10.0, -2.5])
def test_pack_tasu_equals_the_binary_pass(R, m, alpha):
    dot = _rng(m).integers(-50, 50, size=(R, m)).astype(np.int32)
    N = 1001
    z = dot.astype(np.float32) * np.float32(np.pi / (2 * N))
    want = pack_bool(TASU.binary_pass(z, alpha) < 0)
    np.testing.assert_array_equal(fast.pack_tasu(dot, N, alpha), want)


def _exact_ref(x, G):
    return np.array([[math.fsum(float(g) * float(v) for g, v in zip(row, xr)) < 0 for row in G] for xr in x])


@pytest.mark.parametrize("K,N", [(7, 5), (64, 70), (130, 129)])
def test_exact_projection_signs_on_cancelling_sums(K, N):
    rng = _rng(K)
    G = rng.choice([-1.0, 1.0], size=(N, K)).astype(np.float32)
    x = rng.standard_normal((6, K)).astype(np.float32)
    # rows whose exact projections on some g are 0 or within float32 rounding of 0
    x[0] = 0
    x[1, :] = 1e-3
    x[1, 0] = G[0, 1:] @ (-x[1, 1:]) * G[0, 0]  # <g_0, x_1> ~ 0 up to rounding
    x[2, : K // 2] = 1e7
    x[2, K // 2:] = 1.0
    x[3] = np.float32(1e-30) * rng.standard_normal(K).astype(np.float32)
    gbits = pack_bool(G < 0)
    want = pack_bool(_exact_ref(x, G))
    for approx in (x @ G.T, fast.sign_project(x, gbits), (x.astype(np.float64) @ G.T.astype(np.float64)).astype(np.float32)):
        np.testing.assert_array_equal(fast.exact_projection_signs(x, gbits, approx), want)
        np.testing.assert_array_equal(fast.exact_projection_signs(x, gbits, approx, projection=G), want)


def test_exact_projection_signs_with_thresholds_and_exact_ties():
    G = np.array([[1, 1, -1], [1, -1, 1], [-1, -1, -1]], np.float32)
    x = np.array([[0.5, 0.25, 0.0], [3.0, 1e-3, 1e-3]], np.float32)
    gbits = pack_bool(G < 0)
    exact = x.astype(np.float64) @ G.T.astype(np.float64)
    for t in ([0.75, 3.0], [np.nextafter(np.float32(0.75), np.float32(1)), -3.0],
              [np.nextafter(np.float32(0.75), np.float32(0)), 2.5]):
        t = np.asarray(t, np.float32)
        want = pack_bool(exact < t.astype(np.float64)[:, None])
        for approx in (x @ G.T, (x @ G.T) + np.float32(1e-7)):
            np.testing.assert_array_equal(fast.exact_projection_signs(x, gbits, approx, threshold=t), want)
            np.testing.assert_array_equal(fast.exact_projection_signs(x, gbits, approx, threshold=t, projection=G),
                                          want)


def test_exact_projection_signs_parallel_path_and_bound():
    rng = _rng(1)
    K, N, R = 40, 6000, 200
    G = rng.choice([-1.0, 1.0], size=(N, K)).astype(np.float32)
    x = rng.standard_normal((R, K)).astype(np.float32)
    gbits = pack_bool(G < 0)
    exact = x.astype(np.float64) @ G.T.astype(np.float64)
    got = fast.exact_projection_signs(x, gbits, x @ G.T)
    np.testing.assert_array_equal(got, pack_bool(exact < 0))
    approx = fast.sign_project(x[:3], gbits)
    assert np.all(np.abs(approx - exact[:3]) <= fast.projection_error_bound(x[:3], K)[:, None])


@pytest.mark.parametrize("B,K,N", [(1, 784, 1000), (2, 13, 77), (1, 3, 5000)])
def test_sign_project_is_a_float32_sum_of_the_signed_inputs(B, K, N):
    rng = _rng(K)
    G = rng.choice([-1.0, 1.0], size=(N, K)).astype(np.float32)
    x = rng.random((B, K), dtype=np.float32)
    got = fast.sign_project(x, pack_bool(G < 0))
    exact = x.astype(np.float64) @ G.T.astype(np.float64)
    assert got.dtype == np.float32 and got.shape == (B, N)
    assert np.all(np.abs(got - exact) <= fast.projection_error_bound(x, K)[:, None])


def test_sign_project_parallel_path_equals_serial(monkeypatch):
    rng = _rng(9)
    G = rng.choice([-1.0, 1.0], size=(300, 90)).astype(np.float32)
    x = rng.random((3, 90), dtype=np.float32)
    serial = fast.sign_project(x, pack_bool(G < 0))
    monkeypatch.setattr(fast, "PARALLEL_LOOKUPS", 1)
    np.testing.assert_array_equal(fast.sign_project(x, pack_bool(G < 0)), serial)


def test_pack_conv_binary_equals_the_numpy_expression():
    rng = _rng(3)
    L, N, B = 9, 130, 4
    dot = rng.integers(-30, 30, size=(B * L, N)).astype(np.int32)
    pad = rng.integers(-3, 3, size=(L, N)).astype(np.int32)
    bvalid = (rng.standard_normal((L, N)) * 3).astype(np.float32)
    want = pack_bool(((dot.reshape(B, L, N) - pad) < -bvalid).reshape(-1, N))
    np.testing.assert_array_equal(fast.pack_conv_binary(dot, pad, np.ascontiguousarray(-bvalid)), want)


@pytest.mark.parametrize("R,n", [(1, 5), (3, 64), (2, 129), (600, 2000)])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_pack_bn_sign_equals_the_numpy_expression(R, n, dtype):
    rng = _rng(n)
    pre = rng.integers(-9, 9, size=(R, n)).astype(dtype)
    tau = rng.integers(-9, 9, size=n) + rng.choice([0.0, 0.25], size=n)
    tau = np.where(rng.random(n) < 0.5, np.nextafter(tau, np.inf), tau)
    flip = rng.random(n) < 0.5
    bits = (pre.astype(np.float64) >= tau) ^ flip
    np.testing.assert_array_equal(pack_bn_sign(pre, tau, flip), pack_bool(~bits))


def _dense(activation, hidden=(24, 16), n_in=30):
    return GNet(MODELS["mnist_dense"](activation=activation, seed=0, hidden=hidden, input_features=n_in,
                                      n_classes=4)).eval()


def _conv2d(activation):
    cfg = {"input_shape": [2, 9, 8], "activation": activation, "n_classes": 3, "seed": 0,
           "blocks": [{"kind": "conv2d", "out": 5, "kernel_size": 3, "padding": 1, "pool": 2, "bias_init": 0.05},
                      {"kind": "conv2d", "out": 4, "kernel_size": 3, "padding": 2, "stride": 2, "bias_init": 0.1},
                      {"kind": "dense", "out": 6}]}
    return GNet(cfg).eval()


def _conv1d(activation):
    cfg = {"input_shape": [2, 17], "activation": activation, "n_classes": 3, "seed": 1,
           "blocks": [{"kind": "conv1d", "out": 4, "kernel_size": 5, "padding": 2, "pool": 2, "bias_init": 0.05},
                      {"kind": "conv1d", "out": 3, "kernel_size": 3, "padding": 1, "bias_init": -0.2}]}
    return GNet(cfg).eval()


@pytest.mark.parametrize("builder", [_dense, _conv2d, _conv1d])
@pytest.mark.parametrize("activation", ["tasu", "rasu"])
@pytest.mark.parametrize("embedding", ["rademacher", "gaussian"])
@pytest.mark.parametrize("batch", [1, 21])
def test_packed_equals_float_and_the_generic_path(builder, activation, embedding, batch):
    model = builder(activation)
    X = _rng(batch).random((batch, model.n_features), dtype=np.float32)
    n = len(model.layers) + 1
    e = ehd.embed_gnet(model, hyperdim=[131, 77, 64, 65][:n], embedding=embedding, seed=2)
    sp = e.scores(X, path="packed", batch_size=batch)
    np.testing.assert_array_equal(sp, e.scores(X, path="float", batch_size=batch))
    # the generic packed route (taken with a first-layer cache) gives the same integers
    np.testing.assert_array_equal(sp, e.scores(X, path="packed", batch_size=batch, _first_layer_cache={}))
    np.testing.assert_array_equal(sp, e.scores(X, path="packed", batch_size=4))


def test_fused_dense_path_is_taken_and_odd_n():
    model = _dense("tasu", hidden=(33, 65), n_in=70)
    e = ehd.embed_gnet(model, hyperdim=[129, 63, 1], embedding="rademacher", seed=0)
    assert e._fast_ok()
    assert not ehd.embed_gnet(model, hyperdim=64, embedding="gaussian", seed=0)._fast_ok()
    X = _rng(5).random((19, 70), dtype=np.float32)
    for bs in (1, 7, 19):
        np.testing.assert_array_equal(e.scores(X, batch_size=bs), e.scores(X, path="float", batch_size=bs))
    tm = {}
    e.scores(X[:1], timings=tm)
    assert "layer0:data" in tm


def test_bnn_and_conv_benchmarks_smoke(tmp_path, capsys):
    df = bench.bench_bnn((16,), batch_sizes=(1, 3), repeats=1)
    assert list(df["batch_size"]) == [1, 3] and df["identical_predictions"].all()
    assert {"speedup", "speedup_p25", "speedup_p75", "cpu_model", "kernel_path", "threads", "speedup_alone",
            "fast_flushed_over_alone", "fast_paired_over_flushed"} <= set(df.columns)
    df = bench.bench_conv_ehd(_conv2d("tasu"), hyperdim=64, batch_sizes=(2,), repeats=1)
    assert df["identical_scores"].all() and (df["projected_sweep_hours"] > 0).all()
    assert (df["speedup_alone"] > 0).all() and (df["inputs"] == "pixels").all()
    df = bench.bench_conv_ehd(_conv2d("tasu"), hyperdim=64, batch_sizes=(2,), repeats=1, inputs="uniform")
    assert df["identical_scores"].all() and (df["inputs"] == "uniform").all()
    with pytest.raises(ValueError, match="inputs"):
        bench.bench_conv_ehd(_conv2d("tasu"), hyperdim=64, batch_sizes=(2,), repeats=1, inputs="mnist")
    out = tmp_path / "bnn.csv"
    assert bench.main(["bnn", "--hidden", "8", "--batch", "2", "--repeats", "1", "--csv", str(out)]) == 0
    assert out.exists() and "speedup" in out.read_text().splitlines()[0]
    out = tmp_path / "conv.csv"
    assert bench.main(["conv", "--hyperdim", "64", "--batch", "1", "--repeats", "1", "--inputs", "uniform",
                       "--csv", str(out)]) == 0
    assert "Projected paper-scale sweep" in capsys.readouterr().out and "batch_size" in out.read_text()
