#!/usr/bin/env bash
# Issue 13: the health checker's cost at 1,000 upstreams x 3 nodes, active checks every second. Starts nginx with
# one loopback listener per node (3,000 ports from --base-port, `return 200`, connections closed after each answer),
# then io.turnpike.engine.health.HealthLoad, which watches them all with one HealthChecker and reports the CPU and
# allocation of its `turnpike-health` thread, the probes made and the sockets open, over --seconds after a warm-up.
#
#   flock /tmp/turnpike-bench.lock scripts/health-load.sh [--upstreams 1000] [--nodes 3] [--seconds 20]
#       [--warmup 5] [--base-port 20000] [--type http|tcp] [--transport auto|epoll|nio] [--no-build] [--offline]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

UPSTREAMS=1000 NODES=3 SECONDS_=20 WARMUP=5 BASE=20000 TYPE=http TRANSPORT=auto BUILD=1 OFFLINE=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --upstreams) UPSTREAMS=$2; shift ;;
    --nodes) NODES=$2; shift ;;
    --seconds) SECONDS_=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --base-port) BASE=$2; shift ;;
    --type) TYPE=$2; shift ;;
    --transport) TRANSPORT=$2; shift ;;
    --no-build) BUILD=0 ;;
    --offline) OFFLINE=(-o) ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
PORTS=$((UPSTREAMS * NODES))

goals=(dependency:build-classpath)
[[ $BUILD == 1 ]] && goals=(test-compile dependency:build-classpath)
mvn -B -q "${OFFLINE[@]}" "${goals[@]}" -pl engine -am -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/health-load.classpath >/dev/null
CP="engine/target/test-classes:engine/target/classes:config-sync/target/classes:tls/target/classes:$(cat engine/target/health-load.classpath)"

work=$(mktemp -d /tmp/turnpike-health-load.XXXXXX)
mkdir -p "$work/logs" "$work/tmp"
{
  echo "worker_processes 1;"
  echo "worker_rlimit_nofile $((PORTS * 2 + 4096));"
  echo "error_log $work/logs/error.log warn;"
  echo "pid $work/nginx.pid;"
  echo "events { worker_connections $((PORTS + 4096)); }"
  echo "http {"
  echo "  access_log off; keepalive_timeout 0; server_tokens off;"
  echo "  client_body_temp_path $work/tmp/cb; proxy_temp_path $work/tmp/p; fastcgi_temp_path $work/tmp/f;"
  echo "  uwsgi_temp_path $work/tmp/u; scgi_temp_path $work/tmp/s;"
  echo "  server {"
  for ((p = BASE; p < BASE + PORTS; p++)); do echo "    listen 127.0.0.1:$p;"; done
  echo "    location / { return 200 \"ok\\n\"; }"
  echo "  }"
  echo "}"
} > "$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf" -e "$work/logs/error.log"
trap 'kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; sleep 0.5; rm -rf "$work"' EXIT
sleep 1
echo "nginx: $PORTS listeners on 127.0.0.1:$BASE-$((BASE + PORTS - 1)) (pid $(cat "$work/nginx.pid"))"

java -Xmx512m -cp "$CP" io.turnpike.engine.health.HealthLoad --upstreams "$UPSTREAMS" --nodes "$NODES" \
  --base-port "$BASE" --seconds "$SECONDS_" --warmup "$WARMUP" --type "$TYPE" \
  --transport "$TRANSPORT"
echo "TIME_WAIT sockets on the machine at the end: $(ss -Htan state time-wait | wc -l)"
