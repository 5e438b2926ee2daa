"""Thread control of the bit kernels (gnetlab.threads): reversible, and the BLAS hand-over
leaves results and thread settings unchanged. No timings here: the benchmark measures contention."""

import os
import threading

import numpy as np
import pytest

from gnetlab.bits import pack_signs
from gnetlab import threads
from gnetlab.kernels import binary_matmul, sign_weight_matmul


def test_numba_and_blas_thread_context_managers_restore():
    import numba
    from threadpoolctl import threadpool_info

    before = numba.get_num_threads()
    blas_before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    with threads.numba_threads(1), threads.blas_threads(1):
        assert numba.get_num_threads() == 1
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    assert numba.get_num_threads() == before
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == blas_before
    with threads.numba_threads(None):
        assert numba.get_num_threads() == before


def test_env_vars_set_remove_and_restore():
    os.environ.pop("GNETLAB_TEST_A", None)
    os.environ["GNETLAB_TEST_B"] = "kept"
    with threads.env_vars(GNETLAB_TEST_A="1", GNETLAB_TEST_B=None):
        assert os.environ["GNETLAB_TEST_A"] == "1" and "GNETLAB_TEST_B" not in os.environ
    assert "GNETLAB_TEST_A" not in os.environ and os.environ.pop("GNETLAB_TEST_B") == "kept"


def test_blas_handoff_keeps_blas_and_kernels_correct():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((200, 300)).astype(np.float32)
    signs = np.where(rng.random((70, 300)) < 0.5, -1.0, 1.0)
    ref = a @ a.T
    for _ in range(3):
        with threads.blas_handoff():
            np.testing.assert_allclose(a @ a.T, ref, rtol=1e-5)
        np.testing.assert_array_equal(binary_matmul(pack_signs(signs), pack_signs(signs)), signs @ signs.T)
        np.testing.assert_allclose(a @ a.T, ref, rtol=1e-5)  # BLAS workers start again


def test_quiesce_blas_respects_opt_out_and_other_python_threads():
    with threads.env_vars(GNETLAB_BLAS_HANDOFF="0"):
        assert threads.quiesce_blas() is False
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert threads.quiesce_blas() is False  # another thread could be inside BLAS
    finally:
        stop.set()
        t.join()


def test_numba_pool_starts_with_a_known_layer():
    assert threads.start_numba_workers() in ("omp", "workqueue", "tbb")


def test_large_batch_blas_route_after_handoff():
    from gnetlab.kernels import numba_backend

    rng = np.random.default_rng(1)
    x = rng.standard_normal((numba_backend.BLAS_MIN_BATCH, 100)).astype(np.float32)
    w = np.where(rng.random((5, 100)) < 0.5, -1.0, 1.0)
    out = sign_weight_matmul(x, pack_signs(w))
    np.testing.assert_allclose(out, x @ w.T.astype(np.float32), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("work, expect_one", [(1, True), (threads.SERIAL_WORK, False)])
def test_serial_below(work, expect_one):
    import numba

    with threads.numba_threads(2):
        with threads.serial_below(work):
            assert (numba.get_num_threads() == 1) == expect_one or numba.config.NUMBA_NUM_THREADS == 1


def _run_python(code, **env):
    import os
    import subprocess
    import sys

    clean = {k: v for k, v in os.environ.items() if k not in threads.OPENMP_WAIT_VARS}
    clean.update(env)
    out = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_sets_short_openmp_spin_unless_the_user_chose():
    code = "import os, gnetlab; print(os.environ.get('GOMP_SPINCOUNT'))"
    assert _run_python(code) == "2000"
    assert _run_python(code, OMP_WAIT_POLICY="ACTIVE") == "None"  # the user's policy wins
    code = "import gnetlab.threads as t; print(t.openmp_spin_setting())"
    assert _run_python(code) == "GOMP_SPINCOUNT=2000 (gnetlab)"
    assert _run_python(code, GOMP_SPINCOUNT="7") == "GOMP_SPINCOUNT=7 (environment)"
    # torch's Linux wheels load their own libgomp at import: gnetlab, imported after, can only report it
    torch_first = "import torch, gnetlab.threads as t; print(any(t._OPENMP_PRELOADED), '|', t.openmp_spin_setting())"
    preloaded, setting = (v.strip() for v in _run_python(torch_first).split("|"))
    assert setting == ("libgomp default (loaded before gnetlab)" if preloaded == "True" else "GOMP_SPINCOUNT=2000 (gnetlab)")


def test_idle_numba_workers_do_not_spin_after_a_kernel():
    # torch (imported after gnetlab) shares its libgomp with numba's pool: with libgomp's default spin the
    # idle worker burnt the whole 50 ms sleep below after each kernel, and the BLAS call that followed
    # ran up to 5x slower
    code = """
import time, numpy as np, gnetlab, torch, numba
from gnetlab.kernels.numba_backend import sign_weight_matmul
from gnetlab.threads import set_threads
set_threads(2)
x = np.ones((1, 4096), np.float32); w = np.zeros((20000, 64), np.uint64)
burnt = []
for _ in range(5):
    sign_weight_matmul(x, w, 4096, kernel="tables")
    c0 = time.process_time(); time.sleep(0.05); burnt.append(time.process_time() - c0)
print(numba.get_num_threads(), numba.threading_layer(), min(burnt))
"""
    n, layer, burnt = _run_python(code).split()
    if int(n) < 2 or layer != "omp":
        pytest.skip(f"needs numba's omp layer with 2 threads (got {layer}, {n})")
    assert float(burnt) < 0.002  # libgomp's default spin: ~8 ms here


def test_jupyter_io_threads_do_not_block_the_blas_handoff(monkeypatch):
    me = threading.current_thread()

    def thread_of(module, name):
        cls = type(name, (threading.Thread,), {"__module__": module})
        return cls(target=lambda: None)

    def target_of(module, qualname):
        def target():
            return None

        target.__module__, target.__qualname__ = module, qualname
        return threading.Thread(target=target)

    def only_io(*others):
        monkeypatch.setattr(threading, "active_count", lambda: 1 + len(others))
        monkeypatch.setattr(threading, "enumerate", lambda: [me, *others])
        return threads._only_io_threads()

    kernel_io = [thread_of("ipykernel.heartbeat", "Heartbeat"), thread_of("ipykernel.control", "ControlThread"),
                 thread_of("tqdm._monitor", "TMonitor"), target_of("ipykernel.iostream", "IOPubThread._thread_main"),
                 target_of("ipykernel.iostream", "OutStream._watch_pipe_fd")]
    assert only_io(*kernel_io)

    def user_code():
        return None

    # threads of the same packages that run user code, and a plain user thread: it could be inside BLAS
    for other in (thread_of("IPython.lib.backgroundjobs", "BackgroundJobFunc"),
                  thread_of("ipykernel.subshell", "SubshellThread"),
                  target_of("ipykernel.iostream", "something_else"), threading.Thread(target=user_code)):
        assert not only_io(*kernel_io, other)
