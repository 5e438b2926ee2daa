"""The EHD first layer on 8-bit images from exact integer products (gnetlab.ehd.pixels): the same signs, bit
for bit, as the float path's exact decision, on the VNNI kernels and on the portable loops (every CPU)."""

import numpy as np
import pytest

from gnetlab.bits import pack_bool
from gnetlab.ehd import embed_gnet
from gnetlab.ehd.fast import exact_projection_signs
from gnetlab.ehd.pixels import pixel_projection_signs
from gnetlab.gnet.models import build_model
from gnetlab.ehd import pixels
from gnetlab.kernels import u8gemm
from gnetlab.kernels.cpu_features import ENV_VAR, supported_paths

# the kernel paths this machine runs: the VNNI kernels where numba's target has them, the loops everywhere
PATHS = [p for p in ("avx512_vpopcntdq", "portable") if p in supported_paths()]
needs_vnni = pytest.mark.skipif(not u8gemm.vnni_available(), reason="the fused batch path needs AVX-512 VNNI")


def images(rng, n, k, sparse=True):
    p = rng.integers(0, 256, (n, k))
    if sparse:  # MNIST-like: most pixels 0 or 255, so many projections are exact ties
        p = np.where(rng.random((n, k)) < 0.6, 0, np.where(rng.random((n, k)) < 0.5, 255, p))
    return p.astype(np.float32) / np.float32(255)


