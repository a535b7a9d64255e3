#!/usr/bin/env bash
# Builds the GPU check bundle, benchmarks/target/gpu-check.tar.gz: a jlink'd Java runtime (from the
# JDK running this script), the shaded CLI jar trimmed to linux-x86_64 natives, the otto-mini
# fixture and the scripts. Unpack it on a GPU machine that has only a driver and run
# ./gpu-check/gpu-check.sh there. Needs cli/target/crema.jar (mvn -DskipTests package).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="$repo/benchmarks/target/gpu-check"
jar="$repo/cli/target/crema.jar"
[ -f "$jar" ] || { echo "bundle: $jar is missing; run mvn -DskipTests package first" >&2; exit 1; }
rm -rf "$out" "$out.tar.gz"
mkdir -p "$out/fixtures"
jlink="${JAVA_HOME:+$JAVA_HOME/bin/jlink}"
[ -n "$jlink" ] && [ -x "$jlink" ] || jlink="$(command -v jlink)"
# Modules from jdeps over the shaded jar (java.desktop: crema weights/draw's PNG rendering).
"$jlink" --add-modules java.base,java.desktop,java.logging,java.management,java.sql,jdk.unsupported \
  --strip-debug --no-header-files --no-man-pages --compress=2 --output "$out/runtime"
cp "$jar" "$out/crema.jar"
# Only linux-x86_64 glibc runs this: drop the other platforms' native libraries.
zip -q -d "$out/crema.jar" 'org/lmdbjava/native/*windows*' 'org/lmdbjava/native/aarch64*' \
  'org/lmdbjava/native/*musl*' 'jni/*OpenBSD*' 'jni/*Darwin*' 'jni/*Windows*' 'jni/*FreeBSD*' \
  'jni/*SunOS*' 'jni/*AIX*' 'jni/aarch64*' 'jni/arm*' 'jni/i386*' 'jni/ppc*' 'jni/mips*' 'jni/s390x*' \
  'jni/sparc*' 'net/jpountz/util/win32/*' 'net/jpountz/util/darwin/*' 'net/jpountz/util/linux/aarch64/*' \
  'net/jpountz/util/linux/ppc64le/*' 'net/jpountz/util/linux/s390x/*' 'net/jpountz/util/linux/i386/*' \
  'lib/libJCublas-*' >/dev/null 2>&1 || true
# The GPU check trains, tests and times nets; it subscribes to no Kafka topic (crema checkpoints),
# so the Kafka client and its compression codecs (zstd's natives for every platform) stay behind.
zip -q -d "$out/crema.jar" 'org/apache/kafka/*' 'com/github/luben/*' 'org/xerial/*' 'aix/*' 'win/*' 'freebsd/*' \
  'darwin/*' 'linux/*/libzstd*' >/dev/null 2>&1 || true
# The OpenBLAS the CLI carries (org.bytedeco:openblas, 12 MB compressed) would take the bundle to
# 57 MiB: it stays behind too, and the check's CPU figures use the machine's libblas.so.3 when it has
# one, netlib's Java BLAS when not (the log's "CPU math" line says which).
zip -q -d "$out/crema.jar" 'org/bytedeco/openblas/linux-x86_64/*' >/dev/null 2>&1 || true
cp -r "$repo/fixtures/otto-mini" "$out/fixtures/"
cp "$repo/benchmarks/gpu-check.sh" "$repo/benchmarks/gpu-check/torch_bench.py" "$out/"
tar -C "$repo/benchmarks/target" -czf "$out.tar.gz" gpu-check
bytes=$(stat -c %s "$out.tar.gz")
echo "bundle: $out.tar.gz $((bytes / 1024 / 1024)) MiB ($bytes bytes); unpacked $(du -sm "$out" | cut -f1) MiB" \
  "(runtime $(du -sm "$out/runtime" | cut -f1) MiB, jar $(du -sm "$out/crema.jar" | cut -f1) MiB)"
if [ "$bytes" -ge $((50 * 1024 * 1024)) ]; then
  echo "bundle: over the 50 MiB the GPU check may carry" >&2
  exit 1
fi
