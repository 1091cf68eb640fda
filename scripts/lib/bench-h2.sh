# Sourced by scripts/bench.sh for --h2, after the backend is up (core CORE_LOAD). HTTP/2 through nginx and Turnpike
# with h2load, the same HTTP/1.1 backend behind both; see docs/benchmarks.md, "HTTP/2 (--h2)".
#
# Four targets, each measured alone with its proxy pinned to CORE_PROXY and h2load on CORE_LOAD:
#   nginx_h2c     nginx `listen ... http2` (h2c, prior knowledge)       http://127.0.0.1:P/
#   nginx_h2      nginx `listen ... ssl http2` (ALPN h2)                https://localhost:Q/
#   turnpike_h2c  apisix.node_listen: [{port: P, enable_http2: true}]     (h2c prior knowledge, HTTP/1.1 too)
#   turnpike_h2   apisix.ssl.listen:  [{port: Q, enable_http2: true}]     (ALPN h2 on TLS)
# One nginx process (both servers) and one Turnpike process (both listeners); CPU per request from /proc around the
# measured h2load run; latency percentiles from h2load's --log-file (per-request microseconds), since h2load itself
# prints only min / max / mean / sd.

command -v h2load >/dev/null 2>&1 || die "--h2 needs h2load (apt-get install -y nghttp2-client)"
command -v openssl >/dev/null 2>&1 || die "--h2 needs the openssl CLI"
[[ $(getent ahosts localhost 2>/dev/null | awk 'NR == 1 {print $1}') == 127.0.0.1 ]] \
  || die "--h2: 'localhost' must resolve to 127.0.0.1 first (the TLS runs use https://localhost:PORT/ for SNI)"
curl -V | grep -qw HTTP2 || die "--h2: this curl has no HTTP/2 support (used to check each listener before timing)"

read -r H2_NGINX_H2C_PORT H2_NGINX_TLS_PORT H2_TP_H2C_PORT H2_TP_TLS_PORT H2_TP_STATUS_PORT <<<"$(free_ports 5)"
H2_RECORDS="$WORK/h2-records.jsonl"
: >"$H2_RECORDS"
H2_SNI=localhost

mkdir -p "$WORK/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/tls/key.pem" \
  -out "$WORK/tls/cert.pem" -days 2 -subj "/CN=bench.turnpike.test" \
  -addext "subjectAltName=DNS:bench.turnpike.test,DNS:localhost,IP:127.0.0.1" >"$WORK/tls/openssl.log" 2>&1 \
  || die "openssl could not make the certificate (see $WORK/tls/openssl.log)"
if ((EUID == 0)); then chmod -R a+rX "$WORK/tls"; chmod 755 "$WORK"; fi

declare -A H2_URL=() H2_PID=() H2_SKIP=()
H2_TARGETS=()
# h2_check NAME URL CURL_ARGS...: the listener answers 200 with the backend's body over HTTP/2; else prints why.
h2_check() {
  local name=$1 url=$2 got
  shift 2
  got=$(curl -sS --max-time 5 "$@" -o /dev/null -w '%{http_code} %{size_download} %{http_version}' "$url" 2>&1) \
    || { echo "request failed: $(echo "$got" | head -n 1)"; return 1; }
  [[ $got == "200 $EXPECTED_BODY_BYTES 2" ]] \
    || { echo "expected '200 $EXPECTED_BODY_BYTES 2' (status, body bytes, HTTP version), got '$got'"; return 1; }
}

if has_target nginx; then
  start_nginx nginx_h2 "$CORE_PROXY" nginx-h2-proxy.conf.tmpl "H2C_PORT=$H2_NGINX_H2C_PORT" \
    "H2_TLS_PORT=$H2_NGINX_TLS_PORT" "BACKEND_PORT=$BACKEND_PORT" "CERT=$WORK/tls/cert.pem" "KEY=$WORK/tls/key.pem"
  wait_ready nginx_h2 "${PID_OF[nginx_h2]}" "https://127.0.0.1:$H2_NGINX_TLS_PORT/" 10
  H2_URL[nginx_h2c]="http://127.0.0.1:$H2_NGINX_H2C_PORT/" H2_PID[nginx_h2c]=${PID_OF[nginx_h2]}
  H2_URL[nginx_h2]="https://$H2_SNI:$H2_NGINX_TLS_PORT/" H2_PID[nginx_h2]=${PID_OF[nginx_h2]}
  why=$(h2_check nginx_h2c "${H2_URL[nginx_h2c]}" --http2-prior-knowledge) || die "nginx_h2c: $why"
  why=$(h2_check nginx_h2 "${H2_URL[nginx_h2]}" --http2 -k) || die "nginx_h2: $why"
  H2_TARGETS+=(nginx_h2c nginx_h2)
fi

