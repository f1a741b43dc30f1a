# Sourced by ./quaver and .ci/run: finds a JDK 25 (or newer) and exports JAVA_HOME.
# Order: $JAVA_HOME, java on the PATH, then the usual install locations.
quaver_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}'
}
quaver_find_jdk() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    local j; j=$(readlink -f "$(command -v java)")
    candidates+=("${j%/bin/java}")
  fi
  local d
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*-2[5-9]* /usr/lib/jvm/*-3[0-9]* /opt/java/*25* /opt/*jdk*25* \
           /Library/Java/JavaVirtualMachines/*25*/Contents/Home "$HOME"/.sdkman/candidates/java/25* \
           "$HOME"/.jdks/*25* /usr/lib/jvm/*; do
    [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] && candidates+=("$d")
  done
  for d in "${candidates[@]}"; do
    [ -x "$d/bin/java" ] || continue
    local v; v=$(quaver_java_major "$d")
    v=${v%%.*}
    if [ -n "$v" ] && [ "$v" -ge 25 ] 2>/dev/null; then
      echo "$d"; return 0
    fi
  done
  return 1
}
if ! QUAVER_JDK=$(quaver_find_jdk); then
  echo "quaver: no JDK 25 found. Install JDK 25 (e.g. Temurin 25) and set JAVA_HOME to it;" >&2
  echo "        looked at \$JAVA_HOME, java on the PATH and /usr/lib/jvm/*." >&2
  exit 3
fi
export JAVA_HOME="$QUAVER_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
