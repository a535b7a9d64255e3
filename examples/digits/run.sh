#!/usr/bin/env bash
# The real UCI optical-digits data: 80/20 stratified split (seed 0), an MLP on features scaled to
# [0, 1], trained with Adam; prints the test accuracy as its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=examples/digits/work
rm -rf "$work" && mkdir -p "$work"
# digits.csv.gz has no header: 64 pixel columns, then the digit.
{ printf 'p%d,' $(seq 0 63); echo digit; zcat examples/digits/digits.csv.gz; } > "$work/digits.csv"
bin/crema convert "$work/digits.csv" "$work/train_lmdb" --label-column digit \
  --test-fraction 0.2 --test-output "$work/test_lmdb" --seed 0 2>&1 | tee "$work/convert.log"
test_rows=$(sed -n 's/.*, \([0-9]*\) to .*test_lmdb.*/\1/p' "$work/convert.log")
bin/crema train -solver examples/digits/digits_solver.prototxt > "$work/train.log" 2>&1
bin/crema test -model examples/digits/digits_train_test.prototxt \
  -weights "$work/digits_iter_4000.caffemodel" -iterations "$test_rows" > "$work/test.log" 2>&1
grep -o 'loss = [0-9.e+-]* (\* 1' "$work/test.log" | tail -1 | sed 's/ (\* 1//; s/^/test /'
echo "accuracy = $(sed -n 's/.*\] accuracy = \([0-9.e+-]*\)$/\1/p' "$work/test.log" | tail -1)"
