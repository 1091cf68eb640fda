#!/usr/bin/env bash
# Prometheus scrape cost at scale: a gateway with N routes (default 10,000) and the prometheus plugin in a global rule,
# traffic on every route (wrk cycling through them), then:
#   phase "no scrapes":  wrk alone (before and after)                -> p50/p90/p99
#   phase "scraping":    wrk while a client scrapes (back to back by default) -> p50/p99, scrape time and body size
# plus promtool check metrics on the last body. Bounded: about 4 x DURATION seconds plus start-up.
#
# Run under the machine's benchmark lock:  flock /tmp/turnpike-bench.lock scripts/metrics-scrape.sh
# Options (environment): ROUTES (10000), DURATION (10 s per phase), CONNS (16), LOOPS (1 event loop),
# SCRAPE_INTERVAL (0: back to back; else seconds between scrape starts, as Prometheus's scrape_interval),
# CORE_LOAD (0: wrk, nginx, scraper), CORE_PROXY (1: the gateway), TURNPIKE_JAR, JAVA, JVM_OPTS, KEEP_TMP.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUTES=${ROUTES:-10000}
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
LOOPS=${LOOPS:-1}
CORE_LOAD=${CORE_LOAD:-0}
CORE_PROXY=${CORE_PROXY:-1}
TURNPIKE_JAR=${TURNPIKE_JAR:-engine/target/turnpike.jar}
JAVA=${JAVA:-java}
JVM_OPTS=${JVM_OPTS:--Xms512m -Xmx512m -XX:+UseParallelGC -XX:+AlwaysPreTouch -XX:ThreadPriorityPolicy=1 -Dio.netty.leakDetection.level=disabled}
SCRAPE_INTERVAL=${SCRAPE_INTERVAL:-0}

die() { echo "metrics-scrape: $*" >&2; exit 1; }
[[ -f $TURNPIKE_JAR ]] || die "$TURNPIKE_JAR not found (mvn -B -pl engine -am package -DskipTests)"
TURNPIKE_JAR=$(cd -- "$(dirname -- "$TURNPIKE_JAR")" && pwd)/$(basename -- "$TURNPIKE_JAR")
for c in nginx wrk curl taskset promtool python3; do command -v "$c" >/dev/null || die "'$c' not found"; done

WORK=$(mktemp -d /tmp/turnpike-metrics-scrape.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$p" 2>/dev/null || true; done
  [[ ${KEEP_TMP:-0} == 1 ]] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

read -r BACKEND_PORT GW_PORT STATUS_PORT EXPORT_PORT <<<"$(python3 -c '
import socket
s=[socket.socket() for _ in range(4)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')"

# --- backend: nginx answering every path with a short body ----------------------------------
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$BACKEND_PORT reuseport;
    location / { return 200 "hello world\n"; }
  }
}
EOF
taskset -c "$CORE_LOAD" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)

# --- gateway: ROUTES routes, prometheus in a global rule ------------------------------------
mkdir -p "$WORK/gw/conf"
cat >"$WORK/gw/conf/config.yaml" <<EOF
apisix:
  node_listen: [{ip: 127.0.0.1, port: $GW_PORT}]
  ssl: {enable: false}
deployment:
  role: data_plane
  role_data_plane:
    config_provider: yaml
turnpike:
  event_loops: $LOOPS
  upstream_max_requests: 1000000
  status_listen: {ip: 127.0.0.1, port: $STATUS_PORT}
plugin_attr:
  prometheus:
    export_addr: {ip: 127.0.0.1, port: $EXPORT_PORT}
EOF
python3 - "$ROUTES" "$BACKEND_PORT" >"$WORK/gw/conf/apisix.yaml" <<'EOF'
import sys
n, port = int(sys.argv[1]), sys.argv[2]
out = ["global_rules:", "  - id: metrics", "    plugins:", "      prometheus: {}",
       "upstreams:", "  - id: backend", "    type: roundrobin", "    nodes:", f'      "127.0.0.1:{port}": 1',
       "routes:"]
for i in range(n):
    out += [f"  - id: r{i}", f"    uri: /r/{i}", "    upstream_id: backend"]
out.append("#END")
print("\n".join(out))
EOF
read -r -a jvm_opts <<<"$JVM_OPTS"
(cd "$WORK/gw" && exec taskset -c "$CORE_PROXY" "$JAVA" "${jvm_opts[@]}" -jar "$TURNPIKE_JAR" \
    start -c "$WORK/gw/conf/config.yaml") >"$WORK/gw/stdout.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "http://127.0.0.1:$GW_PORT/r/0" 2>/dev/null && break
  sleep 0.2
done
curl -fsS -o /dev/null "http://127.0.0.1:$GW_PORT/r/$((ROUTES - 1))" || die "gateway not serving (see $WORK/gw/stdout.log)"

