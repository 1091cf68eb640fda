#!/usr/bin/env bash
# Coverage-guided fuzzing (Jazzer, libFuzzer) of the HTTP/1.1 parsers, the chunked framer and the config decoders,
# each target for a bounded time. See docs/security.md ("Fuzzing").
#
#   scripts/fuzz.sh [--seconds N] [--no-build] [--offline] [TARGET...]
#
# Seeds: the llhttp corpus (requests, responses, their chunked bodies) for the HTTP targets, and the committed
# regression inputs of every target (src/test/resources/.../*FuzzTestInputs/<target>/, which plain `mvn test` also
# replays). A crashing or hanging input is written into that regression directory (crash-*/timeout-*), the script
# prints it and exits 1: fix the bug, keep the file, commit both. The working corpus grows in target/fuzz/.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
cd "$REPO_ROOT"

JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
SECONDS_PER_TARGET=30
BUILD=1
MVN_OFFLINE=()
ONLY=()

# module | test class | target (nested class with fuzzerTestOneInput and the @FuzzTest method name)
TARGETS=(
  "engine|io.turnpike.engine.codec.HttpCodecFuzzTest|requestStream"
  "engine|io.turnpike.engine.codec.HttpCodecFuzzTest|responseStream"
  "engine|io.turnpike.engine.codec.HttpCodecFuzzTest|chunkedBody"
  "config-sync|io.turnpike.config.yaml.ConfigDecoderFuzzTest|standaloneYaml"
  "config-sync|io.turnpike.config.yaml.ConfigDecoderFuzzTest|resourceJson"
)

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options:
  --seconds N   fuzzing time per target [30]; the whole run takes about 5 x (N + 10) s plus the build
  --no-build    use the compiled test classes as they are
  --offline     pass -o to Maven
  TARGET        run only these targets (requestStream responseStream chunkedBody standaloneYaml resourceJson)
Environment: JAVA (default java), MVN (default mvn).
EOF
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) SECONDS_PER_TARGET=$2; shift ;;
    --no-build) BUILD=0 ;;
    --offline) MVN_OFFLINE=(-o) ;;
    --help|-h) usage; exit 0 ;;
    -*) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
    *) ONLY+=("$1") ;;
  esac
  shift
done
[[ $SECONDS_PER_TARGET =~ ^[0-9]+$ && $SECONDS_PER_TARGET -gt 0 ]] || { echo "--seconds must be a positive integer" >&2; exit 2; }

WORK=target/fuzz
mkdir -p "$WORK"
# One reactor run: compile (no install: nothing in ~/.m2 changes) and write each module's test classpath, with the
# sibling modules resolved to their target/ folders.
goals=(dependency:build-classpath)
[[ $BUILD == 1 ]] && goals=(test-compile dependency:build-classpath)
"$MVN" -B -q "${MVN_OFFLINE[@]}" "${goals[@]}" -pl config-sync,engine -am -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/fuzz.classpath >/dev/null
classpath() { # module -> its classes first, then its dependencies
  echo "$1/target/test-classes:$1/target/classes:$(cat "$1/target/fuzz.classpath")"
}

# llhttp seeds for the HTTP targets
rm -rf "$WORK/seeds"
"$JAVA" -cp "$(classpath engine)" \
  io.turnpike.engine.codec.FuzzSeeds "$WORK/seeds"

failed=0
summary=()
for t in "${TARGETS[@]}"; do
  IFS='|' read -r module cls name <<<"$t"
  if [[ ${#ONLY[@]} -gt 0 && ! " ${ONLY[*]} " == *" $name "* ]]; then continue; fi
  nested="${name^}"
  inputs="$module/src/test/resources/${cls//.//}Inputs/$name"
  corpus="$WORK/corpus/$name"
  mkdir -p "$inputs" "$corpus"
  seeddirs=("$inputs")
  [[ -d "$WORK/seeds/$name" ]] && seeddirs+=("$WORK/seeds/$name")
  log="$WORK/$name.log"
  echo "== $name: $SECONDS_PER_TARGET s ($cls\$$nested)"
  set +e
  "$JAVA" -Xmx1g -Xss8m -Dio.netty.leakDetection.level=paranoid --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
    -cp "$(classpath "$module")" \
    com.code_intelligence.jazzer.Jazzer --target_class="$cls\$$nested" \
    --instrumentation_includes='io.turnpike.**' --disabled_hooks='com.code_intelligence.jazzer.sanitizers.*' \
    --reproducer_path="$WORK" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=0 -max_len=65536 \
    -artifact_prefix="$inputs/" -print_final_stats=1 "$corpus" "${seeddirs[@]}" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
  speed=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 || true)
  if grep -q 'LeakDetector.*LEAK' "$log"; then
    echo "   ByteBuf leak reported (see $log)"; rc=1
  fi
  if [[ $rc != 0 ]]; then
    failed=1
    echo "   FAILED (rc $rc): see $log"
    grep -E '^== Java Exception|artifact_prefix|Test unit written' "$log" | head -5 | sed 's/^/   /'
  fi
  summary+=("$(printf '%-16s %10s runs %7s exec/s  %s  %s' "$name" "$runs" "$speed" "$cov" "$([[ $rc == 0 ]] && echo ok || echo FAILED)")")
done
echo
printf '%s\n' "${summary[@]}"
exit $failed
