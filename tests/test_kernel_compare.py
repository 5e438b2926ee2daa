"""gnetlab.kernels.compare: 16-lane float32 compares straight into packed words, against numpy."""

import numpy as np
import pytest
from numba import njit

from gnetlab.bits import pack_bool
from gnetlab.kernels.compare import affine_compare64, compare64


@njit(cache=False)
def _words(v, s, bg, alpha, t, b):
    n = v.shape[0] // 64
    out = np.empty((4, n), np.uint64)
    for w in range(n):
        out[0, w], out[1, w] = compare64(v, 64 * w, t, b)
        out[2, w], out[3, w] = affine_compare64(s, bg, 64 * w, alpha, t, b)
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_compares_match_numpy(seed):
    rng = np.random.default_rng(seed)
    s = rng.integers(-3000, 3000, 64 * 5).astype(np.int32)
    bg = rng.standard_normal(64 * 5).astype(np.float32)
    alpha, t, b = np.float32(0.01), np.float32(0.25), np.float32(0.5)
    v = rng.standard_normal(64 * 5).astype(np.float32)
    v[::7] = t  # ties: not below t, within b
    v[3::11] = np.nan  # NaN: not below t, flagged (the caller decides it exactly)
    bg[5::13] = np.inf
    s[5::26] = -2**31 + 1
    out = _words(v, s, bg, np.float32(alpha), t, b)
    with np.errstate(invalid="ignore"):
        a = alpha * s.astype(np.float32) + bg  # the same float32 operations (inf - inf: NaN)
        for got, x in ((out[:2], v), (out[2:], a)):
            np.testing.assert_array_equal(got[0], pack_bool((x < t)[None])[0])
            np.testing.assert_array_equal(got[1], pack_bool(((np.abs(x - t) <= b) | np.isnan(x))[None])[0])
    assert out[1].any() and out[3].any() and (~out[1]).any()  # both flags occur


def test_other_arrays_fail_typing():
    from numba.core.errors import TypingError

    s = np.zeros(64, np.int64)  # not int32
    with pytest.raises(TypingError):
        _words(np.zeros(64, np.float32), s, np.zeros(64, np.float32), np.float32(1), np.float32(0), np.float32(0))
    with pytest.raises(TypingError):  # strided
        _words(np.zeros(128, np.float32)[::2], np.zeros(64, np.int32), np.zeros(64, np.float32), np.float32(1),
               np.float32(0), np.float32(0))
