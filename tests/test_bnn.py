import numpy as np
import pytest
import torch

from gnetlab import bnn, datasets


def _grad_of(q, x):
    x = x.clone().requires_grad_(True)
    q(x).sum().backward()
    return x.grad


def test_ste_and_clipped_ste_gradients():
    x = torch.tensor([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    np.testing.assert_array_equal(bnn.get_quantizer("ste_sign")(x).numpy(), [-1, -1, -1, 1, 1, 1, 1])
    np.testing.assert_array_equal(_grad_of(bnn.get_quantizer("ste_sign"), x).numpy(), np.ones(7))
    np.testing.assert_array_equal(_grad_of(bnn.get_quantizer("clipped_ste"), x).numpy(), [0, 1, 1, 1, 1, 1, 0])


def test_stochastic_binarization_probability_and_eval_mode():
    gen = torch.Generator().manual_seed(0)
    q = bnn.get_quantizer("stochastic", generator=gen)
    w = torch.full((200000,), 0.5)
    out = q(w)
    assert set(out.unique().tolist()) == {-1.0, 1.0}
    assert abs((out == 1).float().mean().item() - 0.75) < 0.005  # P(+1) = (w + 1) / 2
    q.eval()
    np.testing.assert_array_equal(q(torch.tensor([-0.2, 0.3])).numpy(), [-1, 1])
    np.testing.assert_array_equal(_grad_of(q, torch.tensor([-2.0, 0.3])).numpy(), [0, 1])


def test_xnor_alpha_is_mean_abs_per_output_channel():
    w = torch.tensor([[1.0, -3.0], [0.5, 0.5], [-2.0, 0.0]])
    out = bnn.get_quantizer("xnor")(w)
    np.testing.assert_allclose(out.numpy(), [[2.0, -2.0], [0.5, 0.5], [-1.0, 1.0]])
    with pytest.raises(ValueError, match="ndim"):
        bnn.get_quantizer("xnor")(torch.ones(3))


def test_ternary_threshold_and_sparsity():
    w = torch.tensor([0.05, -0.05, 1.0, -1.0, 0.4, -0.6])  # mean |w| = 0.5167
    q = bnn.get_quantizer("ternary", threshold=0.5)
    t, gamma = q.ternarize(w)
    assert gamma.item() == pytest.approx(w.abs().mean().item())
    np.testing.assert_array_equal(t.numpy(), [0, 0, 1, -1, 1, -1])  # |w| > 0.258
    t_hi, _ = bnn.get_quantizer("ternary", threshold=1.0).ternarize(w)
    assert (t_hi == 0).sum() > (t == 0).sum()  # a higher threshold is sparser
    # BitNet b1.58 absmean = round(clip(w / gamma, -1, 1)) equals the 0.5 threshold
    np.testing.assert_array_equal(t.numpy(), torch.round((w / gamma).clamp(-1, 1)).numpy())
    np.testing.assert_array_equal(_grad_of(q, w).numpy(), np.ones(6))


def test_int8_activation_levels():
    x = torch.tensor([[0.0, 0.5, -1.0, 0.25]])
    q = bnn.get_quantizer("int8")(x)
    levels = q / (1.0 / 127)
    np.testing.assert_allclose(levels, torch.round(levels), atol=1e-4)
    assert (q - x).abs().max() <= 0.5 / 127 + 1e-7


def test_quantizer_registry_round_trip_and_errors():
    for name in bnn.QUANTIZERS:
        q = bnn.get_quantizer(name)
        assert type(bnn.get_quantizer(**q.config())) is type(q)
    assert bnn.get_quantizer("ternary", threshold=0.7).config() == {"name": "ternary", "threshold": 0.7}
    with pytest.raises(ValueError, match="unknown quantizer 'sgn'"):
        bnn.get_quantizer("sgn")


@pytest.fixture(scope="module")
def small_data():
    Xtr, ytr = datasets.load("mnist5k", "train", seed=0)
    Xte, yte = datasets.load("mnist5k", "test", seed=0)
    return Xtr[:1500], ytr[:1500], Xte[:400], yte[:400]


@pytest.mark.parametrize("recipe", ["fp32", "binaryconnect", "binarynet"])
def test_recipes_learn_mnist(small_data, recipe):
    Xtr, ytr, Xte, yte = small_data
    torch.set_num_threads(2)
    m = bnn.build_model(recipe, hidden=(128,), seed=0)
    bnn.train_classifier(m, Xtr, ytr, bnn.TrainConfig(epochs=4, lr=5e-3, seed=0))
    assert bnn.evaluate(m, Xte, yte) > 0.75


def test_binary_shadow_weights_stay_clipped(small_data):
    Xtr, ytr, _, _ = small_data
    m = bnn.build_model("binarynet", hidden=(64,), seed=1)
    bnn.train_classifier(m, Xtr[:300], ytr[:300], bnn.TrainConfig(epochs=2, lr=0.5, seed=0))
    for lin in [x for x in m.modules() if isinstance(x, bnn.QuantLinear)]:
        assert lin.weight.abs().max() <= 1.0


def test_progressive_binarization_and_distillation(small_data):
    Xtr, ytr, Xte, yte = small_data
    teacher = bnn.build_model("fp32", hidden=(64,), seed=0)
    bnn.train_classifier(teacher, Xtr, ytr, bnn.TrainConfig(epochs=2, seed=0))
    m = bnn.build_model("binaryconnect", hidden=(64,), seed=0)
    cfg = bnn.TrainConfig(epochs=3, seed=0, binarize_activations_from=1, distill_alpha=0.5)
    bnn.train_classifier(m, Xtr, ytr, cfg, teacher=teacher)
    hidden = [x for x in m.modules() if isinstance(x, bnn.QuantLinear)][1]
    assert hidden.input_quantizer.name == "clipped_ste"
    assert m.recipe == "binarynet"
    assert not any(isinstance(x, torch.nn.ReLU) for x in m.modules())
    assert len(cfg.history) == 3
    with pytest.raises(ValueError, match="teacher"):
        bnn.train_classifier(m, Xtr, ytr, bnn.TrainConfig(epochs=1, distill_alpha=0.5))


def test_packed_export_predicts_exactly_like_torch(small_data):
    Xtr, ytr, Xte, yte = small_data
    m = bnn.build_model("binarynet", hidden=(96, 80), seed=3)
    bnn.train_classifier(m, Xtr, ytr, bnn.TrainConfig(epochs=3, lr=5e-3, seed=0))
    packed = bnn.export_binarynet(m)
    with torch.no_grad():
        logits = m(torch.from_numpy(Xte)).numpy()
    for backend in ("numpy", "numba"):
        np.testing.assert_array_equal(packed.predict(Xte, backend=backend), logits.argmax(1))
    np.testing.assert_allclose(packed.decision_function(Xte), logits, rtol=1e-4, atol=1e-3)
    assert packed.weight_bytes() < sum(p.numel() for p in m.parameters()) * 4 / 20
    with pytest.raises(ValueError, match="binarynet"):
        bnn.export_binarynet(bnn.build_model("fp32", hidden=(8,), seed=0))


def test_model_costs_and_energy():
    fp = bnn.model_costs(bnn.build_model("fp32", hidden=(100,), seed=0))
    bn = bnn.model_costs(bnn.build_model("binarynet", hidden=(100,), seed=0))
    assert fp["float_mult_macs"] == 784 * 100 + 100 * 10 and fp["weight_bits"] == 32 * (784 * 100 + 1000)
    assert bn["float_add_macs"] == 784 * 100 and bn["binary_macs"] == 1000 and bn["weight_bits"] == 78400 + 1000
    e = bnn.load_energy_table()
    assert fp["energy_pj"] == pytest.approx(fp["float_mult_macs"] * (e["fp32_mult"] + e["fp32_add"]))
    assert bn["energy_pj"] < fp["energy_pj"] / 4


def test_bad_inputs():
    m = bnn.build_model("fp32", hidden=(8,), seed=0)
    with pytest.raises(ValueError, match="expected shape"):
        m(torch.zeros(2, 10))
    with pytest.raises(ValueError, match="recipe"):
        bnn.build_model("binarized", seed=0)
    with pytest.raises(ValueError, match="NaN"):
        bnn.train_classifier(m, np.full((4, 784), np.nan, np.float32), np.zeros(4, np.int64), bnn.TrainConfig(epochs=1))
    with pytest.raises(ValueError, match="labels"):
        bnn.train_classifier(m, np.zeros((4, 784), np.float32), np.zeros(3, np.int64), bnn.TrainConfig(epochs=1))