cat >"$WORK/cycle.lua" <<EOF
local n = $ROUTES
local i = 0
init = function(args) i = math.random(0, n - 1) end
request = function()
  i = (i + 1) % n
  return wrk.format("GET", "/r/" .. i)
end
EOF
URL_METRICS="http://127.0.0.1:$EXPORT_PORT/apisix/prometheus/metrics"
run_wrk() { taskset -c "$CORE_LOAD" wrk -t1 -c"$CONNS" -d"$1"s --latency -s "$WORK/cycle.lua" "http://127.0.0.1:$GW_PORT" ; }
pct() { awk -v p="$1" '$1 == p {print $2}' "$2"; }

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "warm-up: ${DURATION}s x 2 of traffic over $ROUTES routes (every route gets requests)"
run_wrk "$DURATION" >/dev/null
run_wrk "$DURATION" >/dev/null
series=$(curl -fsS "$URL_METRICS" | grep -c '^apisix_http_status{code="200",route="r' || true)
echo "status series of routes after warm-up: $series (of $ROUTES)"

echo "phase 1: no scrapes (${DURATION}s)"
run_wrk "$DURATION" >"$WORK/quiet.txt"

echo "phase 2: scraping, interval ${SCRAPE_INTERVAL}s (0 = back to back) (${DURATION}s)"
( end=$((SECONDS + DURATION + 1))
  while ((SECONDS < end)); do
    taskset -c "$CORE_LOAD" curl -fsS -o "$WORK/body.prom" -w '%{time_total} %{size_download}\n' "$URL_METRICS"
    # each body reports the server's render time of the scrape before it
    awk '/^turnpike_prometheus_last_scrape_seconds / {print $2}' "$WORK/body.prom" >>"$WORK/render.txt"
    awk '/^turnpike_prometheus_last_scrape_cpu_seconds / {print $2}' "$WORK/body.prom" >>"$WORK/render-cpu.txt"
    if [[ $SCRAPE_INTERVAL != 0 ]]; then sleep "$SCRAPE_INTERVAL"; fi
  done ) >"$WORK/scrapes.txt" &
SCRAPER=$!
run_wrk "$DURATION" >"$WORK/scraping.txt"
wait "$SCRAPER"

echo "phase 3: no scrapes again (${DURATION}s)"
run_wrk "$DURATION" >"$WORK/quiet2.txt"

promtool_out=$(promtool check metrics <"$WORK/body.prom" 2>&1 | grep -v -E '^apisix_(http_status|bandwidth) counter metrics should have "_total" suffix$|^apisix_http_requests_total non-counter metrics should not have "_total" suffix$' || true)
render_ms=$(sort -g "$WORK/render.txt" | awk '{v[NR]=$1*1000} END {printf "median %.1f ms, max %.1f ms over %d", v[int((NR+1)/2)], v[NR], NR}')
render_cpu_ms=$(sort -g "$WORK/render-cpu.txt" | awk '{v[NR]=$1*1000} END {printf "median %.1f ms, max %.1f ms", v[int((NR+1)/2)], v[NR]}')
read -r n_scrapes t_med t_p99 t_max size <<<"$(python3 - "$WORK/scrapes.txt" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
t = sorted(float(r[0]) for r in rows)
sz = int(rows[-1][1])
q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
print(len(t), f"{q(0.5)*1000:.1f}", f"{q(0.99)*1000:.1f}", f"{t[-1]*1000:.1f}", sz)
EOF
)"

echo
echo "== $ROUTES routes, prometheus in a global rule, $LOOPS event loop(s) on core $CORE_PROXY; wrk -c$CONNS on core $CORE_LOAD =="
echo "load average at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores): other work on the machine skews every figure"
printf '%-28s %10s %10s %10s %12s\n' phase p50 p90 p99 requests/s
for f in quiet scraping quiet2; do
  printf '%-28s %10s %10s %10s %12s\n' "$f" "$(pct 50% "$WORK/$f.txt")" "$(pct 90% "$WORK/$f.txt")" \
    "$(pct 99% "$WORK/$f.txt")" "$(awk '/^Requests\/sec/ {print $2}' "$WORK/$f.txt")"
done
echo "scrapes: $n_scrapes (interval ${SCRAPE_INTERVAL}s, 0 = back to back); client time median ${t_med} ms, p99 ${t_p99} ms, max ${t_max} ms; server merge+render wall $render_ms scrapes, CPU $render_cpu_ms"
echo "body: $size bytes, $(wc -l <"$WORK/body.prom") lines, $(grep -c '^apisix_http_status{' "$WORK/body.prom") apisix_http_status series"
if [[ -z $promtool_out ]]; then echo "promtool check metrics: ok (APISIX's names aside)"; else echo "promtool: $promtool_out"; exit 1; fi
