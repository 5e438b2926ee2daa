import numpy as np
import pytest
import torch
from torch.nn import functional as F

from gnetlab import bnn, datasets, robustness


@pytest.fixture(scope="module")
def model_and_data():
    torch.set_num_threads(2)
    Xtr, ytr = datasets.load("mnist5k", "train", seed=0)
    Xte, yte = datasets.load("mnist5k", "test", seed=0)
    m = bnn.build_model("fp32", hidden=(64,), seed=0)
    bnn.train_classifier(m, Xtr[:1500], ytr[:1500], bnn.TrainConfig(epochs=3, seed=0))
    return m, torch.from_numpy(Xte[:300]), torch.from_numpy(yte[:300])


def test_fgsm_increases_loss_and_respects_the_ball(model_and_data):
    m, X, y = model_and_data
    eps = 0.1
    adv = robustness.fgsm(m, X, y, eps)
    assert (adv - X).abs().max() <= eps + 1e-6
    assert adv.min() >= 0 and adv.max() <= 1
    with torch.no_grad():
        assert F.cross_entropy(m(adv), y) > F.cross_entropy(m(X), y)
    np.testing.assert_array_equal(robustness.fgsm(m, X, y, 0.0).numpy(), X.numpy())


def test_pgd_stays_in_ball_and_is_at_least_as_strong_as_fgsm(model_and_data):
    m, X, y = model_and_data
    eps = 0.1
    adv = robustness.pgd(m, X, y, eps, steps=10, seed=0)
    assert (adv - X).abs().max() <= eps + 1e-6
    assert adv.min() >= 0 and adv.max() <= 1
    acc_fgsm = robustness.attack_accuracy(m, X, y, eps, attack="fgsm")
    acc_pgd = robustness.attack_accuracy(m, X, y, eps, attack="pgd", steps=10, seed=0)
    assert acc_pgd <= acc_fgsm
    assert acc_fgsm < robustness.accuracy(m, X, y)


def test_attack_through_ste_gradients_of_a_binary_network():
    torch.manual_seed(0)
    m = bnn.build_model("binarynet", hidden=(32,), seed=0)
    X = torch.rand(20, 784)
    y = torch.randint(0, 10, (20,))
    adv = robustness.pgd(m, X, y, 0.05, steps=3, seed=1)
    assert not torch.equal(adv, X)  # STE gives a nonzero gradient through sign()


def test_bad_inputs(model_and_data):
    m, X, y = model_and_data
    with pytest.raises(ValueError, match="eps"):
        robustness.fgsm(m, X, y, -0.1)
    with pytest.raises(ValueError, match="labels"):
        robustness.fgsm(m, X, y[:5], 0.1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        robustness.fgsm(m, X * 3, y, 0.1)
    with pytest.raises(ValueError, match="attack"):
        robustness.attack_accuracy(m, X, y, 0.1, attack="cw")
    with pytest.raises(ValueError, match="steps"):
        robustness.pgd(m, X, y, 0.1, steps=0)
