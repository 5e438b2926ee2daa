"""The fused conv packed path (gnetlab.ehd.conv_fast): when it applies, and that it gives exactly the
integers of the generic packed path and of the float-simulated path (ties, odd N, strides, pooling,
blocks, threads, the fsum fallback and the portable popcount path)."""

import numpy as np
import pytest

from gnetlab import ehd
from gnetlab.ehd import conv_fast
from gnetlab.gnet.models import GNet

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(activation="tasu", channels=2, seed=0, pool=2, dense=True):
    blocks = [{"kind": "conv2d", "out": 5, "kernel_size": 3, "padding": 1, "pool": pool, "bias_init": 0.05},
              {"kind": "conv2d", "out": 4, "kernel_size": 3, "padding": 2, "stride": 2, "bias_init": 0.1}]
    if dense:
        blocks.append({"kind": "dense", "out": 6})
    cfg = {"input_shape": [channels, 11, 9], "activation": activation, "n_classes": 3, "seed": seed,
           "blocks": blocks}
    return GNet(cfg).eval()


def _embed(model, hyperdim=(131, 77, 64, 65), embedding="rademacher", seed=2):
    n = len(model.layers) + 1
    return ehd.embed_gnet(model, hyperdim=list(hyperdim)[:n], embedding=embedding, seed=seed)


def _check(e, X, batch_size):
    fast = e.scores(X, path="packed", batch_size=batch_size)
    np.testing.assert_array_equal(fast, e.scores(X, path="float", batch_size=batch_size))
    # a first-layer cache sends the packed path through the generic (unfused) route
    np.testing.assert_array_equal(fast, e.scores(X, path="packed", batch_size=batch_size, _first_layer_cache={}))
    return fast


def test_applies_only_to_tasu_rademacher_conv2d_nets():
    assert conv_fast.conv_fast_ok(_embed(_model()))
    assert conv_fast.conv_fast_ok(_embed(_model(dense=False)))
    assert not conv_fast.conv_fast_ok(_embed(_model("rasu")))
    assert not conv_fast.conv_fast_ok(_embed(_model(), embedding="gaussian"))
    cfg = {"input_shape": [2, 17], "activation": "tasu", "n_classes": 3, "seed": 1,
           "blocks": [{"kind": "conv1d", "out": 4, "kernel_size": 5, "padding": 2}]}
    assert not conv_fast.conv_fast_ok(_embed(GNet(cfg).eval()))


@pytest.mark.parametrize("channels,pool,dense", [(1, 2, True), (2, 3, True), (3, 1, False)])
@pytest.mark.parametrize("batch", [1, 6])
def test_equals_float_and_generic_paths(channels, pool, dense, batch):
    model = _model(channels=channels, pool=pool, dense=dense, seed=channels)
    e = _embed(model, hyperdim=(63, 129, 1, 64))
    X = np.random.default_rng(batch).random((batch, model.n_features), dtype=np.float32)
    _check(e, X, batch)
    _check(e, X, 4)


def test_exact_ties_of_quantised_images():
    # 8-bit images with constant regions: many first-layer projections are exactly 0 (sign +1)
    model = _model(channels=1)
    e = _embed(model)
    rng = np.random.default_rng(3)
    X = np.zeros((5, model.n_features), np.float32)
    X[:, ::3] = rng.integers(0, 3, (5, X[:, ::3].shape[1])) / np.float32(255)
    X[1] = np.float32(7) / np.float32(255)
    _check(e, X, 5)


def test_blocks_threads_and_portable_path(monkeypatch):
    model = _model()
    e = _embed(model)
    X = np.random.default_rng(7).random((9, model.n_features), dtype=np.float32)
    ref = e.scores(X, path="float", batch_size=9)
    monkeypatch.setattr(conv_fast, "PARALLEL_ROWS", 1)  # the threaded kernels
    np.testing.assert_array_equal(e.scores(X, batch_size=9), ref)
    monkeypatch.setattr(conv_fast, "TAIL_MAX_ROWS", 0)  # dense layers on the GEMM kernels, not fused_tail
    np.testing.assert_array_equal(e.scores(X, batch_size=9), ref)
    monkeypatch.setenv("GNETLAB_KERNEL_PATH", "portable")  # the dense layers' portable popcount kernels
    np.testing.assert_array_equal(e.scores(X, batch_size=9), ref)


