"""Which CPU kernel path the numba backend uses, decided by what numba actually compiles for.

numba compiles for ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES`` when they are set, else for the host.
The raw host flags are therefore not the right question: with ``NUMBA_CPU_NAME=generic`` on an
AVX-512 machine numba emits SSE2 code, and an AVX2 intrinsic in that module would not compile (or, in
machine code cached for another CPU, would raise an illegal instruction). So we ask numba's own LLVM
target machine: a few one-line IR functions are compiled to assembly with it and the instructions
it picks tell which vector units the generated code may use. This costs a few milliseconds, once per
process, and needs no numba compilation.

Paths (``kernel_path()``), fastest first:

``"avx512_vpopcntdq"``  512-bit vectors with a native 64-bit-lane popcount (VPOPCNTQ): AMD Zen 4+,
                        Intel Ice Lake+ / Sapphire Rapids.
``"avx2"``              256-bit integer vectors (the PSHUFB nibble-table popcount; VPERMPS tables
                        for the one-bit GEMV): x86 since Haswell / Zen 1.
``"portable"``          generic LLVM IR on 128-bit vectors (NEON on ARM, SSE2 on old x86); no
                        target-specific intrinsics, correct everywhere numba runs.

``GNETLAB_KERNEL_PATH`` (one of the names above, or ``auto``) forces a path for the whole process;
the numba backend's functions also take ``path=``. Forcing a path the compile target cannot run
raises (``avx2`` and ``avx512_vpopcntdq`` on a target without them), except that ``portable`` is
always allowed.
"""

from __future__ import annotations

import functools
import os

__all__ = ["PATHS", "ENV_VAR", "numba_target", "supported_paths", "kernel_path", "resolve_path", "cpu_model"]

PATHS = ("avx512_vpopcntdq", "avx2", "portable")
ENV_VAR = "GNETLAB_KERNEL_PATH"

_PROBE_POPCNT512 = """
define <8 x i64> @probe(<8 x i64> %x) {
  %r = call <8 x i64> @llvm.ctpop.v8i64(<8 x i64> %x)
  ret <8 x i64> %r
}
declare <8 x i64> @llvm.ctpop.v8i64(<8 x i64>)
"""

_PROBE_INT256 = """
define <8 x i32> @probe(<8 x i32> %x, <8 x i32> %y) {
  %r = add <8 x i32> %x, %y
  ret <8 x i32> %r
}
"""


@functools.lru_cache(maxsize=None)
def numba_target() -> dict:
    """What numba compiles for in this process: ``{"triple", "cpu_name", "features"}`` (features is
    the LLVM feature string numba passes, possibly empty: then the CPU name's defaults apply)."""
    from numba.core.registry import cpu_target

    codegen = cpu_target.target_context.codegen()
    import llvmlite.binding as llvm

    return {
        "triple": llvm.get_process_triple(),
        "cpu_name": codegen._get_host_cpu_name(),
        "features": codegen._tm_features,
    }


def _assembly(ir_text: str) -> str:
    import llvmlite.binding as llvm
    from numba.core.registry import cpu_target

    codegen = cpu_target.target_context.codegen()
    mod = llvm.parse_assembly(ir_text)
    mod.triple = codegen._llvm_module.triple
    mod.verify()
    return codegen._tm.emit_assembly(mod)


@functools.lru_cache(maxsize=None)
def supported_paths() -> tuple[str, ...]:
    """Paths the compile target can run, fastest first (always ends with ``"portable"``)."""
    out = []
    target = numba_target()
    if target["triple"].startswith(("x86_64", "i386", "i686")):
        try:
            asm512 = _assembly(_PROBE_POPCNT512)
            asm256 = _assembly(_PROBE_INT256)
        except Exception:  # pragma: no cover - an LLVM that cannot emit assembly: stay portable
            asm512 = asm256 = ""
        if "vpopcntq" in asm512 and "zmm" in asm512:
            out.append("avx512_vpopcntdq")
        if "vpaddd" in asm256 and "ymm" in asm256:  # 256-bit integer add: AVX2 (AVX1 splits it)
            out.append("avx2")
    out.append("portable")
    return tuple(out)


def resolve_path(path: str | None = None) -> str:
    """The path to use: ``path`` if given (``None`` or ``"auto"``: ``$GNETLAB_KERNEL_PATH``, else the
    fastest supported). Raises ValueError for an unknown name or one the compile target lacks."""
    if path is None or path == "auto":
        path = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
        source = ENV_VAR
    else:
        source = "path"
    if path == "auto":
        return supported_paths()[0]
    if path not in PATHS:
        raise ValueError(f"{source}: unknown kernel path {path!r}; expected 'auto' or one of {', '.join(PATHS)}")
    if path not in supported_paths():
        t = numba_target()
        raise ValueError(
            f"{source}={path!r}: numba compiles for cpu {t['cpu_name']!r} here, which cannot run it "
            f"(supported: {', '.join(supported_paths())})"
        )
    return path


def kernel_path() -> str:
    """The path ``auto`` resolves to now (honours ``$GNETLAB_KERNEL_PATH``)."""
    return resolve_path(None)


@functools.lru_cache(maxsize=None)
def cpu_model() -> str:
    """Human-readable CPU model (``/proc/cpuinfo`` model name, else ``platform.processor()``)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    import platform

    return platform.processor() or platform.machine()
