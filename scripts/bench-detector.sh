#!/usr/bin/env bash
# Congestion-detector benchmark (goals G7-G9) in virtual time: builds quaver-core and
# quaver-benchmarks, then runs io.quaver.bench.DetectorBenchmark with the given arguments
# (default: 200 seeds, 10 virtual hours per false-alarm path, 1000 and 100 probes/s).
# Prints a table; JSON goes to quaver-benchmarks/target/detector-benchmark.json.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/java-env.sh
./mvnw -B -q -pl quaver-benchmarks -am package -DskipTests
exec java -cp quaver-benchmarks/target/classes:quaver-core/target/classes io.quaver.bench.DetectorBenchmark \
  --json quaver-benchmarks/target/detector-benchmark.json "$@"