H2_TURNPIKE_FAILED=
if has_target turnpike; then
  d="$WORK/turnpike_h2"
  mkdir -p "$d/conf"
  cat >"$d/conf/config.yaml" <<EOF
apisix:
  # h2c with prior knowledge (and HTTP/1.1) on this port
  node_listen: [{ip: 127.0.0.1, port: $H2_TP_H2C_PORT, enable_http2: true}]
  ssl:
    enable: true
    # ALPN h2 (and http/1.1) on TLS
    listen: [{ip: 127.0.0.1, port: $H2_TP_TLS_PORT, enable_http2: true}]
    fallback_sni: $H2_SNI
  enable_control: false
plugin_attr:
  prometheus:
    enable_export_server: false
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
    port: $H2_TP_STATUS_PORT
EOF
  {
    echo "routes:"
    echo "  - id: \"1\""
    echo "    uri: \"/*\""
    echo "    upstream:"
    echo "      type: roundrobin"
    echo "      nodes:"
    echo "        \"127.0.0.1:$BACKEND_PORT\": 1"
    echo "ssls:"
    echo "  - id: bench"
    echo "    snis: [\"$H2_SNI\", \"bench.turnpike.test\"]"
    echo "    cert: |"; sed 's/^/      /' "$WORK/tls/cert.pem"
    echo "    key: |"; sed 's/^/      /' "$WORK/tls/key.pem"
    echo "#END"
  } >"$d/conf/apisix.yaml"
  start_turnpike turnpike_h2 "$d" "$CORE_PROXY"
  # Ready when the status listener answers; a Turnpike that refuses the config exits: its message goes in the report.
  deadline=$((SECONDS + READY_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    if ! kill -0 "${PID_OF[turnpike_h2]}" 2>/dev/null; then
      wait "${PID_OF[turnpike_h2]}" 2>/dev/null || true
      H2_TURNPIKE_FAILED="Turnpike exited at start-up with the h2 config (enable_http2: true on node_listen and ssl.listen): $(grep -v 'ThreadPriorityPolicy' "$d/logs/stdout.log" | tail -n 3 | tr '\n' ' ')"
      break
    fi
    curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$H2_TP_STATUS_PORT/status/ready" 2>/dev/null && break
    sleep 0.2
  done
  if [[ -z $H2_TURNPIKE_FAILED ]] && ((SECONDS >= deadline)); then
    H2_TURNPIKE_FAILED="Turnpike not ready after ${READY_TIMEOUT_S}s (logs: $d/logs/stdout.log)"
  fi
  if [[ -z $H2_TURNPIKE_FAILED ]]; then
    H2_URL[turnpike_h2c]="http://127.0.0.1:$H2_TP_H2C_PORT/" H2_PID[turnpike_h2c]=${PID_OF[turnpike_h2]}
    H2_URL[turnpike_h2]="https://$H2_SNI:$H2_TP_TLS_PORT/" H2_PID[turnpike_h2]=${PID_OF[turnpike_h2]}
    if why=$(h2_check turnpike_h2c "${H2_URL[turnpike_h2c]}" --http2-prior-knowledge); then
      H2_TARGETS+=(turnpike_h2c)
    else
      H2_SKIP[turnpike_h2c]="the node_listen port with enable_http2: true does not speak h2c with prior knowledge: $why"
    fi
    if why=$(h2_check turnpike_h2 "${H2_URL[turnpike_h2]}" --http2 -k); then
      H2_TARGETS+=(turnpike_h2)
    else
      H2_SKIP[turnpike_h2]="the ssl.listen port with enable_http2: true does not negotiate h2 (ALPN): $why"
    fi
  else
    H2_SKIP[turnpike_h2c]=$H2_TURNPIKE_FAILED
    H2_SKIP[turnpike_h2]=$H2_TURNPIKE_FAILED
  fi
  # What Turnpike itself said about the key (e.g. "enable_http2: not supported by Turnpike, ignored").
  said=$(grep -h 'enable_http2' "$d/logs/stdout.log" 2>/dev/null | sed 's/^.*config.yaml:[0-9]*: //' | paste -sd';' - || true)
  for t in turnpike_h2c turnpike_h2; do
    if [[ -n ${H2_SKIP[$t]:-} ]]; then
      [[ -n $said ]] && H2_SKIP[$t]+=" (Turnpike's log: $said)"
      log "TURNPIKE HTTP/2 NOT MEASURED ($t): ${H2_SKIP[$t]}"
    fi
  done
fi
((${#H2_TARGETS[@]})) || die "--h2: no target speaks HTTP/2; nothing to measure"

TIMESTAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
H2LOAD_ARGS=(-c "$H2_CONNS" -m "$H2_STREAMS" -t 1)
log "h2: targets ${H2_TARGETS[*]}; h2load ${H2LOAD_ARGS[*]}; $ROUNDS round(s) x (${WARMUP}s warm-up + ${DURATION}s)"

h2_measure() { # h2_measure TARGET ROUND
  local target=$1 round=$2 url=${H2_URL[$1]} pid=${H2_PID[$1]} raw="$WORK/h2load-$1-r$2.txt" lat="$WORK/h2lat-$1-r$2.tsv"
  local c0 c1 t0 t1 others
  if ((WARMUP > 0)); then
    run_bg "$WORK/h2load-$target-r$round-warmup.txt" taskset -c "$CORE_LOAD" h2load "${H2LOAD_ARGS[@]}" -D "$WARMUP" "$url" \
      || die "$target warm-up: h2load failed (see $WORK/h2load-$target-r$round-warmup.txt)"
  fi
  kill -0 "$pid" 2>/dev/null || die "$target (pid $pid) died"
  python3 "$LIB_DIR/proc_cpu_others.py" snap "$WORK/others-before.json"
  c0=$(cpu_ticks "$pid"); t0=$(now_ns)
  run_bg "$raw" taskset -c "$CORE_LOAD" h2load "${H2LOAD_ARGS[@]}" -D "$DURATION" --log-file="$lat" "$url" \
    || die "$target: h2load failed (see $raw)"
  c1=$(cpu_ticks "$pid"); t1=$(now_ns)
  others=$(python3 "$LIB_DIR/proc_cpu_others.py" diff "$WORK/others-before.json" "$$")
  python3 "$LIB_DIR/bench_h2.py" record "$target" "$round" "$raw" "$lat" "$((c1 - c0))" "$CLK_TCK" "$others" \
    "$(((t1 - t0) / 1000))" "$(mem_kb "$pid" VmRSS)" >>"$H2_RECORDS" || die "$target: could not read h2load's output ($raw)"
  rm -f -- "$lat"
  log "round $round/$ROUNDS $target: $(awk '/^finished in/ {print $4, $5}' "$raw" | tr -d ,) cpu $((c1 - c0)) ticks," \
      "$(awk '/^Application protocol:/ {print $3}' "$raw")"
}

for ((round = 1; round <= ROUNDS; round++)); do
  for t in "${H2_TARGETS[@]}"; do h2_measure "$t" "$round"; done
done

mkdir -p "$OUT"
OUT_JSON="$OUT/h2-$(date -u -d "$TIMESTAMP" +%Y%m%dT%H%M%SZ).json"
skip_args=()
for t in "${!H2_SKIP[@]}"; do skip_args+=("$t" "${H2_SKIP[$t]}"); done
BENCH_TIMESTAMP=$TIMESTAMP BENCH_COMMAND=$COMMAND_LINE BENCH_NPROC=$NPROC \
BENCH_HOSTNAME=$(hostname 2>/dev/null || cat /etc/hostname) BENCH_KERNEL=$(uname -srm) \
BENCH_CPU_MODEL=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo) \
BENCH_JAVA_VERSION=$("$JAVA" -version 2>&1 | paste -sd ';' -) BENCH_NGINX_VERSION=$("$NGINX_BIN" -v 2>&1 | head -n 1) \
BENCH_H2LOAD_VERSION=$(h2load --version 2>&1 | head -n 1) BENCH_OPENSSL_VERSION=$(openssl version) \
BENCH_GIT_SHA=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown) BENCH_LOADAVG_START=$LOADAVG_START \
BENCH_ROUNDS=$ROUNDS BENCH_WARMUP=$WARMUP BENCH_DURATION=$DURATION BENCH_BODY_BYTES=$EXPECTED_BODY_BYTES \
BENCH_H2_CONNS=$H2_CONNS BENCH_H2_STREAMS=$H2_STREAMS BENCH_CORE_LOAD=$CORE_LOAD BENCH_CORE_PROXY=$CORE_PROXY \
BENCH_CONTENDED_PCT=$CONTENDED_PCT \
BENCH_H2LOAD_COMMAND="taskset -c $CORE_LOAD h2load ${H2LOAD_ARGS[*]} -D $DURATION --log-file=FILE URL" \
BENCH_SKIPPED_JSON=$(json_obj "${skip_args[@]+"${skip_args[@]}"}") \
  python3 "$LIB_DIR/bench_h2.py" summary "$H2_RECORDS" "$OUT_JSON"
echo
echo "JSON: $OUT_JSON"
echo "Markdown report: ${OUT_JSON%.json}.md"
if has_target turnpike && { [[ -n ${H2_SKIP[turnpike_h2c]:-} ]] || [[ -n ${H2_SKIP[turnpike_h2]:-} ]]; }; then
  echo "bench: error: Turnpike's HTTP/2 listeners were not measured (see above and 'skipped' in the JSON);" \
       "nginx's figures are in the report. --only nginx measures nginx alone." >&2
  exit 3
fi
exit 0
