#!/usr/bin/env bash
# Config propagation benchmark (issue 4): for each route count, a fresh etcd and a fresh Turnpike
# (traditional role: etcd provider + Admin API), N routes loaded, then PropagationBench measures
# Admin API write -> served on the data port (p50/p99 over the probes) and the request latency of
# a fixed-rate load, quiet and while route writes stream in. See docs/benchmarks-propagation.md.
#
#   scripts/propagation.sh [--routes 10000,50000] [--quick] [--probes N] [--rate N]
#                          [--load-via admin|etcd] [--deployment traditional|decoupled] [--out DIR]
#                          [--keep-tmp] [-- EXTRA BENCH ARGS]
#
# --deployment traditional (default): one Turnpike with the data plane and the Admin API (role traditional).
# --deployment decoupled: APISIX's decoupled layout: the Admin API in its own Turnpike process (role control_plane,
#   on the load core) and the measured gateway as role data_plane; writes reach it only through etcd.
# --churn-control (with decoupled): the churn writes go to a second control plane on another etcd prefix, which the
#   gateway does not watch: the same work on the load side, none on the gateway. Compare its churn/quiet ratio with a
#   normal run to tell the gateway's share of the churn spike from the harness's (both share a 2-core box).
#
# Layout (2 cores): backend nginx, etcd and the load generator (PropagationBench) on CORE_LOAD (0),
# Turnpike on CORE_PROXY (1), as in scripts/bench.sh.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
LIB_DIR="$SCRIPT_DIR/lib"
cd "$REPO_ROOT"

COMMAND_LINE=""
for v in ROUTES PROBES RATE LOAD_VIA DEPLOYMENT CHURN_CONTROL OUT CORE_LOAD CORE_PROXY CORE_ETCD TURNPIKE_JAR BENCH_JAR JAVA JVM_OPTS BENCH_JVM_OPTS ETCD_BIN; do
  if [[ -n ${!v+set} ]]; then COMMAND_LINE+="$v=$(printf '%q' "${!v}") "; fi
done
COMMAND_LINE+="scripts/propagation.sh"
for a in "$@"; do COMMAND_LINE+=" $(printf '%q' "$a")"; done

ROUTES=${ROUTES:-10000,50000}
PROBES=${PROBES:-200}
RATE=${RATE:-2000}
CONNS=${CONNS:-8}
WARMUP_S=${WARMUP_S:-5}
QUIET_S=${QUIET_S:-20}
CHURN_S=${CHURN_S:-20}
CHURN_RATE=${CHURN_RATE:-20}
LOAD_VIA=${LOAD_VIA:-}                # default: admin with --quick, etcd otherwise (see the docs)
LOAD_WRITERS=${LOAD_WRITERS:-4}
DEPLOYMENT=${DEPLOYMENT:-traditional}
CHURN_CONTROL=${CHURN_CONTROL:-0}
OUT=${OUT:-perf-reports/results}
CORE_LOAD=${CORE_LOAD:-0}
CORE_PROXY=${CORE_PROXY:-1}
CORE_ETCD=${CORE_ETCD:-$CORE_LOAD}
TURNPIKE_JAR=${TURNPIKE_JAR:-engine/target/turnpike.jar}
BENCH_JAR=${BENCH_JAR:-bench-jmh/target/benchmarks.jar}
JAVA=${JAVA:-java}
ETCD_BIN=${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}
JVM_OPTS_FROM_ENV=${JVM_OPTS+set}
JVM_OPTS=${JVM_OPTS:--Xms2g -Xmx2g -XX:+UseG1GC -XX:MaxGCPauseMillis=50 -XX:+AlwaysPreTouch -XX:ThreadPriorityPolicy=1 --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Dio.netty.leakDetection.level=disabled}
BENCH_JVM_OPTS=${BENCH_JVM_OPTS:--Xms256m -Xmx256m -XX:+UseParallelGC}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-120}
CONTENDED_PCT=${CONTENDED_PCT:-10}
KEEP_TMP=${KEEP_TMP:-0}
GC_LOG=${GC_LOG:-1}                  # 1: the gateway logs GC pauses (-Xlog:gc) and the JSON summarizes them
ADMIN_KEY=${ADMIN_KEY:-propagation-$RANDOM$RANDOM}
QUICK=0
EXTRA_ARGS=()

