"""Bad input to gnetlab.bits and gnetlab.kernels: every case raises gnetlab's own error naming the argument."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gnetlab import bits, kernels
from gnetlab.bits import PackedBits, pack_signs, unpack_signs

A = pack_signs(np.ones((3, 70)))
B = pack_signs(-np.ones((2, 70)))
B65 = pack_signs(np.ones((2, 65)))
W = pack_signs(np.ones((4, 10)))

CASES = [
    # pack_signs
    ("pack-bool", lambda: pack_signs(np.array([True, False])), TypeError, "x: got a bool array"),
    ("pack-complex", lambda: pack_signs(np.array([1 + 1j])), TypeError, "x: expected a float"),
    ("pack-str", lambda: pack_signs(np.array(["a", "b"])), TypeError, "x: expected a float"),
    ("pack-object", lambda: pack_signs(np.array([1, None], dtype=object)), TypeError, "x: expected a numeric"),
    ("pack-ragged", lambda: pack_signs([[1, 2], [3]]), TypeError, "x: cannot be read as an array"),
    ("pack-nan", lambda: pack_signs(np.array([1.0, np.nan])), ValueError, r"x: contains non-finite values \(1 NaN"),
    ("pack-inf", lambda: pack_signs(np.array([1.0, -np.inf])), ValueError, r"x: contains non-finite values \(0 NaN, 1 inf"),
    ("pack-0d", lambda: pack_signs(np.float32(1.0)), ValueError, "x: expected an array of shape"),
    ("pack-empty-k", lambda: pack_signs(np.zeros((3, 0))), ValueError, "x: the last axis"),
    # unpack_signs
    ("unpack-array", lambda: unpack_signs(np.ones((2, 3))), TypeError, "packed: expected gnetlab.bits.PackedBits"),
    ("unpack-dtype-bool", lambda: unpack_signs(A, dtype=bool), TypeError, "dtype: expected a float or signed"),
    ("unpack-dtype-uint", lambda: unpack_signs(A, dtype=np.uint8), TypeError, "dtype: expected a float or signed"),
    # PackedBits constructor
    ("packed-k-float", lambda: PackedBits(np.zeros((1, 1), np.uint64), 2.0), TypeError, "PackedBits.k: expected an int"),
    ("packed-k-bool", lambda: PackedBits(np.zeros((1, 1), np.uint64), True), TypeError, "PackedBits.k: expected an int"),
    ("packed-k-zero", lambda: PackedBits(np.zeros((1, 1), np.uint64), 0), ValueError, "PackedBits.k: expected an int >= 1"),
    ("packed-words-list", lambda: PackedBits([[0]], 3), TypeError, "PackedBits.words: expected a numpy uint64"),
    ("packed-words-int64", lambda: PackedBits(np.zeros((1, 1), np.int64), 3), TypeError, "PackedBits.words: expected dtype uint64"),
    ("packed-words-0d", lambda: PackedBits(np.zeros((), np.uint64), 3), ValueError, "PackedBits.words: expected an array"),
    ("packed-words-width", lambda: PackedBits(np.zeros((1, 2), np.uint64), 3), ValueError, r"PackedBits.words: k=3 needs W"),
    ("packed-padding", lambda: PackedBits(np.full((1, 1), 2**63, np.uint64), 3), ValueError, "PackedBits.words: padding bits"),
    ("packed-index-row", lambda: pack_signs(np.ones(5))[0], IndexError, "PackedBits: a single packed row"),
    # popcount
    ("popcount-signed", lambda: bits.popcount(np.array([1, 2], np.int64)), TypeError, "words: expected an unsigned"),
    ("popcount-float", lambda: bits.popcount(np.array([1.0])), TypeError, "words: expected an unsigned"),
    # binary_matmul / hamming
    ("matmul-array-a", lambda: kernels.binary_matmul(np.ones((2, 3)), B), TypeError, "a: expected gnetlab.bits.PackedBits"),
    ("matmul-array-b", lambda: kernels.binary_matmul(A, np.ones((2, 70))), TypeError, "b: expected gnetlab.bits.PackedBits"),
    ("matmul-k-mismatch", lambda: kernels.binary_matmul(A, B65), ValueError, r"a and b: K differs"),
    ("matmul-1d-a", lambda: kernels.binary_matmul(pack_signs(np.ones(70)), B), ValueError, r"a: expected 1 leading"),
    ("matmul-3d-b", lambda: kernels.binary_matmul(A, pack_signs(np.ones((2, 2, 70)))), ValueError, r"b: expected 1 leading"),
    ("matmul-backend", lambda: kernels.binary_matmul(A, B, backend="cuda"), ValueError, "backend: unknown value 'cuda'"),
    ("matmul-backend-list", lambda: kernels.binary_matmul(A, B, backend=["numpy"]), TypeError, "backend: expected one of"),
    ("hamming-dist-k", lambda: kernels.hamming_distance(A, B65), ValueError, "a and b: K differs"),
    ("hamming-sim-input", lambda: kernels.hamming_similarity(np.ones(70), B), TypeError, "input: expected gnetlab.bits.PackedBits"),
    ("hamming-sim-others-1d", lambda: kernels.hamming_similarity(A, pack_signs(np.ones(70))), ValueError, "others: expected 1 leading"),
    ("hamming-sim-k", lambda: kernels.hamming_similarity(A, B65), ValueError, "input and others: K differs"),
    # sign_weight_matmul
    ("swm-packed-x", lambda: kernels.sign_weight_matmul(np.ones((2, 10), np.float32), np.ones((4, 10))), TypeError, "w_packed: expected"),
    ("swm-int-x", lambda: kernels.sign_weight_matmul(np.ones((2, 10), np.int64), W), TypeError, "x: expected a float array"),
    ("swm-bool-x", lambda: kernels.sign_weight_matmul(np.ones((2, 10), bool), W), TypeError, "x: expected a float array"),
    ("swm-complex-x", lambda: kernels.sign_weight_matmul(np.ones((2, 10), complex), W), TypeError, "x: expected a float array"),
    ("swm-nan-x", lambda: kernels.sign_weight_matmul(np.full((2, 10), np.nan), W), ValueError, "x: contains non-finite"),
    ("swm-3d-x", lambda: kernels.sign_weight_matmul(np.ones((2, 2, 10)), W), ValueError, "x: expected a 1 or 2-D array"),
    ("swm-0d-x", lambda: kernels.sign_weight_matmul(np.float64(1.0), W), ValueError, "x: expected a 1 or 2-D array"),
    ("swm-k-mismatch", lambda: kernels.sign_weight_matmul(np.ones((2, 11)), W), ValueError, "x and w_packed: K differs"),
    # issue 11: float64 beyond float32 range must not become NaN/inf silently
    ("swm-float32-overflow", lambda: kernels.sign_weight_matmul(np.full((2, 10), 1e300), W), ValueError,
     "x: values beyond the float32 range"),
    ("swm-float32-overflow-1d", lambda: kernels.sign_weight_matmul(np.array([1e39] + [0.0] * 9), W), ValueError,
     "x: values beyond the float32 range"),
    ("swm-scale-shape", lambda: kernels.sign_weight_matmul(np.ones((2, 10)), W, scale=np.ones(3)), ValueError, r"scale: expected a scalar or shape \(4,\)"),
    ("swm-scale-nan", lambda: kernels.sign_weight_matmul(np.ones((2, 10)), W, scale=np.nan), ValueError, "scale: contains non-finite"),
    ("swm-scale-bool", lambda: kernels.sign_weight_matmul(np.ones((2, 10)), W, scale=True), TypeError, "scale: expected a float"),
    ("swm-scale-2d", lambda: kernels.sign_weight_matmul(np.ones((2, 10)), W, scale=np.ones((4, 1))), ValueError, "scale: expected a 0 or 1-D"),
    ("swm-scale-overflow", lambda: kernels.sign_weight_matmul(np.ones((2, 10)), W, scale=1e300), ValueError, "scale: values beyond the float32 range"),
    ("swm-backend", lambda: kernels.sign_weight_matmul(np.ones((2, 10)), W, backend="gpu"), ValueError, "backend: unknown value 'gpu'"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_float32_range_edge_is_accepted():
    """The largest finite float32 still passes and gives a finite product (no false alarm)."""
    big = float(np.finfo(np.float32).max)
    x = np.zeros((1, 10))
    x[0, 0] = big
    out = kernels.sign_weight_matmul(x, W, backend="numpy")
    assert np.isfinite(out).all() and out[0, 0] == np.float32(big)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=4).filter(lambda s: len(s) not in (1, 2)))
def test_sign_weight_matmul_wrong_ndim(shape):
    x = np.zeros(shape, dtype=np.float32)
    with pytest.raises(ValueError, match="x: expected a 1 or 2-D array"):
        kernels.sign_weight_matmul(x, W)


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 200).filter(lambda k: k != 10), rows=st.integers(1, 3))
def test_sign_weight_matmul_wrong_k(k, rows):
    with pytest.raises(ValueError, match=f"x has {k} columns, w_packed.k=10"):
        kernels.sign_weight_matmul(np.zeros((rows, k), np.float32), W)


@settings(max_examples=25, deadline=None)
@given(ka=st.integers(1, 200), kb=st.integers(1, 200))
def test_binary_matmul_k_mismatch(ka, kb):
    a, b = pack_signs(np.ones((2, ka))), pack_signs(np.ones((3, kb)))
    if ka == kb:
        assert kernels.binary_matmul(a, b, backend="numpy").shape == (2, 3)
    else:
        with pytest.raises(ValueError, match=f"a.k={ka}, b.k={kb}"):
            kernels.binary_matmul(a, b)


BAD_DTYPES = st.sampled_from([np.complex64, np.complex128, np.str_, object, np.bool_])


@settings(max_examples=25, deadline=None)
@given(dtype=BAD_DTYPES, shape=st.tuples(st.integers(1, 3), st.just(10)))
def test_sign_weight_matmul_wrong_dtype(dtype, shape):
    x = np.ones(shape).astype(dtype)
    with pytest.raises(TypeError, match="x: "):
        kernels.sign_weight_matmul(x, W)


@settings(max_examples=25, deadline=None)
@given(dtype=BAD_DTYPES, k=st.integers(1, 130))
def test_pack_signs_wrong_dtype(dtype, k):
    with pytest.raises(TypeError, match="x: "):
        pack_signs(np.ones((2, k)).astype(dtype))


@pytest.mark.gpu
@pytest.mark.parametrize("dtype, exc, match", [
    ("int32", TypeError, "x: expected a float array"),
    ("bool", TypeError, "x: expected a float array"),
    ("complex64", TypeError, "x: expected a float array"),
])
def test_sign_weight_matmul_device_dtype(dtype, exc, match):
    import cupy

    wd = PackedBits(cupy.asarray(W.words), W.k)
    with pytest.raises(exc, match=match):
        kernels.sign_weight_matmul(cupy.ones((2, 10), dtype=dtype), wd)


@pytest.mark.gpu
def test_sign_weight_matmul_device_overflow():
    import cupy

    wd = PackedBits(cupy.asarray(W.words), W.k)
    with pytest.raises(ValueError, match="x: contains non-finite"):
        kernels.sign_weight_matmul(cupy.full((2, 10), 1e300), wd)
