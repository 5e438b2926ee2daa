"""gnetlab.rademacher: the Rademacher floor, its Monte Carlo and Edgeworth estimates, the spread statistic,
and gnetlab.ehd.layer_vectors (the vectors an EHD layer embeds)."""

import numpy as np
import pytest

from gnetlab import embed, rademacher


def _arcsin(U, V):
    return (2 / np.pi) * np.arcsin(rademacher.pairwise_cosine(U, V))


def _reference_limit(U, V, max_support=20):
    """Independent reference: gnetlab.embed.rademacher_limit, pair by pair."""
    return np.array([[embed.rademacher_limit(u, v, max_support=max_support) for v in V] for u in U])


def _structured(rng, k):
    """Vectors with ties, repeated values and sparse supports (the lattice-like cases)."""
    U = rng.standard_normal((6, k))
    U[0] = 1.0                      # constant: <g, u> is an integer, 0 for even k
    U[1] = np.round(U[1])           # integers, zeros
    U[2, ::2] = 0.0                 # sparse
    U[3] = np.sign(U[3]) + 0.25     # +-1 activations plus a bias
    V = rng.standard_normal((4, k))
    V[0] = np.sign(V[0])
    V[1, 1:] = 0.0                  # a coordinate vector
    return U, V


@pytest.mark.parametrize("k", [2, 5, 9, 12])
def test_exact_enumeration_matches_embed_reference(k):
    U, V = _structured(np.random.default_rng(k), k)
    V[1, 0] = 1.0
    res = rademacher.rademacher_floor(U, V)
    assert res["method"] == "exact" and res["samples"] == 0
    np.testing.assert_array_equal(res["limit"], _reference_limit(U, V))
    np.testing.assert_allclose(res["floor"], res["limit"] - _arcsin(U, V), atol=1e-15)
    assert np.all(res["stderr"] == 0)


@pytest.mark.parametrize("k", [15, 17])
def test_meet_in_the_middle_matches_enumeration(k):
    U, V = _structured(np.random.default_rng(100 + k), k)
    V[1, 0] = 1.0
    U, V = U[:4], V[:3]
    res = rademacher.rademacher_floor(U, V, max_exact=k)
    np.testing.assert_array_equal(res["limit"], _reference_limit(U, V))


def test_support_is_the_union_of_nonzero_coordinates():
    rng = np.random.default_rng(3)
    U = np.zeros((3, 60))
    V = np.zeros((2, 60))
    U[:, 10:20] = rng.standard_normal((3, 10))
    V[:, 15:25] = rng.standard_normal((2, 10))
    res = rademacher.rademacher_floor(U, V, max_exact=15)
    assert res["method"] == "exact" and res["support"] == 15
    np.testing.assert_array_equal(res["limit"], _reference_limit(U[:, 10:25], V[:, 10:25]))


def test_closed_form_majority_of_three():
    # u = e1, v = (1, 1, 1): E[g1 sign(g1 + g2 + g3)] = 2 P(g2 + g3 >= -1) - 1 = 1/2
    res = rademacher.rademacher_floor([[1.0, 0, 0]], [[1.0, 1.0, 1.0]])
    assert res["limit"][0, 0] == 0.5
    assert res["floor"][0, 0] == pytest.approx(0.5 - (2 / np.pi) * np.arcsin(1 / np.sqrt(3)), abs=1e-15)


