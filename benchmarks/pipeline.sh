#!/usr/bin/env bash
# The pipeline's load driver (benchmarks/src/main/java/crema/benchmarks/PipelineLoad.java), on a
# real broker with the services as their own processes, all figures of one run:
#   - ingest rows/s against Kafka's own producer (same-size records, same broker and settings);
#   - /predict over HTTP at batch 1, concurrency 1, 4 and 16: p50 / p99 latency and requests/s;
#     batch 256 rows/s;
#   - checkpoint published -> first predict answered by it, over 20 checkpoints (p50 / p99).
# Prints a table; it also lands in benchmarks/target/results/pipeline/table.txt.
# `pipeline.sh ingest [ROUNDS]`: ingest against the producer only, ROUNDS (5) alternating rounds after
# three warm-ups each, each round's figures and CPU time and the medians (results/pipeline/ingest.txt);
# with CREMA_BENCH_BASE_INGEST_JAR=path/to/crema-ingest.jar another ingest build runs in the same
# rounds (this build / base); CREMA_BENCH_BASE_INGEST_ARGS gives the base its own settings: with the
# same jar and -crema.topics.datums-partitions=1 it is ingest with P = 1 against P = 4 (the default),
# in one run. CREMA_BENCH_SERVICE_OPTS: JVM options for the services (a profiler).
# `pipeline.sh predict [ROUNDS]`: predict at batch 1, concurrency 1 and 4 only, ROUNDS (3) rounds of 5 s
# (results/pipeline/predict.txt); CREMA_BENCH_BASE_INFERENCE_JAR (another build) and/or
# CREMA_BENCH_BASE_INFERENCE_OPTS (other JVM options, e.g. another GC) start a second inference service
# measured in the same rounds; CREMA_BENCH_INFERENCE_OPTS: JVM options for this build's inference only.
# Predict is timed with the driver's own HTTP/1.1 client (PipelineLoad.Http1Connection: why not the JDK's);
# CREMA_BENCH_JDK_CLIENT=1 adds the JDK's HttpClient as a third load, CREMA_BENCH_DROPHUNT=N first runs N
# pairs of 2 s loads at concurrency 4, this driver's client then the JDK's, counting failed requests.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this run (preset, they slow OpenBLAS by half on this CPU)."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
mvn -q -B -DskipTests -pl benchmarks,ingest-service,trainer-service,inference-service -am package
java --add-opens=java.base/java.nio=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar crema.benchmarks.PipelineLoad "$@"
