import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gnetlab import kernels
from gnetlab.bits import PackedBits, pack_signs, unpack_signs
from gnetlab.kernels import (
    available_backends,
    binary_matmul,
    hamming_distance,
    hamming_similarity,
    sign_weight_matmul,
)

CPU_BACKENDS = [b for b in ("numpy", "numba") if b in available_backends()]
KS = st.sampled_from([1, 63, 64, 65, 1000, 4096])
ROWS = st.sampled_from([0, 1, 2, 3, 4, 5, 9, 17])


def _signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1, 1).astype(np.float32)


def test_numba_backend_is_available():
    assert available_backends()[-1] == "numpy"
    assert "numba" in available_backends()


@settings(max_examples=60, deadline=None)
@given(m=ROWS, n=ROWS, k=KS, seed=st.integers(0, 2**31 - 1))
def test_binary_matmul_equals_float_product_on_every_backend(m, n, k, seed):
    rng = np.random.default_rng(seed)
    a, b = _signs(rng, (m, k)), _signs(rng, (n, k))
    ref = (a.astype(np.int64) @ b.astype(np.int64).T)
    pa, pb = pack_signs(a), pack_signs(b)
    for backend in CPU_BACKENDS + ["auto"]:
        out = binary_matmul(pa, pb, backend=backend)
        assert out.dtype == np.int32 and out.shape == (m, n)
        np.testing.assert_array_equal(out, ref)
        np.testing.assert_array_equal(hamming_distance(pa, pb, backend=backend), (k - ref) // 2)


def test_numba_blocking_paths_match_reference():
    """Shapes that cross several cache blocks of b, several word blocks of K, ragged tiles and the
    operand swap (m < n)."""
    rng = np.random.default_rng(5)
    for m, n, k in [(9, 130, 20000), (130, 7, 16447), (1, 301, 4096), (6, 3, 64 * 300 + 1)]:
        pa, pb = pack_signs(_signs(rng, (m, k))), pack_signs(_signs(rng, (n, k)))
        np.testing.assert_array_equal(
            binary_matmul(pa, pb, backend="numba"), binary_matmul(pa, pb, backend="numpy")
        )


def test_inputs_from_real_values_and_torch():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 100))
    b = torch.from_numpy(rng.standard_normal((3, 100)).astype(np.float32))
    ref = np.sign(a) @ np.where(b.numpy() < 0, -1.0, 1.0).T
    np.testing.assert_array_equal(binary_matmul(pack_signs(a), pack_signs(b)), ref)


@settings(max_examples=25, deadline=None)
@given(lead=st.sampled_from([(), (1,), (2, 3), (0,)]), n=st.integers(0, 6), k=KS, seed=st.integers(0, 2**31 - 1))
def test_hamming_similarity_torchhd_shapes(lead, n, k, seed):
    rng = np.random.default_rng(seed)
    x, others = _signs(rng, lead + (k,)), _signs(rng, (n, k))
    sim = hamming_similarity(pack_signs(x), pack_signs(others))
    assert sim.shape == lead + (n,)
    np.testing.assert_array_equal(sim, (x[..., None, :] == others).sum(-1))


@settings(max_examples=40, deadline=None)
@given(batch=st.sampled_from([1, 2, 3, 5, 20]), n=ROWS, k=KS, seed=st.integers(0, 2**31 - 1))
def test_sign_weight_matmul_matches_float64_product(batch, n, k, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, k)).astype(np.float32)
    w = _signs(rng, (n, k))
    ref = x.astype(np.float64) @ w.astype(np.float64).T
    tol = 1e-5 * np.abs(x).sum(axis=1, keepdims=True) + 1e-6
    pw = pack_signs(w)
    outs = []
    for backend in CPU_BACKENDS:
        out = sign_weight_matmul(x, pw, backend=backend)
        assert out.dtype == np.float32 and out.shape == (batch, n)
        assert (np.abs(out - ref) <= tol).all()
        outs.append(out)
    one = sign_weight_matmul(x[0], pw)
    assert one.shape == (n,)
    assert (np.abs(one - ref[0]) <= tol[0]).all()


