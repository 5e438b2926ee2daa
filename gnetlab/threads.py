"""Thread control: the one place that sets torch, numba and BLAS thread counts.

Three kinds of callers:

* a notebook or CLI caps every pool of the process once (:func:`set_threads`, from a Snakemake rule's
  ``threads``; :func:`thread_env` gives the matching environment variables for a child process);
* small torch models train and predict on one thread (:func:`single_thread`): per-op thread hand-offs
  cost more than they save on tiny tensors, and a fixed count makes float sums, hence trained weights,
  independent of the machine;
* small BLAS factorisations and small numba kernels run serially inside a block (:func:`blas_threads`,
  :func:`numba_threads`): waking a pool costs more than the work.

* mixed BLAS + numba paths hand the cores over explicitly (:func:`quiesce_blas`, :func:`blas_handoff`,
  :func:`start_numba_workers`).

Every context manager restores the previous setting on exit. This module imports nothing of gnetlab
except the validation helpers, so every layer may use it.

Hand-over between OpenBLAS and numba:
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
* numba's ``omp`` threading layer (GNU libgomp): by default an idle worker spins for
  ``GOMP_SPINCOUNT`` = 300,000 iterations (4 ms or more here) after each parallel region, which
  slows the BLAS call that follows: an sgemv right after a 0.13 ms numba kernel took 4.7 ms against
  0.9 ms alone. libgomp reads its wait policy once, when it loads, and the process has one
  ``libgomp.so.1``: torch's wheel loads its own copy under that name at ``import torch``, and numba's
  pool then shares it, so setting the variables when numba starts its pool is too late whenever torch
  came first. :func:`configure_openmp` therefore runs at ``import gnetlab`` and sets
  ``GOMP_SPINCOUNT=2000`` unless the environment already sets a wait policy: idle workers spin a few microseconds, then sleep. Measured (torch imported
  after gnetlab, 2 threads): the sgemv after the kernel took 0.80 ms against 0.68 alone, the kernel
  itself stayed at 0.10-0.13 ms, and a batch-256 torch MLP forward pass (torch's own OpenMP pool) did
  not slow down (``OMP_WAIT_POLICY=PASSIVE``, full sleep, costs it ~30% and the numba kernel ~25%).
  It only works when gnetlab is imported before torch (or any other library that loads libgomp):
  import gnetlab first, or export ``GOMP_SPINCOUNT`` yourself. :func:`openmp_spin_setting` says what
  the process runs with. The price: a parallel region that starts more than a few microseconds after
  the previous one wakes a sleeping worker (~30 us here): the packed BinaryNet at batch 256, one
  region per call interleaved with torch's, went from 0.23 to 0.26 ms per batch. The ``workqueue`` layer never spins but wakes slowly (the same kernel took
  0.39 ms); ``tbb`` spins briefly. Whatever starts numba's pool first decides its thread count:
  ``numba.set_num_threads`` starts it too, so code that sets thread counts should call
  :func:`start_numba_workers` (or use :func:`numba_threads`) before it.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys
import threading
from typing import Iterator

__all__ = ["set_threads", "thread_env", "single_thread", "blas_threads", "blas_threads_now", "numba_threads",
           "THREAD_VARS", "serial_below", "SERIAL_WORK", "thread_count", "env_vars", "start_numba_workers",
           "quiesce_blas", "blas_handoff", "HANDOFF_ENV", "configure_openmp", "openmp_spin_setting",
           "OPENMP_WAIT_VARS"]

# GNETLAB_BLAS_HANDOFF=0 switches the automatic quiesce off (quiesce_blas() then does nothing).
HANDOFF_ENV = "GNETLAB_BLAS_HANDOFF"

# Below this much work (word pairs for the matmul, 32-bit weight words for the one-bit product) a call
# runs on the calling thread only: waking the pool costs tens of microseconds on an idle machine and
# a full scheduler slice (milliseconds) on a busy one.
SERIAL_WORK = 1 << 18

#: Environment variables that cap BLAS/OpenMP/numba pools of a process started with them.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

_THREADPOOL_CONTROLLER = None


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that cap BLAS/OpenMP/numba thread pools.

    Parameters
    ----------
    threads : int
        Thread count for every pool.

    Returns
    -------
    dict of str to str
        One entry per name in :data:`THREAD_VARS`, each ``str(threads)``.
    """
    from ._validation import check_positive_int

    return {k: str(check_positive_int(threads, "threads")) for k in THREAD_VARS}


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def set_threads(threads: int) -> int:
    """Cap torch, numba and BLAS threads in the running process (a rule's ``threads``).

    The cap is ``min(threads, os.cpu_count())`` so that ``snakemake --cores 8`` on a 2-core laptop does
    not oversubscribe.

    Parameters
    ----------
    threads : int
        Requested thread count, >= 1.

    Returns
    -------
    int
        The number applied.
    """
    from ._validation import check_positive_int

    n = min(check_positive_int(threads, "threads"), os.cpu_count() or 1)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    try:
        import numba

        start_numba_workers()  # numba.set_num_threads would start the pool with a spinning wait policy
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    except ImportError:  # pragma: no cover
        pass
    if "torch" in sys.modules or _torch_available():
        import torch

        torch.set_num_threads(n)
    return n


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread inside the block (the previous count is restored after).

    Training and evaluation of the small models use it: per-op thread hand-offs cost more than they
    save (on a busy 2-core machine, 2 threads made training 15x slower), and a fixed thread count makes
    the float sums, and so the trained weights, independent of the ``threads`` setting.

    Yields
    ------
    None
    """
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def _controller():
    global _THREADPOOL_CONTROLLER
    if _THREADPOOL_CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _THREADPOOL_CONTROLLER = ThreadpoolController()
    return _THREADPOOL_CONTROLLER


def blas_threads_now() -> int:
    """BLAS threads currently allowed in this process (threadpoolctl's view).

    Returns
    -------
    int
        The largest ``num_threads`` over the loaded BLAS libraries (1 if none).
    """
    info = [i["num_threads"] for i in _controller().info() if i.get("user_api") == "blas"]
    return max(info, default=1)


def blas_threads(n: int | None):
    """Context capping BLAS/LAPACK threads at ``n`` (``None``: unchanged).

    Small n x n factorisations and matrix-vector products run single-threaded: OpenBLAS's threads cost
    far more than they save there (on a busy 2-core machine, waking them made a 200 x 200 Cholesky take
    0.3 s instead of 0.7 ms).

    Parameters
    ----------
    n : int or None
        Thread cap inside the block; ``None`` leaves the limits as they are.

    Returns
    -------
    context manager
        threadpoolctl's limiter; the previous limits are restored on exit.
    """
    if n is None:
        return contextlib.nullcontext()
    return _controller().limit(limits=int(n), user_api="blas")


@contextlib.contextmanager
def numba_threads(n: int | None) -> Iterator[None]:
    """Run numba's parallel loops on ``n`` threads inside the block (restored after).

    Starts numba's pool first (:func:`start_numba_workers`): ``numba.set_num_threads`` would start it
    with libgomp's default, spinning wait policy.

    Parameters
    ----------
    n : int or None
        Thread count, capped at ``numba.config.NUMBA_NUM_THREADS``; ``None`` leaves it unchanged.

    Yields
    ------
    None
    """
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
def serial_below(work: int) -> Iterator[None]:
    """One numba thread for the block when ``work < SERIAL_WORK``, else unchanged.

    Parameters
    ----------
    work : int
        The kernel's work (word pairs, weight words).

    Yields
    ------
    None
    """
    if work >= SERIAL_WORK:
        yield
        return
    with numba_threads(1):
        yield


def thread_count() -> int:
    """numba's current thread count (what a kernel launched now would use).

    Returns
    -------
    int
        ``numba.get_num_threads()``.
    """
    import numba

    return int(numba.get_num_threads())


@contextlib.contextmanager
def env_vars(**values: str | None) -> Iterator[None]:
    """Set (or, with None, remove) environment variables for the block; restored on exit.

    Parameters
    ----------
    **values : str or None
        Variable names and their values inside the block.

    Yields
    ------
    None
    """
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


#: Variables that set how long idle GNU libgomp workers spin; either of them set by the user switches
#: :func:`configure_openmp` off.
OPENMP_WAIT_VARS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
_OPENMP_DEFAULTS = {"GOMP_SPINCOUNT": "2000"}
_OPENMP_CONFIGURED: dict[str, str] = {}
_OPENMP_PRELOADED: list[bool] = []  # whether a libgomp had loaded before configure_openmp set the defaults


def configure_openmp() -> dict[str, str]:
    """Short spin-waits for every OpenMP runtime this process loads from now on (run at ``import gnetlab``).

    Sets ``GOMP_SPINCOUNT=2000`` (GNU libgomp, the runtime of numba's ``omp`` layer and of torch's
    wheels) in ``os.environ`` unless one of :data:`OPENMP_WAIT_VARS` is already set. Child processes
    inherit it (papermill kernels, Snakemake jobs: they then run with the same setting from their
    start). A runtime loaded before the call (``import torch`` first) keeps its own setting: see the
    module docstring. LLVM's and Intel's OpenMP (``KMP_BLOCKTIME``) are left alone: not measured here.

    Returns
    -------
    dict
        The variables this call set (empty when the environment already had a wait policy).
    """
    if any(v in os.environ for v in OPENMP_WAIT_VARS):
        return {}
    _OPENMP_PRELOADED[:] = [bool(_libgomp_loaded())]
    for name, value in _OPENMP_DEFAULTS.items():
        os.environ[name] = value
        _OPENMP_CONFIGURED[name] = value
    return dict(_OPENMP_DEFAULTS)


def _libgomp_loaded() -> bool | None:
    try:
        with open("/proc/self/maps") as fh:
            return any("libgomp" in line for line in fh)
    except OSError:
        return None


def openmp_spin_setting() -> str:
    """How idle OpenMP workers wait in this process, as far as it can be known, for benchmark records.

    Returns
    -------
    str
        ``"GOMP_SPINCOUNT=2000 (gnetlab)"``, ``"GOMP_SPINCOUNT=... (environment)"`` and the like, or
        ``"libgomp default (loaded before gnetlab)"`` when gnetlab set its defaults after a libgomp had
        already loaded with the default 300,000-iteration spin.
    """
    user = {v: os.environ[v] for v in OPENMP_WAIT_VARS if v in os.environ and v not in _OPENMP_CONFIGURED}
    if user:
        return " ".join(f"{k}={v}" for k, v in user.items()) + " (environment)"
    if _OPENMP_CONFIGURED:
        if any(_OPENMP_PRELOADED):
            return "libgomp default (loaded before gnetlab)"
        return "GOMP_SPINCOUNT=" + _OPENMP_CONFIGURED["GOMP_SPINCOUNT"] + " (gnetlab)"
    return "default"


def start_numba_workers() -> str:
    """Start numba's thread pool now (it starts lazily at the first parallel kernel otherwise), after
    :func:`configure_openmp`. Idempotent.

    Returns
    -------
    str
        The threading layer (``"omp"``, ``"workqueue"`` or ``"tbb"``).
    """
    import numba
    from numba.np.ufunc import parallel

    if not parallel._is_initialized:
        configure_openmp()  # a no-op after import gnetlab (or when the user set a wait policy)
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


# Threads known never to call BLAS, by class (module, qualified name) or, for plain threads, by target:
# a Jupyter kernel's I/O threads (heartbeat, control, shell channel, parent poller, IOPub, the output
# pipe watchers), IPython's history saver, tqdm's monitor, pyzmq's garbage collector. An allow-list of
# exact names: other threads of the same packages run user code (IPython's background jobs,
# ipykernel's subshells).
_IO_THREAD_CLASSES = frozenset({
    ("ipykernel.heartbeat", "Heartbeat"), ("ipykernel.control", "ControlThread"),
    ("ipykernel.shellchannel", "ShellChannelThread"), ("ipykernel.parentpoller", "ParentPollerUnix"),
    ("ipykernel.parentpoller", "ParentPollerWindows"), ("IPython.core.history", "HistorySavingThread"),
    ("tqdm._monitor", "TMonitor"), ("zmq.utils.garbage", "GarbageCollectorThread"),
})
_IO_THREAD_TARGETS = frozenset({("ipykernel.iostream", "IOPubThread._thread_main"),
                                ("ipykernel.iostream", "OutStream._watch_pipe_fd")})


def _is_io_thread(t: threading.Thread) -> bool:
    cls = type(t)
    if (cls.__module__, cls.__qualname__) in _IO_THREAD_CLASSES:
        return True
    target = getattr(t, "_target", None)
    name = (getattr(target, "__module__", None), getattr(target, "__qualname__", None))
    return cls is threading.Thread and name in _IO_THREAD_TARGETS


def _only_io_threads() -> bool:
    """True when every other Python thread is one of the known I/O threads (``_IO_THREAD_CLASSES``,
    ``_IO_THREAD_TARGETS``)."""
    if threading.active_count() == 1:
        return True
    me = threading.current_thread()
    return all(t is me or _is_io_thread(t) for t in threading.enumerate())


def quiesce_blas() -> bool:
    """Put OpenBLAS's idle, spinning worker threads to sleep now (they exit; the next BLAS call starts
    them again).

    Does nothing when another Python thread runs (it could be inside a BLAS call: shutting the workers
    down then deadlocks), other than a Jupyter kernel's own I/O threads, IPython's history saver and
    tqdm's monitor (an allow-list of exact names; in a notebook those always run, and refusing there
    left the BLAS workers spinning through every numba kernel, a one-bit GEMV 1.9x slower), or when
    ``GNETLAB_BLAS_HANDOFF=0``. Costs ~0.1 ms after a BLAS call, ~1 us when the workers already sleep.

    Returns
    -------
    bool
        True when workers were put to sleep.
    """
    if os.environ.get(HANDOFF_ENV, "1") == "0" or not _only_io_threads():
        return False
    funcs = _openblas_shutdown()
    for fn in funcs:
        fn()
    return bool(funcs)


@contextlib.contextmanager
def blas_handoff() -> Iterator[None]:
    """Run BLAS calls in the block; on exit (also on error) OpenBLAS's idle workers are put to sleep so
    that the numba kernels that follow get the cores (:func:`quiesce_blas`).

    Yields
    ------
    None
    """
    try:
        yield
    finally:
        quiesce_blas()
