#!/usr/bin/env bash
# The pipeline's load driver (benchmarks/src/main/java/crema/benchmarks/PipelineLoad.java): ingest
# rows/s against Kafka's own producer on the same broker, /predict latency and throughput at fixed
# concurrency, and checkpoint publication -> served. Prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this run (preset, they slow OpenBLAS by half on this CPU)."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
mvn -q -B -DskipTests -pl benchmarks,ingest-service,trainer-service,inference-service -am package
java --add-opens=java.base/java.nio=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar crema.benchmarks.PipelineLoad