@pytest.mark.parametrize("kernel", ["auto", "select"])
def test_numba_sign_kernels_match_reference(kernel):
    """Both one-bit kernels (AVX2 table-permute where available, and the portable select kernel),
    across ragged row blocks (n % 8), word chunks, tails of < 8 words and batch blocks."""
    from gnetlab.kernels import numba_backend

    rng = np.random.default_rng(6)
    for batch, n, k in [(1, 13, 4096 + 96), (3, 8, 65), (2, 1, 1), (1, 21, 64 * 70 + 5), (70, 9, 200)]:
        x = rng.standard_normal((batch, k)).astype(np.float32)
        w = _signs(rng, (n, k))
        ref = x.astype(np.float64) @ w.astype(np.float64).T
        out = numba_backend.sign_weight_matmul(x, pack_signs(w).words, k, kernel=kernel)
        tol = 1e-5 * np.abs(x).sum(axis=1, keepdims=True) + 1e-6
        assert out.shape == (batch, n) and (np.abs(out - ref) <= tol).all()


def test_sign_weight_matmul_scale_and_torch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 300)).astype(np.float32)
    w = _signs(rng, (5, 300))
    pw = pack_signs(w)
    scale = rng.random(5).astype(np.float32)
    ref = (x @ w.T) * scale
    np.testing.assert_allclose(sign_weight_matmul(x, pw, scale=scale), ref, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(sign_weight_matmul(x, pw, scale=0.5), 0.5 * (x @ w.T), rtol=1e-5, atol=1e-4)
    out_t = sign_weight_matmul(torch.from_numpy(x), pw)
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float32
    np.testing.assert_allclose(out_t.numpy(), x @ w.T, rtol=1e-5, atol=1e-4)
    # float64 input is read as float32 (documented)
    np.testing.assert_allclose(sign_weight_matmul(x.astype(np.float64), pw), x @ w.T, rtol=1e-5, atol=1e-4)


def test_bad_inputs_raise_clear_errors():
    rng = np.random.default_rng(4)
    pa, pb = pack_signs(_signs(rng, (3, 65))), pack_signs(_signs(rng, (2, 64)))
    with pytest.raises(ValueError, match="K differs"):
        binary_matmul(pa, pb)
    with pytest.raises(TypeError, match="pack_signs"):
        binary_matmul(_signs(rng, (3, 65)), pa)
    with pytest.raises(ValueError, match="leading dimension"):
        binary_matmul(pack_signs(_signs(rng, (2, 2, 65))), pa)
    with pytest.raises(ValueError, match="reshape"):
        binary_matmul(pack_signs(_signs(rng, 65)), pa)
    with pytest.raises(ValueError, match="backend"):
        binary_matmul(pa, pa, backend="fortran")
    if "cupy" not in available_backends():
        with pytest.raises(RuntimeError, match="not available"):
            binary_matmul(pa, pa, backend="cupy")
    with pytest.raises(ValueError, match="K differs"):
        hamming_similarity(pb, pa)
    x = rng.standard_normal((2, 65)).astype(np.float32)
    with pytest.raises(ValueError, match="K differs"):
        sign_weight_matmul(x[:, :64], pa)
    bad = x.copy()
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        sign_weight_matmul(bad, pa)
    with pytest.raises(TypeError, match="float"):
        sign_weight_matmul(x.astype(np.int32), pa)
    with pytest.raises(ValueError, match="1 or 2-D"):
        sign_weight_matmul(x[None], pa)
    with pytest.raises(ValueError, match="scale"):
        sign_weight_matmul(x, pa, scale=np.ones(4))
    with pytest.raises(ValueError, match="non-finite"):
        sign_weight_matmul(x, pa, scale=np.array([1.0, np.inf, 1.0]))
    with pytest.raises(TypeError, match="PackedBits"):
        sign_weight_matmul(x, pa.words)


# --------------------------------------------------------------------------------------------------
# GPU execution (skipped without CuPy and a CUDA device; see conftest.py)
# --------------------------------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.parametrize("method", ["xor", "mma"])
@pytest.mark.parametrize("m, n, k", [(1, 1, 1), (5, 3, 63), (64, 64, 64), (70, 33, 65), (129, 200, 1000), (17, 9, 4096)])
def test_cupy_binary_matmul_matches_numpy(method, m, n, k):
    import cupy

    from gnetlab.kernels import cupy_backend

    if method == "mma" and cupy_backend.compute_capability() < 80:
        pytest.skip("binary tensor cores need sm_80+")
    rng = np.random.default_rng(m * 1000 + n + k)
    pa, pb = pack_signs(_signs(rng, (m, k))), pack_signs(_signs(rng, (n, k)))
    ref = binary_matmul(pa, pb, backend="numpy")
    np.testing.assert_array_equal(cupy_backend.binary_matmul(pa.words, pb.words, k, method=method), ref)
    da, db = PackedBits(cupy.asarray(pa.words), k), PackedBits(cupy.asarray(pb.words), k)
    out = binary_matmul(da, db)  # auto -> cupy for device operands
    assert isinstance(out, cupy.ndarray)
    np.testing.assert_array_equal(out.get(), ref)


@pytest.mark.gpu
@pytest.mark.parametrize("batch, n, k", [(1, 1, 1), (1, 100, 1000), (3, 65, 4096), (2, 7, 65)])
def test_cupy_sign_weight_matmul_matches_numpy(batch, n, k):
    rng = np.random.default_rng(batch + n + k)
    x = rng.standard_normal((batch, k)).astype(np.float32)
    pw = pack_signs(_signs(rng, (n, k)))
    ref = sign_weight_matmul(x, pw, backend="numpy")
    out = sign_weight_matmul(x, pw, backend="cupy")
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(x).sum() / batch)


