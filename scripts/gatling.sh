#!/usr/bin/env bash
# Gatling load tests against a live Turnpike: starts nginx backend(s) and Turnpike (10,000 generated routes), runs
# the simulation(s) with the Gatling Maven plugin, stops what it started. See docs/loadtest-gatling.md.
#
#   scripts/gatling.sh [--quick] [--keep-tmp] [SIMULATION...]
#
# SIMULATION: RouteMix, KeepAliveVsNewConnections, ConfigChurn, BackendKill (or the class names
# io.turnpike.loadtest.<Name>Simulation); default: all four, one after the other, each against a fresh gateway.
# Exit status: 0 when every simulation passed; 1 when one failed (a Gatling assertion, a dead process, a churn
# that never reached the gateway, a kill that did not happen); 2 on a set-up error (the temp dir is then kept).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
LIB_DIR="$SCRIPT_DIR/lib"
LT_DIR="$REPO_ROOT/loadtest-gatling"
cd "$REPO_ROOT"

QUICK=0
KEEP_TMP=${KEEP_TMP:-0}
SIMS=()

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options:
  --quick        short runs (15 s at the rate; KeepAliveVsNewConnections 10 s per phase)
  --keep-tmp     keep the private temp dir (configs, logs) [KEEP_TMP=1]
Environment (defaults in brackets; the --quick defaults after the slash):
  RATE [500]              arrivals (requests) per second, every simulation
  DURATION [60/15]        seconds at RATE
  RAMP [5/2]              seconds of ramp from RATE/10 to RATE before that
  ROUTES [10000]          generated routes
  WARMUP [5/3]            seconds of wrk against the fresh gateway before Gatling (JIT), 0 = none
  P99_MS_ROUTEMIX [50] P99_MS_KEEPALIVE [50] P99_MS_NEWCONN [50] P99_MS_CHURN [100] P99_MS_KILL [50]
  KILL_SIGNAL [KILL]      how BackendKill stops node A: KILL (SIGKILL to master and worker: a crash) or
                          QUIT (nginx graceful shutdown: finishes in-flight requests, closes idle ones)
  KA_DURATION [30/10]     KeepAliveVsNewConnections: seconds at RATE per phase
  KILL_AFTER [DURATION/2] BackendKill: seconds into the constant-rate phase (after the ramp)
  CHURN_INTERVAL_MS [200] ConfigChurn rewrite period
  CORE_LOAD [0] CORE_PROXY [1]   backend(s) + warm-up wrk pinned to CORE_LOAD, Turnpike to CORE_PROXY
  CORE_GATLING []         pin Maven + Gatling to this core list (default: not pinned)
  GATLING_GRACE [180]     the Maven/Gatling run is killed after 2 x (RAMP + DURATION) + this many seconds
  JVM_OPTS (Turnpike; default: bin/turnpike's G1 flags, 512 MiB heap; a GC log is always added), TURNPIKE_JAR [engine/target/turnpike.jar], MVN [mvn], JAVA [java]
EOF
}

die() { echo "gatling.sh: error: $*" >&2; exit 2; }
log() { echo "gatling.sh: $*" >&2; }

while (($#)); do
  case $1 in
    --quick) QUICK=1; shift ;;
    --keep-tmp) KEEP_TMP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $1" ;;
    *) SIMS+=("$1"); shift ;;
  esac
done

