#!/usr/bin/env bash
# Predict throughput with 1 and 2 inference replicas, both measured in this run
# (benchmarks/src/main/java/crema/benchmarks/ReplicaLoad.java): a real broker, the replicas as their
# own processes, HTTP predicts spread over the replicas and a burst of Kafka requests on
# crema.predict-requests. Prints a table; it also lands in benchmarks/target/results/replicas/table.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this run (preset, they slow OpenBLAS by half on this CPU)."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
mvn -q -B -DskipTests -pl benchmarks,inference-service -am package
java --add-opens=java.base/java.nio=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar crema.benchmarks.ReplicaLoad
