#!/usr/bin/env bash
# Upstream failure scenarios under load (docs/endpoints.md, docs/health.md, docs/discovery.md), each bounded in time,
# against nginx backends that are separate processes killed with SIGKILL (no warning, no drain):
#
#   kill      three nodes, one killed KILL_AT seconds in            → failed idempotent requests (must be 0)
#   priority  a primary (priority 1, active + passive checks) and a backup (priority 0); the primary killed
#             → failed requests (must be 0), time until the checker holds the primary down, requests the
#               backup served, wrk's latency percentiles over the run
#   dns       two nodes found by DNS (dnsmasq on loopback, discovery_type dns); the controller's flow: the name
#             loses one address, POST /v1/discovery/dns/refresh, wait for the answer, then SIGKILL that node
#             → failed requests (must be 0), the refresh's answer and its duration
#   canary    traffic-split 90/10 (weighted_upstreams) over exactly REQUESTS requests → each backend's share
#
#   scripts/failover.sh [kill|priority|dns|canary|all]   (env: CONNS=16 DURATION=10 KILL_AT=4 WRK_THREADS=1
#                                                        WRK_TIMEOUT=2s REQUESTS=10000 TURNPIKE_JAR=... KEEP_TMP=0)
# Needs: wrk, nginx, curl, python3 (dnsmasq for dns), the shaded jar (mvn -B -o -pl engine -am package -DskipTests).
# Exit status: 0 when every scenario met its target. Run benchmarks one at a time:
#   flock -o /tmp/turnpike-bench.lock scripts/failover.sh all   (-o: the backends must not inherit the lock)
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
SCENARIO=${1:-all}
CONNS=${CONNS:-16}
DURATION=${DURATION:-10}
KILL_AT=${KILL_AT:-4}
WRK_THREADS=${WRK_THREADS:-1}
WRK_TIMEOUT=${WRK_TIMEOUT:-2s}
REQUESTS=${REQUESTS:-10000}
export TURNPIKE_JAR=${TURNPIKE_JAR:-$ROOT/engine/target/turnpike.jar}
export TURNPIKE_HEAP_MAX=${TURNPIKE_HEAP_MAX:-512m}
KEEP_TMP=${KEEP_TMP:-0}

case $SCENARIO in kill|priority|dns|canary|all) ;; *) echo "usage: $0 [kill|priority|dns|canary|all]" >&2; exit 2;; esac
for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "failover: $tool is not installed" >&2; exit 2; }
done
[ -f "$TURNPIKE_JAR" ] || { echo "failover: $TURNPIKE_JAR missing: mvn -B -o -pl engine -am package -DskipTests" >&2; exit 2; }

WORK=$(mktemp -d /tmp/turnpike-failover.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -f "$WORK/backend.pids" ] && while read -r p; do kill_backend "$p"; done <"$WORK/backend.pids"
  if [ "$KEEP_TMP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
RESULTS=()
failed_any=0

# start_backend NAME IP PORT: an nginx process (master + 1 worker, in the foreground) answering "NAME\n"; echoes the
# master's PID. Its access log counts the requests it served.
start_backend() {
  local name=$1 ip=$2 port=$3 d="$WORK/$1"
  mkdir -p "$d/logs" "$d/tmp"
  cat >"$d/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
    log_format t '\$msec';
    access_log $d/logs/access.log t;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server { listen $ip:$port backlog=4096; location / { return 200 "$name\n"; } }
}
NGINX
  nginx -p "$d" -c "$d/nginx.conf" >"$d/logs/stdout.log" 2>&1 &
  local pid=$! i
  echo "$pid" >>"$WORK/backend.pids"
  for i in $(seq 1 50); do
    # nginx logs a request after answering it: let the probe's line land before the log is emptied
    curl -fsS -o /dev/null --max-time 1 "http://$ip:$port/" 2>/dev/null && { sleep 0.3; : >"$d/logs/access.log"; echo "$pid"; return 0; }
    sleep 0.1
  done
  echo "failover: backend $name did not start" >&2; cat "$d/logs/error.log" >&2; return 1
}
kill_backend() {
  # SIGKILL the master first (it would respawn a killed worker), then the workers it had.
  local workers; workers=$(pgrep -P "$1" || true)
  kill -9 "$1" 2>/dev/null || true
  for w in $workers; do kill -9 "$w" 2>/dev/null || true; done
}
served() { wc -l <"$WORK/$1/logs/access.log" | tr -d ' '; }

# gateway_conf NAME APISIX_YAML [EXTRA_CONFIG_YAML]: writes conf/, sets PORT CONTROL_PORT for it
gateway_conf() {
  local d="$WORK/gw-$1"
  mkdir -p "$d/conf"
  PORT=$(free_port); STATUS_PORT=$(free_port); CONTROL_PORT=$(free_port)
  cat >"$d/conf/config.yaml" <<YAML
apisix:
  node_listen:
    - ip: 127.0.0.1
      port: $PORT
  enable_control: true
  control:
    ip: 127.0.0.1
    port: $CONTROL_PORT
deployment:
  role: data_plane
  role_data_plane:
    config_provider: yaml
${3:-}
turnpike:
  status_listen:
    ip: 127.0.0.1
    port: $STATUS_PORT
YAML
  printf '%s\n#END\n' "$2" >"$d/conf/apisix.yaml"
}

