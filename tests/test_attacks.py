"""Square Attack (gnetlab.robustness.square_attack) and the PGD options for adaptive attacks (margin loss,
expectation over transformation)."""

import numpy as np
import pytest
import torch

from gnetlab import bnn, datasets, robustness


class Linear(torch.nn.Module):
    """s = W x + b on flat inputs: the minimal L-inf perturbation that fools it is known in closed form."""

    def __init__(self, W, b):
        super().__init__()
        self.W = torch.as_tensor(W, dtype=torch.float32)
        self.b = torch.as_tensor(b, dtype=torch.float32)

    def forward(self, x):
        return x.reshape(x.shape[0], -1) @ self.W.T + self.b


@pytest.fixture(scope="module")
def mlp_and_data():
    torch.set_num_threads(1)
    Xtr, ytr = datasets.load("mnist5k", "train", seed=0)
    Xte, yte = datasets.load("mnist5k", "test", seed=0)
    m = bnn.build_model("fp32", hidden=(32,), seed=0)
    bnn.train_classifier(m, Xtr[:1000], ytr[:1000], bnn.TrainConfig(epochs=2, seed=0))
    m.eval()
    return m, Xte[:60], yte[:60]


def test_square_attack_stays_in_ball_and_box_and_never_raises_accuracy(mlp_and_data):
    m, X, y = mlp_and_data
    eps = np.repeat([0.0, 0.05, 0.15], 20).astype(np.float32)
    r = robustness.square_attack(m, X, y, eps, queries=60, seed=0, image_shape=(28, 28))
    assert r.x_adv.shape == X.shape and r.x_adv.dtype == np.float32
    assert (np.abs(r.x_adv - X).max(axis=1) <= eps + 1e-6).all()
    assert r.x_adv.min() >= 0 and r.x_adv.max() <= 1
    # eps = 0: the clean input, one query
    np.testing.assert_array_equal(r.x_adv[:20], X[:20])
    assert (r.queries[:20] == 1).all()
    assert (r.queries >= 1).all() and (r.queries <= 60).all()
    with torch.no_grad():
        clean = m(torch.from_numpy(X)).argmax(1).numpy() == y
        adv = m(torch.from_numpy(r.x_adv)).argmax(1).numpy() == y
    # never turns a wrong answer right; `fooled` is what the model says at x_adv
    assert not (adv & ~clean).any()
    np.testing.assert_array_equal(r.fooled, ~adv)
    assert r.robust_accuracy == pytest.approx(adv.mean())
    # inputs misclassified to begin with cost one query
    assert (r.queries[~clean] == 1).all()
    # a larger budget per input is at least as strong (same draws: the budget only rescales the schedule,
    # so compare via accuracy_at, which is monotone in the budget)
    accs = [r.accuracy_at(q) for q in (1, 2, 10, 30, 60)]
    assert all(a >= b for a, b in zip(accs, accs[1:]))
    assert accs[0] == pytest.approx(clean.mean()) and accs[-1] == pytest.approx(r.robust_accuracy)
    assert r.robust_accuracy < clean.mean()  # eps = 0.15 breaks a small MLP within 60 queries


def test_square_attack_breaks_a_linear_model_where_the_answer_is_known():
    rng = np.random.default_rng(1)
    d, n = 64, 200
    W = rng.standard_normal((2, d))
    b = -0.5 * W.sum(1)  # the boundary passes near the centre of the box
    X = (0.5 + 0.4 * rng.uniform(-1, 1, (n, d))).astype(np.float32)
    s = X @ W.T + b
    y = s.argmax(1)
    margin = np.abs(s[:, 0] - s[:, 1])
    need = margin / np.abs(W[0] - W[1]).sum()  # the smallest L-inf radius that flips the decision
    eps = 0.05  # x +- eps stays inside [0, 1]: the box never binds, so `need` is exact
    model = Linear(W, b)
    r = robustness.square_attack(model, X, y, eps, queries=400, seed=3, image_shape=(8, 8))
    assert (r.fooled[need < 0.6 * eps]).all()  # comfortably breakable: broken
    assert not r.fooled[need > eps].any()      # provably unbreakable: not broken
    assert (need < 0.6 * eps).sum() > 20 and (need > eps).sum() > 20  # both kinds are present


def test_square_attack_is_deterministic_with_a_seed_and_accepts_other_layouts(mlp_and_data):
    m, X, y = mlp_and_data
    a = robustness.square_attack(m, X, y, 0.1, queries=30, seed=5, image_shape=(1, 28, 28))
    b = robustness.square_attack(m, X, y, 0.1, queries=30, seed=np.random.default_rng(5), image_shape=(28, 28))
    np.testing.assert_array_equal(a.x_adv, b.x_adv)
    np.testing.assert_array_equal(a.queries, b.queries)
    c = robustness.square_attack(m, X, y, 0.1, queries=30, seed=6, image_shape=(28, 28))
    assert not np.array_equal(a.x_adv, c.x_adv)
    # (n, H, W) inputs need no image_shape; a score function returning numpy works the same
    img = robustness.square_attack(lambda x: m(x.reshape(len(x), -1)).numpy(), X.reshape(-1, 28, 28), y, 0.1,
                                   queries=30, seed=5)
    np.testing.assert_array_equal(img.x_adv.reshape(X.shape), a.x_adv)


def test_square_fraction_schedule():
    assert robustness.square_fraction(0.8, 1, 10000) == 0.8
    assert robustness.square_fraction(0.8, 11, 10000) == 0.4
    assert robustness.square_fraction(0.8, 9000, 10000) == pytest.approx(0.8 / 512)
    # rescaled: the same halvings at the same fraction of a shorter run
    assert robustness.square_fraction(0.8, 50, 100) == robustness.square_fraction(0.8, 5000, 10000)
    ps = [robustness.square_fraction(0.05, t, 300) for t in range(1, 301)]
    assert all(a >= b for a, b in zip(ps, ps[1:]))


def test_pgd_margin_loss_and_eot_list(mlp_and_data):
    m, X, y = mlp_and_data
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    eps = 0.1
    ce = robustness.pgd(m, X, y, eps, steps=5, seed=0)
    mg = robustness.pgd(m, X, y, eps, steps=5, seed=0, loss="margin")
    for adv in (ce, mg):
        assert (adv - X).abs().max() <= eps + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    assert robustness.accuracy(m, mg, y) < robustness.accuracy(m, X, y)
    # a list of identical gradient models is the single model (the average of equal gradients)
    np.testing.assert_allclose(robustness.pgd(m, X, y, eps, steps=5, seed=0, grad_model=[m, m]).numpy(), ce.numpy())
    # eot_samples takes the members in turn: step t uses member t with eot_samples=1
    calls = []

    def tracked(i):
        def f(x):
            calls.append(i)
            return m(x)
        return f

    robustness.pgd(m, X, y, eps, steps=4, seed=0, grad_model=[tracked(0), tracked(1), tracked(2)], eot_samples=1)
    assert calls == [0, 1, 2, 0]
