#!/usr/bin/env bash
# Crema's benchmarks, and PyTorch and numpy on the same nets and data, all measured in this run:
# JMH (training samples/s, inference µs/call and samples/s, the vision nets' forward-backward
# ms/iter), end-to-end training iterations/s on otto-mini, `crema time` on LeNet and
# cifar10_quick, then a table (crema.benchmarks.BenchTable) whose every ratio divides two figures of
# this run. This script computes nothing itself: it writes `name value unit` files and JMH's csv
# into benchmarks/target/results/, and BenchTable reads only those (BenchTableTest checks that this
# script has no arithmetic).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this run (preset, they slow OpenBLAS by half on this CPU)."
echo "One thread everywhere: OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1, torch.set_num_threads(1)."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
out=benchmarks/target/results
mkdir -p "$out"
# Figures of an earlier run must never reach this run's table.
rm -f "$out"/*.txt "$out"/jmh.csv
date -u '+run_date %Y-%m-%dT%H:%M:%SZ -' > "$out/run.txt"
mvn -q -B -DskipTests -pl benchmarks,cli -am package
opens=(--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED)

# --- Crema: JMH ----------------------------------------------------------------------------------
java "${opens[@]}" -jar benchmarks/target/benchmarks.jar -wi 3 -w 2 -i 5 -r 2 -f 1 -rf csv -rff "$out/jmh.csv" > "$out/jmh.log" 2>&1

# --- Crema: end to end, the otto-mini example from its LMDB, no test passes, 30,000 iterations ---
iterations=30000
sed -e 's/test_interval: 500/test_interval: 1000000/' -e "s/max_iter: 2000/max_iter: $iterations/" \
    -e 's/display: 100/display: 5000/' -e 's/snapshot: 1000/snapshot: 0/' \
    -e 's#examples/otto-mini/snapshots/otto#benchmarks/target/results/otto#' \
    examples/otto-mini/otto_solver.prototxt > "$out/e2e_solver.prototxt"
java "${opens[@]}" -jar cli/target/crema.jar train -solver "$out/e2e_solver.prototxt" 2> "$out/e2e.log"
# The log's own rate for each display interval after the first (JIT warm-up), one line each:
# BenchTable takes the mean of a figure given several times.
grep -o '(\([0-9.e+]*\) iter/s' "$out/e2e.log" | tail -n +2 | tr -d '(' | sed 's/^/crema_e2e_otto_mini /' > "$out/crema_e2e.txt"

# --- Crema: `crema time` (Caffe's `caffe time`) on LeNet and cifar10_quick, three runs each -------
# LeNet's TRAIN net reads the fixture's training LMDB (gunzipped here) through its Data layer, as
# Caffe's published 16.1 ms did; cifar10_quick has zero-filled Input blobs, as Caffe's 126 ms did.
# BenchTable takes the mean of the three "Average Forward-Backward" lines of each.
root=$PWD
lenet_dir="$out/lenet"
mkdir -p "$lenet_dir/data/train_lmdb"
gunzip -c fixtures/vision-mini/lenet/data/train_lmdb/data.mdb.gz > "$lenet_dir/data/train_lmdb/data.mdb"
cp fixtures/vision-mini/lenet/lenet_train_test.prototxt "$lenet_dir/"
: > "$out/crema_time.txt"
for run in 1 2 3; do
  (cd "$lenet_dir" && java "${opens[@]}" -jar "$root/cli/target/crema.jar" time -model lenet_train_test.prototxt -iterations 50) \
    > "$out/time_lenet_$run.log" 2>&1
  grep -o 'Average Forward-Backward: [0-9.e+-]*' "$out/time_lenet_$run.log" \
    | sed -e 's/^Average Forward-Backward: /crema_time_lenet /' -e 's#$# ms/iter#' >> "$out/crema_time.txt"
  java "${opens[@]}" -jar cli/target/crema.jar time -model examples/model-zoo/cifar10_quick_input.prototxt -iterations 20 \
    > "$out/time_cifar10_quick_$run.log" 2>&1
  grep -o 'Average Forward-Backward: [0-9.e+-]*' "$out/time_cifar10_quick_$run.log" \
    | sed -e 's/^Average Forward-Backward: /crema_time_cifar10_quick /' -e 's#$# ms/iter#' >> "$out/crema_time.txt"
done
rm -rf "$lenet_dir"

# --- crema train end to end (benchmarks/train-e2e.sh) ---------------------------------------------
# Owned by the `crema train` speed work. Contract: called with the results folder, it writes its
# figures there as `<tool>_<what> value unit` lines in train-e2e.txt (crema_seed_run_lmdb ... and,
# where it measures one, torch_seed_run_lmdb ...), which BenchTable puts in the table as measured.
if [[ -x benchmarks/train-e2e.sh ]]; then
  benchmarks/train-e2e.sh "$out"
else
  echo "benchmarks/train-e2e.sh: not there yet; its rows are skipped."
fi

# --- PyTorch: the same nets, solver and data, in this run -----------------------------------------
# Debian's python3-torch lives in /usr/bin/python3's dist-packages (another python3 may come first
# on the PATH) and links libblas.so.3. It gets one through LD_LIBRARY_PATH, first found of: the
# OpenBLAS that Crema's jar carries (the same build and kernels as Crema's), the same artifact in
# the local Maven repository, the system's libopenblas, Debian's reference BLAS. The table's
# torch_blas line names the library torch ran on.
blas_dir="$out/torch-blas"
rm -rf "$blas_dir" && mkdir -p "$blas_dir"
m2_openblas=$(ls -1 "$HOME"/.m2/repository/org/bytedeco/openblas/*/openblas-*-linux-x86_64.jar 2> /dev/null | sort -V | tail -n 1 || true)
openblas_so='org/bytedeco/openblas/linux-x86_64/*.so*'
if unzip -l benchmarks/target/benchmarks.jar 2> /dev/null | grep -q 'org/bytedeco/openblas/linux-x86_64/libopenblas.so.0'; then
  unzip -q -o -j benchmarks/target/benchmarks.jar "$openblas_so" -d "$blas_dir"
