"""Thread control for the bit kernels: explicit, reversible context managers, and the hand-over of
cores between OpenBLAS and numba.

Two thread pools meet in gnetlab's mixed paths: OpenBLAS's (numpy's ``@``) and numba's (``prange``).
Each keeps its idle workers busy-waiting after a call, and on a machine with as many cores as
threads those spinning workers take the cores the other pool needs next (issue 14: a numba GEMM
right after an OpenBLAS sgemm took 10x its time alone). Measured here (AMD EPYC, 2 cores; CPU time
the process burns while its main thread sleeps after a call):

* OpenBLAS (pthreads build, as in numpy's wheels): the workers spin for more than 60 ms after every
  call (their timeout is 2^28 cycles, ``OPENBLAS_THREAD_TIMEOUT``, read only when the library loads).
  ``openblas_set_num_threads`` does not stop them; ``blas_thread_shutdown_`` (the function OpenBLAS
  itself calls before ``fork``) joins them in ~0.1 ms and the next BLAS call starts them again at no
  measurable cost. :func:`quiesce_blas` calls it; the numba backend calls it before every parallel
  kernel (a no-op when BLAS has not run since), and :func:`blas_handoff` wraps a BLAS section.
* numba's ``omp`` threading layer (GNU libgomp): the workers spin 10-15 ms after each parallel
  region (``GOMP_SPINCOUNT``), which slows the BLAS call that follows. libgomp reads its wait policy
  once, when it loads; :func:`start_numba_workers` loads numba's pool under ``OMP_WAIT_POLICY=PASSIVE``
  (:func:`env_vars`, restored right after, so other libraries that load libgomp later keep their
  defaults). Idle numba workers then sleep at once; waking them costs microseconds, against
  milliseconds per kernel. An explicit ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` in the environment
  wins. The ``workqueue`` layer never spins; ``tbb`` spins briefly. Whatever starts numba's pool
  first decides: ``numba.set_num_threads`` starts it too, so code that sets thread counts should call
  :func:`start_numba_workers` (or use :func:`numba_threads`) before it.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import threading

__all__ = ["numba_threads", "blas_threads", "serial_below", "SERIAL_WORK", "quiesce_blas", "blas_handoff",
           "env_vars", "start_numba_workers", "thread_count", "HANDOFF_ENV"]

# GNETLAB_BLAS_HANDOFF=0 switches the automatic quiesce off (quiesce_blas() then does nothing).
HANDOFF_ENV = "GNETLAB_BLAS_HANDOFF"

# Below this much work (word pairs for the matmul, 32-bit weight words for the one-bit product) a call
# runs on the calling thread only: waking the pool costs tens of microseconds on an idle machine and
# a full scheduler slice (milliseconds) on a busy one.
SERIAL_WORK = 1 << 18


@contextlib.contextmanager
def numba_threads(n: int | None):
    """Run the block with ``n`` numba threads (``None``: unchanged); the previous count is restored.

    Starts numba's pool first (:func:`start_numba_workers`): ``numba.set_num_threads`` would start it
    with libgomp's default, spinning wait policy."""
    import numba

    if n is None:
        yield
        return
    start_numba_workers()
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


@contextlib.contextmanager
def blas_threads(n: int | None):
    """Run the block with at most ``n`` BLAS threads (threadpoolctl; ``None``: unchanged); restored on
    exit."""
    if n is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n), user_api="blas"):
        yield


@contextlib.contextmanager
def serial_below(work: int):
    """One numba thread for the block when ``work < SERIAL_WORK``, else unchanged."""
    if work >= SERIAL_WORK:
        yield
        return
    with numba_threads(1):
        yield


def thread_count() -> int:
    """numba's current thread count (what a kernel launched now would use)."""
    import numba

    return int(numba.get_num_threads())


@contextlib.contextmanager
def env_vars(**values: str | None):
    """Set (or, with None, remove) environment variables for the block; restored on exit."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def start_numba_workers() -> str:
    """Start numba's thread pool now (it starts lazily at the first parallel kernel otherwise), with
    libgomp's passive wait policy unless the environment says otherwise. Returns the threading layer
    ("omp", "workqueue" or "tbb"). Idempotent: once the pool runs, only reports the layer."""
    import numba
    from numba.np.ufunc import parallel

    if not parallel._is_initialized:
        user_set = any(v in os.environ for v in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"))
        with contextlib.nullcontext() if user_set else env_vars(OMP_WAIT_POLICY="PASSIVE"):
            parallel._launch_threads()
    return numba.threading_layer()


@functools.lru_cache(maxsize=None)
def _openblas_shutdown():
    """ctypes handles of ``blas_thread_shutdown_`` for every pthreads OpenBLAS loaded (usually one)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return ()
    import numpy as np

    np.ones((2, 2)) @ np.ones((2, 2))  # make sure numpy's BLAS is loaded before we look
    funcs = []
    for info in threadpool_info():
        if info.get("internal_api") != "openblas" or info.get("threading_layer") != "pthreads":
            continue
        try:
            lib = ctypes.CDLL(info["filepath"])
        except OSError:  # pragma: no cover
            continue
        prefix = info.get("prefix", "")
        for name in ("blas_thread_shutdown_", f"{prefix}_blas_thread_shutdown_"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_int
                funcs.append(fn)
                break
    return tuple(funcs)


def quiesce_blas() -> bool:
    """Put OpenBLAS's idle, spinning worker threads to sleep now (they exit; the next BLAS call starts
    them again). Returns True when it did. Does nothing (False) when another Python thread runs, since
    that thread could be inside a BLAS call, or when ``GNETLAB_BLAS_HANDOFF=0``. Costs ~0.1 ms after a
    BLAS call, ~1 us when the workers already sleep."""
    if os.environ.get(HANDOFF_ENV, "1") == "0" or threading.active_count() != 1:
        return False
    funcs = _openblas_shutdown()
    for fn in funcs:
        fn()
    return bool(funcs)


@contextlib.contextmanager
def blas_handoff():
    """Run BLAS calls in the block; on exit (also on error) OpenBLAS's idle workers are put to sleep so
    that the numba kernels that follow get the cores (:func:`quiesce_blas`)."""
    try:
        yield
    finally:
        quiesce_blas()
