"""Tests of gnetlab.rf: random-features maps, min-norm and mirror-descent interpolation, experiments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gnetlab import rf


def _problem(n=8, p=30, seed=0, k=None):
    rng = np.random.default_rng(seed)
    Phi = rng.standard_normal((n, p))
    y = rng.standard_normal(n) if k is None else rng.standard_normal((n, k))
    return Phi, y


# ------------------------------------------------------------------------------------ min-norm


@pytest.mark.parametrize("k", [None, 3])
def test_min_norm_interpolates_and_equals_pinv(k):
    Phi, y = _problem(k=k)
    res = rf.min_norm_interpolate(Phi, y)
    np.testing.assert_allclose(Phi @ res.coef, y, atol=1e-10)
    np.testing.assert_allclose(res.coef, np.linalg.pinv(Phi) @ y, atol=1e-10)
    assert res.converged and res.relative_residual < 1e-12


def test_min_norm_is_minimum_norm_among_interpolants():
    Phi, y = _problem()
    a = rf.min_norm_interpolate(Phi, y).coef
    # any other interpolant differs by a null-space vector and is longer
    rng = np.random.default_rng(1)
    z = rng.standard_normal(Phi.shape[1])
    z -= np.linalg.pinv(Phi) @ (Phi @ z)
    assert np.linalg.norm(a + z) > np.linalg.norm(a)
    np.testing.assert_allclose(Phi @ (a + z), y, atol=1e-10)


def test_min_norm_float32_features_stable():
    rng = np.random.default_rng(0)
    Phi = np.tanh(rng.standard_normal((200, 400))).astype(np.float32)
    y = rng.standard_normal(200)
    res = rf.min_norm_interpolate(Phi, y)
    assert res.relative_residual < 1e-10


def test_min_norm_rejects_bad_inputs():
    Phi, y = _problem(n=10, p=10)
    with pytest.raises(ValueError, match="n < p"):
        rf.min_norm_interpolate(Phi, y)
    Phi, y = _problem()
    bad = Phi.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        rf.min_norm_interpolate(bad, y)
    with pytest.raises(ValueError, match="rows"):
        rf.min_norm_interpolate(Phi, y[:-1])
    dup = Phi.copy()
    dup[1] = dup[0]
    with pytest.raises(ValueError, match="singular"):
        rf.min_norm_interpolate(dup, y)
    with pytest.raises(TypeError, match="float"):
        rf.min_norm_interpolate(Phi.astype(int), y)


# ------------------------------------------------------------------------------------ mirrors


def test_l2_mirror_matches_closed_form():
    Phi, y = _problem()
    res = rf.mirror_interpolate(Phi, y, "l2")
    np.testing.assert_allclose(res.coef, np.linalg.pinv(Phi) @ y, atol=1e-10)
    a0 = np.random.default_rng(3).standard_normal(Phi.shape[1])
    res = rf.mirror_interpolate(Phi, y, "l2", init=a0)
    np.testing.assert_allclose(res.coef, a0 + np.linalg.pinv(Phi) @ (y - Phi @ a0), atol=1e-10)
    assert res.converged


@pytest.mark.parametrize("mirror,kw", [("lq", dict(q=3.0)), ("lq", dict(q=1.5)), ("negentropy", dict(beta=0.05)),
                                       ("negentropy", dict(beta=0.01))])
def test_mirror_interpolates_and_is_smd_limit(mirror, kw):
    Phi, y = _problem(n=6, p=20)
    res = rf.mirror_interpolate(Phi, y, mirror, **kw, rtol=1e-12)
    assert res.converged, res
    np.testing.assert_allclose(Phi @ res.coef, y, atol=1e-9)
    smd = rf.stochastic_mirror_descent(Phi, y, mirror, **kw, lr=0.01, epochs=3000, seed=0)
    np.testing.assert_allclose(smd, res.coef, atol=5e-5)


def test_negentropy_optimality_condition_and_default_beta():
    # KKT of argmin D_psi(a, 0) s.t. Phi a = y: arcsinh(a / beta) lies in the row space of Phi.
    Phi, y = _problem(n=10, p=40, seed=5)
    res = rf.mirror_interpolate(Phi, y, "negentropy")  # default beta = 1/p
    assert res.info["mirror"] == f"NegEntropyMirror(beta={1 / 40:g})"
    theta = np.arcsinh(res.coef * 40)
    proj = Phi.T @ np.linalg.lstsq(Phi.T, theta, rcond=None)[0]
    np.testing.assert_allclose(proj, theta, atol=1e-8)


def test_negentropy_between_l2_and_l1_and_multi_output():
    Phi, y = _problem(n=10, p=60, seed=2)
    l2 = rf.min_norm_interpolate(Phi, y).coef
    big = rf.mirror_interpolate(Phi, y, "negentropy", beta=1e3).coef  # l2 regime
    np.testing.assert_allclose(big, l2, atol=1e-6)
    small = rf.mirror_interpolate(Phi, y, "negentropy", beta=1e-6).coef  # close to min-l1
    assert np.abs(small).sum() < np.abs(l2).sum()
    Y = np.stack([y, -2 * y], axis=1)
    res = rf.mirror_interpolate(Phi, Y, "negentropy", beta=0.1)
    assert res.coef.shape == (60, 2) and res.converged
    np.testing.assert_allclose(Phi @ res.coef, Y, atol=1e-7)


def test_mirror_rejects_bad_inputs():
    Phi, y = _problem()
    with pytest.raises(ValueError, match="unknown value 'l7'"):
        rf.mirror_interpolate(Phi, y, "l7")
    with pytest.raises(TypeError, match="q"):
        rf.mirror_interpolate(Phi, y, "lq")
    with pytest.raises(ValueError, match="q"):
        rf.mirror_interpolate(Phi, y, "lq", q=1.0)
    with pytest.raises(ValueError, match="beta"):
        rf.mirror_interpolate(Phi, y, "negentropy", beta=-1.0)
    with pytest.raises(ValueError, match="init"):
        rf.mirror_interpolate(Phi, y, "l2", init=np.zeros(3))
    with pytest.raises(ValueError, match="n < p"):
        rf.mirror_interpolate(Phi[:, :5], y, "l2")


# ------------------------------------------------------------------------------------ features


def test_random_features_shapes_seeding_and_pairing():
    X = np.random.default_rng(0).standard_normal((7, 16)).astype(np.float32)
    g = rf.RandomFeatures(16, (12, 10), weights="gaussian", seed=4, method="reference")
    g2 = rf.RandomFeatures(16, (12, 10), weights="gaussian", seed=4, method="reference")
    b = rf.RandomFeatures(16, (12, 10), weights="onebit", seed=4, method="reference")
    F = g.transform(X)
    assert F.shape == (7, 10) and F.dtype == np.float32
    np.testing.assert_array_equal(F, g2.transform(X))
    feats = g.transform(X, all_layers=True)
    assert [f.shape for f in feats] == [(7, 12), (7, 10)]
    np.testing.assert_allclose(feats[0], np.tanh(X @ g.layer_weight(0).T), rtol=1e-6)
    # one-bit = sign of the same Gaussian draw, scaled by 1/sqrt(fan_in)
    for layer, fan_in in enumerate((16, 12)):
        wb = b.layer_weight(layer)
        np.testing.assert_allclose(np.abs(wb), 1 / math.sqrt(fan_in), rtol=1e-6)
        np.testing.assert_array_equal(np.sign(wb), np.where(g.layer_weight(layer) >= 0, 1, -1))
    assert rf.RandomFeatures(16, (12,), seed=5).layer_weight(0).var() == pytest.approx(1 / 16, rel=0.2)
    q = g.to_onebit()
    assert q.weights == "onebit" and g.weights == "gaussian"
    np.testing.assert_array_equal(q.transform(X), b.transform(X))
    with pytest.raises(ValueError, match="already"):
        b.to_onebit()


def test_onebit_kernel_matches_reference():
    pytest.importorskip("gnetlab.kernels", reason="bit kernels not available")
    try:
        rf._kernels()
    except ImportError:
        pytest.skip("gnetlab.sign_weight_matmul not available")
    X = np.random.default_rng(0).standard_normal((33, 130)).astype(np.float32)
    for act in ("tanh", "relu"):
        m = rf.RandomFeatures(130, (70, 65, 64), activation=act, weights="onebit", seed=1)
        ker = m.transform(X, all_layers=True, method="kernel")
        ref = m.transform(X, all_layers=True, method="reference")
        for k, r in zip(ker, ref):
            np.testing.assert_allclose(k, r, rtol=1e-4, atol=1e-5)


def test_random_features_activations():
    X = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    m = rf.RandomFeatures(8, (6,), activation="relu", seed=0)
    assert (m.transform(X) >= 0).all()
    ms = rf.RandomFeatures(8, (6,), activation=np.sin, seed=0)
    np.testing.assert_allclose(ms.transform(X), np.sin(X @ ms.layer_weight(0).T), rtol=1e-5)
    bad = rf.RandomFeatures(8, (6,), activation=lambda z: z.sum(axis=1), seed=0)
    with pytest.raises(ValueError, match="elementwise"):
        bad.transform(X)


def test_random_features_rejects_bad_inputs():
    with pytest.raises(TypeError, match="seed"):
        rf.RandomFeatures(8, (6,), seed=None)
    with pytest.raises(TypeError, match="activation"):
        rf.RandomFeatures(8, (6,), activation=3, seed=0)
    with pytest.raises(ValueError, match="unknown value 'gelu'"):
        rf.RandomFeatures(8, (6,), activation="gelu", seed=0)
    with pytest.raises(ValueError, match="weights"):
        rf.RandomFeatures(8, (6,), weights="ternary", seed=0)
    with pytest.raises(ValueError, match="empty"):
        rf.RandomFeatures(8, (), seed=0)
    with pytest.raises(TypeError, match=r"widths\[1\]"):
        rf.RandomFeatures(8, (6, 2.5), seed=0)
    m = rf.RandomFeatures(8, (6,), seed=0)
    with pytest.raises(ValueError, match="8 columns"):
        m.transform(np.zeros((3, 9), dtype=np.float32))
    with pytest.raises(ValueError, match="non-finite"):
        m.transform(np.full((3, 8), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="2-D"):
        m.transform(np.zeros(8, dtype=np.float32))


# ------------------------------------------------------------------------------------ helpers, experiments


def test_teacher_one_hot_accuracy():
    a = rf.draw_teacher(4000, seed=0)
    assert a.var() == pytest.approx(1 / 4000, rel=0.1)
    np.testing.assert_array_equal(rf.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="labels"):
        rf.one_hot(np.array([3]), 3)
    assert rf.accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5


def test_synthetic_experiment_small():
    df = rf.synthetic_experiment(input_dim=64, widths=(48, 48), n_train=20, n_test=50, trials=2, seed=0,
                                 method="reference", show_progress=False,
                                 interpolators={"min_l2": rf.min_norm_interpolate,
                                                "negentropy": lambda F, y: rf.mirror_interpolate(F, y, "negentropy")})
    assert len(df) == 2 * 2 * 2 * 2
    assert set(df.columns) >= {"trial", "weights", "depth", "interpolator", "test_mse", "converged"}
    assert df.converged.all() and (df.relative_residual < 1e-7).all()
    assert df[df.interpolator == "min_l2"].teacher_avg_mse.between(0, 1).all()
    assert df[df.interpolator == "negentropy"].teacher_avg_mse.isna().all()
    assert ((df.test_mse > 0) & (df.test_mse < 1)).all()
    again = rf.synthetic_experiment(input_dim=64, widths=(48, 48), n_train=20, n_test=50, trials=2, seed=0,
                                    method="reference", show_progress=False)
    np.testing.assert_allclose(again.test_mse.values, df[df.interpolator == "min_l2"].test_mse.values)
    with pytest.raises(ValueError, match="exceed n_train"):
        rf.synthetic_experiment(input_dim=64, widths=(48, 10), n_train=20, n_test=5, trials=1, seed=0)


def test_teacher_averaged_mse_matches_many_teachers():
    rng = np.random.default_rng(0)
    F = np.tanh(rng.standard_normal((90, 60)) @ rng.standard_normal((60, 50)) / 8).astype(np.float32)
    tr, te = F[:20], F[20:]
    exact = rf.min_norm_teacher_averaged_mse(tr, te)
    A = rng.standard_normal((50, 4000)) / math.sqrt(50)  # 4000 teachers at once
    coef = np.linalg.pinv(tr.astype(np.float64)) @ (tr.astype(np.float64) @ A)
    mc = np.mean((te.astype(np.float64) @ (coef - A)) ** 2)
    assert exact == pytest.approx(mc, rel=0.03)
    with pytest.raises(ValueError, match="n < p"):
        rf.min_norm_teacher_averaged_mse(F[:60], te)


def test_mnist_experiment_on_synthetic_classes():
    rng = np.random.default_rng(0)
    centers = rng.random((10, 30))
    ytr, yte = rng.integers(0, 10, 300), rng.integers(0, 10, 100)
    Xtr = (centers[ytr] + 0.1 * rng.standard_normal((300, 30))).astype(np.float32)
    Xte = (centers[yte] + 0.1 * rng.standard_normal((100, 30))).astype(np.float32)
    df = rf.mnist_experiment(Xtr, ytr, Xte, yte, widths=(64,), depths=(1, 2), per_class=3, n_test=50, trials=2,
                             seed=0, method="reference", show_progress=False)
    assert len(df) == 2 * 2 * 2
    assert (df.train_accuracy == 1.0).all()  # interpolation
    assert df.test_accuracy.mean() > 0.5


def test_backend_is_a_deprecated_name_of_method():
    X = np.random.default_rng(0).standard_normal((5, 20)).astype(np.float32)
    with pytest.warns(PendingDeprecationWarning, match="method="):
        old = rf.RandomFeatures(20, (16,), weights="onebit", seed=1, backend="reference")
    new = rf.RandomFeatures(20, (16,), weights="onebit", seed=1, method="reference")
    assert old.method == new.method == old.backend == "reference"
    np.testing.assert_array_equal(old.transform(X), new.transform(X))
    with pytest.warns(PendingDeprecationWarning):
        np.testing.assert_array_equal(new.transform(X, backend="reference"), new.transform(X))
    with pytest.raises(TypeError, match="only method"), pytest.warns(PendingDeprecationWarning):
        rf.RandomFeatures(20, (16,), seed=1, method="kernel", backend="reference")
