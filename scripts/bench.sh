#!/usr/bin/env bash
# Runs one benchmark program of module quaver-benchmarks with a JDK 25:
#   scripts/bench.sh DetectorBenchmark [--seeds N] [--hours H]     (virtual time, G7-G9)
#   scripts/bench.sh PathBenchmark [--quick] [--json FILE]          (netns + emulator, G1-G6, G16; root)
#   scripts/bench.sh ProbeRttBenchmark [--seconds 30]               (per-sample probegap RTT, G16; root)
#   scripts/bench.sh ShapingBenchmark [--scale-only] [...]           (pacers vs Guava, Bucket4j, tbf; G10-G14)
#   scripts/bench.sh JmhMain [--help]                                (JMH: one pacing decision, sends)
#   scripts/bench.sh SendOverheadBenchmark [--rounds N] [--out F]    (flow.send vs raw send, interleaved; G13)
#   scripts/bench.sh WakeUpBenchmark [--rounds N] [--gaps-us L]      (wake-up lateness of wait methods; G12)
#   scripts/bench.sh SoakBenchmark [--duration 1h] [--sample-s 30]   (soak: 1,000 flows, 100 clients; not CI)
# JVM options go in JAVA_OPTS (e.g. JAVA_OPTS="-Xms256m -Xmx256m" for the soak).
# Each prints a table; see the program's --help for its JSON output.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/java-env.sh
[ $# -ge 1 ] || { sed -n '2,11p' "$0"; exit 2; }
name="$1"; shift
MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ./mvnw -B -q -pl quaver-benchmarks -am package -DskipTests
cp="quaver-benchmarks/target/classes:quaver-benchmarks/target/lib/*"
exec java ${JAVA_OPTS:-} --enable-native-access=ALL-UNNAMED -cp "$cp" "io.quaver.benchmarks.$name" "$@"
