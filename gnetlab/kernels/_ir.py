"""Small LLVM IR helpers shared by the numba intrinsics of the kernels (``numba.extending.intrinsic``)."""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils

__all__ = ["llvm_fn", "clamped_rows"]


def llvm_fn(builder, name: str, ret, args):
    """The declaration of the LLVM function or intrinsic ``name`` in the builder's module."""
    return cgutils.get_or_insert_function(builder.module, ir.FunctionType(ret, args), name)


def clamped_rows(builder, data, first, count: int, n_rows, row_len, intp):
    """Pointers to rows ``first .. first + count - 1`` of a C-contiguous 2-D array (``data``: its data
    pointer, ``n_rows`` x ``row_len`` elements), each row index clamped to the last row: a register tile
    that runs past the end reads the last row again, and its results there are not stored."""
    last = builder.sub(n_rows, ir.Constant(intp, 1))
    ptrs = []
    for t in range(count):
        k = builder.add(first, ir.Constant(intp, t))
        k = builder.select(builder.icmp_signed(">", k, last), last, k)
        ptrs.append(builder.gep(data, [builder.mul(k, row_len)]))
    return ptrs
