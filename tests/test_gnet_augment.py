"""CIFAR-10 training augmentation (random horizontal flip + RandomAffine) and its use in training."""

import math

import numpy as np
import pytest
import torch

from gnetlab import gnet
from gnetlab.gnet.augment import augment_batch, check_augment

CIFAR = {"flip": 0.5, "degrees": 5, "translate": 0.1, "scale": [0.9, 1.1]}


def _images(b=6, c=3, h=8, w=8, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).random((b, c, h, w), dtype=np.float32))


def test_flip_only_is_a_mirror_image():
    x = _images()
    out = augment_batch(x, {"flip": 1.0}, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, x.flip(-1))
    same = augment_batch(x, {"flip": 0.0}, torch.Generator().manual_seed(0))
    torch.testing.assert_close(same, x)


def test_pure_translation_by_whole_pixels_shifts_the_image():
    x = _images(b=64, h=10, w=10, seed=1)
    # translate 0.1 of 10 pixels: at most 1 pixel; with nearest sampling every output is a shifted copy
    out = augment_batch(x, {"flip": 0.0, "translate": 0.1}, torch.Generator().manual_seed(3))
    interior = out[:, :, 2:-2, 2:-2]
    found = 0
    for i in range(x.shape[0]):
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if torch.equal(interior[i], x[i, :, 2 - dy:8 - dy, 2 - dx:8 - dx]):
                    found += 1
                    break
            else:
                continue
            break
    assert found == x.shape[0]


def test_cifar_setting_is_seeded_bounded_and_keeps_shape():
    x = _images(b=16, h=32, w=32)
    a = augment_batch(x, CIFAR, torch.Generator().manual_seed(7))
    b = augment_batch(x, CIFAR, torch.Generator().manual_seed(7))
    c = augment_batch(x, CIFAR, torch.Generator().manual_seed(8))
    assert a.shape == x.shape
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a, x)
    # nearest sampling: every output pixel is an input pixel of the same image and channel, or the fill 0
    for i in range(4):
        vals = set(x[i, 0].flatten().tolist()) | {0.0}
        assert set(a[i, 0].flatten().tolist()) <= vals


def test_rotation_by_180_degrees_bound_reaches_far_pixels():
    x = torch.zeros((1, 1, 9, 9))
    x[0, 0, 4, 8] = 1.0  # a pixel on the right edge of the middle row
    out = augment_batch(x, {"flip": 0.0, "degrees": 180}, torch.Generator().manual_seed(0))
    assert out.sum() <= 1.0 and out.shape == x.shape


@pytest.mark.parametrize("bad, message", [
    ({"rotate": 5}, "unknown keys"),
    ({"flip": 1.5}, "flip"),
    ({"degrees": -1}, "degrees"),
    ({"scale": [1.1, 0.9]}, "low"),
    ({"scale": 1.0}, r"\[low, high\]"),
    ({"translate": math.nan}, "translate"),
])
def test_bad_augment_settings_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        check_augment(bad)


def test_training_with_augmentation_and_its_refusal_for_series(one_torch_thread):
    rng = np.random.default_rng(0)
    X = rng.random((40, 64), dtype=np.float32)
    y = np.repeat(np.arange(10), 4)
    model = gnet.build_model("digits_conv", seed=0)
    res = gnet.train(model, X, y, epochs=2, batch_size=20, lr=0.01, val_size=10, seed=0, progress=False,
                     augment=CIFAR)
    assert len(res.history) == 2 and np.isfinite(res.history.train_loss).all()
    again = gnet.build_model("digits_conv", seed=0)
    res2 = gnet.train(again, X, y, epochs=2, batch_size=20, lr=0.01, val_size=10, seed=0, progress=False,
                      augment=CIFAR)
    np.testing.assert_array_equal(res.history.train_loss, res2.history.train_loss)
    series = gnet.build_model("epilepsy", channels=2, length=16, seed=0)
    with pytest.raises(ValueError, match="only image models"):
        gnet.train(series, rng.random((8, 32), dtype=np.float32), np.repeat(np.arange(4), 2), epochs=1,
                   batch_size=4, lr=0.01, val_size=4, seed=0, progress=False, augment=CIFAR)


def test_spec_accepts_augment_key():
    from gnetlab.gnet.train import _check_spec

    spec = {"dataset": "digits", "model": "digits_conv", "activation": "rasu",
            "train": {"epochs": 1, "batch_size": 10, "lr": 0.01, "val_size": 10, "augment": CIFAR}}
    assert _check_spec(spec)["train"]["augment"] == CIFAR
