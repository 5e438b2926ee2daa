import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gnetlab import embed


def test_projection_kinds_and_determinism():
    G = embed.projection(500, 20, embedding="gaussian", seed=0)
    R = embed.projection(500, 20, embedding="rademacher", seed=0)
    assert G.shape == R.shape == (500, 20) and G.dtype == np.float32
    assert set(np.unique(R)) == {-1.0, 1.0}
    assert abs(R.mean()) < 0.02 and abs(G.std() - 1) < 0.02
    np.testing.assert_array_equal(G, embed.projection(500, 20, embedding="gaussian", seed=0))
    assert not np.array_equal(G, embed.projection(500, 20, embedding="gaussian", seed=1))


def test_sign_embed_convention_sign_zero_is_plus_one():
    G = np.array([[1.0, -1.0], [1.0, 1.0], [0.0, 1.0]], dtype=np.float32)
    s = embed.sign_embed(np.array([[1.0, 1.0]]), G)
    np.testing.assert_array_equal(s, [[1, 1, 1]])  # first projection is exactly 0 -> +1
    assert s.dtype == np.int8


@settings(max_examples=30, deadline=None)
@given(c=st.floats(-1, 1), seed=st.integers(0, 2**31 - 1))
def test_pairs_have_the_requested_cosine(c, seed):
    for sparsity in (None, 2):
        u, v = embed.pairs_with_cosine([c], 12, seed=seed, sparsity=sparsity)
        np.testing.assert_allclose(np.linalg.norm(u), 1, atol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(v), 1, atol=1e-12)
        np.testing.assert_allclose((u * v).sum(), c, atol=1e-12)


def test_gaussian_estimate_concentrates_within_hoeffding():
    """Each estimate lies within the Hoeffding radius at delta = 1e-6 (failure prob. per pair 1e-6)."""
    cos = np.linspace(-0.99, 0.99, 25)
    u, v = embed.pairs_with_cosine(cos, 64, seed=3)
    N = 20000
    est = embed.grothendieck_similarity(u, v, embed.projection(N, 64, seed=4, dtype=np.float64))
    err = np.abs(est - embed.grothendieck_expectation(cos))
    assert np.all(err < embed.hoeffding_radius(N, 1e-6))
    # and is clearly better than the linear (wrong) law cos itself where they differ
    assert np.abs(est - cos)[np.abs(cos) > 0.5].min() > 0.05


def test_monte_carlo_mean_matches_identity_for_many_draws():
    """Mean over many independent G of the estimate equals (2/pi) arcsin(cos) within 4 standard errors."""
    rng = np.random.default_rng(5)
    u, v = embed.pairs_with_cosine([0.3], 16, seed=rng)
    est = [embed.grothendieck_similarity(u, v, embed.projection(200, 16, seed=rng))[0] for _ in range(400)]
    se = np.std(est) / np.sqrt(len(est))
    assert abs(np.mean(est) - embed.grothendieck_expectation(0.3)) < 4 * se


def test_rademacher_limit_matches_hand_calculation_and_simulation():
    # u = e1, v = (e1 + e2 + e3)/sqrt(3): sign(g1) sign(g1+g2+g3) agrees in 3 of 4 cases -> 0.5
    u = np.array([1.0, 0, 0, 0])
    v = np.array([1.0, 1, 1, 0]) / np.sqrt(3)
    assert embed.rademacher_limit(u, v) == pytest.approx(0.5)
    assert embed.grothendieck_expectation(1 / np.sqrt(3)) == pytest.approx(0.3918, abs=1e-4)
    G = embed.projection(200000, 4, embedding="rademacher", seed=0)
    est = embed.grothendieck_similarity(u[None], v[None], G)[0]
    assert abs(est - 0.5) < 0.01


def test_convergence_curve_rates():
    cos = np.linspace(-0.9, 0.9, 16)
    u, v = embed.pairs_with_cosine(cos, 64, seed=0)
    Ns = [64, 256, 1024, 4096]
    df = embed.convergence_curve(u, v, Ns, embedding="gaussian", seed=1, trials=4)
    m = df.groupby("hyperdim").rms_error.mean()
    assert -0.65 < embed.loglog_slope(m.index, m.values) < -0.35
    us, vs = embed.pairs_with_cosine(cos, 64, seed=0, sparsity=3)
    dfs = embed.convergence_curve(us, vs, Ns, embedding="rademacher", seed=1, trials=4)
    ms = dfs.groupby("hyperdim").rms_error.mean()
    assert ms.iloc[-1] > 0.1  # stuck at the floor


def test_hoeffding_radius_values():
    assert embed.hoeffding_radius(2 * np.log(2 / 0.05), 0.05) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: embed.projection(0, 3, seed=0), ValueError, "hyperdim"),
        (lambda: embed.projection(3, 3, embedding="bernoulli", seed=0), ValueError, "unknown value 'bernoulli'"),
        (lambda: embed.projection(3, 3, seed=None), TypeError, "explicit seed"),
        (lambda: embed.projection(3.0, 3, seed=0), TypeError, "integer"),
        (lambda: embed.sign_embed(np.ones((2, 4)), np.ones((5, 3))), ValueError, "does not match"),
        (lambda: embed.sign_embed(np.array([[np.nan, 1, 1]]), np.ones((5, 3))), ValueError, "NaN"),
        (lambda: embed.sign_embed(np.ones(3, dtype=object), np.ones((5, 3))), TypeError, "object"),
        (lambda: embed.grothendieck_similarity(np.ones((2, 3)), np.ones((3, 3)), np.ones((4, 3))), ValueError,
         "equal shapes"),
        (lambda: embed.grothendieck_expectation([1.5]), ValueError, r"\[-1, 1\]"),
        (lambda: embed.hoeffding_radius(0), ValueError, "N >= 1"),
        (lambda: embed.pairs_with_cosine([0.5], 8, seed=0, sparsity=5), ValueError, "sparsity"),
        (lambda: embed.normalized_inner(np.ones((2, 0)), np.ones((2, 0))), ValueError, "N = 0"),
    ],
)
def test_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_torch_inputs_are_accepted():
    torch = pytest.importorskip("torch")
    G = embed.projection(64, 5, seed=0)
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_array_equal(embed.sign_embed(torch.from_numpy(x), torch.from_numpy(G)), embed.sign_embed(x, G))