start_gateway() { # NAME: prints the PID once the gateway serves
  local d="$WORK/gw-$1" i
  "$ROOT/bin/turnpike" start -c "$d/conf/config.yaml" -p "$d" >"$d/gateway.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for i in $(seq 1 600); do
    grep -q "turnpike: pid " "$d/gateway.log" && { echo "$pid"; return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "failover: gateway $1 did not start:" >&2; cat "$d/gateway.log" >&2; return 1
}
stop_gateway() { "$ROOT/bin/turnpike" quit -c "$WORK/gw-$1/conf/config.yaml" -p "$WORK/gw-$1" >/dev/null 2>&1 || kill "$2" 2>/dev/null || true; }

# run_wrk OUT: wrk against the gateway for DURATION seconds, in the background (WRK_PID)
run_wrk() {
  wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --timeout "$WRK_TIMEOUT" --latency "http://127.0.0.1:$PORT/" >"$1" 2>&1 &
  WRK_PID=$!
}
# wrk_failures FILE: connect + read + write + timeout errors + non-2xx
wrk_failures() {
  local e_connect=0 e_read=0 e_write=0 e_timeout=0 non2xx
  read -r e_connect e_read e_write e_timeout < <(sed -n \
    's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$1") || true
  non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p' "$1")
  echo $(( ${e_connect:-0} + ${e_read:-0} + ${e_write:-0} + ${e_timeout:-0} + ${non2xx:-0} ))
}
wrk_requests() { sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$1"; }
wrk_latency() { sed -n 's/^ *\(50\|99\)% *\([0-9.]*[a-z]*\).*/p\1=\2/p' "$1" | tr '\n' ' '; }

report() { RESULTS+=("$1"); echo "failover: $1"; }

scenario_kill() {
  local p1 p2 p3 a b c pa pb pc gw
  p1=$(free_port); p2=$(free_port); p3=$(free_port)
  a=$(start_backend kill-a 127.0.0.1 "$p1"); b=$(start_backend kill-b 127.0.0.1 "$p2"); c=$(start_backend kill-c 127.0.0.1 "$p3")
  gateway_conf kill "routes:
  - id: \"1\"
    uri: /*
    upstream:
      nodes:
        \"127.0.0.1:$p1\": 1
        \"127.0.0.1:$p2\": 1
        \"127.0.0.1:$p3\": 1"
  gw=$(start_gateway kill)
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/"
  run_wrk "$WORK/kill-wrk.txt"
  sleep "$KILL_AT"
  kill_backend "$c"
  wait "$WRK_PID" || true
  local f; f=$(wrk_failures "$WORK/kill-wrk.txt")
  report "kill: $(wrk_requests "$WORK/kill-wrk.txt") requests, $f failed; node c served $(served kill-c) before SIGKILL at ${KILL_AT}s, a $(served kill-a), b $(served kill-b); $(wrk_latency "$WORK/kill-wrk.txt")"
  [ "$f" -eq 0 ] || failed_any=1
  stop_gateway kill "$gw"; kill_backend "$a"; kill_backend "$b"
}

scenario_priority() {
  local pp pb prim back gw killed_ms down_ms=
  pp=$(free_port); pb=$(free_port)
  prim=$(start_backend prio-primary 127.0.0.1 "$pp"); back=$(start_backend prio-backup 127.0.0.1 "$pb")
  gateway_conf prio "upstreams:
  - id: \"dc\"
    nodes:
      - {host: 127.0.0.1, port: $pp, weight: 1, priority: 1}
      - {host: 127.0.0.1, port: $pb, weight: 1, priority: 0}
    checks:
      active:
        type: tcp
        timeout: 1
        healthy: {interval: 1, successes: 1}
        unhealthy: {interval: 1, tcp_failures: 2, timeouts: 2}
      passive:
        unhealthy: {tcp_failures: 2, timeouts: 2}
routes:
  - id: \"1\"
    uri: /*
    upstream_id: \"dc\""
  gw=$(start_gateway prio)
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/"
  run_wrk "$WORK/prio-wrk.txt"
  sleep "$KILL_AT"
  killed_ms=$(now_ms)
  kill_backend "$prim"
  local i
  for i in $(seq 1 200); do
    if curl -fsS --max-time 1 "http://127.0.0.1:$CONTROL_PORT/v1/healthcheck/upstreams/dc" 2>/dev/null \
        | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if any(n.get("port")=='"$pp"' and n.get("status")=="unhealthy" for n in d.get("nodes",[])) else 1)' 2>/dev/null; then
      down_ms=$(( $(now_ms) - killed_ms )); break
    fi
    sleep 0.05
  done
  wait "$WRK_PID" || true
  local f; f=$(wrk_failures "$WORK/prio-wrk.txt")
  local last_primary first_backup
  last_primary=$(tail -n 1 "$WORK/prio-primary/logs/access.log" 2>/dev/null || true)
  report "priority: $(wrk_requests "$WORK/prio-wrk.txt") requests, $f failed; primary served $(served prio-primary) until SIGKILL at ${KILL_AT}s, backup $(served prio-backup); primary held down by the checker ${down_ms:-never (>10 s)} ms after the kill; $(wrk_latency "$WORK/prio-wrk.txt")"
  [ "$f" -eq 0 ] && [ -n "$down_ms" ] || failed_any=1
  stop_gateway prio "$gw"; kill_backend "$back"
}

scenario_dns() {
  command -v dnsmasq >/dev/null || { report "dns: skipped (dnsmasq is not installed)"; failed_any=1; return; }
  local port dport n1 n2 gw dns_pid
  port=$(free_port); dport=$(free_port)
  n1=$(start_backend dns-one 127.0.0.1 "$port"); n2=$(start_backend dns-two 127.0.0.2 "$port")
  printf '127.0.0.1 svc.failover.test\n127.0.0.2 svc.failover.test\n' >"$WORK/hosts"
  dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --addn-hosts="$WORK/hosts" --port="$dport" \
    --listen-address=127.0.0.1 --bind-interfaces --local-ttl=300 --pid-file="$WORK/dnsmasq.pid" \
    ${EUID:+$( ((EUID == 0)) && echo --user=root)} >"$WORK/dnsmasq.log" 2>&1 &
  dns_pid=$!
  pids+=("$dns_pid")
  sleep 0.5
  gateway_conf dns "routes:
  - id: \"1\"
    uri: /*
    upstream:
      service_name: \"svc.failover.test:$port\"
      discovery_type: dns" "discovery:
  dns:
    servers:
      - \"127.0.0.1:$dport\""
  gw=$(start_gateway dns)
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/"
  run_wrk "$WORK/dns-wrk.txt"
  sleep "$KILL_AT"
  # The controller's flow: the registry drops the node, every gateway refreshes, then the node stops.
  printf '127.0.0.1 svc.failover.test\n' >"$WORK/hosts"
  kill -HUP "$dns_pid"
  sleep 0.2
  local t0 answer took
  t0=$(now_ms)
  answer=$(curl -fsS --max-time 10 -X POST -d '{"name":"svc.failover.test"}' "http://127.0.0.1:$CONTROL_PORT/v1/discovery/dns/refresh" || echo "refresh failed")
  took=$(( $(now_ms) - t0 ))
  kill_backend "$n2"
  wait "$WRK_PID" || true
  local f; f=$(wrk_failures "$WORK/dns-wrk.txt")
  report "dns: $(wrk_requests "$WORK/dns-wrk.txt") requests, $f failed; refresh answered in ${took} ms: $answer; node two served $(served dns-two) then SIGKILL, node one $(served dns-one); $(wrk_latency "$WORK/dns-wrk.txt")"
  [ "$f" -eq 0 ] || failed_any=1
  stop_gateway dns "$gw"; kill_backend "$n1"
}

scenario_canary() {
  local ps pc stable canary gw
  ps=$(free_port); pc=$(free_port)
  stable=$(start_backend canary-stable 127.0.0.1 "$ps"); canary=$(start_backend canary-new 127.0.0.1 "$pc")
  gateway_conf canary "upstreams:
  - id: \"canary\"
    nodes:
      \"127.0.0.1:$pc\": 1
routes:
  - id: \"1\"
    uri: /*
    plugins:
      traffic-split:
        rules:
          - weighted_upstreams:
              - upstream_id: \"canary\"
                weight: 10
              - weight: 90
    upstream:
      nodes:
        \"127.0.0.1:$ps\": 1"
  gw=$(start_gateway canary)
  # exactly REQUESTS requests over 4 keep-alive connections
  python3 - "$PORT" "$REQUESTS" <<'EOF'
import http.client, sys, threading
port, total = int(sys.argv[1]), int(sys.argv[2])
lock = threading.Lock(); left = [total]; bad = [0]
def run():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while True:
        with lock:
            if left[0] == 0: return
            left[0] -= 1
        c.request("GET", "/"); r = c.getresponse(); r.read()
        if r.status != 200:
            with lock: bad[0] += 1
ts = [threading.Thread(target=run) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
sys.exit(1 if bad[0] else 0)
EOF
  local s c share
  s=$(served canary-stable); c=$(served canary-new)
  share=$(python3 -c "print(f'{100*$c/($s+$c):.2f}')")
  report "canary: $((s + c)) requests, stable $s, canary $c (${share} %, configured 10 %)"
  python3 -c "import sys; sys.exit(0 if abs($c/($s+$c) - 0.10) <= 0.01 and $s + $c == $REQUESTS else 1)" || failed_any=1
  stop_gateway canary "$gw"; kill_backend "$stable"; kill_backend "$canary"
}

for s in kill priority dns canary; do
  if [ "$SCENARIO" = all ] || [ "$SCENARIO" = "$s" ]; then "scenario_$s"; fi
done
echo "--- summary (${CONNS} keep-alive connections, ${DURATION}s each, node killed at ${KILL_AT}s)"
printf '%s\n' "${RESULTS[@]}"
exit "$failed_any"
