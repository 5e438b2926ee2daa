"""Thread control: the one place that sets torch, numba and BLAS thread counts.

Three kinds of callers:

* a notebook or CLI caps every pool of the process once (:func:`set_threads`, from a Snakemake rule's
  ``threads``; :func:`thread_env` gives the matching environment variables for a child process);
* small torch models train and predict on one thread (:func:`single_thread`): per-op thread hand-offs
  cost more than they save on tiny tensors, and a fixed count makes float sums, hence trained weights,
  independent of the machine;
* small BLAS factorisations and small numba kernels run serially inside a block (:func:`blas_threads`,
  :func:`numba_threads`): waking a pool costs more than the work.

Every context manager restores the previous setting on exit. This module imports nothing of gnetlab
except the validation helpers, so every layer may use it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

__all__ = ["set_threads", "thread_env", "single_thread", "blas_threads", "blas_threads_now", "numba_threads",
           "THREAD_VARS"]

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
    return {k: str(int(threads)) for k in THREAD_VARS}


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


def blas_threads(n: int):
    """Context capping BLAS/LAPACK threads at ``n``.

    Small n x n factorisations and matrix-vector products run single-threaded: OpenBLAS's threads cost
    far more than they save there (on a busy 2-core machine, waking them made a 200 x 200 Cholesky take
    0.3 s instead of 0.7 ms).

    Parameters
    ----------
    n : int
        Thread cap inside the block.

    Returns
    -------
    context manager
        threadpoolctl's limiter; the previous limits are restored on exit.
    """
    return _controller().limit(limits=int(n), user_api="blas")


@contextlib.contextmanager
def numba_threads(n: int) -> Iterator[None]:
    """Run numba's parallel loops on ``n`` threads inside the block (restored after).

    Parameters
    ----------
    n : int
        Thread count, at most ``numba.config.NUMBA_NUM_THREADS``.

    Yields
    ------
    None
    """
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(int(n))
    try:
        yield
    finally:
        numba.set_num_threads(previous)