def test_tie_convention_sign_zero_is_plus_one():
    # u = (1, 1): <g, u> = 0 for half of the patterns, counted +1; v = (1, 0): E[sign(g1 + g2) g1] = 1/2
    res = rademacher.rademacher_floor([[1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(res["limit"], [[0.5, 1.0]])


def test_monte_carlo_rademacher_agrees_with_exact():
    U, V = _structured(np.random.default_rng(7), 10)
    V[1, 0] = 1.0
    exact = rademacher.rademacher_floor(U, V)["limit"]
    mc = rademacher.rademacher_floor(U, V, max_exact=5, samples=2**16, seed=1)
    assert mc["method"] == "monte_carlo" and mc["samples"] == 2**16
    z = np.abs(mc["limit"] - exact) / np.maximum(mc["stderr"], 1e-12)
    assert z.max() < 4.5
    np.testing.assert_allclose(mc["stderr"], np.sqrt((1 - mc["limit"] ** 2) / 2**16))


def test_gaussian_monte_carlo_has_no_floor():
    rng = np.random.default_rng(11)
    U, V = rng.standard_normal((8, 20)), rng.standard_normal((5, 20))
    U[0, 3:] = 0.0  # sparse: a floor for Rademacher, none for Gaussian
    mean, se = rademacher.sign_product_mean(U, V, embedding="gaussian", samples=2**16, seed=2)
    assert np.max(np.abs(mean - _arcsin(U, V)) / se) < 4.5
    rmean, rse = rademacher.sign_product_mean(U, V, embedding="rademacher", samples=2**16, seed=2)
    assert np.max(np.abs(rmean - _arcsin(U, V)) / rse) > 6  # the sparse row's floor is resolved


def test_monte_carlo_is_reproducible_and_chunk_independent():
    rng = np.random.default_rng(5)
    U, V = rng.standard_normal((3, 30)), rng.standard_normal((2, 30))
    a = rademacher.sign_product_mean(U, V, embedding="rademacher", samples=5000, seed=9)
    b = rademacher.sign_product_mean(U, V, embedding="rademacher", samples=5000, seed=9)
    np.testing.assert_array_equal(a[0], b[0])


def test_spread_closed_forms():
    n = 50
    assert rademacher.spread(np.eye(n)[3]) == 1.0
    assert rademacher.spread(np.ones(n)) == pytest.approx(1 / np.sqrt(n))
    x = np.zeros(n)
    x[:7] = -2.5
    assert rademacher.spread(x) == pytest.approx(1 / np.sqrt(7))
    rows = np.random.default_rng(0).standard_normal((4, n))
    np.testing.assert_allclose(rademacher.spread(rows), rademacher.spread(3.0 * rows))
    s = rademacher.spread(rows)
    assert np.all((s >= 1 / np.sqrt(n)) & (s <= 1))


def test_edgeworth_term_approximates_the_exact_floor_for_spread_vectors():
    rng = np.random.default_rng(21)
    U, V = rng.standard_normal((16, 22)), rng.standard_normal((4, 22))
    exact = rademacher.rademacher_floor(U, V, max_exact=22)["floor"]
    approx = rademacher.edgeworth_floor(U, V)
    assert np.corrcoef(exact.ravel(), approx.ravel())[0, 1] > 0.9
    assert np.sqrt(np.mean((exact - approx) ** 2)) < 0.5 * np.sqrt(np.mean(exact**2))


def test_edgeworth_term_is_odd_and_shrinks_with_the_spread():
    rng = np.random.default_rng(4)
    U, V = rng.standard_normal((5, 40)), rng.standard_normal((3, 40))
    np.testing.assert_allclose(rademacher.edgeworth_floor(U, -V), -rademacher.edgeworth_floor(U, V), atol=1e-15)
    # spreading the same directions over more coordinates (each entry repeated r times) shrinks it like 1/r
    f1 = rademacher.edgeworth_floor(U, V)
    f4 = rademacher.edgeworth_floor(np.repeat(U, 4, axis=1), np.repeat(V, 4, axis=1))
    np.testing.assert_allclose(f4, f1 / 4, rtol=1e-10, atol=1e-15)
    assert np.isnan(rademacher.edgeworth_floor(U[:1], U[:1])[0, 0])


def test_error_curve_converges_to_the_floor_for_rademacher_only():
    U, V = np.array([[1.0, 0, 0]]), np.array([[1.0, 1.0, 1.0]])
    floor = rademacher.rademacher_floor(U, V)["floor"][0, 0]
    Ns = [100, 1000, 65536]
    rad = rademacher.pairwise_error_curve(U, V, Ns, embedding="rademacher", seed=0, chunk=3000)
    gau = rademacher.pairwise_error_curve(U, V, Ns, embedding="gaussian", seed=0, chunk=3000)
    assert list(rad.hyperdim) == Ns
    assert rad.rms_error.iloc[-1] == pytest.approx(abs(floor), abs=4 * np.sqrt(1 / Ns[-1]))
    assert gau.rms_error.iloc[-1] < 4 * np.sqrt(1 / Ns[-1])


def test_error_curve_does_not_depend_on_the_chunking():
    rng = np.random.default_rng(8)
    U, V = rng.standard_normal((4, 12)), rng.standard_normal((3, 12))
    a = rademacher.pairwise_error_curve(U, V, [10, 500, 2000], embedding="rademacher", seed=3, chunk=64)
    b = rademacher.pairwise_error_curve(U, V, [10, 500, 2000], embedding="rademacher", seed=3, chunk=64)
    np.testing.assert_array_equal(a.values, b.values)
    assert set(a.columns) == {"hyperdim", "rms_error", "mean_abs_error", "max_abs_error"}


def test_crossover_hyperdim():
    out = rademacher.crossover_hyperdim([0.0, 0.6, 0.2, 1.0], [0.01, -0.02, 0.0, 0.05])
    np.testing.assert_allclose(out[:2], [1e4, 0.64 / 4e-4])
    assert out[2] == np.inf and out[3] == 0.0


def test_layer_vectors_are_the_vectors_the_ehd_network_embeds():
    from gnetlab import ehd, gnet, pipeline
    from gnetlab.bits import unpack_float
    from gnetlab.ehd.model import TIE_RTOL

    spec = pipeline.load_config()["gnet_models"]["digits_conv"]
    model, _ = gnet.load_model("digits_conv", spec)
    X, _ = gnet.spec_data(spec, "test")
    X = X[:4]
    vecs = ehd.layer_vectors(model, X, hyperdim=300, embedding="rademacher", seed=5)
    net = ehd.embed_gnet(model, hyperdim=300, embedding="rademacher", seed=5)
    est, scores = net.estimates(X), net.scores(X)
    assert [v["kind"] for v in vecs] == [layer.kind for layer in net.all_layers]
    for v, layer in zip(vecs, net.all_layers):
        G = layer.projection.astype(np.float64)
        rows = v["inputs"].astype(np.float64)
        proj = rows @ G.T  # exact here: +-1 G, float32 entries, short rows
        data = np.where(proj >= -TIE_RTOL * np.abs(rows).sum(axis=1, keepdims=True), 1.0, -1.0)
        dots = data @ unpack_float(layer.weight_bits, layer.hyperdim).T.astype(np.float64)
        if layer.kind == "classifier":
            np.testing.assert_array_equal(dots, scores)
        else:
            z = est[v["layer"]]
            ref = np.moveaxis(z, 1, -1).reshape(-1, z.shape[1]) / np.float32(np.pi / (2 * layer.hyperdim))
            np.testing.assert_allclose(dots, ref, atol=1e-3)
        assert v["weights"].shape == (layer.n_out, layer.fan_in)
        assert v["inputs"].shape == (X.shape[0] * v["positions"], layer.fan_in)
