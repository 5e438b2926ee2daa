"""Bad input to gnetlab.theory (quadrature, linearisation, recursions, risk predictions)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gnetlab import rf, theory

RF = rf.RandomFeatures(4, (8, 8), seed=0)
GE = theory.GaussianEquivalentNetwork(RF)
DE = theory.DeterministicEquivalent(4, (8,))

CASES = [
    # issue 11: noise_var must be a finite variance >= 0
    ("minnorm-noise-neg", lambda: theory.predict_min_norm_mse(2, input_dim=4, widths=(8,), noise_var=-1), ValueError,
     r"noise_var: expected a number in \[0, inf\)"),
    ("minnorm-noise-nan", lambda: theory.predict_min_norm_mse(2, input_dim=4, widths=(8,), noise_var=float("nan")), ValueError,
     "noise_var: expected a finite real number"),
    ("minnorm-noise-inf", lambda: theory.predict_min_norm_mse(2, input_dim=4, widths=(8,), noise_var=float("inf")), ValueError,
     "noise_var: expected a finite real number"),
    ("minnorm-noise-str", lambda: theory.predict_min_norm_mse(2, input_dim=4, widths=(8,), noise_var="0"), TypeError,
     "noise_var: expected a finite real number"),
    ("ridgeless-noise-neg", lambda: theory.ridgeless_risk(np.ones(8), 2, noise_var=-0.5), ValueError, "noise_var: expected a number"),
    ("ridgeless-teacher-neg", lambda: theory.ridgeless_risk(np.ones(8), 2, teacher_var=-1.0), ValueError, "teacher_var: expected a number"),
    ("ridgeless-n-ge-p", lambda: theory.ridgeless_risk(np.ones(8), 8), ValueError, "n: interpolation theory needs n < p"),
    ("ridgeless-n-float", lambda: theory.ridgeless_risk(np.ones(8), 2.0), TypeError, "n: expected an integer"),
    ("minnorm-n-zero", lambda: theory.predict_min_norm_mse(0, input_dim=4, widths=(8,)), ValueError, "n: expected an integer >= 1"),
    ("minnorm-method", lambda: theory.predict_min_norm_mse(2, input_dim=4, widths=(8,), method="exact"), ValueError, "method: unknown value 'exact'"),
    ("minnorm-missing", lambda: theory.predict_min_norm_mse(2), TypeError, "give model=... or input_dim and widths"),
    ("minnorm-input-var", lambda: theory.predict_min_norm_mse(2, input_dim=4, widths=(8,), input_var=0.0), ValueError, r"input_var: expected a number in \(0"),
    ("minnorm-widths-str", lambda: theory.predict_min_norm_mse(2, input_dim=4, widths="8"), TypeError, "widths: expected a sequence"),
    ("minnorm-cov-deterministic", lambda: theory.predict_min_norm_mse(2, input_dim=4, widths=(8,), input_cov=np.eye(4)), ValueError, "input_cov/input_mean: only method='realised'"),
    ("minnorm-realised-no-model", lambda: theory.predict_min_norm_mse(2, input_dim=4, widths=(8,), method="realised"), TypeError, "method='realised' needs model"),
    # spectra
    ("eigen-negative", lambda: theory.EigenSpectrum([1.0, -1.0]), ValueError, "eigenvalues: a covariance must be positive semi-definite"),
    ("eigen-empty", lambda: theory.EigenSpectrum([]), (TypeError, ValueError), "eigenvalues: expected"),
    ("eigen-nan", lambda: theory.EigenSpectrum([1.0, np.nan]), ValueError, "eigenvalues: contains non-finite"),
    ("eigen-2d", lambda: theory.EigenSpectrum(np.eye(2)), ValueError, "eigenvalues: expected a 1-D"),
    ("eigen-from-matrix-1d", lambda: theory.EigenSpectrum.from_matrix(np.ones(3)), ValueError, "cov: expected a 2-D"),
    ("de-odd", lambda: theory.DeterministicEquivalent(4, (8,), "relu"), ValueError, "activation: the deterministic equivalent needs an odd"),
    ("de-input-var", lambda: theory.DeterministicEquivalent(4, (8,), input_var=float("nan")), ValueError, "input_var: expected a finite"),
    ("de-input-dim", lambda: theory.DeterministicEquivalent(0, (8,)), ValueError, "input_dim: expected an integer >= 1"),
    ("de-resolvent-kappa", lambda: DE.resolvent(-1.0), ValueError, r"kappa: expected a number in \(0"),
    ("de-resolvent-kappa-str", lambda: DE.resolvent("1"), TypeError, "kappa: expected a finite real"),
    ("de-solve-kappa-n", lambda: DE.solve_kappa(8), ValueError, r"n: expected an integer in \[1, 7\], got 8"),
    ("eigen-solve-kappa-n", lambda: theory.EigenSpectrum(np.ones(4)).solve_kappa(2.5), TypeError, "n: expected an integer"),
    # quadrature, linearisation, recursions
    ("gauss-exp-var-neg", lambda: theory.gaussian_expectation(np.tanh, 0.0, -1.0), ValueError, "var: expected finite non-negative"),
    ("gauss-exp-order", lambda: theory.gaussian_expectation(np.tanh, order=0), ValueError, "order: expected an integer >= 1"),
    ("gauss-exp-not-elementwise", lambda: theory.gaussian_expectation(lambda x: x.sum(), 0.0, 1.0), ValueError, "f: expected an elementwise function"),
    ("gauss-exp-f", lambda: theory.gaussian_expectation(3, 0.0, 1.0), TypeError, "f: expected a callable"),
    ("gauss-exp-var-str", lambda: theory.gaussian_expectation(np.tanh, 0.0, "1"), TypeError, "var: expected a float"),
    ("linearize-var-str", lambda: theory.linearize("tanh", "1"), TypeError, "var: expected a float"),
    ("linearize-mean-str", lambda: theory.linearize("tanh", 1.0, "0"), TypeError, "mean: expected a float"),
    ("linearize-var-zero", lambda: theory.linearize("tanh", 0.0), ValueError, "var: expected finite, strictly positive"),
    ("linearize-mean-nan", lambda: theory.linearize("tanh", 1.0, float("nan")), ValueError, "mean: expected finite"),
    ("linearize-activation", lambda: theory.linearize("softplus", 1.0), ValueError, "activation: unknown value 'softplus'"),
    ("scalar-rec-depth", lambda: theory.scalar_recursion("tanh", 0), ValueError, "depth: expected an integer >= 1"),
    ("scalar-rec-input-var", lambda: theory.scalar_recursion("tanh", 2, input_var=-1.0), ValueError, "input_var: expected a number"),
    ("covrec-input-var", lambda: theory.covariance_recursion(RF, input_var=-1.0), ValueError, "input_var: expected a number"),
    ("covrec-input-var-str", lambda: theory.covariance_recursion(RF, input_var="1"), TypeError, "input_var: expected a finite real"),
    ("covrec-cov-shape", lambda: theory.covariance_recursion(RF, input_cov=np.eye(3)), ValueError, r"input_cov: expected shape \(4, 4\)"),
    ("covrec-mean-shape", lambda: theory.covariance_recursion(RF, input_mean=np.zeros(3)), ValueError, r"input_mean: expected shape \(4,\)"),
    ("covrec-weights-no-activation", lambda: theory.covariance_recursion([np.ones((2, 3))]), TypeError, "activation: required"),
    ("covrec-weights-1d", lambda: theory.covariance_recursion([np.ones(3)], activation="tanh"), ValueError, "model: weight 0 must be 2-D"),
    ("covrec-weights-chain", lambda: theory.covariance_recursion([np.ones((2, 3)), np.ones((2, 3))], activation="tanh"), ValueError, "model: weight 1 has fan-in 3"),
    ("covrec-model-str", lambda: theory.covariance_recursion("rf"), TypeError, r"model \(a random-features map or weight matrices\): expected a list"),
    ("covrec-weights-nan", lambda: theory.covariance_recursion([np.full((2, 3), np.nan)], activation="tanh"), ValueError, r"model\[0\]: contains non-finite"),
    # Gaussian-equivalent network
    ("ge-model", lambda: theory.GaussianEquivalentNetwork("rf"), TypeError, "model: expected a random-features map"),
    ("ge-input-var", lambda: theory.GaussianEquivalentNetwork(RF, input_var=0), ValueError, "input_var: expected a number"),
    ("ge-input-mean", lambda: theory.GaussianEquivalentNetwork(RF, input_mean=np.zeros(5)), ValueError, r"input_mean: expected shape \(4,\)"),
    ("ge-sample-n", lambda: GE.sample(0, seed=0), ValueError, "n: expected an integer >= 1"),
    ("ge-sample-seed", lambda: GE.sample(2, seed=None), TypeError, "seed: an explicit seed"),
    ("ge-form-layer", lambda: GE.second_moment_form(np.ones(8), layer=0), ValueError, "layer: expected an integer >= 1"),
    ("ge-form-layer-big", lambda: GE.second_moment_form(np.ones(8), layer=3), ValueError, r"layer: expected an integer in \[1, 2\]"),
    ("ge-form-v-shape", lambda: GE.second_moment_form(np.ones(5)), ValueError, "v: expected 8 rows"),
    ("ge-form-v-nan", lambda: GE.second_moment_form(np.full(8, np.nan)), ValueError, "v: contains non-finite"),
    ("ge-mc-depths", lambda: theory.ge_monte_carlo(RF, 2, lambda p, y: np.zeros(p.shape[1]), trials=1, seed=0, depths=[3]), ValueError, r"depths: expected an integer in \[1, 2\], got 3"),
    ("ge-mc-trials", lambda: theory.ge_monte_carlo(RF, 2, lambda p, y: 0, trials=0, seed=0), ValueError, "trials: expected an integer >= 1"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_noise_var_zero_and_positive_still_work():
    base = theory.predict_min_norm_mse(2, input_dim=4, widths=(8,)).mse
    noisy = theory.predict_min_norm_mse(2, input_dim=4, widths=(8,), noise_var=0.1).mse
    assert 0 < base < noisy


@settings(max_examples=30, deadline=None)
@given(noise=st.floats(max_value=-1e-12, allow_infinity=True))
def test_negative_noise_var_is_refused(noise):
    with pytest.raises(ValueError, match="noise_var: expected"):
        theory.predict_min_norm_mse(2, input_dim=4, widths=(8,), noise_var=noise)