ALL_SIMS=(RouteMix KeepAliveVsNewConnections ConfigChurn BackendKill)
((${#SIMS[@]})) || SIMS=("${ALL_SIMS[@]}")
for i in "${!SIMS[@]}"; do
  s=${SIMS[$i]}
  s=${s#io.turnpike.loadtest.}
  s=${s%Simulation}
  case $s in
    RouteMix|KeepAliveVsNewConnections|ConfigChurn|BackendKill) SIMS[$i]=$s ;;
    *) die "unknown simulation '${SIMS[$i]}' (expected one of: ${ALL_SIMS[*]})" ;;
  esac
done

if ((QUICK)); then
  DURATION=${DURATION:-15}; RAMP=${RAMP:-2}; WARMUP=${WARMUP:-3}; KA_DURATION=${KA_DURATION:-10}
else
  DURATION=${DURATION:-60}; RAMP=${RAMP:-5}; WARMUP=${WARMUP:-5}; KA_DURATION=${KA_DURATION:-30}
fi
RATE=${RATE:-500}
ROUTES=${ROUTES:-10000}
P99_MS_ROUTEMIX=${P99_MS_ROUTEMIX:-50}
P99_MS_KEEPALIVE=${P99_MS_KEEPALIVE:-50}
P99_MS_NEWCONN=${P99_MS_NEWCONN:-50}
P99_MS_CHURN=${P99_MS_CHURN:-100}
P99_MS_KILL=${P99_MS_KILL:-50}
KILL_SIGNAL=${KILL_SIGNAL:-KILL}
KILL_AFTER=${KILL_AFTER:-$((DURATION / 2))}
CHURN_INTERVAL_MS=${CHURN_INTERVAL_MS:-200}
CORE_LOAD=${CORE_LOAD:-0}
CORE_PROXY=${CORE_PROXY:-1}
CORE_GATLING=${CORE_GATLING:-}
GATLING_GRACE=${GATLING_GRACE:-180}
TURNPIKE_JAR=${TURNPIKE_JAR:-engine/target/turnpike.jar}
JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
JVM_OPTS_FROM_ENV=${JVM_OPTS+set}
# The launcher's (bin/turnpike) collector, G1 with a 50 ms pause goal, as shipped: these are latency runs. (bench.sh
# uses ParallelGC for CPU cost; under config churn its young pauses reached hundreds of ms here.)
JVM_OPTS=${JVM_OPTS:--Xms512m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=50 -XX:+AlwaysPreTouch --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Dio.netty.allocator.type=pooled -Dio.netty.leakDetection.level=disabled}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-60}

for v in DURATION RAMP WARMUP KA_DURATION ROUTES P99_MS_ROUTEMIX P99_MS_KEEPALIVE P99_MS_NEWCONN P99_MS_CHURN \
         P99_MS_KILL KILL_AFTER CHURN_INTERVAL_MS CORE_LOAD CORE_PROXY; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
[[ $RATE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "RATE must be a number, got '$RATE'"
((ROUTES >= 4)) || die "ROUTES must be >= 4"
case $KILL_SIGNAL in KILL|QUIT|TERM) ;; *) die "KILL_SIGNAL must be KILL, QUIT or TERM" ;; esac

for cmd in nginx wrk curl taskset python3 "$MVN" "$JAVA"; do
  command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' not found (apt-get install -y nginx-light wrk curl util-linux python3 maven)"
done
NGINX_BIN=$(command -v nginx)
NPROC=$(nproc)
((NPROC > CORE_LOAD && NPROC > CORE_PROXY)) || die "need cores $CORE_LOAD and $CORE_PROXY, nproc is $NPROC"

if [[ ! -f $TURNPIKE_JAR ]]; then
  log "$TURNPIKE_JAR not found: building it (mvn -B -q -pl engine -am package -DskipTests)"
  "$MVN" -B -q -pl engine -am package -DskipTests || die "building $TURNPIKE_JAR failed"
  [[ -f $TURNPIKE_JAR ]] || die "$TURNPIKE_JAR still missing after the build"
fi
TURNPIKE_JAR_ABS=$(cd -- "$(dirname -- "$TURNPIKE_JAR")" && pwd)/$(basename -- "$TURNPIKE_JAR")
java_spec=$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
if [[ -z $JVM_OPTS_FROM_ENV && ${java_spec%%.*} =~ ^[0-9]+$ ]] && ((${java_spec%%.*} >= 24)); then
  JVM_OPTS+=" --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
fi
read -r -a JVM_ARGS <<<"$JVM_OPTS"
# Gatling (Maven and its forked JVM) is not pinned by default: squeezed onto one busy core, its start-up overran
# Gatling's own 5 s stats-engine timeout on this shared 2-core machine. CORE_GATLING=0 pins it.
GATLING_PIN=()
if [[ -n $CORE_GATLING ]]; then GATLING_PIN=(taskset -c "$CORE_GATLING"); fi

# ---------------------------------------------------------------------------------------------
# Processes we start; only these are ever signalled (by PID).
STARTED_PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/turnpike-gatling.XXXXXX")
if ((EUID == 0)); then chmod 755 "$WORK"; fi
OVERALL_RC=0

stop_pid() {
  # stop_pid PID [SIGNAL]: signal one process we started, wait up to 5 s, then SIGKILL it.
  local pid=$1 sig=${2:-TERM}
  kill -"$sig" "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_all() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    # nginx forwards TERM to its worker (its child, which we therefore never signal ourselves).
    stop_pid "$pid" TERM
  done
  STARTED_PIDS=()
}

cleanup() {
  local rc=$?
  stop_all
  if ((KEEP_TMP)) || ((rc != 0 && rc != 1)); then
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

nginx_user_line() {
  if ((EUID == 0)); then echo "user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"; fi
}

wait_http() {
  # wait_http NAME PID URL TIMEOUT_S
  local name=$1 pid=$2 url=$3 timeout_s=$4 deadline
  deadline=$((SECONDS + timeout_s))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || die "$name (pid $pid) exited during start-up; logs in $WORK"
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  die "$name not ready at $url after ${timeout_s}s; logs in $WORK"
}

# start_backend DIR PORT...: one nginx (1 worker, pinned to CORE_LOAD) answering "hello world\n" on every PORT.
# Prints its PID (the master; its worker is its child).
start_backend() {
  local prefix=$1 port pid
  shift
  mkdir -p "$prefix/logs" "$prefix/tmp" "$prefix/html"
  render "$LIB_DIR/nginx-common.conf.tmpl" "$prefix/nginx.conf" "PREFIX=$prefix" "USER_LINE=$(nginx_user_line)"
  {
    echo "http {"
    echo "    access_log off;"
    echo "    client_body_temp_path $prefix/tmp/client_body;"
    echo "    proxy_temp_path $prefix/tmp/proxy;"
    echo "    fastcgi_temp_path $prefix/tmp/fastcgi;"
    echo "    keepalive_requests 1000000;"
    echo "    keepalive_timeout 300s;"
    echo "    server_tokens off;"
    echo "    server {"
    for port in "$@"; do echo "        listen 127.0.0.1:$port backlog=4096;"; done
    echo "        location / {"
    echo "            default_type text/plain;"
    echo "            return 200 \"hello world\\n\";"
    echo "        }"
    echo "    }"
    echo "}"
  } >>"$prefix/nginx.conf"
  "$NGINX_BIN" -t -q -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" \
    || die "nginx config invalid: $prefix/nginx.conf"
  taskset -c "$CORE_LOAD" "$NGINX_BIN" -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" \
    >"$prefix/logs/stdout.log" 2>&1 &
  pid=$!
  STARTED_PIDS+=("$pid")
  for port in "$@"; do wait_http "backend nginx" "$pid" "http://127.0.0.1:$port/" 10; done
  LAST_PID=$pid
}

# start_turnpike DIR PORT STATUS_PORT NODES: config.yaml + generated apisix.yaml, pinned to CORE_PROXY.
start_turnpike() {
  local dir=$1 port=$2 status_port=$3 nodes=$4 conf="$1/conf"
  mkdir -p "$conf" "$dir/logs"
  cat >"$conf/config.yaml" <<EOF
apisix:
  node_listen: [{ip: 127.0.0.1, port: $port}]
  ssl: {enable: false}
deployment:
  role: data_plane
  role_data_plane:
    config_provider: yaml
turnpike:
  event_loops: 1
  access_log: false
  upstream_max_requests: 1000000
  status_listen:
    ip: 127.0.0.1
    port: $status_port
plugin_attr:
  prometheus:
    # no exporter: a fixed port (9091) could collide with another gateway on this machine
    enable_export_server: false
EOF
  python3 "$LT_DIR/tools/gen_config.py" write --out "$conf/apisix.yaml" --routes "$ROUTES" --nodes "$nodes"
  (cd "$dir" && exec taskset -c "$CORE_PROXY" "$JAVA" "${JVM_ARGS[@]}" -Xlog:gc:file="$dir/logs/gc.log":uptime \
      -jar "$TURNPIKE_JAR_ABS" \
      start -c "$conf/config.yaml") >"$dir/logs/stdout.log" 2>&1 &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
  wait_http turnpike "$LAST_PID" "http://127.0.0.1:$status_port/status/ready" "$READY_TIMEOUT_S"
  # One request of every kind must reach the backend before anything is timed.
  local i path host got
  for i in 0 1 2 3 $((ROUTES - 1)); do
    case $((i % 4)) in
      0) path="/r/$i" host=plain.example.test ;;
      1) path="/r/$i/x" host=plain.example.test ;;
      2) path="/r/$i/items/7" host=plain.example.test ;;
      3) path="/r/$i" host="h$i.example.test" ;;
    esac
    got=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H "Host: $host" "http://127.0.0.1:$port$path") || got=err
    [[ $got == 200 ]] || die "turnpike: GET $path (Host $host) answered $got, expected 200; logs in $dir/logs"
  done
  got=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/r/3") || got=err
  [[ $got == 404 ]] || die "turnpike: host-bound /r/3 without its Host answered $got, expected 404"
}

