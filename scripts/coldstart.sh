#!/usr/bin/env bash
# Cold start benchmark (issue 14): a fresh etcd loaded with N routes in APISIX's layout
# (scripts/lib/coldstart_routes.py: routes with uri, methods, hosts on some, inline upstreams of 1-3 nodes,
# upstream_id and service_id references), then `bin/turnpike start` as users run it, timed from the launch
# to the first 200 proxied on the route written last. Prints the phases (launcher's clock and the gateway's own
# start-up log lines). See docs/startup.md.
#
#   scripts/coldstart.sh [--routes N] [--ssls M] [--runs K] [--jars A.jar,B.jar] [--heap] [--keep-tmp]
#                        [-- EXTRA TURNPIKE_JVM_OPTS...]
#
# --ssls M: also M ssl objects (one ECDSA P-256 wildcard certificate, an SNI each) and a TLS listener: M server
# contexts are built before the first snapshot serves (default 0).
#
# --heap: once the first 200 is measured, the gateway's resident memory and its live heap
# (`jcmd PID GC.class_histogram`, which collects first: what the configuration keeps), with the largest classes;
# the histogram files are kept with --keep-tmp.
#
# --jars: run K starts with each jar in turn (A, B, A, B, ...) on the same etcd: an interleaved before/after
# comparison in one session; the summary is then given per jar.
#
# Environment: JAVA_HOME (the JDK bin/turnpike uses), TURNPIKE_JVM_OPTS (passed on; the extra args are appended),
# TURNPIKE_STARTUP_CACHE (passed on: the first start trains, the later ones map the cache),
# TURNPIKE_JAR, TURNPIKE_LAUNCHER (default bin/turnpike), ETCD_BIN, TIMEOUT_S (per start, default 60). Run it
# under `flock /tmp/turnpike-bench.lock` on a shared machine. Starts etcd, one backend nginx and the gateway; stops
# only those, removes its temp dir.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
LIB_DIR="$SCRIPT_DIR/lib"
cd "$REPO_ROOT"

ROUTES=${ROUTES:-50000}
SSLS=${SSLS:-0}
RUNS=${RUNS:-1}
TIMEOUT_S=${TIMEOUT_S:-60}
KEEP_TMP=${KEEP_TMP:-0}
HEAP=0
ETCD_BIN=${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}
EXTRA_OPTS=()
JARS=()

die() { echo "coldstart: error: $*" >&2; exit 1; }
log() { echo "coldstart: $*" >&2; }

