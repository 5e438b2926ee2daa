"""What machine a number was measured on: CPU model, the SIMD level that matters here, thread count.

Timing figures and benchmark tables carry this label (speed depends on the CPU; accuracy must not).
"""

from __future__ import annotations

import os
import platform

__all__ = ["cpu_description", "cpu_flags", "simd_level", "machine_label", "dispatch_report"]


def cpu_description() -> str:
    """The CPU's model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("model name", "Model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_flags() -> set[str]:
    """The CPU feature flags the kernel reports (empty where ``/proc/cpuinfo`` has none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def simd_level() -> str:
    """The widest popcount-relevant instruction set: ``avx512_vpopcntdq``, ``avx2``, ``neon`` or ``baseline``."""
    flags = cpu_flags()
    if "avx512_vpopcntdq" in flags:
        return "avx512_vpopcntdq"
    if "avx2" in flags:
        return "avx2"
    if "asimd" in flags or platform.machine() in ("arm64", "aarch64"):
        return "neon"
    return "baseline"


def machine_label(threads: int | None = None) -> str:
    """``"<CPU model> (<simd level>), <n> threads"``: the label timing figures carry."""
    n = threads if threads is not None else (os.cpu_count() or 1)
    return f"{cpu_description()} ({simd_level()}), {n} thread{'s' if n != 1 else ''}"


def dispatch_report() -> dict[str, str]:
    """What this process computes with: torch's CPU capability, OpenBLAS's core type, numba's target CPU.

    ``ATEN_CPU_CAPABILITY``, ``OPENBLAS_CORETYPE`` and ``NUMBA_CPU_NAME`` change them (the CI's second run
    forces another instruction set with them).
    """
    out = {"cpu": cpu_description(), "simd_level": simd_level()}
    try:
        import torch

        out["torch"] = torch.backends.cpu.get_cpu_capability()
    except Exception:  # pragma: no cover - torch missing or too old
        out["torch"] = "unknown"
    try:
        import numpy  # noqa: F401  (loads OpenBLAS)
        from threadpoolctl import threadpool_info

        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        out["blas"] = ", ".join(f"{i.get('internal_api')} {i.get('architecture')}" for i in blas) or "unknown"
    except Exception:  # pragma: no cover
        out["blas"] = "unknown"
    try:
        import llvmlite.binding as llvm
        from numba.core import config

        out["numba"] = config.CPU_NAME or llvm.get_host_cpu_name()
    except Exception:  # pragma: no cover
        out["numba"] = "unknown"
    try:
        from .kernels.cpu_features import resolve_path

        out["kernel_path"] = resolve_path(None)
    except Exception:  # pragma: no cover
        out["kernel_path"] = "unknown"
    return out


if __name__ == "__main__":
    for key, value in dispatch_report().items():
        print(f"{key:>10}: {value}")