warm_up() {
  # warm_up PORT: WARMUP seconds of wrk (closed loop, 16 connections) over the same route mix, so that Gatling does
  # not measure the gateway's JIT compilation. Not measured.
  local port=$1 dir=$2
  ((WARMUP > 0)) || return 0
  cat >"$dir/warmup.lua" <<EOF
local n = $ROUTES
request = function()
  local i = math.random(0, n - 1)
  local k = i % 4
  local path, host = "/r/" .. i, "plain.example.test"
  if k == 1 then path = path .. "/x" elseif k == 2 then path = path .. "/items/" .. math.random(0, 999)
  elseif k == 3 then host = "h" .. i .. ".example.test" end
  return wrk.format("GET", path, {Host = host})
end
EOF
  taskset -c "$CORE_LOAD" wrk -t1 -c16 -d"${WARMUP}s" -s "$dir/warmup.lua" "http://127.0.0.1:$port/" >"$dir/logs/warmup.txt" 2>&1 \
    || die "warm-up wrk failed (see $dir/logs/warmup.txt)"
  if grep -q 'Non-2xx' "$dir/logs/warmup.txt"; then die "warm-up saw non-2xx answers (see $dir/logs/warmup.txt)"; fi
}

status_json() { curl -fsS --max-time 2 "http://127.0.0.1:$1/status" 2>/dev/null || echo '{}'; }

