#!/usr/bin/env bash
# Runs an example program of module quaver-examples with a JDK 25:
#   scripts/example.sh QosSample DESTINATION[:PORT] RATE_BPS [SECONDS]   (the QoS2 SDK sample's adaptive loop)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/java-env.sh
[ $# -ge 1 ] || { sed -n '2,3p' "$0"; exit 2; }
name="$1"; shift
MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ./mvnw -B -q -pl quaver-examples -am package -DskipTests
cp="quaver-examples/target/classes:quaver-examples/target/lib/*"
exec java --enable-native-access=ALL-UNNAMED -cp "$cp" "io.quaver.examples.$name" "$@"
