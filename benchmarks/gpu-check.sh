#!/usr/bin/env bash
# The one-shot GPU check (issue 6). Runs from an unpacked gpu-check bundle (bundle.sh) on a machine
# with an NVIDIA driver and neither Java nor Maven, or from a built repo (cli/target/crema.jar):
#   1. device_query -gpu all
#   2. the conformance suite on GPU 0: every layer against the CPU within 1e-5, Caffe's six solvers
#      against the otto-mini fixture
#   3. training throughput, CPU then GPU: the seed net at batch 64 for 100k iterations, the wide net
#      at batch 256 and 1024, in samples/s
#   4. PyTorch's figures for the same nets on the same GPU, when python3 has torch with CUDA
#   5. a summary
# --cpu-only runs the CPU parts (what a machine without a GPU can check); QUICK=1 shortens the runs.
# Exit status: non-zero when the conformance suite fails or a step that should run cannot.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cpu_only=0
[ "${1:-}" = "--cpu-only" ] && cpu_only=1
if [ -x "$here/runtime/bin/java" ]; then java="$here/runtime/bin/java"; jar="$here/crema.jar"; fixture="$here/fixtures/otto-mini"
else java="$(command -v java)"; jar="$here/../cli/target/crema.jar"; fixture="$here/../fixtures/otto-mini"; fi
torch_bench="$here/gpu-check/torch_bench.py"; [ -f "$torch_bench" ] || torch_bench="$here/torch_bench.py"
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
echo "gpu-check: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for the benchmark; java $("$java" -version 2>&1 | head -1)"
crema() { "$java" -jar "$jar" "$@"; }
seed_iters=100000; wide256_iters=2000; wide1024_iters=500
if [ "${QUICK:-0}" = 1 ]; then seed_iters=5000; wide256_iters=100; wide1024_iters=30; fi
status=0
summary=()

if [ "$cpu_only" = 0 ]; then
  echo "== 1. devices"
  crema device_query -gpu all 2>&1 || status=1
  echo "== 2. conformance on GPU 0"
  crema conformance -gpu 0 -fixture "$fixture" 2>&1 | grep -v "^I[0-9]" | tee /tmp/crema-conformance.txt
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  summary+=("conformance: $(grep '^== .* checks passed' /tmp/crema-conformance.txt | sed 's/^== //')")
else
  echo "== 1-2. skipped (--cpu-only): device_query and conformance need a GPU; the same suite runs on the host device in the engine tests"
  answer="$(crema conformance -gpu 0 2>&1 | grep -m1 'gpu 0 was requested' || true)"
  echo "   an explicit -gpu here answers: ${answer:-(nothing: a GPU is present)}"
fi

echo "== 3. training throughput"
run_bench() { # label args...
  local line
  line="$(crema bench "$@" 2>/dev/null | grep '^bench ')" || { echo "bench $* failed"; status=1; return; }
  echo "$line"
  summary+=("$(echo "$line" | sed -E 's/^bench net=([a-z]+) batch=([0-9]+) iterations=([0-9]+) device=([a-z0-9]+).* samples_per_s=([0-9]+).*/crema \4 \1 b\2: \5 samples\/s (\3 iterations)/')")
}
for dev in cpu gpu; do
  [ "$dev" = gpu ] && [ "$cpu_only" = 1 ] && continue
  flag=(); [ "$dev" = gpu ] && flag=(-gpu 0)
  run_bench -net seed -batch 64 -iterations "$seed_iters" "${flag[@]}"
  run_bench -net wide -batch 256 -iterations "$wide256_iters" "${flag[@]}"
  run_bench -net wide -batch 1024 -iterations "$wide1024_iters" "${flag[@]}"
done

echo "== 4. PyTorch on the same GPU"
if [ "$cpu_only" = 0 ] && python3 -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  for args in "seed 64 $seed_iters" "wide 256 $wide256_iters" "wide 1024 $wide1024_iters"; do
    line="$(python3 "$torch_bench" $args cuda 2>&1 | grep '^torch ')" || { echo "torch $args failed"; continue; }
    echo "$line"
    summary+=("$(echo "$line" | sed -E 's/^torch net=([a-z]+) batch=([0-9]+) iterations=([0-9]+) device=([a-z]+).* samples_per_s=([0-9]+).*/torch \4 \1 b\2: \5 samples\/s (\3 iterations)/')")
  done
else
  echo "skipped: no python3 with torch and CUDA here"
fi

echo "== 5. summary"
printf '%s\n' "${summary[@]}"
exit $status
