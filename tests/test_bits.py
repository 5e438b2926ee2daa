import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import gnetlab
from gnetlab.bits import PackedBits, pack_signs, popcount, unpack_signs, words_for

KS = st.sampled_from([1, 2, 63, 64, 65, 127, 128, 1000, 4096])


def _signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1, 1).astype(np.float32)


@settings(max_examples=40, deadline=None)
@given(k=KS, rows=st.integers(0, 5), seed=st.integers(0, 2**31 - 1))
def test_pack_unpack_round_trip(k, rows, seed):
    x = _signs(np.random.default_rng(seed), (rows, k))
    p = pack_signs(x)
    assert p.words.shape == (rows, words_for(k)) and p.words.dtype == np.uint64 and p.k == k
    assert p.shape == (rows, k)
    np.testing.assert_array_equal(unpack_signs(p), x)
    assert unpack_signs(p, dtype=np.int8).dtype == np.int8


def test_bit_convention_lsb_first_minus_one_is_bit_one():
    x = np.ones(70, np.float32)
    x[[0, 3, 64, 69]] = -1
    w = pack_signs(x).words
    assert w.shape == (2,)
    assert int(w[0]) == (1 << 0) | (1 << 3)
    assert int(w[1]) == (1 << 0) | (1 << 5)  # padding bits 6..63 stay 0


def test_sign_of_zero_is_plus_one_and_real_values_pack_their_sign():
    x = np.array([[0.0, -0.0, 2.5, -1e-30, 7.0]])
    np.testing.assert_array_equal(unpack_signs(pack_signs(x)), [[1, 1, 1, -1, 1]])
    ints = np.array([0, -3, 5], dtype=np.int64)
    np.testing.assert_array_equal(unpack_signs(pack_signs(ints)), [1, -1, 1])
    np.testing.assert_array_equal(unpack_signs(pack_signs(np.array([0, 9], np.uint8))), [1, 1])


def test_leading_dims_and_torch_inputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 100)).astype(np.float32)
    p = pack_signs(x)
    assert p.words.shape == (2, 3, 2)
    np.testing.assert_array_equal(p.words, pack_signs(torch.from_numpy(x)).words)
    np.testing.assert_array_equal(p.words, pack_signs(torch.from_numpy(np.where(x < 0, -2, 3))).words)
    np.testing.assert_array_equal(unpack_signs(p), np.where(x < 0, -1, 1))
    assert p[1].shape == (3, 100) and p[1, 2].shape == (100,)


def test_dot_identity_with_popcount():
    rng = np.random.default_rng(1)
    for k in (1, 63, 64, 65, 1000):
        a, b = _signs(rng, k), _signs(rng, k)
        pa, pb = pack_signs(a), pack_signs(b)
        assert int(a @ b) == k - 2 * int(popcount(pa.words ^ pb.words).sum())


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.array([1.0, np.nan]), ValueError, "non-finite"),
        (np.array([1.0, np.inf]), ValueError, "non-finite"),
        (np.array([True, False]), TypeError, "bool"),
        (torch.tensor([True, False]), TypeError, "bool"),
        (np.array([1 + 1j]), TypeError, "float"),
        (np.zeros((3, 0)), ValueError, "non-empty"),
        (np.float32(1.0), ValueError, "0-D"),
        (["a", "b"], TypeError, "x:"),
    ],
)
def test_pack_refuses_bad_input(bad, exc, match):
    with pytest.raises(exc, match=match):
        pack_signs(bad)


def test_packedbits_validates_words():
    with pytest.raises(TypeError, match="uint64"):
        PackedBits(np.zeros((2, 1), np.int64), 10)
    with pytest.raises(ValueError, match="W=ceil"):
        PackedBits(np.zeros((2, 2), np.uint64), 10)
    with pytest.raises(ValueError, match="padding"):
        PackedBits(np.full((2, 1), 1 << 20, np.uint64), 10)
    with pytest.raises(ValueError, match=">= 1"):
        PackedBits(np.zeros((2, 1), np.uint64), 0)
    with pytest.raises(TypeError, match="PackedBits"):
        unpack_signs(np.zeros((2, 1), np.uint64))
    with pytest.raises(TypeError, match="dtype"):
        unpack_signs(pack_signs(np.ones(3)), dtype=np.uint8)


def test_lazy_reexports():
    assert gnetlab.pack_signs is pack_signs
    assert gnetlab.unpack_signs is unpack_signs
    from gnetlab import kernels

    for name in ("binary_matmul", "sign_weight_matmul", "hamming_distance", "hamming_similarity"):
        assert getattr(gnetlab, name) is getattr(kernels, name)
    with pytest.raises(AttributeError):
        gnetlab.no_such_name  # noqa: B018


def test_import_gnetlab_does_not_load_numba():
    import subprocess
    import sys

    code = "import sys, gnetlab; assert 'numba' not in sys.modules and 'gnetlab.kernels' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