while (($#)); do
  case $1 in
    --routes) [[ $# -ge 2 ]] || die "--routes needs a value"; ROUTES=$2; shift 2 ;;
    --ssls) [[ $# -ge 2 ]] || die "--ssls needs a value"; SSLS=$2; shift 2 ;;
    --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; RUNS=$2; shift 2 ;;
    --jars) [[ $# -ge 2 ]] || die "--jars needs a value"; IFS=, read -r -a JARS <<<"$2"; shift 2 ;;
    --keep-tmp) KEEP_TMP=1; shift ;;
    --heap) HEAP=1; shift ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; EXTRA_OPTS=("$@"); break ;;
    *) die "unknown argument: $1" ;;
  esac
done
[[ $ROUTES =~ ^[1-9][0-9]*$ ]] || die "--routes must be a positive integer"
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || die "--runs must be 1..99"
[[ $SSLS =~ ^[0-9]+$ ]] || die "--ssls must be a non-negative integer"
[[ $TIMEOUT_S =~ ^[1-9][0-9]*$ ]] || die "TIMEOUT_S must be a positive integer"
for cmd in nginx curl python3; do command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' not found"; done
[[ -x $ETCD_BIN ]] || die "etcd not found (apt-get install -y etcd-server, or set ETCD_BIN)"
((${#JARS[@]})) || JARS=("${TURNPIKE_JAR:-engine/target/turnpike.jar}")
for j in "${JARS[@]}"; do
  [[ -f $j ]] || die "turnpike jar $j not built (mvn -B -pl engine -am -DskipTests package)"
done

STARTED_PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/turnpike-coldstart.XXXXXX")

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  # a training run of TURNPIKE_STARTUP_CACHE writes its cache as it exits: seconds more (docs/startup.md)
  for _ in $(seq "$([[ -n ${TURNPIKE_STARTUP_CACHE:-} ]] && echo 1200 || echo 100)"); do
    kill -0 "$pid" 2>/dev/null || break; sleep 0.1
  done
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
  for pid in "${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"}"; do stop_pid "$pid"; done
  if ((KEEP_TMP)) || ((rc != 0)); then log "temp dir kept: $WORK"; else rm -rf -- "$WORK"; fi
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
# CPU per thread group of a JVM (C2/C1 JIT compilers, GC workers, config-sync, ...), top ones first
thread_cpu() {
  local t
  for t in /proc/"$1"/task/*; do
    [[ -r $t/stat ]] && sed -E 's/^[0-9]+ \((.*)\) [A-Z] (.*)$/\1|\2/' "$t/stat"
  done | awk -F'|' -v hz="$(getconf CLK_TCK)" '{
      name = $1; gsub(/[0-9]+$/, "", name); gsub(/[-# ]+$/, "", name); split($2, f, " ")
      ms[name] += (f[11] + f[12]) * 1000 / hz }
    END { for (n in ms) if (ms[n] >= 10) printf "%d %s\n", ms[n], n }' | sort -rn | head -n 8 \
    | awk '{ printf "%s%s %d ms", (NR > 1 ? ", " : ""), $2, $1 }'
}
# CPU time (user + system, all threads) of a process so far, in ms
proc_cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_http() {
  local name=$1 pid=$2 url=$3 timeout_s=$4 deadline=$((SECONDS + $4))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || die "$name (pid $pid) exited during start-up; logs in $WORK"
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$name not ready at $url after ${timeout_s}s; logs in $WORK"
}

read -r etcd_port etcd_peer data_port status_port control_port b1 b2 b3 tls_port <<<"$(free_ports 9)"

# --- backend: one nginx answering 200 on three ports (the upstream nodes) ---------------------------------
mkdir -p "$WORK/backend/logs" "$WORK/backend/tmp"
user_line=""
if ((EUID == 0)); then user_line="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"; fi
cat >"$WORK/backend/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
master_process on;
pid $WORK/backend/nginx.pid;
error_log $WORK/backend/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/backend/tmp/client_body;
    proxy_temp_path $WORK/backend/tmp/proxy;
    fastcgi_temp_path $WORK/backend/tmp/fastcgi;
    server {
        listen 127.0.0.1:$b1; listen 127.0.0.1:$b2; listen 127.0.0.1:$b3;
        location / { default_type text/plain; return 200 "ok\n"; }
    }
}
EOF
nginx -p "$WORK/backend" -e "$WORK/backend/logs/error.log" -c "$WORK/backend/nginx.conf" \
  >"$WORK/backend/logs/stdout.log" 2>&1 &
STARTED_PIDS+=("$!")
wait_http backend "$!" "http://127.0.0.1:$b1/" 10

# --- etcd: own ports, temp data dir, as the config-sync tests start it ------------------------------------
"$ETCD_BIN" --name coldstart --data-dir "$WORK/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-cluster "coldstart=http://127.0.0.1:$etcd_peer" --max-request-bytes 8388608 \
  --quota-backend-bytes 4294967296 --auto-compaction-retention 0 --logger zap --log-level error \
  >"$WORK/etcd.log" 2>&1 &
etcd_pid=$!
STARTED_PIDS+=("$etcd_pid")
wait_http etcd "$etcd_pid" "http://127.0.0.1:$etcd_port/health" 20

ssl_args=()
if ((SSLS)); then
  command -v openssl >/dev/null 2>&1 || die "--ssls needs openssl"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=*.coldstart.test" \
    -addext "subjectAltName=DNS:*.coldstart.test" -keyout "$WORK/ssl.key" -out "$WORK/ssl.crt" 2>/dev/null \
    || die "openssl could not make the test certificate"
  ssl_args=("$SSLS" "$WORK/ssl.crt" "$WORK/ssl.key")
fi
t=$(now_ms)
read -r probe_method probe_path probe_host <<<"$(python3 "$LIB_DIR/coldstart_routes.py" \
  "http://127.0.0.1:$etcd_port" /apisix "$ROUTES" "$b1,$b2,$b3" "${ssl_args[@]}")"
log "loaded $ROUTES routes (+200 upstreams, 50 services, $SSLS ssls) into etcd :$etcd_port in $(($(now_ms) - t)) ms;" \
  "probe: $probe_method $probe_path host $probe_host"
host_args=()
if [[ $probe_host != - ]]; then host_args=(-H "Host: $probe_host"); fi

mkdir -p "$WORK/gw/conf" "$WORK/gw/logs"
cat >"$WORK/gw/conf/config.yaml" <<EOF
apisix:
  node_listen: [{ip: 127.0.0.1, port: $data_port}]
$(if ((SSLS)); then echo "  ssl: {enable: true, listen: [{ip: 127.0.0.1, port: $tls_port}]}"; else echo "  ssl: {enable: false}"; fi)
  control: {ip: 127.0.0.1, port: $control_port}
deployment:
  role: data_plane
  role_data_plane:
    config_provider: etcd
  etcd:
    host: ["http://127.0.0.1:$etcd_port"]
    prefix: /apisix
turnpike:
  access_log: false
  status_listen: {ip: 127.0.0.1, port: $status_port}
plugin_attr:
  prometheus:
    enable_export_server: false
EOF

java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
log "JDK: $("$java" -version 2>&1 | head -n 1);" \
  "TURNPIKE_JVM_OPTS: ${TURNPIKE_JVM_OPTS:-} ${EXTRA_OPTS[*]+"${EXTRA_OPTS[*]}"}"
printf '%-4s %10s %10s %10s %10s\n' run listening ready first200 cpu >&2
declare -A totals=() cpus=()
for run in $(seq "$RUNS"); do
  out="$WORK/gw/logs/run$run.log"
  jar=${JARS[$(((run - 1) % ${#JARS[@]}))]}
  jar_note=""
  if ((${#JARS[@]} > 1)); then jar_note="  $jar"; fi
  etcd_cpu0=$(proc_cpu_ms "$etcd_pid")
  t0=$(now_ms)
  TURNPIKE_JAR="$jar" TURNPIKE_JVM_OPTS="${TURNPIKE_JVM_OPTS:-} ${EXTRA_OPTS[*]+"${EXTRA_OPTS[*]}"}" \
    "${TURNPIKE_LAUNCHER:-bin/turnpike}" start -c "$WORK/gw/conf/config.yaml" -p "$WORK/gw" >"$out" 2>&1 &
  gw=$!
  STARTED_PIDS+=("$gw")
  listening="" ready="" first200="" cpu="" thread_cpu=""
  deadline=$((t0 + TIMEOUT_S * 1000))
  while :; do
    now=$(now_ms)
    ((now < deadline)) || { cat "$out" >&2; die "run $run: no 200 on $probe_path after ${TIMEOUT_S}s"; }
    kill -0 "$gw" 2>/dev/null || { cat "$out" >&2; die "run $run: turnpike exited during start-up"; }
    if [[ -z $listening ]] && code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
        "http://127.0.0.1:$data_port/" 2>/dev/null) && [[ $code != 000 ]]; then listening=$((now - t0)); fi
    if [[ -n $listening && -z $ready ]] && curl -fs -o /dev/null --max-time 1 \
        "http://127.0.0.1:$status_port/status/ready" 2>/dev/null; then ready=$(($(now_ms) - t0)); fi
    if [[ -n $listening ]] && code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "${host_args[@]}" \
        -X "$probe_method" "http://127.0.0.1:$data_port$probe_path" 2>/dev/null) && [[ $code == 200 ]]; then
      first200=$(($(now_ms) - t0))
      # CPU the gateway spent until then (user + system, all threads): steadier than wall time on a busy machine
      cpu=$(proc_cpu_ms "$gw" 2>/dev/null || echo ?)
      thread_cpu=$(thread_cpu "$gw")
      etcd_cpu=$(($(proc_cpu_ms "$etcd_pid") - etcd_cpu0))
      break
    fi
    sleep 0.01
  done
  [[ -n $ready ]] || ready=$first200
  heap_note=""
  if ((HEAP)); then
    rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$gw/status")
    histo="$WORK/gw/logs/heap-run$run.txt"
    "${JAVA_HOME:+$JAVA_HOME/bin/}jcmd" "$gw" GC.class_histogram >"$histo" 2>&1 || true
    live=$(awk '$1 == "Total" {printf "%.1f", $3 / 1048576}' "$histo")
    rss_after=$(awk '/^VmRSS:/ {print $2}' "/proc/$gw/status")
    heap_note="      memory at the first 200: RSS $((rss_kb / 1024)) MiB; live heap ${live:-?} MiB (after the"
    heap_note+=" histogram's full GC: RSS $((rss_after / 1024)) MiB); largest classes:"$'\n'
    heap_note+=$(awk 'NR > 3 && NR <= 15 {printf "        %10.1f MiB %9d  %s\n", $3 / 1048576, $2, $4}' "$histo")
  fi
  stop_pid "$gw"
  forget_pid "$gw"
  printf '%-4s %8s ms %8s ms %8s ms %7s ms%s\n' "$run" "$listening" "$ready" "$first200" "$cpu" \
    "${jar_note:-}" >&2
  echo "      CPU by thread: $thread_cpu; etcd's CPU meanwhile: $etcd_cpu ms;" \
    "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  grep -E '^turnpike: (start-up|first snapshot|started)|listed .* keys' "$out" | sed 's/^/      /' >&2 || true
  if [[ -n $heap_note ]]; then echo "$heap_note" >&2; fi
  if ((HEAP && KEEP_TMP)); then log "histogram kept: $WORK/gw/logs/heap-run$run.txt"; fi
  totals[$jar]+="$first200 "
  cpus[$jar]+="$cpu "
  if ((KEEP_TMP)); then cp "$out" "$WORK/gw/logs/kept-run$run.log"; fi
done
for jar in "${JARS[@]}"; do
  [[ -n ${totals[$jar]:-} ]] || continue
  label=""
  if ((${#JARS[@]} > 1)); then label=" jar=$jar"; fi
  sorted=$(printf '%s\n' ${totals[$jar]} | sort -n | tr '\n' ' ')
  log "routes=$ROUTES ssls=$SSLS runs=$RUNS$label launch -> first 200 on the last route (ms, sorted): $sorted"
  cpu_sorted=$(printf '%s\n' ${cpus[$jar]} | sort -n | tr '\n' ' ')
  log "gateway CPU (user+sys) until then (ms, sorted): $cpu_sorted"
  echo "first200_ms${label} ${sorted% }"
  echo "cpu_ms${label} ${cpu_sorted% }"
done
log "load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
