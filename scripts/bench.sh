#!/usr/bin/env bash
# Side-by-side benchmark: the same nginx backend measured directly, through nginx as a reverse
# proxy, and through Turnpike, in interleaved rounds on the same machine. See docs/benchmarks.md.
#
#   scripts/bench.sh [--quick] [--only backend,nginx,turnpike] [--rounds N] [--warmup S]
#                    [--duration S] [--conns N] [--body-bytes N] [--out DIR] [--keep-tmp]
#
# Layout (2 cores): backend nginx and wrk on core CORE_LOAD (0), the proxy under test on
# CORE_PROXY (1). CPU per request of the process under test comes from /proc/PID/stat
# (utime+stime of the process and its children, all threads) read around the measured wrk run.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
LIB_DIR="$SCRIPT_DIR/lib"
cd "$REPO_ROOT"

# The exact command, with the environment overrides that were in effect, for the JSON.
COMMAND_LINE=""
for v in ROUNDS WARMUP DURATION CONNS WRK_THREADS BODY_BYTES OUT CORE_LOAD CORE_PROXY TURNPIKE_JAR JAVA JVM_OPTS; do
  if [[ -n ${!v+set} ]]; then COMMAND_LINE+="$v=$(printf '%q' "${!v}") "; fi
done
COMMAND_LINE+="scripts/bench.sh"
for a in "$@"; do COMMAND_LINE+=" $(printf '%q' "$a")"; done

ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-5}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-1}
BODY_BYTES=${BODY_BYTES:-0}          # 0: the fixed "hello world\n" body (12 bytes)
OUT=${OUT:-perf-reports/results}
CORE_LOAD=${CORE_LOAD:-0}
CORE_PROXY=${CORE_PROXY:-1}
TURNPIKE_JAR=${TURNPIKE_JAR:-engine/target/turnpike.jar}
REPORT_JAR=${REPORT_JAR:-perf-reports/target/perf-reports.jar}
JAVA=${JAVA:-java}
JVM_OPTS_FROM_ENV=${JVM_OPTS+set}
JVM_OPTS=${JVM_OPTS:--Xms512m -Xmx512m -XX:+UseParallelGC -XX:+AlwaysPreTouch --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Dio.netty.leakDetection.level=disabled}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-60}
KEEP_TMP=${KEEP_TMP:-0}
CONTENDED_PCT=${CONTENDED_PCT:-10}   # flag a run when other processes used more than this % of a core
QUICK=0
ONLY="backend,nginx,turnpike"

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options (environment variable in brackets):
  --quick            CI smoke: 1 round, 3 s warm-up, 5 s load
  --only LIST        comma-separated subset of backend,nginx,turnpike (default: all)
  --rounds N         interleaved rounds [ROUNDS, default 3]
  --warmup S         warm-up seconds before every measured run [WARMUP, default 5]
  --duration S       measured seconds per run [DURATION, default 10]
  --conns N          wrk connections [CONNS, default 64]
  --body-bytes N     backend body size in bytes; 0 = "hello world\n" [BODY_BYTES, default 0]
  --out DIR          where bench-<UTC>.json goes [OUT, default perf-reports/results]
  --keep-tmp         keep the private temp dir (configs, logs, raw wrk output) [KEEP_TMP=1]
Other environment: JVM_OPTS, JAVA, TURNPIKE_JAR, REPORT_JAR, WRK_THREADS, CORE_LOAD, CORE_PROXY,
READY_TIMEOUT_S.
EOF
}

