#!/usr/bin/env bash
# The seed's workflow end to end: Otto-shaped CSVs -> LMDB (log1p, stratified 98/2 split) -> train
# -> test -> predict (a Kaggle submission) -> draw the net (DOT; PNG too where Graphviz is installed)
# -> draw the ip1 weights. Needs only a JDK and Maven.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=examples/otto/work
rm -rf "$work" && mkdir -p "$work"

echo "== generate Otto-shaped data (61,878 train rows, 10,000 test rows)"
java examples/otto/GenerateOtto.java 61878 10000 1 "$work"

echo "== convert: log1p features, 98/2 split stratified by class"
bin/crema convert "$work/train.csv" "$work/train_lmdb" --label-column target --id-column id --log1p \
  --test-fraction 0.02 --test-output "$work/test_lmdb" --seed 0

echo "== train (SGD, inv policy, 100,000 iterations; log in $work/train.log)"
bin/crema train -solver examples/otto/otto_solver.prototxt 2> "$work/train.log"
grep -E "Test net output|Iteration 100000, loss" "$work/train.log" | tail -3

echo "== test"
bin/crema test -model examples/otto/otto_train_test.prototxt \
  -weights "$work/otto_iter_100000.caffemodel" -iterations 100 2> "$work/test.log"
grep -E "\] (accuracy|loss) = " "$work/test.log"

echo "== predict: $work/submission.csv"
bin/crema predict -model examples/otto/otto_deploy.prototxt -weights "$work/otto_iter_100000.caffemodel" \
  -input "$work/test.csv" -output "$work/submission.csv" --id-column id --log1p \
  --labels "$work/train_lmdb/labels.txt" 2> "$work/predict.log"
# A valid submission: Kaggle's header, one row per test id, probabilities summing to 1.
awk -F, 'NR == 1 { if ($0 != "id,Class_1,Class_2,Class_3,Class_4,Class_5,Class_6,Class_7,Class_8,Class_9") { print "bad header"; exit 1 } next }
         { s = 0; for (i = 2; i <= 10; i++) s += $i; if (s < 0.999 || s > 1.001 || $1 != NR - 1) { print "bad row " NR; exit 1 } }
         END { if (NR != 10001) { print "expected 10000 rows, got " NR - 1; exit 1 }; print "submission ok: " NR - 1 " rows" }' \
  "$work/submission.csv"
head -3 "$work/submission.csv"

# The DOT needs nothing; the picture needs Graphviz, which a fresh machine may lack: then say how.
echo "== draw: $work/net.dot"
bin/crema draw examples/otto/otto_deploy.prototxt "$work/net.dot" --rankdir TB
if command -v dot > /dev/null; then
  dot -Tpng "$work/net.dot" -o "$work/net.png"
  echo "and $work/net.png (Graphviz)"
else
  echo "Graphviz is not installed, so no picture: apt-get install graphviz, then dot -Tpng $work/net.dot -o $work/net.png"
fi

echo "== weights: $work/weights/ip1_weights.png, ip1_hist.png"
bin/crema weights "$work/otto_iter_100000.caffemodel" "$work/weights" --layer ip1 2> /dev/null
