"""The CUDA source compiles with nvcc, warnings as errors, for the GPUs the project targets.

No GPU is needed: nvcc and ptxas run on the CPU. Skipped (with the reason) where nvcc is absent.
"""

import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest


def _nvcc() -> str | None:
    found = shutil.which("nvcc")
    if found:
        return found
    for root in [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"]:
        if root and (Path(root) / "bin" / "nvcc").exists():
            return str(Path(root) / "bin" / "nvcc")
    return None


NVCC = _nvcc()
SOURCE = resources.files("gnetlab.kernels").joinpath("popcount.cu")

pytestmark = pytest.mark.skipif(NVCC is None, reason="nvcc not found on PATH, $CUDA_HOME or /usr/local/cuda")


@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_popcount_cu_compiles_without_warnings(arch, tmp_path):
    cubin = tmp_path / f"popcount_{arch}.cubin"
    cmd = [NVCC, f"-arch={arch}", "--cubin", "-Werror", "all-warnings", "-Xptxas", "-Werror",
           "-o", str(cubin), str(SOURCE)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
    assert cubin.stat().st_size > 0


def test_ptx_uses_the_binary_tensor_core_and_popc_instructions(tmp_path):
    ptx = tmp_path / "popcount.ptx"
    proc = subprocess.run([NVCC, "-arch=sm_80", "-ptx", "-o", str(ptx), str(SOURCE)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = ptx.read_text()
    assert "mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc" in text
    assert "popc.b64" in text
    for name in ("xor_popcount_matmul", "and_popcount_mma", "row_popcount", "sign_weight_gemv"):
        assert f".entry {name}" in text