die() { echo "bench: error: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

while (($#)); do
  case $1 in
    --quick) QUICK=1; shift ;;
    --only) [[ $# -ge 2 ]] || die "--only needs a value"; ONLY=$2; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    --rounds) [[ $# -ge 2 ]] || die "--rounds needs a value"; ROUNDS=$2; shift 2 ;;
    --warmup) [[ $# -ge 2 ]] || die "--warmup needs a value"; WARMUP=$2; shift 2 ;;
    --duration) [[ $# -ge 2 ]] || die "--duration needs a value"; DURATION=$2; shift 2 ;;
    --conns) [[ $# -ge 2 ]] || die "--conns needs a value"; CONNS=$2; shift 2 ;;
    --body-bytes) [[ $# -ge 2 ]] || die "--body-bytes needs a value"; BODY_BYTES=$2; shift 2 ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a value"; OUT=$2; shift 2 ;;
    --keep-tmp) KEEP_TMP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

if ((QUICK)); then
  ROUNDS=1 WARMUP=3 DURATION=5
fi
for v in ROUNDS WARMUP DURATION CONNS WRK_THREADS BODY_BYTES CORE_LOAD CORE_PROXY CONTENDED_PCT; do
  is_uint "${!v}" || die "$v must be a non-negative integer, got '${!v}'"
done
((ROUNDS >= 1)) || die "ROUNDS must be >= 1"
((DURATION >= 1)) || die "DURATION must be >= 1"
((CONNS >= WRK_THREADS)) || die "CONNS must be >= WRK_THREADS"

TARGETS=()
IFS=',' read -r -a only_list <<<"$ONLY"
for t in "${only_list[@]}"; do
  case $t in
    backend|nginx|turnpike) TARGETS+=("$t") ;;
    "") ;;
    *) die "--only: unknown target '$t' (expected backend, nginx, turnpike)" ;;
  esac
done
((${#TARGETS[@]})) || die "--only selected no target"

for cmd in nginx wrk curl taskset pgrep python3 getconf; do
  command -v "$cmd" >/dev/null 2>&1 \
    || die "'$cmd' not found (apt-get install -y nginx-light wrk curl util-linux procps python3)"
done
NGINX_BIN=$(command -v nginx)
NPROC=$(nproc)
((NPROC > CORE_LOAD && NPROC > CORE_PROXY)) || die "need cores $CORE_LOAD and $CORE_PROXY, nproc is $NPROC"
CLK_TCK=$(getconf CLK_TCK)

declare -A SKIPPED=()
has_target() { local t; for t in "${TARGETS[@]}"; do [[ $t == "$1" ]] && return 0; done; return 1; }
drop_target() {
  local t keep=()
  for t in "${TARGETS[@]}"; do [[ $t == "$1" ]] || keep+=("$t"); done
  TARGETS=("${keep[@]}")
}
if has_target turnpike && [[ ! -f $TURNPIKE_JAR ]]; then
  log "SKIPPING turnpike: $TURNPIKE_JAR not found (build it with: mvn -B -pl engine -am package)"
  SKIPPED[turnpike]="$TURNPIKE_JAR not found"
  drop_target turnpike
fi
((${#TARGETS[@]})) || die "nothing left to measure"
if has_target turnpike; then
  command -v "$JAVA" >/dev/null 2>&1 || die "'$JAVA' not found (set JAVA=/path/to/java)"
fi

# ---------------------------------------------------------------------------------------------
# Processes we start; only these are ever signalled.
STARTED_PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/turnpike-bench.XXXXXX")

cleanup() {
  local rc=$? pid
  if [[ -n ${WRK_PID:-} ]]; then
    kill -TERM "$WRK_PID" 2>/dev/null || true
    wait "$WRK_PID" 2>/dev/null || true
  fi
  for pid in "${STARTED_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]}"; do
    # nginx master and the JVM exit within a second on TERM; escalate if they do not.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((KEEP_TMP)) || ((rc != 0)); then
    log "temp dir kept: $WORK"
  else
    rm -rf -- "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_ports() {
  # Binds N sockets at once so the ports are distinct, then releases them.
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}
read -r BACKEND_PORT NGINX_PORT TURNPIKE_PORT TURNPIKE_STATUS_PORT <<<"$(free_ports 4)"

render() {
  # render TEMPLATE OUT KEY=VALUE...: replaces @KEY@ by VALUE (values must not contain '|').
  local tmpl=$1 out=$2 kv sed_args=()
  shift 2
  for kv in "$@"; do sed_args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${sed_args[@]}" "$tmpl" >"$out"
}

nginx_user_line() {
  # As root, nginx drops its worker to a user; nobody's primary group differs between distros.
  if ((EUID == 0)); then
    echo "user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
  fi
}

declare -A PID_OF=()
# start_nginx NAME CORE TEMPLATE KEY=VALUE...: starts it in the background, sets PID_OF[NAME].
start_nginx() {
  local name=$1 core=$2 tmpl=$3 prefix="$WORK/$1" pid
  shift 3
  mkdir -p "$prefix/logs" "$prefix/tmp" "$prefix/html"
  render "$LIB_DIR/nginx-common.conf.tmpl" "$prefix/nginx.conf" "PREFIX=$prefix" "USER_LINE=$(nginx_user_line)"
  render "$LIB_DIR/$tmpl" "$prefix/http.conf" "PREFIX=$prefix" "$@"
  cat "$prefix/http.conf" >>"$prefix/nginx.conf"
  "$NGINX_BIN" -t -q -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" \
    || die "nginx config for $name invalid: $prefix/nginx.conf"
  taskset -c "$core" "$NGINX_BIN" -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" \
    >"$prefix/logs/stdout.log" 2>&1 &
  pid=$!
  STARTED_PIDS+=("$pid")
  PID_OF[$name]=$pid
}

wait_ready() {
  # wait_ready NAME PID URL TIMEOUT_S: until URL answers 2xx, or the process dies, or time runs out.
  local name=$1 pid=$2 url=$3 timeout_s=$4 deadline
  deadline=$((SECONDS + timeout_s))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || die "$name (pid $pid) exited during start-up; logs in $WORK"
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  die "$name not ready at $url after ${timeout_s}s; logs in $WORK"
}

# --- backend --------------------------------------------------------------------------------
if ((BODY_BYTES > 0)); then
  mkdir -p "$WORK/backend/html"
  head -c "$BODY_BYTES" /dev/zero | tr '\0' 'x' >"$WORK/backend/html/body"
  BODY_DIRECTIVE="            try_files /body =404;"
  EXPECTED_BODY_BYTES=$BODY_BYTES
else
  BODY_DIRECTIVE="            return 200 \"hello world\\\\n\";"
  EXPECTED_BODY_BYTES=12
fi
if ((EUID == 0)); then
  # The worker runs as nobody and must be able to reach the body file.
  chmod 755 "$WORK"
fi
start_nginx backend "$CORE_LOAD" nginx-backend.conf.tmpl "PORT=$BACKEND_PORT" "BODY_DIRECTIVE=$BODY_DIRECTIVE"
if ((EUID == 0)); then chmod -R a+rX "$WORK/backend/html"; fi
wait_ready backend "${PID_OF[backend]}" "http://127.0.0.1:$BACKEND_PORT/" 10

# --- proxy A: nginx -------------------------------------------------------------------------
if has_target nginx; then
  start_nginx nginx "$CORE_PROXY" nginx-proxy.conf.tmpl "PORT=$NGINX_PORT" "BACKEND_PORT=$BACKEND_PORT"
  wait_ready nginx "${PID_OF[nginx]}" "http://127.0.0.1:$NGINX_PORT/" 10
fi

# --- proxy B: Turnpike ----------------------------------------------------------------------
if has_target turnpike; then
  conf="$WORK/turnpike/conf"
  mkdir -p "$conf" "$WORK/turnpike/logs"
  cat >"$conf/config.yaml" <<EOF
apisix:
  node_listen: [{ip: 127.0.0.1, port: $TURNPIKE_PORT}]
  ssl: {enable: false}
deployment:
  role: data_plane
  role_data_plane:
    config_provider: yaml
turnpike:
  event_loops: 1
  # Same as the nginx proxy: no access log, upstream connections kept for the whole run.
  access_log: false
  upstream_max_requests: 1000000
  status_listen:
    ip: 127.0.0.1
    port: $TURNPIKE_STATUS_PORT
EOF
  cat >"$conf/apisix.yaml" <<EOF
routes:
  - id: "1"
    uri: "/*"
    upstream:
      type: roundrobin
      nodes:
        "127.0.0.1:$BACKEND_PORT": 1
#END
EOF
  java_spec=$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
  if [[ -z $JVM_OPTS_FROM_ENV && ${java_spec%%.*} =~ ^[0-9]+$ ]] && ((${java_spec%%.*} >= 24)); then
    # Same as the parent pom's jdk25 profile: JDK 24+ warns about (and will refuse) Unsafe and JNI.
    JVM_OPTS+=" --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
  fi
  read -r -a jvm_opts <<<"$JVM_OPTS"
  TURNPIKE_JAR_ABS=$(cd -- "$(dirname -- "$TURNPIKE_JAR")" && pwd)/$(basename -- "$TURNPIKE_JAR")
  (cd "$WORK/turnpike" && exec taskset -c "$CORE_PROXY" "$JAVA" "${jvm_opts[@]}" -jar "$TURNPIKE_JAR_ABS" \
      start -c "$conf/config.yaml") >"$WORK/turnpike/logs/stdout.log" 2>&1 &
  PID_OF[turnpike]=$!
  STARTED_PIDS+=("${PID_OF[turnpike]}")
  wait_ready turnpike "${PID_OF[turnpike]}" "http://127.0.0.1:$TURNPIKE_PORT/" "$READY_TIMEOUT_S"
fi

declare -A URL=(
  [backend]="http://127.0.0.1:$BACKEND_PORT/"
  [nginx]="http://127.0.0.1:$NGINX_PORT/"
  [turnpike]="http://127.0.0.1:$TURNPIKE_PORT/"
)

# Every target must return the backend's body before we time anything.
for t in "${TARGETS[@]}"; do
  got=$(curl -fsS --max-time 5 -o /dev/null -w '%{http_code} %{size_download}' "${URL[$t]}") \
    || die "$t: request to ${URL[$t]} failed"
  [[ $got == "200 $EXPECTED_BODY_BYTES" ]] \
    || die "$t: expected '200 $EXPECTED_BODY_BYTES' (status, body bytes), got '$got'"
done

# --- /proc readings -------------------------------------------------------------------------
proc_tree() {
  # The PID and its descendants (the nginx master forks its worker; the JVM is one process).
  local pid=$1 child
  echo "$pid"
  for child in $(pgrep -P "$pid" 2>/dev/null || true); do proc_tree "$child"; done
}

cpu_ticks() {
  # Sum of utime+stime (stat fields 14, 15) over the tree; all threads of each process included.
  local pid stat total=0 f
  for pid in $(proc_tree "$1"); do
    stat=$(<"/proc/$pid/stat") || continue
    stat=${stat##*) }                 # comm may contain spaces; fields restart at 3 after ") "
    read -r -a f <<<"$stat"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

rss_peak_kb() {
  # Sum of VmHWM over the tree (for nginx, master + worker: slightly over-counts shared pages).
  local pid total=0 kb
  for pid in $(proc_tree "$1"); do
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

describe_process() {
  local pid names=() comm
  for pid in $(proc_tree "$1"); do
    comm=$(<"/proc/$pid/comm") || continue
    names+=("$comm:$pid")
  done
  echo "${names[*]}"
}

# --- load -----------------------------------------------------------------------------------
RECORDS="$WORK/records.jsonl"
: >"$RECORDS"
WRK_COMMAND="taskset -c $CORE_LOAD wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s --latency -s scripts/lib/wrk-report.lua URL"

WRK_PID=
run_wrk() {
  # run_wrk OUTFILE WRK_ARGS...: in the background and waited for, so that a signal to the script
  # is handled at once (bash runs traps only between foreground commands) and cleanup can stop it.
  local out=$1 rc=0
  shift
  taskset -c "$CORE_LOAD" wrk -t"$WRK_THREADS" -c"$CONNS" "$@" >"$out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || rc=$?
  WRK_PID=
  return "$rc"
}

measure() {
  local target=$1 round=$2 url=${URL[$1]} pid=${PID_OF[$1]} raw="$WORK/wrk-$1-r$2.txt" c0 c1 line rss others
  if ((WARMUP > 0)); then
    run_wrk "$WORK/wrk-$target-r$round-warmup.txt" -d"${WARMUP}s" "$url" \
      || die "$target warm-up: wrk failed (see $WORK/wrk-$target-r$round-warmup.txt)"
  fi
  kill -0 "$pid" 2>/dev/null || die "$target (pid $pid) died"
  python3 "$LIB_DIR/proc_cpu_others.py" snap "$WORK/others-before.json"
  c0=$(cpu_ticks "$pid")
  run_wrk "$raw" -d"${DURATION}s" --latency -s "$LIB_DIR/wrk-report.lua" "$url" \
    || die "$target: wrk failed (see $raw)"
  c1=$(cpu_ticks "$pid")
  others=$(python3 "$LIB_DIR/proc_cpu_others.py" diff "$WORK/others-before.json" "$$")
  rss=$(rss_peak_kb "$pid")
  line=$(grep '^BENCH_JSON ' "$raw" | tail -n 1) || die "$target: no BENCH_JSON line in $raw"
  printf '{"target":"%s","round":%d,"cpu_ticks":%d,"other_cpu_ticks":%d,"clk_tck":%d,"rss_peak_kb":%d,%s\n' \
    "$target" "$round" "$((c1 - c0))" "$others" "$CLK_TCK" "$rss" "${line#BENCH_JSON \{}" >>"$RECORDS"
  log "round $round/$ROUNDS $target: $(awk '/Requests\/sec/ {print $2 " req/s"}' "$raw"), cpu $((c1 - c0)) ticks, other processes $others ticks"
}

TIMESTAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)   # start of the measurements; names the result file
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOADAVG_START%% *}" 'BEGIN { exit !(l > 0.5) }'; then
  log "WARNING: load average is $LOADAVG_START before the bench: other work on this machine will skew the numbers"
fi
log "work dir $WORK; ports backend=$BACKEND_PORT nginx=$NGINX_PORT turnpike=$TURNPIKE_PORT"
log "targets: ${TARGETS[*]}; $ROUNDS round(s) x (${WARMUP}s warm-up + ${DURATION}s), $CONNS conns"
for ((round = 1; round <= ROUNDS; round++)); do
  for t in "${TARGETS[@]}"; do
    measure "$t" "$round"
  done
done

# --- results --------------------------------------------------------------------------------
first_line() { "$@" 2>&1 | head -n 1 || true; }
json_obj() {
  # json_obj KEY VALUE...: a flat JSON object of strings, via python for correct escaping.
  python3 -c 'import json,sys; a=sys.argv[1:]; print(json.dumps(dict(zip(a[::2], a[1::2]))))' "$@"
}

mkdir -p "$OUT"
OUT_JSON="$OUT/bench-$(date -u -d "$TIMESTAMP" +%Y%m%dT%H%M%SZ).json"
git_sha=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git_dirty=unknown
if [[ $git_sha != unknown ]]; then
  if [[ -n $(git --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null) ]]; then git_dirty=true; else git_dirty=false; fi
fi
processes_args=()
for t in "${TARGETS[@]}"; do processes_args+=("$t" "$(describe_process "${PID_OF[$t]}")"); done
skipped_args=()
for t in "${!SKIPPED[@]}"; do skipped_args+=("$t" "${SKIPPED[$t]}"); done

BENCH_TIMESTAMP=$TIMESTAMP \
BENCH_COMMAND=$COMMAND_LINE \
BENCH_HOSTNAME=$(hostname 2>/dev/null || cat /etc/hostname) \
BENCH_KERNEL=$(uname -srm) \
BENCH_CPU_MODEL=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo) \
BENCH_NPROC=$NPROC \
BENCH_JAVA_VERSION=$(if command -v "$JAVA" >/dev/null 2>&1; then "$JAVA" -version 2>&1 | paste -sd ';' -; else echo none; fi) \
BENCH_NGINX_VERSION=$(first_line "$NGINX_BIN" -v) \
BENCH_WRK_VERSION=$(first_line wrk -v | sed 's/ Copyright.*//') \
BENCH_GIT_SHA=$git_sha \
BENCH_GIT_DIRTY=$git_dirty \
BENCH_LOADAVG_START=$LOADAVG_START \
BENCH_ROUNDS=$ROUNDS BENCH_WARMUP=$WARMUP BENCH_DURATION=$DURATION BENCH_CONNS=$CONNS \
BENCH_WRK_THREADS=$WRK_THREADS BENCH_BODY_BYTES=$EXPECTED_BODY_BYTES BENCH_QUICK=$QUICK \
BENCH_TARGETS="${TARGETS[*]}" BENCH_CORE_LOAD=$CORE_LOAD BENCH_CORE_PROXY=$CORE_PROXY \
BENCH_CLK_TCK=$CLK_TCK BENCH_CONTENDED_PCT=$CONTENDED_PCT BENCH_JVM_OPTS=$JVM_OPTS BENCH_TURNPIKE_JAR=$TURNPIKE_JAR \
BENCH_WRK_COMMAND=$WRK_COMMAND \
BENCH_PROCESSES_JSON=$(json_obj "${processes_args[@]}") \
BENCH_SKIPPED_JSON=$(json_obj "${skipped_args[@]+"${skipped_args[@]}"}") \
  python3 "$LIB_DIR/bench_summary.py" "$RECORDS" "$OUT_JSON"

echo
echo "JSON: $OUT_JSON"
if [[ -f $REPORT_JAR ]] && command -v "$JAVA" >/dev/null 2>&1; then
  OUT_MD=${OUT_JSON%.json}.md
  if "$JAVA" -jar "$REPORT_JAR" report --out "$OUT_MD" "$OUT_JSON"; then
    echo "Markdown report: $OUT_MD"
  else
    log "perf-reports failed on $OUT_JSON (the JSON is still there)"
  fi
else
  log "no $REPORT_JAR: skipping the Markdown report (mvn -B -pl perf-reports package)"
fi
