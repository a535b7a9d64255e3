#!/usr/bin/env bash
# Compiles src/main/cuda/*.cu to PTX when nvcc is on the PATH (or under $CUDA_HOME), writing into
# the resources checked into the repo, so that a build machine without nvcc still packages the
# same kernels. compute_75 PTX is JIT-compiled by the driver for any newer GPU (sm_90 on an H200).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
nvcc="$(command -v nvcc || true)"
[ -z "$nvcc" ] && [ -n "${CUDA_HOME:-}" ] && [ -x "$CUDA_HOME/bin/nvcc" ] && nvcc="$CUDA_HOME/bin/nvcc"
if [ -z "$nvcc" ]; then
  echo "build-ptx: no nvcc here; packaging the checked-in PTX" >&2
  exit 0
fi
out="$here/src/main/resources/crema/gpu"
mkdir -p "$out"
for cu in "$here"/src/main/cuda/*.cu; do
  name="$(basename "$cu" .cu)"
  tmp="$(mktemp)"
  "$nvcc" -ptx -arch=compute_75 -O3 -o "$tmp" "$cu"
  # nvcc stamps its version in comments; keep the file stable across builds of the same source.
  grep -v '^//' "$tmp" > "$out/$name.ptx"
  rm -f "$tmp"
  echo "build-ptx: $cu -> $out/$name.ptx ($("$nvcc" --version | tail -1))" >&2
done