die() { echo "propagation: error: $*" >&2; exit 1; }
log() { echo "propagation: $*" >&2; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while (($#)); do
  case $1 in
    --quick) QUICK=1; shift ;;
    --routes) [[ $# -ge 2 ]] || die "--routes needs a value"; ROUTES=$2; shift 2 ;;
    --routes=*) ROUTES=${1#*=}; shift ;;
    --probes) [[ $# -ge 2 ]] || die "--probes needs a value"; PROBES=$2; shift 2 ;;
    --rate) [[ $# -ge 2 ]] || die "--rate needs a value"; RATE=$2; shift 2 ;;
    --load-via) [[ $# -ge 2 ]] || die "--load-via needs a value"; LOAD_VIA=$2; shift 2 ;;
    --deployment) [[ $# -ge 2 ]] || die "--deployment needs a value"; DEPLOYMENT=$2; shift 2 ;;
    --churn-control) CHURN_CONTROL=1; shift ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a value"; OUT=$2; shift 2 ;;
    --keep-tmp) KEEP_TMP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA_ARGS=("$@"); break ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
if ((QUICK)); then
  # CI smoke: small, short; the numbers mean nothing.
  ROUTES=1000 PROBES=50 WARMUP_S=2 QUIET_S=5 CHURN_S=5
  LOAD_VIA=${LOAD_VIA:-admin}
fi
# The bulk load is set-up, not the measurement (probes and churn always use the Admin API). Through
# the Admin API it runs at ~100-200 writes/s on this box (one etcd fsync per write, 2 Admin API
# workers): minutes for 50,000 routes. Straight into etcd (transactions of 100 puts): seconds.
LOAD_VIA=${LOAD_VIA:-etcd}
IFS=',' read -r -a ROUTE_COUNTS <<<"$ROUTES"
((${#ROUTE_COUNTS[@]})) || die "--routes is empty"
for n in "${ROUTE_COUNTS[@]}"; do is_uint "$n" || die "--routes: not a number: '$n'"; done
for v in PROBES RATE CONNS WARMUP_S QUIET_S CHURN_S CHURN_RATE LOAD_WRITERS CORE_LOAD CORE_PROXY CORE_ETCD; do
  is_uint "${!v}" || die "$v must be a non-negative integer, got '${!v}'"
done
[[ $LOAD_VIA == admin || $LOAD_VIA == etcd ]] || die "--load-via must be admin or etcd"

for cmd in nginx curl taskset python3 "$JAVA"; do
  command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' not found"
done
[[ -x $ETCD_BIN ]] || die "etcd not found (apt-get install -y etcd-server, or set ETCD_BIN)"
[[ -f $TURNPIKE_JAR ]] || die "$TURNPIKE_JAR not found (mvn -B -pl engine -am package)"
[[ -f $BENCH_JAR ]] || die "$BENCH_JAR not found (mvn -B -pl bench-jmh -am package)"
NGINX_BIN=$(command -v nginx)
NPROC=$(nproc)
((NPROC > CORE_LOAD && NPROC > CORE_PROXY && NPROC > CORE_ETCD)) || die "need cores $CORE_LOAD, $CORE_PROXY and $CORE_ETCD; nproc is $NPROC"

# ---------------------------------------------------------------------------------------------
# Processes we start; only these are ever signalled.
STARTED_PIDS=()
BENCH_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/turnpike-propagation.XXXXXX")

stop_pid() {
  # stop_pid PID: TERM, up to 5 s, then KILL.
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

forget_pid() {
  local pid keep=()
  for pid in "${STARTED_PIDS[@]}"; do [[ $pid == "$1" ]] || keep+=("$pid"); done
  STARTED_PIDS=("${keep[@]+"${keep[@]}"}")
}

cleanup() {
  local rc=$? pid
  if [[ -n ${BENCH_PID:-} ]]; then stop_pid "$BENCH_PID"; fi
  for pid in "${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"}"; do stop_pid "$pid"; done
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

render() {
  local tmpl=$1 out=$2 kv sed_args=()
  shift 2
  for kv in "$@"; do sed_args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${sed_args[@]}" "$tmpl" >"$out"
}

wait_http() {
  # wait_http NAME PID URL TIMEOUT_S: until URL answers 2xx, or the process dies, or time runs out.
  local name=$1 pid=$2 url=$3 timeout_s=$4 deadline
  deadline=$((SECONDS + timeout_s))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || die "$name (pid $pid) exited during start-up; logs in $WORK"
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  die "$name not ready at $url after ${timeout_s}s; logs in $WORK"
}

# --- backend nginx (the same templates as bench.sh) ------------------------------------------
read -r BACKEND_PORT <<<"$(free_ports 1)"
prefix="$WORK/backend"
mkdir -p "$prefix/logs" "$prefix/tmp" "$prefix/html"
user_line=""
if ((EUID == 0)); then user_line="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"; fi
render "$LIB_DIR/nginx-common.conf.tmpl" "$prefix/nginx.conf" "PREFIX=$prefix" "USER_LINE=$user_line"
render "$LIB_DIR/nginx-backend.conf.tmpl" "$prefix/http.conf" "PREFIX=$prefix" "PORT=$BACKEND_PORT" \
  "BODY_DIRECTIVE=            return 200 \"hello world\\\\n\";"
cat "$prefix/http.conf" >>"$prefix/nginx.conf"
"$NGINX_BIN" -t -q -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" || die "backend nginx config invalid"
taskset -c "$CORE_LOAD" "$NGINX_BIN" -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" \
  >"$prefix/logs/stdout.log" 2>&1 &
BACKEND_PID=$!
STARTED_PIDS+=("$BACKEND_PID")
wait_http backend "$BACKEND_PID" "http://127.0.0.1:$BACKEND_PORT/" 10

java_spec=$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
if [[ -z $JVM_OPTS_FROM_ENV && ${java_spec%%.*} =~ ^[0-9]+$ ]] && ((${java_spec%%.*} >= 24)); then
  JVM_OPTS+=" --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
fi
read -r -a jvm_opts <<<"$JVM_OPTS"
read -r -a bench_jvm_opts <<<"$BENCH_JVM_OPTS"
TURNPIKE_JAR_ABS=$(cd -- "$(dirname -- "$TURNPIKE_JAR")" && pwd)/$(basename -- "$TURNPIKE_JAR")
BENCH_JAR_ABS=$(cd -- "$(dirname -- "$BENCH_JAR")" && pwd)/$(basename -- "$BENCH_JAR")
mkdir -p "$OUT"
[[ $DEPLOYMENT == traditional || $DEPLOYMENT == decoupled ]] \
  || die "--deployment: expected traditional or decoupled, got '$DEPLOYMENT'"
if ((CHURN_CONTROL)) && [[ $DEPLOYMENT != decoupled ]]; then die "--churn-control needs --deployment decoupled"; fi

git_sha=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git_dirty=unknown
if [[ $git_sha != unknown ]]; then
  if [[ -n $(git --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null) ]]; then git_dirty=true; else git_dirty=false; fi
fi
ETCD_VERSION=$("$ETCD_BIN" --version 2>/dev/null | head -n 1 || echo unknown)
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOADAVG_START%% *}" 'BEGIN { exit !(l > 0.5) }'; then
  log "WARNING: load average is $LOADAVG_START before the bench: other work on this machine will skew the numbers"
fi

RESULT_FILES=()
run_count() {
  local n=$1 dir="$WORK/r$n" etcd_port etcd_peer data_port admin_port status_port etcd_pid tp_pid cp_pid bench_out json rc=0
  local role=traditional admin_yaml deadline churn_args=()
  mkdir -p "$dir/etcd" "$dir/turnpike/conf" "$dir/turnpike/logs"
  read -r etcd_port etcd_peer data_port admin_port status_port <<<"$(free_ports 5)"

  # etcd: fresh data dir per route count; 8 MiB request limit (APISIX's docs suggest raising it for big values).
  taskset -c "$CORE_ETCD" "$ETCD_BIN" --name propagation --data-dir "$dir/etcd/data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "propagation=http://127.0.0.1:$etcd_peer" \
    --max-request-bytes 8388608 --quota-backend-bytes 4294967296 --logger zap --log-level error \
    >"$dir/etcd/etcd.log" 2>&1 &
  etcd_pid=$!
  STARTED_PIDS+=("$etcd_pid")
  wait_http etcd "$etcd_pid" "http://127.0.0.1:$etcd_port/health" 20

  admin_yaml="  admin:
    admin_key:
      - name: admin
        key: $ADMIN_KEY
        role: admin
    admin_listen:
      ip: 127.0.0.1
      port: $admin_port"
  if [[ $DEPLOYMENT == decoupled ]]; then
    role=data_plane
    mkdir -p "$dir/control-plane/conf" "$dir/control-plane/logs"
    cat >"$dir/control-plane/conf/config.yaml" <<EOF
deployment:
  role: control_plane
  role_control_plane:
    config_provider: etcd
  etcd:
    host: ["http://127.0.0.1:$etcd_port"]
    prefix: /apisix
$admin_yaml
EOF
    taskset -c "$CORE_LOAD" "$JAVA" "${bench_jvm_opts[@]}" -XX:ThreadPriorityPolicy=1 \
      --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar "$TURNPIKE_JAR_ABS" \
      start -c "$dir/control-plane/conf/config.yaml" >"$dir/control-plane/logs/stdout.log" 2>&1 &
    cp_pid=$!
    STARTED_PIDS+=("$cp_pid")
    deadline=$((SECONDS + READY_TIMEOUT_S))
    until curl -fsS -o /dev/null --max-time 1 -H "X-API-KEY: $ADMIN_KEY" \
        "http://127.0.0.1:$admin_port/apisix/admin/routes" 2>/dev/null; do
      kill -0 "$cp_pid" 2>/dev/null || die "control plane (pid $cp_pid) exited during start-up; logs in $dir/control-plane/logs"
      ((SECONDS < deadline)) || die "control plane admin not ready on :$admin_port; logs in $dir/control-plane/logs"
      sleep 0.2
    done
    admin_yaml=""
    if ((CHURN_CONTROL)); then
      local shadow_port
      read -r shadow_port <<<"$(free_ports 1)"
      sed -e "s#prefix: /apisix#prefix: /apisix-churn-control#" -e "s#port: $admin_port#port: $shadow_port#" \
        "$dir/control-plane/conf/config.yaml" >"$dir/control-plane/conf/shadow.yaml"
      taskset -c "$CORE_LOAD" "$JAVA" "${bench_jvm_opts[@]}" -XX:ThreadPriorityPolicy=1 \
        --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar "$TURNPIKE_JAR_ABS" \
        start -c "$dir/control-plane/conf/shadow.yaml" >"$dir/control-plane/logs/shadow.log" 2>&1 &
      STARTED_PIDS+=("$!")
      until curl -fsS -o /dev/null --max-time 1 -H "X-API-KEY: $ADMIN_KEY" \
          "http://127.0.0.1:$shadow_port/apisix/admin/routes" 2>/dev/null; do
        ((SECONDS < deadline)) || die "churn-control admin not ready on :$shadow_port"
        sleep 0.2
      done
      churn_args=(--churn-admin "http://127.0.0.1:$shadow_port")
    fi
  fi
  cat >"$dir/turnpike/conf/config.yaml" <<EOF
apisix:
  node_listen: [{ip: 127.0.0.1, port: $data_port}]
  ssl: {enable: false}
deployment:
  role: $role
  role_$role:
    config_provider: etcd
  etcd:
    host: ["http://127.0.0.1:$etcd_port"]
    prefix: /apisix
$admin_yaml
turnpike:
  event_loops: 1
  # As in bench.sh: no access log, upstream connections kept for the whole run.
  access_log: false
  upstream_max_requests: 1000000
  status_listen: {ip: 127.0.0.1, port: $status_port}
plugin_attr:
  prometheus:
    # no exporter: a fixed port (9091) could collide with another gateway on this machine
    enable_export_server: false
EOF
  local tp_opts=("${jvm_opts[@]}") launch_s=$SECONDS
  if ((GC_LOG)); then tp_opts+=("-Xlog:gc:file=$dir/turnpike/logs/gc.log:uptime"); fi
  (cd "$dir/turnpike" && exec taskset -c "$CORE_PROXY" "$JAVA" "${tp_opts[@]}" -jar "$TURNPIKE_JAR_ABS" \
      start -c "$dir/turnpike/conf/config.yaml") >"$dir/turnpike/logs/stdout.log" 2>&1 &
  tp_pid=$!
  STARTED_PIDS+=("$tp_pid")
  wait_http turnpike "$tp_pid" "http://127.0.0.1:$status_port/status/ready" "$READY_TIMEOUT_S"
  log "routes=$n: etcd pid $etcd_pid :$etcd_port, turnpike pid $tp_pid data :$data_port admin :$admin_port status :$status_port"

  local probe_args=(--probes "$PROBES")
  python3 "$LIB_DIR/proc_cpu_others.py" snap "$dir/others-before.json"
  local t_start=$SECONDS tp_ticks0 tp_ticks1 log_lines0
  log_lines0=$(wc -l <"$dir/turnpike/logs/stdout.log")
  tp_ticks0=$(awk '{print $14 + $15}' "/proc/$tp_pid/stat")
  bench_out="$dir/bench.out"
  : >"$dir/bench.err"
  taskset -c "$CORE_LOAD" "$JAVA" "${bench_jvm_opts[@]}" -cp "$BENCH_JAR_ABS" \
    io.turnpike.bench.propagation.PropagationBench \
    --admin "http://127.0.0.1:$admin_port" --admin-key "$ADMIN_KEY" --data "127.0.0.1:$data_port" \
    --backend "127.0.0.1:$BACKEND_PORT" --status "http://127.0.0.1:$status_port/status/ready" \
    --etcd "http://127.0.0.1:$etcd_port" --etcd-prefix /apisix \
    --routes "$n" "${probe_args[@]}" --rate "$RATE" --conns "$CONNS" --load-via "$LOAD_VIA" \
    --load-writers "$LOAD_WRITERS" --warmup-s "$WARMUP_S" --quiet-s "$QUIET_S" --churn-s "$CHURN_S" \
    --churn-rate "$CHURN_RATE" --ready-timeout-s "$READY_TIMEOUT_S" --out "$OUT" \
    --env "git_sha=$git_sha" --env "git_dirty=$git_dirty" --env "etcd=$ETCD_VERSION" \
    --env "nproc=$NPROC" --env "cores=load $CORE_LOAD, etcd $CORE_ETCD, turnpike $CORE_PROXY" \
    --env "turnpike_jvm_opts=$JVM_OPTS" --env "bench_jvm_opts=$BENCH_JVM_OPTS" --env "turnpike_jar=$TURNPIKE_JAR" \
    --env "script_command=$COMMAND_LINE" --env "deployment=$DEPLOYMENT" --env "churn_control=$CHURN_CONTROL" \
    "${churn_args[@]+"${churn_args[@]}"}" \
    "${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"}" >"$bench_out" 2>"$dir/bench.err" &
  BENCH_PID=$!
  # Progress (the bench's stderr) live on stderr; its table (stdout) is printed once it is done.
  tail -n +1 -f --pid="$BENCH_PID" "$dir/bench.err" >&2 &
  local tail_pid=$!
  wait "$BENCH_PID" || rc=$?
  BENCH_PID=
  wait "$tail_pid" 2>/dev/null || true
  tp_ticks1=$(awk '{print $14 + $15}' "/proc/$tp_pid/stat" 2>/dev/null || echo "$tp_ticks0")
  local others window
  others=$(python3 "$LIB_DIR/proc_cpu_others.py" diff "$dir/others-before.json" "$$")
  window=$((SECONDS - t_start))
  kill -0 "$tp_pid" 2>/dev/null || log "WARNING: turnpike (pid $tp_pid) died during the run; log: $dir/turnpike/logs/stdout.log"
  ((rc == 0)) || { KEEP_TMP=1; die "PropagationBench failed (exit $rc) at $n routes; logs in $dir"; }
  json=$(awk '/^JSON: / {print $2}' "$bench_out" | tail -n 1)
  [[ -n $json && -f $json ]] || die "no JSON from PropagationBench at $n routes"
  # Add what only the script knows: CPU of other processes and of the gateway over the whole run.
  python3 - "$json" "$others" "$window" "$(getconf CLK_TCK)" "$((tp_ticks1 - tp_ticks0))" "$CONTENDED_PCT" \
    "$dir/turnpike/logs/stdout.log" "$log_lines0" "$dir/turnpike/logs/gc.log" "$((t_start - launch_s))" \
    >"$dir/gateway.txt" <<'EOF'
import json, re, sys
path, others, window, clk, tp, pct = sys.argv[1], int(sys.argv[2]), max(1, int(sys.argv[3])), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
tp_log, lines0, gc_log, up0 = sys.argv[7], int(sys.argv[8]), sys.argv[9], int(sys.argv[10])
with open(path) as f:
    d = json.load(f)

def dist(v):
    v = sorted(v)
    pick = lambda q: v[min(len(v) - 1, int(q * len(v)))]
    return {"p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "max": v[-1]} if v else {}

# What the gateway itself says during the bench: its snapshot log lines and its GC pauses.
gw = {}
try:
    with open(tp_log, errors="replace") as f:
        lines = f.read().splitlines()[lines0:]
    comp, appl, incr = [], [], 0
    for ln in lines:
        m = re.search(r"compiled( \(incremental\))? in ([0-9.]+) ms, applied on all loops in ([0-9.]+) ms", ln)
        if m:
            comp.append(float(m.group(2))); appl.append(float(m.group(3)))
            incr += 1 if m.group(1) else 0
    if comp:
        gw["snapshots"] = {"count": len(comp), "incremental": incr, "compile_ms": dist(comp), "applied_ms": dist(appl),
                           "source": "the gateway's 'snapshot N (R routes) compiled in X ms, applied on all loops in Y ms' lines"}
except OSError:
    pass
try:
    pauses = []
    with open(gc_log, errors="replace") as f:
        for ln in f:
            m = re.match(r"\[([0-9.]+)s\].*Pause.* ([0-9.]+)ms\s*$", ln)
            if m and float(m.group(1)) >= up0 - 1:
                pauses.append(float(m.group(2)))
    gw["gc"] = {"pauses": len(pauses), "total_pause_ms": round(sum(pauses), 1),
                "pause_pct_of_run": round(sum(pauses) / 10 / window, 1),
                "pause_ms": dist(pauses), "source": "-Xlog:gc pauses from the bench's start (uptime, ~1 s slack)"}
except OSError:
    pass
if gw:
    d["gateway"] = gw
    s = gw.get("snapshots"); g = gw.get("gc")
    if s:
        print(f"gateway: {s['count']} snapshots during the run; compile ms p50 {s['compile_ms']['p50']}, "
              f"p90 {s['compile_ms']['p90']}, max {s['compile_ms']['max']}; applied on all loops ms p50 "
              f"{s['applied_ms']['p50']}, max {s['applied_ms']['max']}")
    if g and g["pauses"]:
        print(f"gateway GC: {g['pauses']} pauses, {g['total_pause_ms']} ms in total ({g['pause_pct_of_run']}% of the "
              f"run), p50 {g['pause_ms']['p50']} ms, max {g['pause_ms']['max']} ms")
other_pct = round(others / clk / window * 100, 1)
d["contention"] = {
    "window_s": window, "other_cpu_ticks": others, "other_cpu_pct": other_pct,
    "turnpike_cpu_s": round(tp / clk, 2), "contended_pct": pct, "contended": other_pct > pct,
    "definition": "CPU of processes outside the script's tree over the whole run, % of one core (lower bound)",
}
with open(path, "w") as f:
    json.dump(d, f, indent=2)
    f.write("\n")
if other_pct > pct:
    print(f"propagation: WARNING: other processes used {other_pct}% of a core during the run: CONTENDED", file=sys.stderr)
EOF
  RESULT_FILES+=("$json")
  cat "$bench_out" "$dir/gateway.txt"

  stop_pid "$tp_pid"; forget_pid "$tp_pid"
  stop_pid "$etcd_pid"; forget_pid "$etcd_pid"
  rm -rf -- "$dir/etcd/data"
}

log "work dir $WORK; backend :$BACKEND_PORT; route counts: ${ROUTE_COUNTS[*]}; $PROBES probes; load $RATE req/s"
for n in "${ROUTE_COUNTS[@]}"; do
  run_count "$n"
done

echo
echo "Summary ($COMMAND_LINE)"
python3 - "${RESULT_FILES[@]}" <<'EOF'
import json, sys
rows = []
for path in sys.argv[1:]:
    d = json.load(open(path))
    r = d["results"]; p = r["propagation"]; c = r["churn"]; t = r["targets"]
    rows.append([
        f'{r["bulk_load"]["routes"]:,}',
        f'{p["ack_to_served"]["p50_ms"]:.2f}', f'{p["ack_to_served"]["p99_ms"]:.2f}',
        f'{p["send_to_served"]["p50_ms"]:.2f}', f'{p["send_to_served"]["p99_ms"]:.2f}',
        str(p["timeouts"]),
        f'{c["quiet"]["p99_ms"]:.3f}', f'{c["churn"]["p99_ms"]:.3f}',
        f'{t["churn_p99_vs_quiet"]["ratio"]:.2f}x',
        str(t["no_request_errors"]["value"]),
        "CONTENDED" if d.get("contention", {}).get("contended") else "",
        "PASS" if t["all_pass"] else "FAIL",
    ])
head = ["routes", "ack->srv p50", "ack->srv p99", "put->srv p50", "put->srv p99", "timeouts",
        "quiet p99", "churn p99", "ratio", "req errors", "", "targets"]
w = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(len(head))]
print("  ".join(h.rjust(w[i]) for i, h in enumerate(head)))
for r in rows:
    print("  ".join(v.rjust(w[i]) for i, v in enumerate(r)))
print("(propagation in ms over the probes; request p99 in ms at the fixed offered rate, CO-corrected)")
for path in sys.argv[1:]:
    print("JSON:", path)
EOF
