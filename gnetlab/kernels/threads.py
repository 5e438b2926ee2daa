"""Thread control for the bit kernels: explicit, reversible context managers.

Two thread pools meet in gnetlab's mixed paths: OpenBLAS's (numpy's ``@``) and numba's (``prange``).
Each keeps its idle workers busy-waiting for a while after a call, and on a machine with as many
cores as threads those spinning workers take the cores the other pool needs next (measured in issue
14: a numba GEMM right after an OpenBLAS sgemm took 10x its time alone). The helpers here hand the
cores over explicitly; see :func:`handoff` and ``gnetlab.bench`` for the measurement.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os

__all__ = ["numba_threads", "blas_threads", "serial_below", "SERIAL_WORK", "quiesce_blas", "handoff",
           "thread_count"]

# Below this much work (word pairs for the matmul, 32-bit weight words for the one-bit product) a call
# runs on the calling thread only: waking the pool costs tens of microseconds on an idle machine and
# a full scheduler slice (milliseconds) on a busy one.
SERIAL_WORK = 1 << 18


@contextlib.contextmanager
def numba_threads(n: int | None):
    """Run the block with ``n`` numba threads (``None``: unchanged); the previous count is restored."""
    import numba

    if n is None:
        yield
        return
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