elif [[ -n "$m2_openblas" ]]; then
  unzip -q -o -j "$m2_openblas" "$openblas_so" -d "$blas_dir"
elif [[ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0 ]]; then
  ln -s /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0 "$blas_dir/"
fi
if [[ -e "$blas_dir/libopenblas.so.0" ]]; then
  ln -sf libopenblas.so.0 "$blas_dir/libblas.so.3"
  ln -sf libopenblas.so.0 "$blas_dir/liblapack.so.3"
else
  for lib in blas/libblas.so.3 lapack/liblapack.so.3; do
    [[ -e /usr/lib/x86_64-linux-gnu/$lib ]] && ln -sf "/usr/lib/x86_64-linux-gnu/$lib" "$blas_dir/"
  done
fi
torch_python=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" > /dev/null && LD_LIBRARY_PATH="$PWD/$blas_dir" "$p" -c 'import torch' 2> /dev/null; then
    torch_python=$p
    break
  fi
done
if [[ -n "$torch_python" ]]; then
  LD_LIBRARY_PATH="$PWD/$blas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$torch_python" benchmarks/reference/torch_mlp.py fixtures/otto-mini/data/train.csv "$iterations" > "$out/torch.txt"
  grep -E '^torch_(version|blas)' "$out/torch.txt" | sed 's/ -$//'
  # The vision nets, forward + backward as VisionBenchmark (torch's own convolution kernels).
  LD_LIBRARY_PATH="$PWD/$blas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$torch_python" benchmarks/reference/torch_vision.py > "$out/torch_vision.txt"
else
  echo "PyTorch: not installed (apt-get install python3-torch); its columns and ratios are skipped."
fi

# --- numpy: the same nets in float32 numpy --------------------------------------------------------
if python3 -c 'import numpy' 2> /dev/null; then
  python3 benchmarks/reference/numpy_mlp.py > "$out/numpy.txt"
else
  echo "numpy: not installed; its column is skipped."
fi

echo
echo "Crema's BLAS: $(grep -m 1 -o 'CPU math: .*' "$out/e2e.log" || echo 'not named in the log')"
java -cp benchmarks/target/benchmarks.jar crema.benchmarks.BenchTable "$out" benchmarks/reference/published.txt
