"""Bad input to gnetlab.embed: every case raises gnetlab's own error naming the argument."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gnetlab import embed

G = embed.projection(16, 5, seed=0)
U = np.eye(5)[:2]

CASES = [
    ("projection-hyperdim-str", lambda: embed.projection("64", 5, seed=0), TypeError, "hyperdim: expected an integer"),
    ("projection-hyperdim-float", lambda: embed.projection(64.0, 5, seed=0), TypeError, "hyperdim: expected an integer"),
    ("projection-hyperdim-zero", lambda: embed.projection(0, 5, seed=0), ValueError, "hyperdim: expected an integer >= 1"),
    ("projection-dim-bool", lambda: embed.projection(4, True, seed=0), TypeError, "dim: expected an integer"),
    ("projection-dim-neg", lambda: embed.projection(4, -3, seed=0), ValueError, "dim: expected an integer >= 1"),
    ("projection-embedding", lambda: embed.projection(4, 5, embedding="bernoulli", seed=0), ValueError, "embedding: unknown value"),
    ("projection-embedding-list", lambda: embed.projection(4, 5, embedding=["gaussian"], seed=0), TypeError, "embedding: expected one of"),
    ("projection-seed-none", lambda: embed.projection(4, 5, seed=None), TypeError, "seed: an explicit seed"),
    ("projection-seed-float", lambda: embed.projection(4, 5, seed=1.5), TypeError, "seed: expected an int"),
    ("projection-seed-neg", lambda: embed.projection(4, 5, seed=-1), ValueError, "seed: expected a non-negative"),
    ("projection-seed-str", lambda: embed.projection(4, 5, seed="0"), TypeError, "seed: expected an int"),
    ("projection-seed-legacy", lambda: embed.projection(4, 5, seed=np.random.RandomState(0)), TypeError, "seed: expected an int"),
    ("sign-embed-0d", lambda: embed.sign_embed(np.float32(1.0), G), ValueError, "x: expected an array of shape"),
    ("sign-embed-dim", lambda: embed.sign_embed(np.ones(4), G), ValueError, "x: last dimension 4"),
    ("sign-embed-G-1d", lambda: embed.sign_embed(np.ones(5), np.ones(5)), ValueError, "G: expected a 2-D array"),
    ("sign-embed-G-nan", lambda: embed.sign_embed(np.ones(5), np.full((3, 5), np.nan)), ValueError, "G: contains non-finite"),
    ("sign-embed-x-str", lambda: embed.sign_embed(np.array(["a"] * 5), G), TypeError, "x: expected a float"),
    ("sign-embed-overflow", lambda: embed.sign_embed(np.full(5, 1e300), G), ValueError, "x: G x overflows"),
    ("normalized-inner-nonsign", lambda: embed.normalized_inner(np.array([0.5, 1.0]), np.array([1, 1])), ValueError, "su: expected \\+-1"),
    ("normalized-inner-nan", lambda: embed.normalized_inner(np.array([1, 1]), np.array([np.nan, 1.0])), ValueError, "sv: expected \\+-1"),
    ("normalized-inner-len", lambda: embed.normalized_inner(np.ones(3), np.ones(4)), ValueError, "su, sv: embedding lengths differ"),
    ("normalized-inner-0d", lambda: embed.normalized_inner(np.int8(1), np.ones(4)), ValueError, "su: expected an array"),
    ("groth-sim-shape", lambda: embed.grothendieck_similarity(U, U[:1], G), ValueError, "u, v: expected equal shapes"),
    ("groth-sim-1d", lambda: embed.grothendieck_similarity(U[0], U[0], G), ValueError, "u: expected a 2-D array"),
    ("groth-exp-range", lambda: embed.grothendieck_expectation([1.5]), ValueError, r"cos: cosines must lie in \[-1, 1\]"),
    ("groth-exp-nan", lambda: embed.grothendieck_expectation([np.nan]), ValueError, "cos: contains non-finite"),
    ("hoeffding-N-zero", lambda: embed.hoeffding_radius(0), ValueError, "hyperdim: expected N >= 1"),
    ("hoeffding-delta-str", lambda: embed.hoeffding_radius(10, "0.05"), TypeError, "delta: expected a finite real"),
    ("hoeffding-delta-one", lambda: embed.hoeffding_radius(10, 1.0), ValueError, r"delta: expected a number in \(0, 1\)"),
    ("hoeffding-delta-nan", lambda: embed.hoeffding_radius(10, float("nan")), ValueError, "delta: expected a finite"),
    ("pairs-cos-range", lambda: embed.pairs_with_cosine([2.0], 4, seed=0), ValueError, "cosines: values must lie"),
    ("pairs-cos-2d", lambda: embed.pairs_with_cosine([[0.5]], 4, seed=0), ValueError, "cosines: expected a 1-D"),
    ("pairs-dim-one", lambda: embed.pairs_with_cosine([0.5], 1, seed=0), ValueError, "dim: expected an integer >= 2"),
    ("pairs-sparsity-big", lambda: embed.pairs_with_cosine([0.5], 4, seed=0, sparsity=3), ValueError, "sparsity: 2 \\* sparsity"),
    ("pairs-sparsity-float", lambda: embed.pairs_with_cosine([0.5], 4, seed=0, sparsity=1.0), TypeError, "sparsity: expected an integer"),
    ("pairs-seed-none", lambda: embed.pairs_with_cosine([0.5], 4, seed=None), TypeError, "seed: an explicit seed"),
    ("rademacher-shape", lambda: embed.rademacher_limit(np.ones(3), np.ones(4)), ValueError, "u, v: shapes differ"),
    ("rademacher-support", lambda: embed.rademacher_limit(np.ones(30), np.ones(30)), ValueError, "u, v: joint support"),
    ("rademacher-max-support", lambda: embed.rademacher_limit(np.ones(3), np.ones(3), max_support=2.5), TypeError, "max_support: expected an integer"),
    ("curve-hyperdims-float", lambda: embed.convergence_curve(U, U, [1.5], embedding="gaussian", seed=0), TypeError, "hyperdims: expected a signed integer"),
    ("curve-hyperdims-empty", lambda: embed.convergence_curve(U, U, [], embedding="gaussian", seed=0), (TypeError, ValueError), "hyperdims: expected"),
    ("curve-hyperdims-zero", lambda: embed.convergence_curve(U, U, [0, 4], embedding="gaussian", seed=0), ValueError, "hyperdims: every N must be >= 1"),
    ("curve-zero-row", lambda: embed.convergence_curve(np.zeros((1, 5)), U[:1], [4], embedding="gaussian", seed=0), ValueError, "u: expected non-empty rows with nonzero norm"),
    ("curve-trials", lambda: embed.convergence_curve(U, U, [4], embedding="gaussian", seed=0, trials=0), ValueError, "trials: expected an integer >= 1"),
    ("curve-embedding", lambda: embed.convergence_curve(U, U, [4], embedding="sparse", seed=0), ValueError, "embedding: unknown value"),
    ("slope-short", lambda: embed.loglog_slope([1.0], [1.0]), ValueError, "x, y: need two equal-length"),
    ("slope-nonpositive", lambda: embed.loglog_slope([1.0, 0.0], [1.0, 2.0]), ValueError, "x, y: log-log slope needs positive"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40).filter(lambda n: n != 5))
def test_sign_embed_wrong_width(n):
    with pytest.raises(ValueError, match=f"x: last dimension {n} does not match G's input dimension 5"):
        embed.sign_embed(np.ones((2, n)), G)


@settings(max_examples=30, deadline=None)
@given(seed=st.one_of(st.floats(allow_nan=True), st.text(max_size=3), st.booleans(), st.none(),
                      st.integers(max_value=-1)))
def test_projection_bad_seed(seed):
    with pytest.raises((TypeError, ValueError), match="seed: "):
        embed.projection(3, 3, seed=seed)
