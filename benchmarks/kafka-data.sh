#!/usr/bin/env bash
# The trainer service's Kafka Data layer against the LMDB one, in one process: the Otto-shaped
# train LMDB of train-e2e.sh (made here when missing) copied to a one-partition topic on an
# in-process broker, then the seed net (93-30-9, batch 64) trained from each, alternately
# (crema.trainer.KafkaDataBench). Prints iter/s of each run and Kafka / LMDB (issue 14: >= 0.8).
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the run. ITERS (default 100000) and ROUNDS
# (default 2) set the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "kafka-data: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this run."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
out=benchmarks/target/train-e2e
jar=cli/target/crema.jar
opts=(--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED)
if [ ! -f "$out/train_lmdb/data.mdb" ]; then
  [ -f "$jar" ] || mvn -q -B -DskipTests -pl cli -am package
  mkdir -p "$out"
  java examples/otto/GenerateOtto.java 61878 10000 1 "$out" > /dev/null
  java "${opts[@]}" -jar "$jar" convert "$out/train.csv" "$out/train_lmdb" --label-column target --id-column id \
    --log1p --test-fraction 0.02 --test-output "$out/test_lmdb" --seed 0 2> "$out/convert.log"
fi
mvn -q -B -Dstyle.color=never -pl trainer-service -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$PWD/benchmarks/target/classpath-\${project.artifactId}.txt" > /dev/null
cp="$(cat benchmarks/target/classpath-crema-trainer-service.txt):trainer-service/target/classes:trainer-service/target/test-classes"
java "${opts[@]}" -cp "$cp" crema.trainer.KafkaDataBench "$out/train_lmdb" "${ITERS:-100000}" "${ROUNDS:-2}" \
  2> benchmarks/target/kafka-data.log | grep '^kafka-data'