def test_undecided_sums_fall_back_to_the_exact_route(monkeypatch):
    model = _model()
    e = _embed(model)
    X = np.random.default_rng(8).random((2, model.n_features), dtype=np.float32)
    ref = e.scores(X, path="float", batch_size=2)
    calls = []
    monkeypatch.setattr(conv_fast, "_gamma", lambda k, u: calls.append(k) or 1.0)
    np.testing.assert_array_equal(e.scores(X, batch_size=2), ref)  # every entry undecided: fsum route
    assert calls


def test_timings_are_recorded():
    model = _model()
    e = _embed(model)
    tm = {}
    e.scores(np.random.default_rng(9).random((1, model.n_features), dtype=np.float32), timings=tm)
    assert {"layer0", "layer1", "layer2"} <= set(tm)  # the fused dense layers count under the first


@pytest.mark.parametrize("hidden,hyperdim", [((33, 65), [129, 63, 1]), ((64,), [64, 200]), ((7, 130, 5), [65, 1, 129, 3])])
def test_fused_tail_equals_the_layer_by_layer_path(hidden, hyperdim):
    from gnetlab.ehd import fused_tail
    from gnetlab.ehd.model import _real_rademacher_signs
    from gnetlab.gnet.models import build_model

    model = build_model("mnist_dense", activation="tasu", seed=1, hidden=hidden)
    e = ehd.embed_gnet(model, hyperdim=hyperdim, embedding="rademacher", seed=4)
    X = np.random.default_rng(11).random((5, 784), dtype=np.float32)
    ref = e.scores(X, path="float", batch_size=5)
    for bs in (1, 5):
        np.testing.assert_array_equal(e.scores(X, batch_size=bs), ref)
    first = e.all_layers[0]
    x = (X - np.float32(e.input_shift)) / np.float32(e.input_scale) + np.float32(first.bias)
    words = _real_rademacher_signs(first, x, "float")
    np.testing.assert_array_equal(fused_tail.tail_scores(e.all_layers, words, first_weights=True), ref)
    np.testing.assert_array_equal(fused_tail.tail_scores(e.all_layers, words, first_weights=True), ref)  # cached