def test_popcount64_intrinsic_in_njit_code():
    import numba

    from gnetlab.kernels.numba_backend import popcount64

    @numba.njit
    def total(words):
        s = 0
        for w in words:
            s += popcount64(w)
        return s

    words = np.array([0, 1, 2**64 - 1, 0xF0F0], dtype=np.uint64)
    assert total(words) == 0 + 1 + 64 + 8


def test_dispatch_module_lists_backends():
    assert set(kernels.BACKENDS) == {"numpy", "numba", "cupy"}


def test_large_batch_sign_weight_matmul_routes_to_blas_and_agrees():
    from gnetlab.kernels import numba_backend

    rng = np.random.default_rng(7)
    b = numba_backend.BLAS_MIN_BATCH + 3
    x = rng.standard_normal((b, 130)).astype(np.float32)
    w = rng.standard_normal((9, 130))
    p = pack_signs(w)
    ref = x @ np.where(w < 0, -1.0, 1.0).T
    got_auto = numba_backend.sign_weight_matmul(x, p.words, p.k)
    got_tables = numba_backend.sign_weight_matmul(x, p.words, p.k, kernel="tables")
    np.testing.assert_allclose(got_auto, ref, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(got_tables, ref, rtol=1e-5, atol=1e-4)


# --------------------------------------------------------------------------------------------------
# CPU kernel paths (gnetlab.kernels.cpu_features): every path this machine can run, forced
# --------------------------------------------------------------------------------------------------

from gnetlab.kernels import cpu_features  # noqa: E402

SUPPORTED = list(cpu_features.supported_paths())


def test_supported_paths_end_with_portable_and_auto_is_the_fastest():
    assert SUPPORTED[-1] == "portable"
    assert set(SUPPORTED) <= set(cpu_features.PATHS)
    assert cpu_features.resolve_path("auto") in SUPPORTED
    with pytest.raises(ValueError, match="unknown kernel path"):
        cpu_features.resolve_path("sse9")


@pytest.mark.parametrize("path", SUPPORTED)
@settings(max_examples=30, deadline=None)
@given(m=st.sampled_from([0, 1, 2, 3, 4, 5, 9, 17, 32, 33, 70]), n=st.sampled_from([0, 1, 5, 8, 9, 24, 25, 49]),
       k=st.sampled_from([1, 63, 64, 65, 511, 512, 513, 1000, 64 * 260 + 3]), seed=st.integers(0, 2**31 - 1))
def test_each_gemm_path_equals_float_product(path, m, n, k, seed):
    from gnetlab.kernels import numba_backend

    rng = np.random.default_rng(seed)
    a, b = _signs(rng, (m, k)), _signs(rng, (n, k))
    ref = (a.astype(np.float64) @ b.astype(np.float64).T).astype(np.int64)
    pa, pb = pack_signs(a), pack_signs(b)
    out = numba_backend.binary_matmul(pa.words, pb.words, k, path=path)
    assert out.dtype == np.int32 and out.shape == (m, n)
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("path", SUPPORTED)
def test_each_gemm_path_on_blocked_and_non_contiguous_operands(path):
    """Several cache blocks of b and of K, ragged tiles of both operands, non-contiguous word arrays."""
    from gnetlab.kernels import numba_backend

    rng = np.random.default_rng(11)
    for m, n, k in [(130, 517, 4096), (7, 301, 20000), (33, 9, 64 * 300 + 1)]:
        a, b = _signs(rng, (m, k)), _signs(rng, (n, k))
        ref = a.astype(np.float64) @ b.astype(np.float64).T
        wa = np.repeat(pack_signs(a).words, 2, axis=0)[::2]  # a strided view
        wb = np.asfortranarray(pack_signs(b).words)
        assert not wa.flags.c_contiguous and not wb.flags.c_contiguous
        np.testing.assert_array_equal(numba_backend.binary_matmul(wa, wb, k, path=path), ref)


@pytest.mark.parametrize("path", SUPPORTED)
def test_each_sign_weight_path_matches_float64_product(path):
    from gnetlab.kernels import numba_backend

    rng = np.random.default_rng(12)
    for batch, n, k in [(1, 13, 4096 + 96), (3, 8, 65), (2, 1, 1), (1, 21, 64 * 70 + 5)]:
        x = rng.standard_normal((batch, k)).astype(np.float32)
        w = _signs(rng, (n, k))
        ref = x.astype(np.float64) @ w.astype(np.float64).T
        out = numba_backend.sign_weight_matmul(x, pack_signs(w).words, k, path=path)
        tol = 1e-5 * np.abs(x).sum(axis=1, keepdims=True) + 1e-6
        assert out.shape == (batch, n) and (np.abs(out - ref) <= tol).all()
        words = pack_signs(np.concatenate([w, -w], axis=1)).words[:, : -(-k // 64)]  # a strided view
        if n > 1:
            words, w, ref = words[::2], w[::2], ref[:, ::2]
        out = numba_backend.sign_weight_matmul(x, words, k, path=path)  # non-contiguous weight rows
        assert (np.abs(out - ref) <= tol).all()


def test_tables_kernel_falls_back_to_select_on_the_portable_path():
    from gnetlab.kernels import numba_backend

    rng = np.random.default_rng(14)
    x = rng.standard_normal((2, 300)).astype(np.float32)
    w = _signs(rng, (5, 300))
    out = numba_backend.sign_weight_matmul(x, pack_signs(w).words, 300, kernel="tables", path="portable")
    np.testing.assert_allclose(out, x @ w.T, rtol=1e-5, atol=1e-4)


_SUBPROCESS_CHECK = """
import numpy as np
from gnetlab.bits import pack_signs
from gnetlab.kernels import binary_matmul, sign_weight_matmul, cpu_features
rng = np.random.default_rng(0)
a = np.where(rng.random((37, 1000)) < 0.5, -1.0, 1.0)
b = np.where(rng.random((21, 1000)) < 0.5, -1.0, 1.0)
assert (binary_matmul(pack_signs(a), pack_signs(b), backend="numba") == a @ b.T).all()
x = rng.standard_normal((2, 1000)).astype(np.float32)
ref = x.astype(np.float64) @ b.T
assert np.abs(sign_weight_matmul(x, pack_signs(b), backend="numba") - ref).max() < 1e-3
print(cpu_features.kernel_path(), ",".join(cpu_features.supported_paths()))
"""


def _run_check(tmp_path, **env):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    full = dict(os.environ, PYTHONPATH=str(root), NUMBA_CACHE_DIR=str(tmp_path / "numba"), **env)
    proc = subprocess.run([sys.executable, "-c", _SUBPROCESS_CHECK], env=full, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.split()[-2:]


@pytest.mark.slow
def test_env_var_forces_the_portable_path(tmp_path):
    used, _ = _run_check(tmp_path, GNETLAB_KERNEL_PATH="portable")
    assert used == "portable"


@pytest.mark.slow
@pytest.mark.parametrize("cpu, features, expect", [
    ("generic", None, "portable"),           # numba defaults the features to "" for generic
    ("haswell", "", "avx2"),                  # an AVX2-only CPU (no AVX-512 features)
])
def test_dispatch_follows_numba_cpu_name_not_the_host(tmp_path, cpu, features, expect):
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("x86 CPU names")
    env = {"NUMBA_CPU_NAME": cpu}
    if features is not None:
        env["NUMBA_CPU_FEATURES"] = features
    used, supported = _run_check(tmp_path, **env)
    assert used == expect and supported.split(",")[0] == expect


# --------------------------------------------------------------------------------------------------
# Signs of products straight into packed words
# --------------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(m=st.sampled_from([0, 1, 3, 8, 300]), n=st.sampled_from([1, 5, 63, 64, 65, 130]), k=KS,
       kind=st.sampled_from(["none", "scalar", "column", "periodic"]), seed=st.integers(0, 2**31 - 1))
def test_binary_matmul_signs_equal_packed_thresholded_product(m, n, k, kind, seed):
    from gnetlab.kernels import binary_matmul_signs

    rng = np.random.default_rng(seed)
    a, b = _signs(rng, (m, k)), _signs(rng, (n, k))
    dot = a.astype(np.float64) @ b.astype(np.float64).T
    # thresholds on and between the attainable integers (k - dot is even), so ties are exercised
    thr = {"none": None, "scalar": 1.0,
           "column": rng.integers(-3, 4, n) + np.where(rng.random(n) < 0.5, 0.0, 0.5).astype(np.float32),
           "periodic": rng.integers(-2, 3, (1 if m in (0, 1) else (m if m < 8 else 4), n)).astype(np.int32)}[kind]
    if kind == "periodic" and m % thr.shape[0]:
        thr = thr[:1]
    t = 0.0 if thr is None else np.asarray(thr, np.float64)
    if kind == "periodic":
        t = np.tile(t, (max(1, m // t.shape[0]), 1))[:m]
    ref = pack_signs(np.where(dot < t, -1.0, 1.0)).words if m else np.zeros((0, (n + 63) // 64), np.uint64)
    for backend in CPU_BACKENDS:
        got = binary_matmul_signs(pack_signs(a) if m else PackedBits(np.zeros((0, (k + 63) // 64), np.uint64), k),
                                  pack_signs(b), thr, backend=backend)
        assert got.k == n and got.words.shape == (m, (n + 63) // 64)
        np.testing.assert_array_equal(got.words, ref)


@pytest.mark.parametrize("path", SUPPORTED)
def test_sign_weight_matmul_signs_match_the_float32_product_of_the_kernel(path):
    from gnetlab.kernels import numba_backend, sign_weight_matmul_signs
    from gnetlab.threads import env_vars

    rng = np.random.default_rng(13)
    for batch, n, k in [(1, 70, 784), (5, 64, 65), (300, 9, 1000)]:
        x = rng.standard_normal((batch, k)).astype(np.float32)
        w = pack_signs(_signs(rng, (n, k)))
        bias = rng.standard_normal(n).astype(np.float32)
        prod = numba_backend.sign_weight_matmul(x, w.words, k, path=path)
        ref = pack_signs(np.where(prod + bias < 0, -1.0, 1.0)).words
        with env_vars(GNETLAB_KERNEL_PATH=path):
            got = sign_weight_matmul_signs(x, w, -bias, backend="numba")
        np.testing.assert_array_equal(got.words, ref)
        assert got.shape == (batch, n)
    ref64 = x.astype(np.float64) @ unpack_signs(w).astype(np.float64).T
    agree = np.mean(unpack_signs(got) == np.where(ref64 + bias < 0, -1, 1))
    assert agree > 0.99  # float32 rounding may flip a sign right at 0


def test_signs_threshold_validation():
    from gnetlab.kernels import binary_matmul_signs

    pa = pack_signs(np.ones((4, 10)))
    with pytest.raises(ValueError, match="threshold"):
        binary_matmul_signs(pa, pa, np.zeros(3))
    with pytest.raises(ValueError, match="threshold"):
        binary_matmul_signs(pa, pa, np.zeros((3, 4)))  # 3 does not divide 4 rows
    with pytest.raises(ValueError, match="non-finite"):
        binary_matmul_signs(pa, pa, np.array([0, np.nan, 0, 0]))


@settings(max_examples=30, deadline=None)
@given(batch=st.sampled_from([0, 1, 3, 17]), n=st.sampled_from([1, 7, 64, 65]), k=KS, seed=st.integers(0, 2**31 - 1))
def test_uint8_sign_matmul_is_exact(batch, n, k, seed):
    from gnetlab.kernels import uint8_sign_matmul

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (batch, k), dtype=np.uint8)
    x[:, :1] = 255
    w = _signs(rng, (n, k))
    ref = x.astype(np.int64) @ w.astype(np.int64).T
    for backend in CPU_BACKENDS:
        got = uint8_sign_matmul(x, pack_signs(w), backend=backend)
        assert got.shape == (batch, n)
        np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(uint8_sign_matmul(torch.from_numpy(x.astype(np.int32)), pack_signs(w)), ref)


def test_uint8_sign_matmul_refuses_out_of_range():
    from gnetlab.kernels import uint8_sign_matmul

    w = pack_signs(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        uint8_sign_matmul(np.array([[0, 256, 1]]), w)
    with pytest.raises(TypeError):
        uint8_sign_matmul(np.ones((1, 3)), w)


@pytest.mark.parametrize("path", SUPPORTED)
def test_gemm_drivers_split_cells_exactly_for_any_number_of_parts(path):
    """The drivers split (b block, tile of a, unit of b) cells into ``n_parts`` equal ranges, which
    may start and end inside a (block, tile) run: every part count and block size gives the exact
    product (each output written once, with its first / last K block flags)."""
    from gnetlab.kernels import popcount_gemm as pg

    rng = np.random.default_rng(21)
    for m, n, k in [(37, 53, 64 * 9 + 7), (8, 200, 300), (64, 49, 64 * 5)]:
        a, b = _signs(rng, (m, k)), _signs(rng, (n, k))
        ref = (a.astype(np.float64) @ b.astype(np.float64).T).astype(np.int32)
        wa, wb = pack_signs(a).words, pack_signs(b).words
        nw = wa.shape[1]
        for n_parts in (1, 2, 3, 7):
            for jb_units, kb_words in ((1, 2), (2, nw), (5, 3)):
                if path == "avx512_vpopcntdq":
                    groups = -(-n // (8 * pg.BCAST_RG)) * pg.BCAST_RG
                    bil = np.zeros((groups, nw, 8), np.uint64)
                    for r in range(n):
                        bil[r // 8, :, r % 8] = wb[r]
                    out = np.full((m, n), -7, np.int32)
                    pg._gemm_bcast(wa, bil, out, k, jb_units, kb_words, n_parts)
                    np.testing.assert_array_equal(out, ref)
                ra, rb, lanes, byte_counters = pg.TILES[path]
                kb = min(kb_words * lanes, 31 * lanes) if byte_counters else kb_words * lanes
                ap, bp = pg._pad_rows(wa, ra), pg._pad_rows(wb, rb)
                out = np.full((ap.shape[0], bp.shape[0]), -7, np.int32)
                pg._DRIVERS[path](ap, bp, out, k, jb_units, kb, n_parts)
                np.testing.assert_array_equal(out[:m, :n], ref)
                if path in pg._NIBBLE_DRIVERS:
                    sa, sb = pg._pad_rows(pg.spread_nibbles(wa), ra), pg._pad_rows(pg.spread_nibbles(wb), rb)
                    out = np.full((sa.shape[0], sb.shape[0]), -7, np.int32)
                    pg._NIBBLE_DRIVERS[path](sa, sb, out, k, jb_units, min(kb_words * lanes, 63 * lanes), n_parts)
                    np.testing.assert_array_equal(out[:m, :n], ref)


@pytest.mark.parametrize("path", [p for p in SUPPORTED if p != "portable"])
def test_table_kernel_rows_do_not_depend_on_batch_or_table_build(path):
    """Small calls build the tables serially, large ones in parallel: both give the same bits, so a
    row's product is bitwise the same alone and inside a batch; parallel and serial builds agree."""
    from gnetlab.kernels import numba_backend as nbk

    rng = np.random.default_rng(22)
    k = 64 * 250 + 17
    x = rng.standard_normal((40, k)).astype(np.float32)
    w = pack_signs(_signs(rng, (19, k))).words
    assert 40 * 2 * w.shape[1] >= nbk._PARALLEL_TABLE_WORDS > 2 * w.shape[1]
    batch = nbk.sign_weight_matmul(x, w, k, kernel="tables", path=path)
    for e in (0, 17, 39):
        alone = nbk.sign_weight_matmul(x[e : e + 1], w, k, kernel="tables", path=path)
        assert np.array_equal(alone.view(np.uint32), batch[e : e + 1].view(np.uint32))
    xp = np.zeros((40, 64 * w.shape[1]), np.float32)
    xp[:, :k] = x
    t_par = np.empty((40, 2 * w.shape[1], 11, 8), np.float32)
    t_ser = np.empty_like(t_par)
    nbk._build_tables(xp, t_par)
    nbk._fill_tables(xp, t_ser, 0, t_ser.shape[1])
    assert np.array_equal(t_par.view(np.uint32), t_ser.view(np.uint32))


def test_spread_nibbles_keeps_every_bit_and_the_xor_popcounts():
    from gnetlab.kernels import popcount_gemm as pg

    rng = np.random.default_rng(23)
    w = rng.integers(0, 2**64 - 1, size=(5, 7), dtype=np.uint64, endpoint=True)
    s = pg.spread_nibbles(np.asfortranarray(w))
    assert s.shape == (5, 14) and s.flags.c_contiguous
    assert not (s & np.uint64(0xF0F0F0F0F0F0F0F0)).any()
    np.testing.assert_array_equal(s[:, :7] | (s[:, 7:] << np.uint64(4)), w)
    pc = lambda x: np.unpackbits(x.view(np.uint8), axis=-1).sum(axis=-1)  # noqa: E731
    np.testing.assert_array_equal(pc(s[:1] ^ s[1:]), pc(w[:1] ^ w[1:]))


@pytest.mark.skipif("avx2" not in SUPPORTED, reason="needs the avx2 path")
def test_avx2_gemm_on_long_operands_goes_through_the_nibble_driver_exactly():
    from gnetlab.kernels import numba_backend
    from gnetlab.kernels import popcount_gemm as pg

    rng = np.random.default_rng(24)
    m, n, k = 520, 517, 64 * 70 + 5  # m n / (m + n) >= NIBBLE_MIN; K: several 63-step blocks + a tail
    assert m * n >= pg.NIBBLE_MIN * (m + n)
    a, b = _signs(rng, (m, k)), _signs(rng, (n, k))
    ref = a.astype(np.float64) @ b.astype(np.float64).T
    wb = np.asfortranarray(pack_signs(b).words)
    np.testing.assert_array_equal(numba_backend.binary_matmul(pack_signs(a).words, wb, k, path="avx2"), ref)
