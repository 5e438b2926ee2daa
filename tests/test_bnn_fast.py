"""Exactness of the packed BinaryNet's compiled forward pass on 8-bit images (gnetlab.bnn.fast.pixel_forward)
and of its first-layer kernels (gnetlab.kernels.u8gemm), on every kernel path this machine has."""

import numpy as np
import pytest
import torch

from gnetlab import bnn
from gnetlab.bits import unpack_signs
from gnetlab.bnn import fast
from gnetlab.kernels import u8gemm
from gnetlab.kernels.cpu_features import ENV_VAR, supported_paths

FIRST_LAYER = [("portable", u8gemm.first_layer_portable)]
if u8gemm.vnni_available("avx512_vpopcntdq" if "avx512_vpopcntdq" in supported_paths() else "portable"):
    FIRST_LAYER.append(("vnni", u8gemm.first_layer_vnni))
PATHS = ["portable"] + (["auto"] if fast.fused_path() != "portable" else [])


def images(rng, n, k=784):
    return rng.integers(0, 256, (n, k)).astype(np.float32) / np.float32(255)


@pytest.mark.parametrize("name,kernel", FIRST_LAYER)
@pytest.mark.parametrize("n,k", [(1, 1), (10, 7), (64, 784), (130, 333)])
def test_first_layer_kernels_are_exact(name, kernel, n, k):
    rng = np.random.default_rng(n + k)
    s = rng.choice(np.array([-1, 1], np.int8), size=(n, k))
    w = u8gemm.weight_layout(s)
    assert w.shape == (-(-k // 4), -(-n // 64) * 64)
    for rows in (1, 3, 4):
        p = np.zeros((4, 4 * w.shape[0]), np.uint8)
        p[:rows, :k] = rng.integers(0, 256, (rows, k))
        p[:rows, :k][:, :1] = 255  # the extremes
        acc = np.full((4, w.shape[1]), 7, np.int32)
        kernel(p.view(np.int32), w, acc, rows)
        want = p[:rows, :k].astype(np.int64) @ s.T.astype(np.int64)
        np.testing.assert_array_equal(acc[:rows, :n], want)
        np.testing.assert_array_equal(acc[:rows, n:], 0)


def test_integer_thresholds_match_the_float_comparison():
    rng = np.random.default_rng(0)
    A = np.arange(-3000, 3001)
    for denom in (255.0, 1.0):
        tau = np.concatenate([rng.normal(0, 4, 200), np.arange(-20, 21) / denom, [0.0, -0.0, 1e300, -1e300],
                              np.nextafter(np.arange(-5, 6) / denom, np.inf), np.nextafter(np.arange(-5, 6) / denom, -np.inf)])
        c = fast.integer_thresholds(tau, denom, 3000)
        np.testing.assert_array_equal(A[None, :] >= c[:, None], (A[None, :] / denom) >= tau[:, None])


def reference_logits(packed, X):
    """The packed model's definition in numpy: exact first layer from the pixels, float64 comparisons."""
    p = np.rint(X.astype(np.float64) * 255).astype(np.int64)
    s0 = unpack_signs(packed.first_weights).astype(np.int64)
    z = (2 * p @ s0.T - 255 * s0.sum(1)) / 255.0
    tau, flip = packed.thresholds[0]
    h = np.where((z >= tau) != flip, 1, -1)
    for i, W in enumerate(packed.hidden_weights):
        d = h @ unpack_signs(W).astype(np.int64).T
        if i + 1 < len(packed.thresholds):
            tau, flip = packed.thresholds[i + 1]
            h = np.where((d.astype(np.float64) >= tau) != flip, 1, -1)
    return d.astype(np.float64) * packed.out_scale + packed.out_shift


def calibrated(hidden, seed, negative_scales=False):
    rng = np.random.default_rng(seed)
    m = bnn.build_model("binarynet", in_features=100, hidden=hidden, n_classes=7, seed=seed)
    with torch.no_grad():
        m.train()(torch.from_numpy(images(rng, 300, 100)))
        if negative_scales:
            for bn in [x for x in m.modules() if isinstance(x, torch.nn.BatchNorm1d)]:
                bn.weight.mul_(torch.from_numpy(rng.choice([-1.0, 1.0], bn.weight.shape[0]).astype(np.float32)))
    return m.eval()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", ["ties", "calibrated", "flipped", "deep"])
def test_pixel_forward_is_the_exact_model(monkeypatch, path, case):
    monkeypatch.setenv(ENV_VAR, path)
    rng = np.random.default_rng(1)
    if case == "ties":  # untrained BatchNorm: every threshold is 0, many first-layer sums are exactly 0
        m = bnn.build_model("binarynet", in_features=100, hidden=(70,), n_classes=7, seed=0).eval()
    else:
        m = calibrated({"deep": (130, 65, 64)}.get(case, (70, 90)), 2, negative_scales=case != "calibrated")
    packed = bnn.export_binarynet(m)
    for n in (1, 2, 5, 8, 33):
        X = images(rng, n, 100)
        X[0, :3] = [0.0, 1.0, np.float32(128) / np.float32(255)]
        got = fast.pixel_forward(X, packed.kernel_arrays())
        np.testing.assert_array_equal(got, reference_logits(packed, X))
        if fast.fused_path() == "vnni":  # decision_function takes it only there (the portable kernel is slow)
            np.testing.assert_array_equal(packed.decision_function(X), got)
    if case != "ties":  # away from exact ties the float32 paths agree with it
        X = images(rng, 40, 100)
        np.testing.assert_array_equal(packed.predict(X), packed.predict(X, backend="numpy"))
        with torch.no_grad():
            np.testing.assert_array_equal(packed.predict(X), m(torch.from_numpy(X)).argmax(1).numpy())


def test_other_inputs_take_the_float_path():
    m = calibrated((70,), 3)
    packed = bnn.export_binarynet(m)
    rng = np.random.default_rng(4)
    X = images(rng, 9, 100)
    X[5, 7] = np.float32(0.5) / np.float32(255)  # not an 8-bit pixel
    assert fast.pixel_forward(X, packed.kernel_arrays()) is None
    np.testing.assert_array_equal(packed.decision_function(X), packed.decision_function(X, backend="numpy"))
    X64 = X.astype(np.float64)
    X64[5, 7] = 3 / 255  # float64 pixels are read as float32: the fast path again
    if fast.fused_path() == "vnni":
        np.testing.assert_array_equal(packed.decision_function(X64), reference_logits(packed, X64.astype(np.float32)))
    for bad in (np.nan, np.inf, 2.0, -1 / 255):
        Xb = X64.astype(np.float32)
        Xb[0, 0] = bad
        assert fast.pixel_forward(Xb, packed.kernel_arrays()) is None
    Xb[0, 0] = np.nan
    with pytest.raises(ValueError, match="X"):
        packed.predict(Xb)
