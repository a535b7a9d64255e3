#!/usr/bin/env bash
# Crema's benchmarks: JMH (training samples/s, inference µs/call and samples/s), end-to-end
# `crema train` iterations/s from LMDB, and a numpy implementation of the same nets measured in
# the same run as a reference. Prints a table with the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this run (preset, they slow OpenBLAS by half on this CPU)."
echo "OPENBLAS_NUM_THREADS=1: one core, like the reference figures (Caffe 1.0, PyTorch 1.13)."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OPENBLAS_NUM_THREADS=1
out=benchmarks/target/results
mkdir -p "$out"
mvn -q -B -DskipTests -pl benchmarks,cli -am package
opens=(--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED)

java "${opens[@]}" -jar benchmarks/target/benchmarks.jar -wi 3 -w 2 -i 5 -r 2 -f 1 -rf csv -rff "$out/jmh.csv" > "$out/jmh.log" 2>&1

# End to end: the otto-mini example from its LMDB, no test passes, 30,000 iterations.
sed -e 's/test_interval: 500/test_interval: 1000000/' -e 's/max_iter: 2000/max_iter: 30000/' \
    -e 's/display: 100/display: 5000/' -e 's/snapshot: 1000/snapshot: 0/' \
    -e 's#examples/otto-mini/snapshots/otto#benchmarks/target/results/otto#' \
    examples/otto-mini/otto_solver.prototxt > "$out/e2e_solver.prototxt"
java "${opens[@]}" -jar cli/target/crema.jar train -solver "$out/e2e_solver.prototxt" 2> "$out/e2e.log"
e2e=$(grep -o '(\([0-9.e+]*\) iter/s' "$out/e2e.log" | tail -n +2 | tr -d '(' | awk '{s += $1; n++} END {printf "%.0f", s / n}')

numpy=""
if python3 -c 'import numpy' 2>/dev/null; then
  python3 benchmarks/reference/numpy_mlp.py > "$out/numpy.txt"
  numpy="$out/numpy.txt"
fi

awk -F, -v e2e="$e2e" -v numpy="$numpy" '
  function ref(name,   line, f) {
    if (numpy == "") return 0
    while ((getline line < numpy) > 0) { split(line, f, " "); r[f[1]] = f[2] }
    close(numpy); return r[name]
  }
  NR > 1 {
    gsub(/["\r]/, "")
    key = $1 "/" $NF
    score[key] = $5
  }
  END {
    s = score["crema.benchmarks.TrainBenchmark.iteration/seed"] * 64
    w = score["crema.benchmarks.TrainBenchmark.iteration/wide"] * 256
    i1 = score["crema.benchmarks.InferenceBenchmark.batch1/wide"]
    i1s = score["crema.benchmarks.InferenceBenchmark.batch1/seed"]
    ib = score["crema.benchmarks.InferenceBenchmark.batch1024/wide"] * 1024
    printf "%-44s %14s %12s %12s %12s\n", "benchmark", "Crema", "numpy (run)", "Caffe 1.0*", "PyTorch*"
    printf "%-44s %14.0f %12s %12s %12s\n", "train seed net 93-30-9, b64 (samples/s)", s, ref("numpy_train_seed"), "490000", "464000"
    printf "%-44s %14.0f %12s %12s %12s\n", "train wide net 93-512-512-9, b256 (samples/s)", w, ref("numpy_train_wide"), "40000", "32000"
    printf "%-44s %14.1f %12s %12s %12s\n", "infer wide net, batch 1 (us/call)", i1, ref("numpy_infer1_wide"), "-", "40"
    printf "%-44s %14.2f %12s %12s %12s\n", "infer seed net, batch 1 (us/call)", i1s, "-", "-", "-"
    printf "%-44s %14.0f %12s %12s %12s\n", "infer wide net, batch 1024 (samples/s)", ib, ref("numpy_infer1024_wide"), "-", "-"
    printf "%-44s %14s %12s %12s %12s\n", "crema train, otto-mini from LMDB (iter/s)", e2e, "-", "7650", "-"
    n1 = ref("numpy_train_seed"); n2 = ref("numpy_train_wide")
    printf "\nratios: seed training %.2fx Caffe, %.2fx PyTorch", s / 490000, s / 464000
    if (n1 > 0) printf ", %.2fx numpy (this run)", s / n1
    printf "; wide training %.2fx Caffe, %.2fx PyTorch", w / 40000, w / 32000
    if (n2 > 0) printf ", %.2fx numpy (this run)", w / n2
    printf "; end to end %.2fx Caffe\n", e2e / 7650
    print "* measured on this machine (1 core, OpenBLAS AVX-512 kernel) when the issue was written; numpy is measured in this run."
  }' "$out/jmh.csv" | tee "$out/table.txt"
