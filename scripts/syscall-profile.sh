#!/usr/bin/env bash
# System calls per proxied request, Turnpike against nginx, under the default bench load (wrk -t1 -c64 keep-alive,
# 12-byte body), counted with `perf trace -s` on the proxy process for a few seconds. The kernel's side of CPU per
# request: what each proxy asks of it per request (reads, writes, epoll_wait / io_uring_enter, ...).
#
#   scripts/syscall-profile.sh [--seconds S] [--transport epoll|io_uring] [--keep-tmp]
#
# Layout as scripts/bench.sh on 2 cores: backend nginx + wrk on core 0, the proxy on core 1 (one at a time). Requests
# counted over the traced window: Turnpike's /status counter, nginx's stub_status. perf trace slows the traced
# process, so its req/s here are not figures; the per-request counts are. Run under the bench lock:
#   flock -o /tmp/turnpike-bench.lock scripts/syscall-profile.sh
set -euo pipefail
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
SECONDS_TRACED=5
TRANSPORT=epoll
KEEP_TMP=0
while (($#)); do
  case $1 in
    --seconds) SECONDS_TRACED=$2; shift 2 ;;
    --transport) TRANSPORT=$2; shift 2 ;;
    --keep-tmp) KEEP_TMP=1; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "syscall-profile: unknown argument $1" >&2; exit 2 ;;
  esac
done
die() { echo "syscall-profile: error: $*" >&2; exit 1; }
command -v perf >/dev/null || die "perf not found (apt-get install -y linux-perf)"
command -v wrk >/dev/null || die "wrk not found"
JAR=${TURNPIKE_JAR:-$REPO_ROOT/engine/target/turnpike.jar}
[[ -f $JAR ]] || die "$JAR not found (mvn -B package -pl engine -am -DskipTests)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/turnpike-syscalls.XXXXXX")
PIDS=()
cleanup() {
  local rc=$? p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if ((KEEP_TMP)) || ((rc != 0)); then echo "syscall-profile: temp dir kept: $WORK" >&2; else rm -rf -- "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
read -r BACKEND NGINX TP TP_STATUS <<<"$(python3 -c '
import socket; s=[socket.socket() for _ in range(4)]
[x.bind(("127.0.0.1",0)) for x in s]; print(*[x.getsockname()[1] for x in s])')"

nginx_conf() { # nginx_conf NAME BODY: a one-worker nginx config (pinned by taskset), BODY inside http {}
  mkdir -p "$WORK/$1/logs" "$WORK/$1/tmp"
  cat >"$WORK/$1/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $WORK/$1/nginx.pid;
error_log $WORK/$1/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/$1/tmp; proxy_temp_path $WORK/$1/tmp;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
$2
}
EOF
}
nginx_conf backend "    server { listen 127.0.0.1:$BACKEND backlog=4096; location / { return 200 \"hello world\\n\"; } }"
nginx_conf proxy "    upstream b { server 127.0.0.1:$BACKEND; keepalive 64; keepalive_requests 1000000; keepalive_timeout 300s; }
    server { listen 127.0.0.1:$NGINX backlog=4096;
        location / { proxy_pass http://b; proxy_http_version 1.1; proxy_set_header Connection \"\"; }
        location = /nginx_status { stub_status; } }"
taskset -c 0 nginx -c "$WORK/backend/nginx.conf" -p "$WORK/backend" >/dev/null 2>&1 & PIDS+=($!)
taskset -c 1 nginx -c "$WORK/proxy/nginx.conf" -p "$WORK/proxy" >/dev/null 2>&1 & PIDS+=($!)
NGINX_MASTER=${PIDS[1]}

mkdir -p "$WORK/turnpike/conf" "$WORK/turnpike/logs"
cat >"$WORK/turnpike/conf/config.yaml" <<EOF
apisix:
  node_listen: [{ip: 127.0.0.1, port: $TP}]
  ssl: {enable: false}
  enable_control: false
plugin_attr:
  prometheus: {enable_export_server: false}
deployment:
  role: data_plane
  role_data_plane: {config_provider: yaml}
turnpike:
  event_loops: 1
  transport: $TRANSPORT
  access_log: false
  upstream_max_requests: 1000000
  status_listen: {ip: 127.0.0.1, port: $TP_STATUS}
EOF
cat >"$WORK/turnpike/conf/apisix.yaml" <<EOF
routes:
  - id: "1"
    uri: "/*"
    upstream: {type: roundrobin, nodes: {"127.0.0.1:$BACKEND": 1}}
#END
EOF
(cd "$WORK/turnpike" && TURNPIKE_JAR=$JAR exec taskset -c 1 "$REPO_ROOT/bin/turnpike" start -c "$WORK/turnpike/conf/config.yaml") \
  >"$WORK/turnpike/logs/stdout.log" 2>&1 & PIDS+=($!)
TP_PID=${PIDS[2]}
for url in "http://127.0.0.1:$NGINX/" "http://127.0.0.1:$TP/"; do
  for _ in $(seq 200); do curl -fs -o /dev/null "$url" && break; sleep 0.1; done
  curl -fs -o /dev/null "$url" || die "$url does not answer (logs in $WORK)"
done
NGINX_WORKER=$(pgrep -P "$NGINX_MASTER" | head -n 1)

requests_of() {
  if [[ $1 == nginx ]]; then curl -fs "http://127.0.0.1:$NGINX/nginx_status" | awk 'NR == 3 {print $3}'
  else curl -fs "http://127.0.0.1:$TP_STATUS/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["requests"])'; fi
}

for target in nginx turnpike; do
  if [[ $target == nginx ]]; then port=$NGINX pid=$NGINX_WORKER; else port=$TP pid=$TP_PID; fi
  taskset -c 0 wrk -t1 -c64 -d"$((SECONDS_TRACED + 12))s" "http://127.0.0.1:$port/" >"$WORK/wrk-$target.txt" 2>&1 &
  wrk_pid=$!
  sleep 8 # warm-up (JIT) before the traced window
  before=$(requests_of "$target")
  perf trace -s -p "$pid" -o "$WORK/trace-$target.txt" -- sleep "$SECONDS_TRACED" >/dev/null 2>&1 || true
  after=$(requests_of "$target")
  wait "$wrk_pid" || true
  python3 - "$WORK/trace-$target.txt" "$target" "$((after - before))" <<'PY'
import re, sys
path, target, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
counts = {}
for line in open(path):
    m = re.match(r"\s+([a-z_0-9]+)\s+(\d+)\s+(\d+)\s", line)
    if m:
        counts[m.group(1)] = counts.get(m.group(1), 0) + int(m.group(2))
total = sum(counts.values())
print(f"\n{target}: {requests} requests in the traced window, {total} system calls = "
      f"{total / max(requests, 1):.2f} per request")
for name, n in sorted(counts.items(), key=lambda kv: -kv[1])[:10]:
    print(f"  {name:<20} {n:>9}  {n / max(requests, 1):6.3f}/req")
PY
done
