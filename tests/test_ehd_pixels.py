"""The EHD first layer on 8-bit images from exact integer products (gnetlab.ehd.fast.pixel_projection_signs):
the same signs, bit for bit, as the float path's exact decision."""

import numpy as np
import pytest

from gnetlab.bits import pack_bool
from gnetlab.ehd import embed_gnet
from gnetlab.ehd.fast import exact_projection_signs, pixel_projection_signs
from gnetlab.gnet.models import build_model
from gnetlab.kernels import u8gemm

pytestmark = pytest.mark.skipif(not u8gemm.vnni_available(), reason="the integer first layer needs AVX-512 VNNI")


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
        for r in (0, 5, 36):  # a few rows: the products straight from the packed bits (layout None)
            got = pixel_projection_signs(raw[r:r + 1], x[r:r + 1], values, gbits, None, thr[r:r + 1], G)
            np.testing.assert_array_equal(got, want[r:r + 1])
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
@pytest.mark.parametrize("path", ["avx512_vpopcntdq", "portable"])
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
