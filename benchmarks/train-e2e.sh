#!/usr/bin/env bash
# `crema train` end to end, as a user runs it: Otto-shaped data (examples/otto's generator, 61,878
# rows) converted to LMDB, then
#   1. the seed run: the seed net 93-30-9, batch 64, 100,000 iterations, a test (100 batches) every
#      10,000 — examples/otto's solver as it is, paths moved to benchmarks/target;
#   2. the wide net 93-512-512-9 (dropout 0.5), batch 256, from the same LMDB, no tests.
# Prints the BLAS the engine loaded (its first log line), the seed run's training wall time (the
# log's "Solving" to "Optimization Done."), and samples/s of both (the mean of the display lines
# after the first). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the run; OpenBLAS runs one
# thread unless OPENBLAS_NUM_THREADS says otherwise. Needs cli/target/crema.jar (built when missing).
# WIDE_ITERS (default 4000) sets the wide run's length.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "train-e2e: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this run."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
out=benchmarks/target/train-e2e
jar=cli/target/crema.jar
mkdir -p "$out"
[ -f "$jar" ] || mvn -q -B -DskipTests -pl cli -am package
opts=(--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED)
crema() { java "${opts[@]}" -jar "$jar" "$@"; }

if [ ! -f "$out/train_lmdb/data.mdb" ]; then
  java examples/otto/GenerateOtto.java 61878 10000 1 "$out" > /dev/null
  rm -rf "$out/train_lmdb" "$out/test_lmdb"
  crema convert "$out/train.csv" "$out/train_lmdb" --label-column target --id-column id --log1p \
    --test-fraction 0.02 --test-output "$out/test_lmdb" --seed 0 2> "$out/convert.log"
fi

# The mean iter/s of the display lines after the first (the first includes the warm-up).
iters_per_s() { grep -o '(\([0-9.e+]*\) iter/s' "$1" | tail -n +2 | tr -d '(' | awk '{s += $1; n++} END {if (n) printf "%.0f", s / n}'; }
# Seconds between two glog-shaped lines (I1201 23:17:12.698 …) of one log.
seconds_between() { # log first-pattern last-pattern
  awk -v a="$2" -v b="$3" '
    function t(line,   f) { split(substr(line, 7, 15), f, ":"); return f[1] * 3600 + f[2] * 60 + f[3] }
    index($0, a) && s == "" { s = t($0) }
    index($0, b) { e = t($0) }
    END { if (s != "" && e != "") printf "%.2f", e - s }' "$1"
}

sed -e "s#examples/otto/work/#$out/#g" examples/otto/otto_train_test.prototxt > "$out/seed_train_test.prototxt"
sed -e "s#examples/otto/otto_train_test.prototxt#$out/seed_train_test.prototxt#" \
    -e "s#examples/otto/work/otto#$out/seed#" examples/otto/otto_solver.prototxt > "$out/seed_solver.prototxt"
crema train -solver "$out/seed_solver.prototxt" 2> "$out/seed.log"
blas="$(grep -m1 'CPU math' "$out/seed.log" | sed 's/.*CPU math: //')"
seed_wall="$(seconds_between "$out/seed.log" "] Solving " "] Optimization Done.")"
seed_ips="$(iters_per_s "$out/seed.log")"

wide_iters="${WIDE_ITERS:-4000}"
cat > "$out/wide_train.prototxt" <<EOF
name: "wide"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  data_param { source: "$out/train_lmdb" batch_size: 256 backend: LMDB } }
layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1" inner_product_param { num_output: 512 weight_filler { type: "xavier" } } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "drop1" type: "Dropout" bottom: "ip1" top: "ip1" dropout_param { dropout_ratio: 0.5 } }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" inner_product_param { num_output: 512 weight_filler { type: "xavier" } } }
layer { name: "relu2" type: "ReLU" bottom: "ip2" top: "ip2" }
layer { name: "drop2" type: "Dropout" bottom: "ip2" top: "ip2" dropout_param { dropout_ratio: 0.5 } }
layer { name: "ip3" type: "InnerProduct" bottom: "ip2" top: "ip3" inner_product_param { num_output: 9 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip3" bottom: "label" top: "loss" }
EOF
cat > "$out/wide_solver.prototxt" <<EOF
net: "$out/wide_train.prototxt"
base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005 lr_policy: "inv" gamma: 0.0001 power: 0.75
display: $((wide_iters / 4)) max_iter: $wide_iters snapshot: 0 snapshot_after_train: false
random_seed: 1 solver_mode: CPU
EOF
crema train -solver "$out/wide_solver.prototxt" 2> "$out/wide.log"
wide_ips="$(iters_per_s "$out/wide.log")"

echo "BLAS: $blas"
printf '%-58s %12s\n' "crema train (from LMDB)" "value"
printf '%-58s %12s\n' "seed run 93-30-9 b64, 100k iterations: training wall (s)" "$seed_wall"
printf '%-58s %12.0f\n' "seed net b64 (samples/s)" "$(echo "$seed_ips * 64" | bc)"
printf '%-58s %12.0f\n' "wide net 93-512-512-9 b256 (samples/s)" "$(echo "$wide_ips * 256" | bc)"
grep -E "Test net output #0" "$out/seed.log" | tail -1 | sed 's/.*Test net output/seed run, last test: output/'
