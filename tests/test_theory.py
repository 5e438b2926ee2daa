"""Tests of gnetlab.theory: Gauss-Hermite linearisation, covariance recursion, deterministic predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from gnetlab import rf, theory


def test_gaussian_expectation_exact_for_polynomials():
    assert theory.gaussian_expectation(lambda z: z**2, var=2.5) == pytest.approx(2.5, rel=1e-12)
    assert theory.gaussian_expectation(lambda z: z**4, mean=1.0, var=2.0) == pytest.approx(1 + 6 * 2 + 3 * 4, rel=1e-12)
    vals = theory.gaussian_expectation(lambda z: z, mean=np.array([0.0, 1.5]), var=np.array([1.0, 4.0]))
    np.testing.assert_allclose(vals, [0.0, 1.5], atol=1e-12)


def test_linearize_linear_activation():
    lin = theory.linearize("linear", 0.7, 0.3)
    assert lin.mu == pytest.approx(0.3) and lin.rho1 == pytest.approx(1.0) and lin.rho2_sq == pytest.approx(0, abs=1e-12)


def test_linearize_tanh_matches_notes():
    # the paper's setting: x ~ N(0, I), tanh
    lins = theory.scalar_recursion("tanh", 2, input_var=1.0)
    assert lins[0].rho1 == pytest.approx(0.6057, abs=1e-4)
    assert lins[0].rho2_sq == pytest.approx(0.02742, abs=1e-5)
    assert lins[1].var_in == pytest.approx(0.3943, abs=1e-4)
    assert lins[1].rho1 == pytest.approx(0.7635, abs=1e-4)
    assert lins[1].rho2_sq == pytest.approx(0.00657, abs=1e-5)
    assert lins[0].mu == pytest.approx(0, abs=1e-14)


@pytest.mark.parametrize("m,s2", [(0.0, 1.0), (0.0, 0.3), (0.7, 2.0), (-1.2, 0.5)])
def test_linearize_relu_closed_form(m, s2):
    s = math.sqrt(s2)
    t = m / s
    mu = m * norm.cdf(t) + s * norm.pdf(t)
    second = (m * m + s2) * norm.cdf(t) + m * s * norm.pdf(t)
    rho1 = norm.cdf(t)  # Stein: E phi'(h)
    lin = theory.linearize("relu", s2, m)  # closed form
    assert lin.mu == pytest.approx(mu, rel=1e-12)
    assert lin.rho1 == pytest.approx(rho1, rel=1e-12)
    assert lin.rho2_sq == pytest.approx(second - mu**2 - rho1**2 * s2, rel=1e-10)
    # the same activation as an anonymous callable goes through Gauss-Hermite: slow at the kink
    gh = theory.linearize(lambda z: np.maximum(z, 0.0), s2, m, order=300)
    assert gh.mu == pytest.approx(mu, abs=3e-3 * s)
    assert gh.rho1 == pytest.approx(rho1, abs=1e-2)


def test_isotropic_ridgeless_closed_form():
    # Sigma = I_p: min-norm risk = 1 - n/p for a* ~ N(0, I/p)
    r = theory.ridgeless_risk(np.ones(500), 200)
    assert r.kappa == pytest.approx(500 / 200 - 1)
    assert r.mse == pytest.approx(1 - 200 / 500, rel=1e-9)
    r = theory.ridgeless_risk(np.ones(500), 200, noise_var=0.5)
    assert r.variance == pytest.approx(0.5 * (200 / 500) / (1 - 200 / 500), rel=1e-9)


def test_deterministic_equivalent_reproduces_notes():
    # the paper's setting: d = 8192, d_l = 4096, n = 1000, L = 1..5 (verified there against simulation)
    preds = theory.predict_min_norm_mse(1000, input_dim=8192, widths=(4096,) * 5, all_depths=True)
    np.testing.assert_allclose([p.mse for p in preds], [0.2668, 0.1246, 0.0685, 0.0411, 0.0260], atol=1.5e-4)


def test_deterministic_equivalent_matches_marchenko_pastur_realisation():
    # linear activation, one layer: Sigma_1 = W W^T, W (m, k) i.i.d. N(0, 1/k)
    k, m = 1200, 600
    W = np.random.default_rng(0).standard_normal((m, k)) / math.sqrt(k)
    eig = theory.EigenSpectrum(np.linalg.eigvalsh(W @ W.T))
    de = theory.DeterministicEquivalent(k, (m,), "linear")
    for kappa in (0.05, 0.5, 3.0):
        a, b = eig.resolvent(kappa), de.resolvent(kappa)
        assert b.g == pytest.approx(a.g, rel=5e-3)
        assert b.dg == pytest.approx(a.dg, rel=1e-2)
    assert theory.ridgeless_risk(de, 200).mse == pytest.approx(theory.ridgeless_risk(eig, 200).mse, rel=1e-2)


def test_realised_recursion_close_to_deterministic():
    model = rf.RandomFeatures(1024, (512, 512, 512), weights="onebit", seed=0, method="reference")
    real = theory.predict_min_norm_mse(120, model=model, method="realised", all_depths=True, dtype=np.float64)
    det = theory.predict_min_norm_mse(120, model=model, method="deterministic", all_depths=True)
    np.testing.assert_allclose([r.mse for r in real], [d.mse for d in det], rtol=0.03)


def test_deterministic_prediction_matches_monte_carlo():
    """Empirical min-norm test error on the real (nonlinear) features vs the deterministic prediction.

    Finite-size corrections are O(1/p); 48 trials give a standard error of ~1.5%: the assertion is 3 SE."""
    d, w, n, n_test, trials = 400, 200, 60, 400, 48
    det = theory.predict_min_norm_mse(n, input_dim=d, widths=(w, w), all_depths=True)
    df = rf.synthetic_experiment(input_dim=d, widths=(w, w), n_train=n, n_test=n_test, trials=trials, seed=1,
                                 weights=("gaussian",), method="reference", show_progress=False)
    stats = df.groupby("depth").test_mse.agg(["mean", "sem"])
    for depth, pred in zip((1, 2), det):
        mean, sem = stats.loc[depth]
        assert abs(mean - pred.mse) < 3 * sem, (depth, mean, sem, pred.mse)


def test_ge_network_second_moment_and_monte_carlo():
    model = rf.RandomFeatures(300, (200, 200), activation="relu", seed=2, method="reference")
    ge = theory.GaussianEquivalentNetwork(model)
    v = np.random.default_rng(0).standard_normal(200) / math.sqrt(200)
    feats = ge.sample(20000, seed=1)
    emp = np.mean((feats.astype(np.float64) @ v) ** 2)
    assert ge.second_moment_form(v) == pytest.approx(emp, rel=0.03)
    # linear activation: the GE model is exact and its second moment is v^T W2 W1 W1^T W2^T v
    lin = rf.RandomFeatures(300, (200, 200), activation="linear", seed=2, method="reference")
    W1, W2 = lin.layer_weight(0).astype(np.float64), lin.layer_weight(1).astype(np.float64)
    exact = v @ W2 @ W1 @ W1.T @ W2.T @ v
    assert theory.GaussianEquivalentNetwork(lin).second_moment_form(v) == pytest.approx(exact, rel=1e-6)
    # GE Monte Carlo of min-norm agrees with the deterministic prediction (tanh)
    mt = rf.RandomFeatures(400, (200,), seed=3, method="reference")
    mc = theory.ge_monte_carlo(mt, 60, lambda F, y: rf.min_norm_interpolate(F, y).coef, trials=40, seed=0)[1]
    pred = theory.predict_min_norm_mse(60, model=mt).mse
    assert abs(mc.mean() - pred) < 3 * mc.std(ddof=1) / math.sqrt(mc.size)


def test_covariance_recursion_mean_terms_relu():
    model = rf.RandomFeatures(200, (150, 150), activation="relu", seed=0, method="reference")
    moms = theory.covariance_recursion(model)
    assert moms[0].mean == pytest.approx(np.full(150, 1 / math.sqrt(2 * math.pi)), rel=0.2)
    assert np.std(moms[1].mean) > 0.01  # per-neuron means do not concentrate after layer 1
    X = np.random.default_rng(0).standard_normal((40000, 200)).astype(np.float32)
    F = model.transform(X).astype(np.float64)
    np.testing.assert_allclose(F.mean(0), moms[1].mean, atol=0.02)
    emp_cov = np.cov(F.T)
    assert np.trace(moms[1].cov) == pytest.approx(np.trace(emp_cov), rel=0.03)


def test_theory_rejects_bad_inputs():
    with pytest.raises(ValueError, match="not odd"):
        theory.DeterministicEquivalent(100, (50,), "relu")
    with pytest.raises(ValueError, match="n < p"):
        theory.ridgeless_risk(np.ones(50), 50)
    with pytest.raises(TypeError, match="activation"):
        theory.linearize(42, 1.0)
    with pytest.raises(ValueError, match="fan-in"):
        theory.covariance_recursion([np.ones((5, 4)), np.ones((3, 6))], activation="tanh")
    with pytest.raises(ValueError, match="semi-definite"):
        theory.EigenSpectrum(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="non-finite"):
        theory.EigenSpectrum(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="var"):
        theory.linearize("tanh", 0.0)
    with pytest.raises(TypeError, match=r"widths\[0\]"):
        theory.DeterministicEquivalent(100, (50.0,), "tanh")
