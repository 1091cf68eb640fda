#!/usr/bin/env bash
# JMH microbenchmarks of the data plane (bench-jmh). See docs/benchmarks-jmh.md.
#
#   scripts/jmh.sh [--quick] [--no-build] [--out DIR] [JMH ARGS...]
#
# Builds bench-jmh/target/benchmarks.jar when it is missing or older than a source file, then runs it with
# -prof gc and a JSON result file perf-reports/results/jmh-<UTC>.json. Anything not recognised here is passed to JMH
# unchanged: a benchmark regex (ProxyPipeline), -p routes=1000, -prof jfr, -f 3, ... (`-h` lists JMH's options).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
cd "$REPO_ROOT"

JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
JAR=${JMH_JAR:-bench-jmh/target/benchmarks.jar}
OUT=${OUT:-perf-reports/results}
QUICK=0
BUILD=1
PASS=()

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options:
  --quick       CI smoke: 1 fork, 2 x 1 s warm-up, 3 x 1 s measurement (numbers are indicative only)
  --no-build    use the existing benchmarks.jar as is
  --out DIR     where jmh-<UTC>.json goes [OUT, default perf-reports/results]
  --help        this text
Environment: JAVA (default java), MVN (default mvn), JMH_JAR (default bench-jmh/target/benchmarks.jar).
Default run (no --quick): the classes' own settings, 2 forks x (5 x 1 s warm-up + 5 x 1 s).
EOF
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) QUICK=1 ;;
    --no-build) BUILD=0 ;;
    --out) OUT=$2; shift ;;
    --help) usage; exit 0 ;;
    *) PASS+=("$1") ;;
  esac
  shift
done

needs_build() {
  [[ ! -f $JAR ]] && return 0
  local newer
  newer=$(find bench-jmh/src bench-jmh/pom.xml engine/src engine/pom.xml config-sync/src config-sync/pom.xml \
    tls/src tls/pom.xml pom.xml -newer "$JAR" -type f -print -quit 2>/dev/null || true)
  [[ -n $newer ]]
}

if [[ $BUILD -eq 1 ]] && needs_build; then
  echo "jmh.sh: building $JAR" >&2
  # Offline first (the usual case on a primed ~/.m2); once online if a plugin or dependency is missing.
  if ! "$MVN" -B -q -o -pl bench-jmh -am -DskipTests package; then
    echo "jmh.sh: offline build failed, retrying online" >&2
    "$MVN" -B -q -pl bench-jmh -am -DskipTests package
  fi
fi
[[ -f $JAR ]] || { echo "jmh.sh: $JAR not found (build failed?)" >&2; exit 1; }

# Major version from `java -version` ("17.0.15", "25", "1.8.0_412").
JAVA_MAJOR=$("$JAVA" -version 2>&1 | sed -n 's/.* version "\([0-9][0-9.]*\).*/\1/p' | head -n1)
JAVA_MAJOR=${JAVA_MAJOR%%.*}
[[ $JAVA_MAJOR == 1 ]] && JAVA_MAJOR=8

# JMH rejects an option given twice, so a default is only added when the caller did not pass that option.
passed() {
  local a
  for a in ${PASS[@]+"${PASS[@]}"}; do [[ $a == "$1" ]] && return 0; done
  return 1
}
default_opt() {
  passed "$1" || ARGS+=("$1" "$2")
}

ARGS=(-prof gc)
if [[ $QUICK -eq 1 ]]; then
  default_opt -f 1
  default_opt -wi 2
  default_opt -w 1s
  default_opt -i 3
  default_opt -r 1s
fi
if [[ ${JAVA_MAJOR:-0} -ge 24 ]]; then
  # JDK 24+ warns about (and will refuse) sun.misc.Unsafe and JNI without these; JDK 17 rejects the first flag.
  # Prepend, not append: a command-line -jvmArgsAppend replaces the @Fork(jvmArgsAppend) flags of the classes
  # (--add-exports, leak detection off, pooled allocator) instead of adding to them.
  if passed -jvmArgsPrepend; then
    echo "jmh.sh: -jvmArgsPrepend given; add --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED to it yourself" >&2
  else
    ARGS+=(-jvmArgsPrepend "--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED")
  fi
fi

RESULT=""
if ! passed -rff && ! passed -rf; then
  mkdir -p "$OUT"
  RESULT="$OUT/jmh-$(date -u +%Y%m%dT%H%M%SZ).json"
  ARGS+=(-rf json -rff "$RESULT")
fi

echo "jmh.sh: $JAVA -jar $JAR ${ARGS[*]} ${PASS[*]+${PASS[*]}}" >&2
"$JAVA" -jar "$JAR" "${ARGS[@]}" ${PASS[@]+"${PASS[@]}"}
if [[ -n $RESULT ]]; then echo "jmh.sh: results in $RESULT" >&2; fi
