#!/usr/bin/env bash
# Zero-downtime restart under load (docs/operations.md): wrk keeps CONNS keep-alive connections busy against
# gateway A; TAKEOVER_AT seconds in, gateway B starts on the same ports (SO_REUSEPORT), then `turnpike quit --pid A`
# drains A. Reports wrk's request count and every kind of failure (connect/read/write errors, timeouts, non-2xx).
# A client that A answers with "Connection: close" reconnects (to B): that is not an error for wrk either.
#
#   scripts/restart-under-load.sh            (env: TAKEOVER=1 CLOSE_EACH=0 CONNS=32 DURATION=20 TAKEOVER_AT=5 WRK_THREADS=1 WRK_TIMEOUT=2s
#                                              TURNPIKE_JAR=engine/target/turnpike.jar KEEP_TMP=0)
# Needs: wrk, nginx (the backend), the shaded jar (mvn -B -o -pl engine -am package -DskipTests).
# Exit status: 0 when no request failed, 1 otherwise. Run benchmarks one at a time:
#   flock /tmp/turnpike-bench.lock scripts/restart-under-load.sh
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
CONNS=${CONNS:-32}
DURATION=${DURATION:-20}
TAKEOVER_AT=${TAKEOVER_AT:-5}
WRK_THREADS=${WRK_THREADS:-1}
WRK_TIMEOUT=${WRK_TIMEOUT:-2s}   # wrk counts a response slower than this as a "timeout" error (it is not cut off)
export TURNPIKE_JAR=${TURNPIKE_JAR:-$ROOT/engine/target/turnpike.jar}
export TURNPIKE_HEAP_MAX=${TURNPIKE_HEAP_MAX:-512m}
KEEP_TMP=${KEEP_TMP:-0}
CLOSE_EACH=${CLOSE_EACH:-0}      # 1: a new connection per request (wrk -H "Connection: close"), see the docs' limits
TAKEOVER=${TAKEOVER:-1}          # 0: the same run without a takeover (baseline for the slow-response count)

for tool in wrk nginx python3; do
  command -v "$tool" >/dev/null || { echo "restart-under-load: $tool is not installed" >&2; exit 2; }
done
[ -f "$TURNPIKE_JAR" ] || { echo "restart-under-load: $TURNPIKE_JAR missing: mvn -B -o -pl engine -am package -DskipTests" >&2; exit 2; }

WORK=$(mktemp -d /tmp/turnpike-restart.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  if [ "$KEEP_TMP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BACKEND_PORT=$(free_port); PORT=$(free_port); STATUS_PORT=$(free_port); CONTROL_PORT=$(free_port)

mkdir -p "$WORK/logs" "$WORK/tmp" "$WORK/conf"
cat >"$WORK/nginx.conf" <<NGINX
worker_processes 1;
daemon on;
pid $WORK/nginx.pid;
error_log $WORK/logs/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/tmp/body;
    proxy_temp_path $WORK/tmp/proxy;
    fastcgi_temp_path $WORK/tmp/fastcgi;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server { listen 127.0.0.1:$BACKEND_PORT backlog=4096; location / { return 200 "hello world\n"; } }
}
NGINX
nginx -p "$WORK" -c "$WORK/nginx.conf"

cat >"$WORK/conf/config.yaml" <<YAML
apisix:
  node_listen:
    - ip: 127.0.0.1
      port: $PORT
  control:
    ip: 127.0.0.1
    port: $CONTROL_PORT
deployment:
  role: data_plane
  role_data_plane:
    config_provider: yaml
turnpike:
  drain_timeout_ms: 30000
  status_listen:
    ip: 127.0.0.1
    port: $STATUS_PORT
YAML
cat >"$WORK/conf/apisix.yaml" <<YAML
routes:
  - id: "1"
    uri: /*
    upstream:
      nodes:
        "127.0.0.1:$BACKEND_PORT": 1
#END
YAML

start_gateway() { # $1 = log name; prints the PID once the gateway serves
  "$ROOT/bin/turnpike" start -c "$WORK/conf/config.yaml" -p "$WORK" >"$WORK/$1.log" 2>&1 &
  local pid=$! i
  pids+=("$pid")
  for i in $(seq 1 600); do
    grep -q "turnpike: pid " "$WORK/$1.log" && { echo "$pid"; return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "restart-under-load: gateway $1 did not start:" >&2; cat "$WORK/$1.log" >&2; return 1
}

A=$(start_gateway a)
curl -fsS "http://127.0.0.1:$PORT/" >/dev/null
wrk_args=(-t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --timeout "$WRK_TIMEOUT" --latency)
[ "$CLOSE_EACH" = 1 ] && wrk_args+=(-H "Connection: close")
wrk "${wrk_args[@]}" "http://127.0.0.1:$PORT/" >"$WORK/wrk.txt" 2>&1 &
WRK=$!
B=none
if [ "$TAKEOVER" = 1 ]; then
  sleep "$TAKEOVER_AT"
  B=$(start_gateway b)
  "$ROOT/bin/turnpike" quit -c "$WORK/conf/config.yaml" -p "$WORK" --pid "$A" >"$WORK/quit.log" 2>&1
fi
wait "$WRK"
"$ROOT/bin/turnpike" quit -c "$WORK/conf/config.yaml" -p "$WORK" >>"$WORK/quit.log" 2>&1 || true

requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$WORK/wrk.txt")
read -r e_connect e_read e_write e_timeout < <(sed -n \
  's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' \
  "$WORK/wrk.txt") || true
e_connect=${e_connect:-0}; e_read=${e_read:-0}; e_write=${e_write:-0}; e_timeout=${e_timeout:-0}
non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p' "$WORK/wrk.txt"); non2xx=${non2xx:-0}
failed=$((e_connect + e_read + e_write + e_timeout + non2xx))

echo "--- wrk"; cat "$WORK/wrk.txt"
echo "--- gateway A (pid $A), taken over by B (pid $B) after ${TAKEOVER_AT}s"; grep -E "turnpike:" "$WORK/a.log" || true
echo "--- quit"; cat "$WORK/quit.log"
echo "restart under load: $requests requests, $failed failed (connect $e_connect, read $e_read, write $e_write," \
     "timeout $e_timeout (slower than $WRK_TIMEOUT), non-2xx $non2xx); $CONNS $([ "$CLOSE_EACH" = 1 ] && echo "connections (one per request)" || echo "keep-alive connections"), ${DURATION}s," \
     "$([ "$TAKEOVER" = 1 ] && echo "takeover at ${TAKEOVER_AT}s" || echo "no takeover (baseline)")"
[ "$failed" -eq 0 ]