status_delta() {
  # status_delta BEFORE_JSON AFTER_JSON: one line of counter deltas from Turnpike's /status.
  python3 - "$1" "$2" <<'EOF'
import json, sys
try:
    a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
except ValueError:
    print("(no /status)"); sys.exit(0)
ca, cb = a.get("counters", {}), b.get("counters", {})
keys = ["requests", "downstream_connections_opened", "upstream_connections_opened", "upstream_retries"]
parts = [f"{k}=+{cb.get(k, 0) - ca.get(k, 0)}" for k in keys]
parts.append(f"snapshot_version {a.get('snapshot_version')}->{b.get('snapshot_version')}")
errs = {k: v - ca.get(k, 0) for k, v in cb.items() if k not in keys and isinstance(v, int) and v - ca.get(k, 0)}
print(" ".join(parts) + (" other counters: " + json.dumps(errs) if errs else ""))
EOF
}

gatling_summary() {
  # gatling_summary RUN_DIR: global requests, KO, p50, p99, max from the HTML report's js/stats.js (the first
  # "stats" block there is the global one).
  python3 - "$1" <<'EOF'
import os, re, sys
p = os.path.join(sys.argv[1], "js", "stats.js")
try:
    text = open(p).read()
except OSError as e:
    print(f"(no {p}: {e})"); sys.exit(0)
def first(key, field="total"):
    m = re.search(r'"%s":\s*\{[^}]*?"%s":\s*"?([^",\s]+)' % (key, field), text)
    return m.group(1) if m else "?"
print(f"requests={first('numberOfRequests')} failed={first('numberOfRequests', 'ko')} "
      f"p50={first('percentiles1')}ms p99={first('percentiles4')}ms max={first('maxResponseTime')}ms")
EOF
}

SUMMARY=()
REPORTS=()

