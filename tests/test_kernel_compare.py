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
    out = _words(v, s, bg, alpha, t, b)
    a = alpha * s.astype(np.float32) + bg  # the same float32 operations
    np.testing.assert_array_equal(out[0], pack_bool((v < t)[None])[0])
    np.testing.assert_array_equal(out[1], pack_bool((np.abs(v - t) <= b)[None])[0])
    np.testing.assert_array_equal(out[2], pack_bool((a < t)[None])[0])
    np.testing.assert_array_equal(out[3], pack_bool((np.abs(a - t) <= b)[None])[0])
    assert out[1].any() and out[3].any() and (~out[1]).any()  # both flags occur
