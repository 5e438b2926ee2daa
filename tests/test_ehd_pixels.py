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


def test_dense_tasu_scores_identical_on_images():
    model = build_model("mnist_dense", activation="tasu", seed=0, hidden=(40, 30))
    e = embed_gnet(model, hyperdim=700, embedding="rademacher", seed=0)
    rng = np.random.default_rng(2)
    X = images(rng, 40, 784)
    for bs in (16, 40):
        np.testing.assert_array_equal(e.scores(X, batch_size=bs), e.scores(X, path="float", batch_size=bs))