@pytest.mark.parametrize("shift,scale,bias", [(0.5, 0.5, 5e-6), (0.0, 1.0, 0.0), (0.1307, 0.3081, -0.25)])
def test_pixel_signs_equal_the_exact_float_decision(shift, scale, bias):
    rng = np.random.default_rng(0)
    n, k = 300, 50
    G = rng.choice(np.array([-1.0, 1.0], np.float32), (n, k))
    G[:20, 1::2] = -G[:20, ::2][:, : k // 2]  # rows whose sum over equal pixels is an exact 0
    gbits = pack_bool(G < 0)
    values = (np.arange(256, dtype=np.float32) / np.float32(255) - np.float32(shift)) / np.float32(scale) + np.float32(bias)
    raw = images(rng, 37, k)
    raw[:5, 1::2] = raw[:5, ::2][:, : k // 2]
    x = (raw - np.float32(shift)) / np.float32(scale) + np.float32(bias)
    for thr in (np.zeros(37, np.float32), -np.float32(2.0**-18) * np.abs(x).sum(axis=1, dtype=np.float32)):
        want = exact_projection_signs(x, gbits, x @ G.T, projection=G, threshold=thr)
        got = pixel_projection_signs(raw, x, values, gbits, u8gemm.weight_layout(G.astype(np.int8)), thr, G)
        np.testing.assert_array_equal(got, want)
        got = pixel_projection_signs(raw, x, values, gbits, u8gemm.weight_layout(G.astype(np.int8)), thr)
        np.testing.assert_array_equal(got, want)
        for path in PATHS:  # a few rows: the products straight from the packed bits (layout None)
            for r in (0, 5, 36):
                got = pixel_projection_signs(raw[r:r + 1], x[r:r + 1], values, gbits, None, thr[r:r + 1], G, path=path)
                np.testing.assert_array_equal(got, want[r:r + 1])
            got = pixel_projection_signs(raw[:7], x[:7], values, gbits, None, thr[:7], path=path)  # no projection
            np.testing.assert_array_equal(got, want[:7])
        exact = (x.astype(np.float64) @ G.T.astype(np.float64))
        assert np.sum(np.abs(exact) < 1e-9) > 20  # exact zeros: ties at threshold 0, within the tolerance band


def test_other_inputs_are_declined():
    rng = np.random.default_rng(1)
    G = rng.choice(np.array([-1.0, 1.0], np.float32), (70, 9))
    gbits, lay = pack_bool(G < 0), u8gemm.weight_layout(G.astype(np.int8))
    values = np.arange(256, dtype=np.float32) / np.float32(255)
    raw = images(rng, 4, 9)
    thr = np.zeros(4, np.float32)
    assert pixel_projection_signs(raw, raw, values, gbits, lay, thr) is not None
    off = raw.copy()
    off[2, 3] = 0.3
    assert pixel_projection_signs(off, off, values, gbits, lay, thr) is None  # not a code
    assert pixel_projection_signs(raw, raw + np.float32(1e-3), values, gbits, lay, thr) is None  # x not the map
    assert pixel_projection_signs(off, off, values, gbits, None, thr) is None  # the same checks without a layout


@pytest.mark.parametrize("R,K,N", [(1, 784, 1000), (3, 100, 13), (2, 64, 9), (5, 1, 8), (1, 130, 1), (15, 200, 17)])
@pytest.mark.parametrize("path", PATHS)
def test_bits_matmul_equals_the_integer_product(R, K, N, path):
    rng = np.random.default_rng(R * 1000 + K + N)
    p = rng.integers(0, 256, (R, K))
    p[0, : K // 3] = 255  # the largest codes
    s = np.where(rng.random((N, K)) < 0.5, -1, 1)
    gbits = pack_bool(s < 0)
    pix = np.zeros((R, 16 * gbits.shape[1]), np.int32)
    pix.view(np.uint8)[:, :K] = p
    np.testing.assert_array_equal(u8gemm.bits_matmul(pix, gbits, path=path), p @ s.T)


def test_bits_matmul_bad_input():
    gbits = np.zeros((4, 2), np.uint64)
    with pytest.raises(ValueError, match="32 words per row"):
        u8gemm.bits_matmul(np.zeros((1, 16), np.int32), gbits)
    with pytest.raises(TypeError, match="int32"):
        u8gemm.bits_matmul(np.zeros((1, 32), np.int64), gbits)


def test_dense_tasu_scores_identical_on_images():
    model = build_model("mnist_dense", activation="tasu", seed=0, hidden=(40, 30))
    e = embed_gnet(model, hyperdim=700, embedding="rademacher", seed=0)
    rng = np.random.default_rng(2)
    X = images(rng, 40, 784)
    for bs in (1, 3, 16, 40):  # below 16 rows the first layer's products come from the packed bits
        np.testing.assert_array_equal(e.scores(X, batch_size=bs), e.scores(X, path="float", batch_size=bs))


def _small_net(seed=0):
    model = build_model("mnist_dense", activation="tasu", seed=seed, hidden=(40, 30))
    return embed_gnet(model, hyperdim=700, embedding="rademacher", seed=seed)


@needs_vnni
def test_small_batch_lane_matches_the_float_path():
    e = _small_net()
    rng = np.random.default_rng(3)
    X = images(rng, 15, 784)
    X[3, 1::2] = X[3, ::2]  # pairs of equal pixels: exact ties in the first layer
    first = e.all_layers[0]
    first._cache.pop("small_batch_plan", None)
    for rows in (slice(0, 1), slice(3, 4), slice(0, 3), slice(0, 15)):
        want = e.scores(X[rows], path="float", batch_size=1)
        lane = pixels.small_batch_scores(e, X[rows])
        assert lane is not None  # the lane ran (it declines silently otherwise)
        np.testing.assert_array_equal(lane, want)
        np.testing.assert_array_equal(e.scores(X[rows]), want)
        tm = {}
        np.testing.assert_array_equal(e.scores(X[rows], timings=tm), want)  # two calls, timed
        assert tm["layer0:data"] > 0
    assert "small_batch_plan" in first._cache
    # scores below the lane's row count still agree when batch_size splits them
    np.testing.assert_array_equal(e.scores(X, batch_size=4), e.scores(X, path="float", batch_size=4))


@needs_vnni
def test_small_batch_lane_declines_other_inputs(monkeypatch):
    e = _small_net(1)
    rng = np.random.default_rng(4)
    X = images(rng, 2, 784)
    assert pixels.small_batch_scores(e, X) is not None
    off = X.copy()
    off[1, 7] = np.float32(0.3)  # not a code / 255: the general path, same scores as the float path
    assert pixels.small_batch_scores(e, off) is None
    np.testing.assert_array_equal(e.scores(off), e.scores(off, path="float"))
    bad = X.copy()
    bad[0, 0] = np.nan
    assert pixels.small_batch_scores(e, bad) is None
    with pytest.raises(ValueError, match="non-finite"):
        e.scores(bad)
    monkeypatch.setenv(ENV_VAR, "portable")  # no VNNI kernel on this path: the lane declines
    assert pixels.small_batch_scores(e, X) is None
    np.testing.assert_array_equal(e.scores(X), e.scores(X, path="float"))


@needs_vnni
def test_small_batch_lane_fsum_fallback():
    """A plan whose integer line says nothing (alpha = beta = 0, an unbounded error) and whose float64
    check decides nothing: every sign then comes from the lane's fsum fallback (the integer default,
    0 < t, is wrong for about half of them), and must equal the float path's."""
    e = _small_net(2)
    first = e.all_layers[0]
    X = images(np.random.default_rng(5), 3, 784)
    want = e.scores(X, path="float")
    pixels.small_batch_scores(e, X)  # builds the plan
    key, plan = first._cache["small_batch_plan"]
    values, tol, gbits, gsum, alpha, beta, bound, gamma64, vnni = plan
    first._cache["small_batch_plan"] = (key, (values, tol, gbits, gsum, 0.0, 0.0, 1e30, 1e30, vnni))
    np.testing.assert_array_equal(pixels.small_batch_scores(e, X), want)
    np.testing.assert_array_equal(pixels.small_batch_scores(e, X, timings={}), want)


@needs_vnni
def test_small_batch_lane_follows_a_changed_input_map():
    e = _small_net(3)
    X = images(np.random.default_rng(9), 2, 784)
    np.testing.assert_array_equal(e.scores(X), e.scores(X, path="float"))
    for shift, scale, bias in ((0.3, 2.0, 0.0), (0.0, -0.5, 0.1), (0.5, 1e-30, -2.0)):
        e.input_shift, e.input_scale, e.all_layers[0].bias = shift, scale, bias  # the plan is rebuilt
        np.testing.assert_array_equal(pixels.small_batch_scores(e, X), e.scores(X, path="float"))


def _conv_net(channels=1, k=3, pad=1, stride=1, seed=0):
    from gnetlab.gnet.models import GNet

    blocks = [{"kind": "conv2d", "out": 5, "kernel_size": k, "padding": pad, "stride": stride, "pool": 1,
               "bias_init": 0.05}, {"kind": "dense", "out": 6}]
    cfg = {"input_shape": [channels, 11, 9], "activation": "tasu", "n_classes": 3, "seed": seed, "blocks": blocks}
    model = GNet(cfg).eval()
    return embed_gnet(model, hyperdim=[131, 64, 65], embedding="rademacher", seed=seed + 1)


def _conv_inputs(e, raw):
    from gnetlab.ehd import conv_fast
    from gnetlab.ehd.geometry import tie_tolerance

    layer = e.all_layers[0]
    x = (raw - np.float32(e.input_shift)) / np.float32(e.input_scale)
    B, C, H, W = x.shape
    Ho = (H + 2 * layer.padding - layer.kernel_size) // layer.stride + 1
    Wo = (W + 2 * layer.padding - layer.kernel_size) // layer.stride + 1
    rows = np.empty((B * Ho * Wo, layer.fan_in), np.float32)
    conv_fast._real_patches(x, np.float32(layer.bias), layer.kernel_size, layer.stride, layer.padding, Ho, Wo, rows)
    thr = np.ascontiguousarray(-tie_tolerance(rows, layer)[:, 0])
    return layer, x, rows, thr, conv_fast._first_layer_words(layer, x)  # the float route's exact signs


@pytest.mark.parametrize("channels,k,pad,stride", [(1, 3, 1, 1), (2, 5, 2, 1), (3, 3, 2, 2), (1, 4, 0, 1)])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("path", PATHS)
def test_conv_pixel_signs_equal_the_float_route(channels, k, pad, stride, batch, path):
    e = _conv_net(channels, k, pad, stride, seed=channels)
    rng = np.random.default_rng(batch + 10 * channels)
    raw = images(rng, batch, channels * 99).reshape(batch, channels, 11, 9)
    raw[0, :, :, 1::2] = raw[0, :, :, 0:8:2]  # equal neighbours: exact ties
    layer, x, rows, thr, want = _conv_inputs(e, raw)
    for threads in (1, 2):
        words, left = pixels.conv_pixel_signs(e, layer, raw, rows, thr, threads=threads, path=path)
        assert left == 0
        np.testing.assert_array_equal(words, want)


@pytest.mark.parametrize("path", PATHS)
def test_conv_pixel_signs_where_float32_overflows(path):
    """An input map that sends the codes to ~1e36: the float32 prefilter would overflow (inf - inf), so
    every word goes to the float64 decision; the signs stay those of the float route."""
    e = _conv_net(1, 3, 1, 1, seed=1)
    e.input_shift, e.input_scale, e.all_layers[0].bias = 0.5, 1.5e-39, 0.0
    codes = np.random.default_rng(2).integers(126, 131, (1, 1, 11, 9))  # values within +-6e36; beta ~ -3e38
    raw = codes.astype(np.float32) / np.float32(255)
    layer, x, rows, thr, want = _conv_inputs(e, raw)
    assert np.isfinite(rows).all() and np.isfinite(thr).all() and np.abs(rows).max() > 1e35
    assert 0.2 < np.mean(np.unpackbits(want.view(np.uint8))) < 0.8  # signs of both kinds
    words, left = pixels.conv_pixel_signs(e, layer, raw, rows, thr, path=path)
    assert left == 0
    np.testing.assert_array_equal(words, want)


def test_conv_pixel_signs_decline_other_inputs():
    e = _conv_net()
    raw = images(np.random.default_rng(1), 2, 99).reshape(2, 1, 11, 9)
    layer, x, rows, thr, _ = _conv_inputs(e, raw)
    off = raw.copy()
    off[1, 0, 3, 3] = np.float32(0.3)  # not a code
    assert pixels.conv_pixel_signs(e, layer, off, rows, thr) is None
    wrong = rows.copy()
    wrong[5, 4] += np.float32(1e-3)  # rows that are not the layer's input from these codes
    assert pixels.conv_pixel_signs(e, layer, raw, wrong, thr) is None


@pytest.mark.parametrize("path", PATHS)
def test_conv_pixel_signs_float64_resum_and_undecided(monkeypatch, path):
    e = _conv_net(2, 3, 1, 1, seed=4)
    raw = images(np.random.default_rng(6), 2, 198).reshape(2, 2, 11, 9)
    layer, x, rows, thr, want = _conv_inputs(e, raw)
    line = pixels._line
    monkeypatch.setattr(pixels, "_line", lambda v, K: line(v, K)[:2] + (1e30,))  # every entry re-summed in float64
    words, left = pixels.conv_pixel_signs(e, layer, raw, rows, thr, path=path)
    assert left == 0
    np.testing.assert_array_equal(words, want)
    monkeypatch.setattr(pixels, "_gamma", lambda k, u: 1.0)  # float64 decides none: all left to the caller
    words, left = pixels.conv_pixel_signs(e, layer, raw, rows, thr, path=path)
    assert left == words.size * 64 - (words.shape[1] * 64 - layer.hyperdim) * words.shape[0]


@needs_vnni
def test_conv_scores_on_images_match_the_float_path(monkeypatch):
    from gnetlab.ehd import conv_fast

    e = _conv_net(2, 5, 2, 1, seed=7)
    raw = images(np.random.default_rng(8), 6, 198)
    calls = []
    real = pixels.conv_pixel_signs
    monkeypatch.setattr(conv_fast, "conv_pixel_signs", lambda *a, **k: calls.append(1) or real(*a, **k))
    for bs in (1, 6):
        np.testing.assert_array_equal(e.scores(raw, batch_size=bs), e.scores(raw, path="float", batch_size=bs))
    monkeypatch.setattr(conv_fast, "PARALLEL_ROWS", 1)  # the threaded kernel
    np.testing.assert_array_equal(e.scores(raw, batch_size=6), e.scores(raw, path="float", batch_size=6))
    assert calls  # the integer route ran
    monkeypatch.setattr(pixels, "_gamma", lambda k, u: 1.0)  # undecided entries: the float route takes over
    np.testing.assert_array_equal(e.scores(raw, batch_size=6), e.scores(raw, path="float", batch_size=6))