run_sim() {
  local sim=$1 dir="$WORK/$1" class="io.turnpike.loadtest.${1}Simulation" tp_pid nodes p99 extra_p99=
  local duration=$DURATION churn_pid='' killer_pid='' rc=0 node_a_pid='' before after run_dir='' marker
  mkdir -p "$dir"
  local backend_port backend_port2 tp_port status_port
  read -r backend_port backend_port2 tp_port status_port <<<"$(free_ports 4)"
  case $sim in
    RouteMix) p99=$P99_MS_ROUTEMIX
      start_backend "$dir/backend" "$backend_port"; nodes="127.0.0.1:$backend_port" ;;
    KeepAliveVsNewConnections) p99=$P99_MS_KEEPALIVE extra_p99=$P99_MS_NEWCONN duration=$KA_DURATION
      start_backend "$dir/backend" "$backend_port"; nodes="127.0.0.1:$backend_port" ;;
    ConfigChurn) p99=$P99_MS_CHURN
      # One nginx, two ports: two nodes whose weights the churn rewrites.
      start_backend "$dir/backend" "$backend_port" "$backend_port2"
      nodes="127.0.0.1:$backend_port,127.0.0.1:$backend_port2" ;;
    BackendKill) p99=$P99_MS_KILL
      # Two nginx processes: node A (killed mid-run) and node B.
      start_backend "$dir/backend-a" "$backend_port"; node_a_pid=$LAST_PID
      start_backend "$dir/backend-b" "$backend_port2"
      nodes="127.0.0.1:$backend_port,127.0.0.1:$backend_port2" ;;
  esac
  start_turnpike "$dir/turnpike" "$tp_port" "$status_port" "$nodes"
  tp_pid=$LAST_PID
  log "$sim: turnpike pid $tp_pid on 127.0.0.1:$tp_port ($ROUTES routes, nodes $nodes); warming up ${WARMUP}s"
  warm_up "$tp_port" "$dir/turnpike"
  sleep 1   # let the gateway finish the warm-up's last exchanges before the counters are read

  marker="$dir/started"
  if [[ $sim == ConfigChurn ]]; then
    taskset -c "$CORE_LOAD" python3 "$LT_DIR/tools/gen_config.py" churn --out "$dir/turnpike/conf/apisix.yaml" \
      --routes "$ROUTES" --nodes "$nodes" --interval-ms "$CHURN_INTERVAL_MS" --count-file "$dir/churn-count" &
    churn_pid=$!
    STARTED_PIDS+=("$churn_pid")
    log "$sim: churn writer pid $churn_pid rewrites apisix.yaml every ${CHURN_INTERVAL_MS} ms"
  fi
  if [[ $sim == BackendKill ]]; then
    (
      while [[ ! -f $marker ]]; do sleep 0.1; done
      sleep "$((RAMP + KILL_AFTER))"
      if [[ $KILL_SIGNAL == KILL ]]; then
        # A crash: the master and its worker die; the kernel closes their sockets. The master is stopped first:
        # a running master respawns a worker that dies before it does, and that orphan keeps serving the port
        # (it happened: "node A" came back 5 s after the kill, and outlived the script).
        kill -STOP "$node_a_pid" 2>/dev/null || true
        workers=$(pgrep -P "$node_a_pid" 2>/dev/null | tr '\n' ' ' || true)
        # shellcheck disable=SC2086
        kill -KILL $workers "$node_a_pid" 2>/dev/null || true
      else
        workers=$(pgrep -P "$node_a_pid" 2>/dev/null | tr '\n' ' ' || true)
        kill -"$KILL_SIGNAL" "$node_a_pid" 2>/dev/null || true
      fi
      date +%T.%N >"$dir/killed"
      echo "gatling.sh: BackendKill: sent SIG$KILL_SIGNAL to node A (nginx master $node_a_pid, workers ${workers:-none}) at $(date +%T.%N | cut -c1-12)" >&2
      # Node A's port must now refuse connections; if anything answers there (a respawned worker, another process
      # on the freed port) the gateway keeps using "A" and the run proves nothing: it is marked invalid.
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        sleep 0.5
        if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$backend_port/" 2>/dev/null; then
          echo "port $backend_port answers again at $(date +%T)" >"$dir/node-a-port-reused"
        fi
      done
    ) &
    killer_pid=$!
    STARTED_PIDS+=("$killer_pid")
  fi

  before=$(status_json "$status_port")
  python3 "$LIB_DIR/proc_cpu_others.py" snap "$dir/others-before.json"
  local t0=$SECONDS
  local props=(-DbaseUrl="http://127.0.0.1:$tp_port" -Drate="$RATE" -DdurationS="$duration" -DrampS="$RAMP"
               -Droutes="$ROUTES" -Dp99Ms="$p99" -DstartedFile="$marker" -DresultFile="$dir/client-side.txt"
               -DkoLog="$dir/failed-requests.log")
  [[ -n $extra_p99 ]] && props+=(-Dp99MsNewConn="$extra_p99")
  log "$sim: running $class (rate $RATE/s, ${RAMP}s ramp + ${duration}s$([[ $sim == KeepAliveVsNewConnections ]] && echo ' per phase'), p99 budget ${p99} ms${extra_p99:+ / new connections ${extra_p99} ms})"
  rm -f "$LT_DIR/target/gatling/lastRun.txt"
  TP_BASE_URL="http://127.0.0.1:$tp_port" TP_RATE=$RATE TP_DURATION_S=$duration TP_RAMP_S=$RAMP TP_ROUTES=$ROUTES \
  TP_P99_MS=$p99 TP_STARTED_FILE=$marker TP_P99_MS_NEW_CONN=$extra_p99 TP_RESULT_FILE="$dir/client-side.txt" \
  koLog="$dir/failed-requests.log" \
    "${GATLING_PIN[@]}" timeout --kill-after=10 "$((2 * (RAMP + duration) + GATLING_GRACE))" \
    "$MVN" -B -f "$LT_DIR/pom.xml" gatling:test -Dgatling.simulationClass="$class" "${props[@]}" \
    2>&1 | tee "$dir/gatling.log" || rc=$?
  if ((rc == 124 || rc == 137)); then log "$sim: Gatling did not finish in time (killed)"; fi
  after=$(status_json "$status_port")
  local others_ticks others_pct clk
  clk=$(getconf CLK_TCK)
  others_ticks=$(python3 "$LIB_DIR/proc_cpu_others.py" diff "$dir/others-before.json" "$$" 2>"$dir/others-top.txt" || echo 0)
  others_pct=$(( others_ticks * 100 / clk / (SECONDS - t0 > 0 ? SECONDS - t0 : 1) ))

  if [[ -n $churn_pid ]]; then stop_pid "$churn_pid" TERM; fi
  if [[ -n $killer_pid ]]; then
    [[ -f $dir/killed ]] || { log "$sim: the kill never happened (the run ended first)"; rc=1; }
    stop_pid "$killer_pid" TERM
  fi
  kill -0 "$tp_pid" 2>/dev/null || { log "$sim: turnpike (pid $tp_pid) died during the run; see $dir/turnpike/logs"; rc=1; }

  local delta extra_note=""
  delta=$(status_delta "$before" "$after")
  if [[ $sim == ConfigChurn ]]; then
    local gens v0 v1
    gens=$(cat "$dir/churn-count" 2>/dev/null || echo 0)
    v0=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("snapshot_version",0))' "$before" 2>/dev/null || echo 0)
    v1=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("snapshot_version",0))' "$after" 2>/dev/null || echo 0)
    local applied
    # "turnpike: snapshot N (R routes) compiled in X ms, applied on all loops in Y ms": Y of the churn's snapshots.
    applied=$(awk '/snapshot [0-9]+ .* applied on all loops in/ && $3 > 1 { v = $(NF-1); n++; s += v; if (v > m) m = v }
                   END { if (n) printf "compile+apply mean %.0f ms, max %.0f ms", s / n, m }' "$dir/turnpike/logs/stdout.log")
    extra_note=" churn: $gens rewrites, $((v1 - v0)) snapshots applied (${applied:-no timings})"
    if ((v1 - v0 < 2)); then log "$sim: the snapshot version advanced by $((v1 - v0)) only: the churn did not reach the gateway"; rc=1; fi
    if grep -qi 'refus\|failed\|problem' "$dir/turnpike/logs/stdout.log"; then
      log "$sim: turnpike complained about a rewritten file: $(grep -m1 -i 'refus\|failed\|problem' "$dir/turnpike/logs/stdout.log")"
      rc=1
    fi
  fi
  if [[ $sim == BackendKill ]]; then
    if kill -0 "$node_a_pid" 2>/dev/null && [[ $KILL_SIGNAL == KILL ]]; then log "$sim: node A is still alive"; rc=1; fi
    extra_note=" node A: SIG$KILL_SIGNAL"
    if [[ -f $dir/node-a-port-reused ]]; then
      log "$sim: INVALID: after the kill, node A's $(cat "$dir/node-a-port-reused")"; rc=1
    fi
    local retries
    retries=$(python3 -c 'import json,sys; a,b=(json.loads(x).get("counters",{}) for x in sys.argv[1:]); print(b.get("upstream_retries",0)-a.get("upstream_retries",0))' "$before" "$after" 2>/dev/null || echo 0)
    if ((retries == 0)); then
      log "$sim: INVALID: no upstream retry after the kill: the gateway never tried the dead node"; rc=1
    fi
  fi

  if [[ -f $LT_DIR/target/gatling/lastRun.txt ]]; then
    run_dir="$LT_DIR/target/gatling/$(head -n1 "$LT_DIR/target/gatling/lastRun.txt")"
  fi
  local client_retries client_conns client_note
  client_retries=$(sed -n 's/^client_retries=//p' "$dir/client-side.txt" 2>/dev/null || true)
  client_conns=$(sed -n 's/^client_connections=//p' "$dir/client-side.txt" 2>/dev/null || true)
  client_note=" gatling client: ${client_conns:-?} connections opened, ${client_retries:-?} requests silently re-sent"
  if [[ -n $client_retries && $client_retries != 0 ]]; then
    # Gatling's client re-sends a request once when its keep-alive connection closes before the response, and then
    # reports only the retry's outcome. Turnpike's idle timeout (60 s) outlasts the run, so each one is a request the
    # gateway dropped: counted as a failure here, since the assertions cannot see it.
    log "$sim: $client_retries request(s) were re-sent by Gatling's client after the gateway closed the connection under them"
    rc=1
  fi
  if [[ -s $dir/failed-requests.log ]]; then
    cp "$dir/failed-requests.log" "${run_dir:-$LT_DIR/target/gatling}/failed-requests-$sim.log" 2>/dev/null || true
    log "$sim: failed requests logged in ${run_dir:-$LT_DIR/target/gatling}/failed-requests-$sim.log"
  fi
  local gc_note
  # GC pauses of the gateway over its whole life (start-up and warm-up included): count, total, max.
  gc_note=$(awk '/Pause/ { v = $NF; sub(/ms$/, "", v); n++; t += v; if (v + 0 > m) m = v + 0 }
                 END { if (n) printf " turnpike GC: %d pauses, %.0f ms in all, max %.1f ms", n, t, m }' \
            "$dir/turnpike/logs/gc.log" 2>/dev/null || true)
  local result="PASSED"
  ((rc == 0)) || { result="FAILED"; OVERALL_RC=1; }
  SUMMARY+=("$sim: $result; gatling: $( [[ -n $run_dir ]] && gatling_summary "$run_dir" || echo 'no report'); turnpike /status: $delta;$extra_note;$client_note;$gc_note; other processes used ${others_pct}% of a core during the run (load avg $(cut -d' ' -f1 /proc/loadavg))")
  if [[ -n $run_dir && -f $run_dir/index.html ]]; then REPORTS+=("$sim: $run_dir/index.html"); fi

  stop_all
}

log "work dir $WORK; simulations: ${SIMS[*]}; quick=$QUICK"
if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { exit !(l > 1.0) }'; then
  log "WARNING: load average is $(cut -d' ' -f1-3 /proc/loadavg): other work on this machine will inflate the latencies"
fi
for sim in "${SIMS[@]}"; do
  run_sim "$sim"
done

echo
echo "=== Gatling results ==="
for line in "${SUMMARY[@]}"; do echo "$line"; done
echo
echo "HTML reports:"
for line in "${REPORTS[@]+"${REPORTS[@]}"}"; do echo "  $line"; done
exit "$OVERALL_RC"