def test_first_layer_decision_on_cancelling_sums():
    # rows of repeated values and balanced +-1 rows of G: many exact zeros and near-threshold sums,
    # decided as exact_projection_signs decides them (its float64 / fsum route for the undecided)
    from gnetlab.bits import pack_bool
    from gnetlab.ehd import fast

    rng = np.random.default_rng(12)
    K, N, R = 24, 200, 30
    G = np.where(rng.random((N, K)) < 0.5, -1.0, 1.0).astype(np.float32)
    G[: N // 2, : K // 2], G[: N // 2, K // 2:] = 1.0, -1.0
    x = np.repeat(rng.integers(1, 4, (R, 1)).astype(np.float32) / np.float32(3), K, axis=1)
    x[R // 2:] += rng.standard_normal((R - R // 2, K)).astype(np.float32) * np.float32(1e-7)
    thr = np.where(np.arange(R) % 3 == 0, np.float32(0), -np.float32(1e-7) * np.arange(R, dtype=np.float32))
    GT = np.ascontiguousarray(G.T)
    absum = np.abs(x).sum(axis=1, dtype=np.float64)
    bound = 2.0 * conv_fast._gamma(K, conv_fast._U32) * absum + 1e-30
    bound64 = 2.0 * conv_fast._gamma(K, conv_fast._U64) * absum + 1e-300
    thr = thr.astype(np.float32)
    ref = fast.exact_projection_signs(x, pack_bool(G < 0), x @ GT, projection=G, threshold=thr)

    def decide(sel):
        words = np.empty((int(sel.sum()), -(-N // 64)), np.uint64)
        left = conv_fast._real_rows(np.ascontiguousarray(x[sel]), GT, thr[sel],
                                    (bound[sel] * (1 + 2.0**-20)).astype(np.float32), bound[sel], bound64[sel],
                                    words, np.empty((conv_fast._TILE_ROWS, N), np.float32), 0, int(sel.sum()))
        return left, words

    left, _ = decide(np.ones(R, bool))
    assert left > 0  # exact ties at threshold 0: reported as undecided (the caller takes the fsum route)
    sel = thr != 0
    left, words = decide(sel)
    assert left == 0
    np.testing.assert_array_equal(words, ref[sel])
    exact = (x.astype(np.float64) @ G.T.astype(np.float64)) < thr[:, None].astype(np.float64)
    np.testing.assert_array_equal(ref, pack_bool(exact))


@pytest.mark.parametrize("path", ["auto", "portable"])
def test_one_bit_project_is_within_the_bound_and_dense_batch1_exact(monkeypatch, path):
    # the CPU-dispatched one-bit kernel of the dense path's first layer (table-permute with AVX2,
    # byte tables elsewhere): a float32 sum of the signed inputs, and the scores stay exact
    from gnetlab.bits import pack_bool
    from gnetlab.ehd import fast
    from gnetlab.gnet.models import build_model

    monkeypatch.setenv("GNETLAB_KERNEL_PATH", path)
    rng = np.random.default_rng(13)
    K, N = 200, 333
    G = np.where(rng.random((N, K)) < 0.5, -1.0, 1.0).astype(np.float32)
    x = rng.standard_normal((3, K)).astype(np.float32)
    got = fast.one_bit_project(x, pack_bool(G < 0))
    exact = x.astype(np.float64) @ G.T.astype(np.float64)
    assert got.dtype == np.float32 and got.shape == (3, N)
    assert (np.abs(got - exact) <= fast.projection_error_bound(x, K)[:, None]).all()
    model = build_model("mnist_dense", activation="tasu", seed=2, hidden=(40,))
    e = ehd.embed_gnet(model, hyperdim=[300, 129], embedding="rademacher", seed=5)
    X = rng.integers(0, 256, (3, 784)).astype(np.float32) / np.float32(255)
    X[0] = X[0, :1]  # a constant image: many exact ties
    for bs in (1, 3):
        np.testing.assert_array_equal(e.scores(X, batch_size=bs), e.scores(X, path="float", batch_size=bs))


@pytest.mark.parametrize("C,H,W,k,stride,pad", [(3, 9, 11, 3, 1, 1), (2, 14, 14, 5, 1, 2), (4, 7, 8, 4, 2, 2),
                                                (5, 6, 70, 3, 1, 1), (1, 5, 63, 2, 3, 1)])
def test_binary_patch_words_equal_unfold(C, H, W, k, stride, pad):
    """Both ways of packing +1-padded patches (a word per plane row; bit by bit where a padded row exceeds
    64 bits) against an explicit unfold of the padded planes."""
    from gnetlab.bits import pack_bool

    rng = np.random.default_rng(C * 100 + W)
    s = (rng.random((2, C, H, W)) < 0.5).astype(np.uint8)
    Ho, Wo = (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1
    padded = np.zeros((2, C, H + 2 * pad, W + 2 * pad), bool)
    padded[:, :, pad:pad + H, pad:pad + W] = s.astype(bool)
    patches = np.stack([padded[:, :, oy * stride:oy * stride + k, ox * stride:ox * stride + k].reshape(2, -1)
                        for oy in range(Ho) for ox in range(Wo)], axis=1).reshape(2 * Ho * Wo, -1)
    out = np.full((2 * Ho * Wo, -(-C * k * k // 64)), np.uint64(12345), np.uint64)
    conv_fast._binary_patch_words(s, k, stride, pad, Ho, Wo, out)
    np.testing.assert_array_equal(out, pack_bool(patches))


@pytest.mark.parametrize("bias", [1e7, -3e9])
def test_large_bias_of_a_binary_conv_layer(bias):
    """A +-1-input conv layer whose bias term exceeds float32's exact integers: its integer thresholds
    are clipped to the products' range, the same decisions as the float path."""
    model = _model(channels=1)
    e = _embed(model)
    e.all_layers[1].bias = bias
    X = np.random.default_rng(11).random((2, model.n_features), dtype=np.float32)
    np.testing.assert_array_equal(e.scores(X, batch_size=2), e.scores(X, path="float", batch_size=2))
