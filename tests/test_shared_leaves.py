"""The shared leaves: word-level bit helpers (gnetlab.bits), seed streams and chunks (gnetlab.protocol),
thread control (gnetlab.threads), activations (gnetlab.activations). Each reproduces the code it
replaced exactly (results of the figures depend on it)."""

import numpy as np
import pandas as pd
import pytest
import torch

from gnetlab import activations, bits, protocol, threads
from gnetlab.gnet.layers import ACTIVATIONS as ARCSINE


@pytest.mark.parametrize("k", [1, 63, 64, 65, 130])
def test_word_level_helpers_follow_the_convention(k):
    rng = np.random.default_rng(k)
    neg = rng.random((5, k)) < 0.5
    words = bits.pack_bool(neg)
    assert words.dtype == np.uint64 and words.shape == (5, bits.words_for(k))
    np.testing.assert_array_equal(words, bits.pack_signs(np.where(neg, -1, 1)).words)
    np.testing.assert_array_equal(bits.unpack_bits(words, k), neg.astype(np.uint8))
    np.testing.assert_array_equal(bits.unpack_float(words, k), np.where(neg, -1, 1).astype(np.float32))
    for n in (1, k // 2 + 1, k):
        t = bits.truncate_words(words, n)
        np.testing.assert_array_equal(t, bits.pack_bool(neg[:, :n]))
    full = np.full((2, bits.words_for(k)), np.uint64(0xFFFFFFFFFFFFFFFF))
    bits.clear_padding(full, k)
    assert bits.unpack_bits(full, k).all() and int(bits.popcount(full).sum()) == 2 * k
    assert int(bits.popcount(np.array([bits.valid_bits_mask(k)]))[0]) == (k % 64 or 64)


def test_flip_packed_keeps_padding_and_matches_flip_signs():
    s = np.where(np.random.default_rng(0).random((4, 70)) < 0.5, -1.0, 1.0)
    w = bits.pack_signs(s).words
    for model in bits.FLIP_MODELS:
        fw = bits.flip_packed(w, 70, 0.3, model=model, seed=5)
        fs = bits.flip_signs(s, 0.3, model=model, seed=5)
        np.testing.assert_array_equal(fw, bits.pack_signs(fs).words)
        bits.PackedBits(fw, 70)  # padding bits still 0


def test_seed_streams_are_the_documented_derivations():
    a = protocol.chunk_streams(7, 3)
    b = np.random.SeedSequence(7).spawn(3)
    assert [x.generate_state(2).tolist() for x in a] == [x.generate_state(2).tolist() for x in b]
    a = protocol.keyed_streams(7, 2, 4)[3].generate_state(1)
    assert a.tolist() == np.random.SeedSequence([7, 2]).spawn(4)[3].generate_state(1).tolist()
    assert protocol.keyed_rng(7, 1, 1, 0).random() == np.random.default_rng([7, 1, 1, 0]).random()
    ref = int(np.random.SeedSequence([7, 3]).generate_state(1, np.uint64)[0] >> np.uint64(1))
    assert protocol.keyed_int_seed(7, 3) == ref and 0 <= ref < 2**63
    ref = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(1, 2))).random()
    assert protocol.child_rng(7, 1, 2).random() == ref
    with pytest.raises(TypeError, match="seed"):
        protocol.check_protocol_seed(1.5)


def test_chunks_and_summary():
    bounds = protocol.chunk_bounds(10, 3)
    assert [b.tolist() for b in bounds] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    acc = protocol.chunk_accuracy(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]), 2)
    np.testing.assert_array_equal(acc, [100.0, 50.0])
    with pytest.raises(ValueError, match="n_chunks"):
        protocol.check_n_chunks(5, 4)
    df = pd.DataFrame({"g": [0, 0, 1, 1], "accuracy": [1.0, 3.0, 2.0, 2.0]})
    s = protocol.chunk_summary(df, ["g"])
    assert s["mean"].tolist() == [2.0, 2.0] and s["count"].tolist() == [2, 2]
    assert s["lo"].iloc[0] == pytest.approx(2 - 0.5 * np.sqrt(2))


def test_thread_contexts_restore():
    n = torch.get_num_threads()
    with threads.single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == n
    numba = pytest.importorskip("numba")
    m = numba.get_num_threads()
    with threads.numba_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == m
    with threads.blas_threads(1):
        assert threads.blas_threads_now() == 1
    assert threads.thread_env(3)["OMP_NUM_THREADS"] == "3"


def test_activations_are_defined_once():
    name, f = activations.resolve_activation("relu")
    assert name == "relu" and f(np.array([-1.0, 2.0])).tolist() == [0.0, 2.0]
    with pytest.raises(TypeError, match="activation"):
        activations.resolve_activation(3)
    z = np.array([-0.5, 0.0, 0.25], np.float32)
    # the EHD pass of each G-Net activation lives on its class
    assert ARCSINE["tasu"].binary_pass(z, 10.0).tolist() == [-1.0, 1.0, 1.0]
    assert ARCSINE["rasu"].binary_pass(z, 2.0).tolist() == [0.0, 0.0, 0.5]
    assert ARCSINE["asu"].binary_pass(z, 2.0).tolist() == [-1.0, 0.0, 0.5]
