"""16-lane float32 compares whose masks go straight into packed uint64 words (numba intrinsics, generic
LLVM vectors: the target's widest vector unit, correct on every CPU numba compiles for).

The packed EHD paths decide 64 signs at a time: bit j of a word is ``v_j < t``, and a second word flags
the ``v_j`` within ``b`` of ``t`` or NaN (the entries whose float rounding could flip the sign,
re-decided exactly by the caller). :func:`compare64` takes the values from a float32 array;
:func:`affine_compare64` forms them in registers as ``alpha * float32(s) + bg`` from int32 products
``s`` (the first EHD layer on 8-bit images; also integer thresholds, with ``alpha = 1``, ``bg = -T``).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from gnetlab.kernels._ir import llvm_fn

__all__ = ["compare64", "affine_compare64", "LANES"]

#: Values per vector compare.
LANES = 16
_LANES = LANES


def _vector(arr, dtype) -> bool:
    """Whether the numba type ``arr`` is a 1-D C-contiguous array of ``dtype`` (the intrinsics read 16
    consecutive elements at a time; anything else fails typing instead of reading garbage)."""
    return isinstance(arr, types.Array) and arr.ndim == 1 and arr.layout == "C" and arr.dtype == dtype


def _compare_codegen(builder, load16, t, b):
    """``(word, ambiguous)`` uint64 values: bit j is ``v_j < t`` / ``|v_j - t| <= b`` (or ``v_j`` NaN) for
    the 64 float32 values ``load16(q)`` (q = 0..3, 16 lanes each) returns; the compare masks go straight
    into the words."""
    f32 = ir.FloatType()
    vec = ir.VectorType(f32, _LANES)
    i64 = ir.IntType(64)
    undef = ir.Constant(vec, ir.Undefined)
    splat = ir.Constant(ir.VectorType(ir.IntType(32), _LANES), [0] * _LANES)

    def bcast(v):
        return builder.shuffle_vector(builder.insert_element(undef, v, ir.Constant(ir.IntType(32), 0)), undef, splat)

    tv, bv = bcast(t), bcast(b)
    fabs = llvm_fn(builder, "llvm.fabs.v16f32", vec, [vec])
    word = ir.Constant(i64, 0)
    amb = ir.Constant(i64, 0)
    for q in range(64 // _LANES):
        v = load16(q)
        lt = builder.fcmp_ordered("<", v, tv)
        near = builder.fcmp_unordered("<=", builder.call(fabs, [builder.fsub(v, tv)]), bv)  # NaN: near
        for mask, name in ((lt, "w"), (near, "a")):
            bits = builder.shl(builder.zext(builder.bitcast(mask, ir.IntType(_LANES)), i64), ir.Constant(i64, _LANES * q))
            if name == "w":
                word = builder.or_(word, bits)
            else:
                amb = builder.or_(amb, bits)
    return word, amb


def _load16(builder, data, base, q, elem):
    """The 16 values ``data[base + 16 q ..]`` (element type ``elem``) as one vector."""
    ptr = builder.gep(data, [builder.add(base, ir.Constant(base.type, _LANES * q))])
    return builder.load(builder.bitcast(ptr, ir.VectorType(elem, _LANES).as_pointer()), align=4)


@intrinsic
def compare64(typingctx, acc, base, t32, b32):
    """``(word, ambiguous)``, uint64 each: bit j of word is ``acc[base + j] < t32`` and bit j of ambiguous
    is ``|acc[base + j] - t32| <= b32`` (float32 compares, as a scalar loop would make them), j < 64, from
    four 16-lane compares whose masks go straight into the words. acc: 1-D contiguous float32."""
    if not _vector(acc, types.float32):
        return None
    sig = types.UniTuple(types.uint64, 2)(acc, types.intp, types.float32, types.float32)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        word, amb = _compare_codegen(builder, lambda q: _load16(builder, data, args[1], q, ir.FloatType()),
                                     args[2], args[3])
        return context.make_tuple(builder, signature.return_type, [word, amb])

    return sig, codegen


@intrinsic
def affine_compare64(typingctx, s, bg, base, alpha32, t32, b32):
    """:func:`compare64` of the float32 values ``alpha32 * float32(s[base + j]) + bg[base + j]`` (s: 1-D
    contiguous int32 integer products, bg: 1-D contiguous float32), j < 64, computed in the registers."""
    if not (_vector(s, types.int32) and _vector(bg, types.float32)):
        return None
    sig = types.UniTuple(types.uint64, 2)(s, bg, types.intp, types.float32, types.float32, types.float32)

    def codegen(context, builder, signature, args):
        sd = context.make_array(signature.args[0])(context, builder, args[0]).data
        bd = context.make_array(signature.args[1])(context, builder, args[1]).data
        base, alpha = args[2], args[3]
        vec = ir.VectorType(ir.FloatType(), _LANES)
        undef = ir.Constant(vec, ir.Undefined)
        splat = ir.Constant(ir.VectorType(ir.IntType(32), _LANES), [0] * _LANES)
        av = builder.shuffle_vector(builder.insert_element(undef, alpha, ir.Constant(ir.IntType(32), 0)), undef, splat)

        def load16(q):
            sv = builder.sitofp(_load16(builder, sd, base, q, ir.IntType(32)), vec)
            return builder.fadd(builder.fmul(av, sv), _load16(builder, bd, base, q, ir.FloatType()))

        word, amb = _compare_codegen(builder, load16, args[4], args[5])
        return context.make_tuple(builder, signature.return_type, [word, amb])

    return sig, codegen
