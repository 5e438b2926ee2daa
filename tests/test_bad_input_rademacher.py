"""Bad input to gnetlab.rademacher and gnetlab.ehd.layer_vectors: errors name the argument."""

import numpy as np
import pytest

from gnetlab import ehd, rademacher

U = np.random.default_rng(0).standard_normal((3, 6))
V = np.random.default_rng(1).standard_normal((2, 6))
Z = np.vstack([U[:1], np.zeros((1, 6))])

CASES = [
    ("spread-zero", lambda: rademacher.spread(np.zeros(4)), ValueError, "x: contains a zero vector"),
    ("spread-scalar", lambda: rademacher.spread(3.0), ValueError, "x: expected an array of shape"),
    ("spread-nan", lambda: rademacher.spread([1.0, np.nan]), ValueError, "x: contains non-finite"),
    ("spread-str", lambda: rademacher.spread(["a", "b"]), TypeError, "x: expected"),
    ("cosine-zero-row", lambda: rademacher.pairwise_cosine(Z, V), ValueError, "U: row 1 is all zeros"),
    ("cosine-1d", lambda: rademacher.pairwise_cosine(U[0], V), ValueError, "U: expected a 2-D array"),
    ("cosine-len", lambda: rademacher.pairwise_cosine(U, V[:, :4]), ValueError, "U, V: vector lengths differ"),
    ("floor-zero-row", lambda: rademacher.rademacher_floor(U, Z), ValueError, "V: row 1 is all zeros"),
    ("floor-max-exact-big", lambda: rademacher.rademacher_floor(U, V, max_exact=40), ValueError, "max_exact: exact sums"),
    ("floor-max-exact-float", lambda: rademacher.rademacher_floor(U, V, max_exact=10.0), TypeError, "max_exact: expected an integer"),
    ("floor-mc-needs-seed", lambda: rademacher.rademacher_floor(U, V, max_exact=3), ValueError, "seed: the support has 6"),
    ("floor-mc-bad-seed", lambda: rademacher.rademacher_floor(U, V, max_exact=3, seed=-1), ValueError, "seed: expected a non-negative"),
    ("floor-samples-zero", lambda: rademacher.rademacher_floor(U, V, samples=0), ValueError, "samples: expected an integer >= 1"),
    ("floor-tie-negative", lambda: rademacher.rademacher_floor(U, V, tie_rtol=-1e-9), ValueError, "tie_rtol"),
    ("mean-embedding", lambda: rademacher.sign_product_mean(U, V, embedding="bernoulli", samples=10, seed=0),
     ValueError, "embedding: unknown value"),
    ("mean-seed-none", lambda: rademacher.sign_product_mean(U, V, embedding="gaussian", samples=10, seed=None),
     TypeError, "seed: an explicit seed"),
    ("mean-chunk-big", lambda: rademacher.sign_product_mean(U, V, embedding="gaussian", samples=10, seed=0, chunk=2**25),
     ValueError, "chunk: at most 2\\^24"),
    ("edgeworth-nan", lambda: rademacher.edgeworth_floor(U, np.full((1, 6), np.nan)), ValueError, "V: contains non-finite"),
    ("curve-N-zero", lambda: rademacher.pairwise_error_curve(U, V, [0, 10], embedding="gaussian", seed=0),
     ValueError, "hyperdims: every N must be >= 1"),
    ("curve-N-float", lambda: rademacher.pairwise_error_curve(U, V, [10.0], embedding="gaussian", seed=0),
     TypeError, "hyperdims: expected"),
    ("curve-N-empty", lambda: rademacher.pairwise_error_curve(U, V, np.array([], dtype=int), embedding="gaussian",
                                                              seed=0), ValueError, "hyperdims"),
    ("crossover-shape", lambda: rademacher.crossover_hyperdim([0.1, 0.2], [0.1]), ValueError, "limit, floor: shapes differ"),
    ("crossover-range", lambda: rademacher.crossover_hyperdim([1.5], [0.1]), ValueError, "limit: values must lie"),
    ("vectors-model", lambda: ehd.layer_vectors("model", np.zeros((1, 4)), hyperdim=10, seed=0), TypeError,
     "model: expected a gnetlab.gnet.GNet"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_layer_vectors_bad_hyperdim_and_embedding():
    from gnetlab import gnet

    model = gnet.build_model("mnist_dense", activation="rasu", hidden=[8], input_features=16)
    with pytest.raises(ValueError, match="hyperdim: expected an integer >= 1"):
        ehd.layer_vectors(model, np.zeros((1, 16)), hyperdim=0, seed=0)
    with pytest.raises(ValueError, match="embedding: unknown value"):
        ehd.layer_vectors(model, np.zeros((1, 16)), hyperdim=10, embedding="sparse", seed=0)
    with pytest.raises(ValueError, match="X: expected shape"):
        ehd.layer_vectors(model, np.zeros((1, 15)), hyperdim=10, seed=0)
