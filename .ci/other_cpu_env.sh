#!/usr/bin/env bash
# Print `export` lines that make torch, OpenBLAS and numba compute as on ANOTHER CPU than this one:
# one instruction-set level below what this machine has. `.ci/run` sources it for its second notebook
# run, so the suite proves that its numbers do not depend on the CPU that produced the committed data.
#   AVX-512 host -> AVX2 (Haswell);  AVX2 host -> pre-AVX2 (Sandy Bridge / Nehalem);  other -> generic.
# An OPENBLAS_CORETYPE that the machine already sets (some processors need one to run OpenBLAS at all)
# is left alone.
set -euo pipefail
flags=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || true)
if [[ "$flags" == *avx512f* ]]; then
  aten=avx2; blas=Haswell; numba=haswell
elif [[ "$flags" == *avx2* ]]; then
  aten=default; blas=Sandybridge; numba=nehalem
else
  aten=default; blas=""; numba=generic
fi
echo "export ATEN_CPU_CAPABILITY=$aten"
echo "export NUMBA_CPU_NAME=$numba"
# Empty features: numba compiles for that CPU's own feature set (with the name alone it keeps the
# host's feature string, i.e. AVX-512 code under a Haswell name).
echo "export NUMBA_CPU_FEATURES="
if [[ -z "${OPENBLAS_CORETYPE:-}" && -n "$blas" ]]; then
  echo "export OPENBLAS_CORETYPE=$blas"
fi
