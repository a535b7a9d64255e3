#!/usr/bin/env bash
# Checkpoint published -> served (benchmarks/src/main/java/crema/benchmarks/CheckpointTransfer.java):
# on a broker, topic and clients at Kafka's default limits, with the inference service as its own
# process, a 1 MB checkpoint (one record) and a 240 MB one (parts plus a manifest) are published as
# the trainer publishes them and timed until the service serves them; against the same bytes through
# Kafka's own producer and consumer on the same broker, in the same run.
# Prints a table; it also lands in benchmarks/target/results/checkpoints/table.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -DskipTests -pl benchmarks,inference-service -am package
java --add-opens=java.base/java.nio=ALL-UNNAMED -Xmx3g -cp benchmarks/target/benchmarks.jar crema.benchmarks.CheckpointTransfer
