# Sourced by scripts/bench.sh for --scaling, after its helpers are defined and before it starts anything.
# Requests/s and CPU per request of Turnpike at 1, 2, 4, 8, 16 event loops (turnpike.event_loops) against nginx with
# as many worker_processes, in front of one backend nginx; see docs/benchmarks.md, "Event-loop scaling".
#
# Core split, from nproc (N): the gateway half is the upper floor(N/2) cores, the load half the rest; the load half is
# split between the backend nginx (the lower half of it, rounded down, one worker per core) and wrk (the rest). A
# load half of one core is shared by the backend and wrk (the 2-core layout of the default run). A loop count n runs
# when n <= floor(N/2), i.e. when the load side has at least as many cores as the gateway; other counts are skipped
# with a message. On 16 cores: backend 0-3 (4 workers), wrk 4-7, gateway 8..8+n-1 for n = 1, 2, 4, 8; 16 skipped.
# On 2 cores: backend + wrk on 0, gateway on 1, n = 1 only.
#
# wrk: threads = n, connections = SCALING_CONNS_PER_LOOP (64) x n, pinned to the wrk cores. Both gateways of a
# count are up together, on the same cores, and measured one at a time, rounds interleaved.

SCALING_CONNS_PER_LOOP=${SCALING_CONNS_PER_LOOP:-64}
is_uint "$SCALING_CONNS_PER_LOOP" && ((SCALING_CONNS_PER_LOOP >= 1)) || die "SCALING_CONNS_PER_LOOP must be >= 1"

# The CPUs this process may run on (a cgroup cpuset or taskset may leave ids that do not start at 0 or have holes);
# core "index" i below is the i-th of them. cpus_of A B: the comma-separated ids of indexes A..B.
read -r -a CPU_IDS <<<"$(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))')"
cpus_of() {
  local i out=()
  for ((i = $1; i <= $2; i++)); do out+=("${CPU_IDS[i]}"); done
  (IFS=,; echo "${out[*]}")
}
cpu_range() { cpus_of "$1" "$2"; }
# expand_cpus LIST: "0-3,6" -> "0 1 2 3 6"
expand_cpus() {
  local part out=() a b i
  IFS=',' read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ $part == *-* ]]; then a=${part%-*} b=${part#*-}; for ((i = a; i <= b; i++)); do out+=("$i"); done
    else out+=("$part"); fi
  done
  echo "${out[*]}"
}
# cpu_jiffies LIST: "busy total" jiffies summed over the CPUs of LIST (/proc/stat; idle + iowait count as idle).
cpu_jiffies() {
  awk -v want=" $(expand_cpus "$1") " '
    $1 ~ /^cpu[0-9]+$/ { id = substr($1, 4); if (index(want, " " id " ") == 0) next
      t = 0; for (i = 2; i <= NF; i++) t += $i; busy += t - $5 - $6; total += t }
    END { printf "%d %d\n", busy, total }' /proc/stat
}
busy_pct() { # busy_pct "B0 T0" "B1 T1"
  local b0 t0 b1 t1
  read -r b0 t0 <<<"$1"; read -r b1 t1 <<<"$2"
  awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.1f", (t > 0 ? 100 * b / t : 0) }'
}
# affinity_line LIST: nginx's worker_cpu_affinity with one worker per CPU of LIST, as explicit bit masks (`auto` would
# count CPUs from 0, not from the taskset list, and put workers on the load cores).
affinity_line() {
  local c mask masks=() i top=0
  for c in "${CPU_IDS[@]}"; do ((c > top)) && top=$c; done
  for c in $(expand_cpus "$1"); do
    mask=""
    for ((i = top; i >= 0; i--)); do if ((i == c)); then mask+=1; else mask+=0; fi; done
    masks+=("$mask")
  done
  echo "worker_cpu_affinity ${masks[*]};"
}
stop_started() { # stop_started PID: TERM, up to 5 s, KILL; then forget it
  local pid=$1 keep=() p
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${STARTED_PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  STARTED_PIDS=("${keep[@]+"${keep[@]}"}")
}

# SCALING_NPROC=K (K != nproc): print the plan (core split, loop counts, commands) for a K-core machine and exit.
# SCALING_OVERSUBSCRIBE=1: also run the counts that do not fit, with the gateway on the last n cores, shared with the
# load side (marked OVERSUBSCRIBED: a check that the machinery works, not a result).
PLAN_NPROC=${SCALING_NPROC:-${#CPU_IDS[@]}}
SCALING_OVERSUBSCRIBE=${SCALING_OVERSUBSCRIBE:-0}
is_uint "$PLAN_NPROC" || die "SCALING_NPROC must be a number"
if ((PLAN_NPROC != ${#CPU_IDS[@]})); then read -r -a CPU_IDS <<<"$(seq 0 $((PLAN_NPROC - 1)) | paste -sd' ')"; fi
HALF=$((PLAN_NPROC / 2))
LOAD_N=$((PLAN_NPROC - HALF))
((HALF >= 1)) || die "--scaling needs at least 2 cores (one for the gateway, one for the backend and wrk); nproc is $PLAN_NPROC"
if ((LOAD_N >= 2)); then
  BACKEND_N=$((LOAD_N / 2))
  BACKEND_CPUS=$(cpu_range 0 $((BACKEND_N - 1)))
  WRK_CPUS=$(cpu_range "$BACKEND_N" $((LOAD_N - 1)))
else
  BACKEND_N=1 BACKEND_CPUS=0 WRK_CPUS=0
fi
WRK_N=$(( LOAD_N >= 2 ? LOAD_N - BACKEND_N : 1 ))
LOOPS_RUN=() SCALING_SKIPPED=()
declare -A GW_CPUS=() OVERSUB=()
IFS=',' read -r -a loop_list <<<"$SCALING_LOOPS"
for n in $(printf '%s\n' "${loop_list[@]}" | sort -n -u); do
  ((n >= 1)) || die "--loops: counts must be >= 1"
  if ((n <= HALF)); then
    LOOPS_RUN+=("$n") GW_CPUS[$n]=$(cpu_range "$LOAD_N" $((LOAD_N + n - 1))) OVERSUB[$n]=0
  elif ((SCALING_OVERSUBSCRIBE && n <= PLAN_NPROC)); then
    LOOPS_RUN+=("$n") GW_CPUS[$n]=$(cpu_range $((PLAN_NPROC - n)) $((PLAN_NPROC - 1))) OVERSUB[$n]=1
    log "loops=$n OVERSUBSCRIBED: gateway cpus ${GW_CPUS[$n]} shared with the backend and wrk (a check, not a result)"
  else
    msg="needs $n gateway cores and at least $n more for the backend and wrk ($((2 * n)) cores); nproc is $PLAN_NPROC"
    log "SKIPPING loops=$n: $msg"
    SCALING_SKIPPED+=("$n" "$msg")
  fi
done
((${#LOOPS_RUN[@]})) || die "--scaling: no loop count of '$SCALING_LOOPS' fits $PLAN_NPROC cores"
log "core split (nproc $PLAN_NPROC): backend nginx cpus $BACKEND_CPUS ($BACKEND_N workers), wrk cpus $WRK_CPUS" \
    "($WRK_N core(s)), gateway cpus $(cpu_range "$LOAD_N" $((PLAN_NPROC - 1))) (the first n of them); loop counts: ${LOOPS_RUN[*]}"
if ((LOAD_N == 1)); then
  log "the load side is one core, shared by the backend and wrk (as in the default run): req/s may be bound by it"
fi
if [[ -n ${SCALING_NPROC:-} ]]; then
  echo "plan for $PLAN_NPROC cores (this machine has $NPROC; nothing is run):"
  echo "  backend: taskset -c $BACKEND_CPUS nginx, worker_processes $BACKEND_N, $(affinity_line "$BACKEND_CPUS")"
  for n in "${LOOPS_RUN[@]}"; do
    echo "  loops=$n: gateway cpus ${GW_CPUS[$n]}; nginx worker_processes $n, $(affinity_line "${GW_CPUS[$n]}")" \
         "turnpike.event_loops: $n; taskset -c $WRK_CPUS wrk -t$n -c$((SCALING_CONNS_PER_LOOP * n))"
  done
  for ((i = 0; i < ${#SCALING_SKIPPED[@]}; i += 2)); do echo "  loops=${SCALING_SKIPPED[i]}: skipped (${SCALING_SKIPPED[i + 1]})"; done
  exit 0
fi
if has_target turnpike; then prepare_launcher; fi

# --- backend: BACKEND_N workers on the backend cores ---
if ((BODY_BYTES > 0)); then
  mkdir -p "$WORK/backend/html"
  head -c "$BODY_BYTES" /dev/zero | tr '\0' 'x' >"$WORK/backend/html/body"
  BODY_DIRECTIVE="            try_files /body =404;"
  EXPECTED_BODY_BYTES=$BODY_BYTES
else
  BODY_DIRECTIVE="            return 200 \"hello world\\\\n\";"
  EXPECTED_BODY_BYTES=12
fi
if ((EUID == 0)); then chmod 755 "$WORK"; fi
NGINX_WORKERS=$BACKEND_N NGINX_AFFINITY=$(affinity_line "$BACKEND_CPUS") \
  start_nginx backend "$BACKEND_CPUS" nginx-backend.conf.tmpl "PORT=$BACKEND_PORT" "BODY_DIRECTIVE=$BODY_DIRECTIVE"
if ((EUID == 0)); then chmod -R a+rX "$WORK/backend/html"; fi
wait_ready backend "${PID_OF[backend]}" "http://127.0.0.1:$BACKEND_PORT/" 10

SCALING_RECORDS="$WORK/scaling-records.jsonl"
: >"$SCALING_RECORDS"
TIMESTAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)

scaling_measure() { # scaling_measure TARGET N ROUND URL PID
  local target=$1 n=$2 round=$3 url=$4 pid=$5 raw="$WORK/scaling-wrk-$1-n$2-r$3.txt" c0 c1 b0 b1 j0 j1 w0 w1 g0 g1
  local others line conns=$((SCALING_CONNS_PER_LOOP * n)) gw t0 t1
  gw=${GW_CPUS[$n]}
  if ((WARMUP > 0)); then
    run_bg "$WORK/scaling-wrk-$target-n$n-r$round-warmup.txt" taskset -c "$WRK_CPUS" wrk -t"$n" -c"$conns" \
      -d"${WARMUP}s" "$url" || die "$target loops=$n warm-up: wrk failed"
  fi
  kill -0 "$pid" 2>/dev/null || die "$target (pid $pid) died"
  python3 "$LIB_DIR/proc_cpu_others.py" snap "$WORK/others-before.json"
  c0=$(cpu_ticks "$pid"); b0=$(cpu_ticks "${PID_OF[backend]}")
  j0=$(cpu_jiffies "$WRK_CPUS"); w0=$(cpu_jiffies "$BACKEND_CPUS"); g0=$(cpu_jiffies "$gw"); t0=$(now_ns)
  run_bg "$raw" taskset -c "$WRK_CPUS" wrk -t"$n" -c"$conns" -d"${DURATION}s" --latency -s "$LIB_DIR/wrk-report.lua" \
    "$url" || die "$target loops=$n: wrk failed (see $raw)"
  c1=$(cpu_ticks "$pid"); b1=$(cpu_ticks "${PID_OF[backend]}")
  j1=$(cpu_jiffies "$WRK_CPUS"); w1=$(cpu_jiffies "$BACKEND_CPUS"); g1=$(cpu_jiffies "$gw"); t1=$(now_ns)
  others=$(python3 "$LIB_DIR/proc_cpu_others.py" diff "$WORK/others-before.json" "$$")
  line=$(grep '^BENCH_JSON ' "$raw" | tail -n 1) || die "$target loops=$n: no BENCH_JSON line in $raw"
  printf '{"loops":%d,"oversubscribed":%d,"gateway_cpus":"%s","target":"%s","round":%d,"threads":%d,"connections":%d,"cpu_ticks":%d,"backend_cpu_ticks":%d,"other_cpu_ticks":%d,"clk_tck":%d,"wall_us":%d,"wrk_cpus_busy_pct":%s,"backend_cpus_busy_pct":%s,"gateway_cpus_busy_pct":%s,"vmrss_kb":%d,"vmhwm_kb":%d,%s\n' \
    "$n" "${OVERSUB[$n]}" "$gw" "$target" "$round" "$n" "$conns" "$((c1 - c0))" "$((b1 - b0))" "$others" "$CLK_TCK" "$(((t1 - t0) / 1000))" \
    "$(busy_pct "$j0" "$j1")" "$(busy_pct "$w0" "$w1")" "$(busy_pct "$g0" "$g1")" \
    "$(mem_kb "$pid" VmRSS)" "$(mem_kb "$pid" VmHWM)" "${line#BENCH_JSON \{}" >>"$SCALING_RECORDS"
  log "loops=$n round $round/$ROUNDS $target: $(awk '/Requests\/sec/ {print $2 " req/s"}' "$raw"), cpu $((c1 - c0)) ticks," \
      "wrk cpus $(busy_pct "$j0" "$j1")% busy, backend cpus $(busy_pct "$w0" "$w1")%, gateway cpus $(busy_pct "$g0" "$g1")%"
}

for n in "${LOOPS_RUN[@]}"; do
  gw=${GW_CPUS[$n]}
  read -r p_nginx p_turnpike p_status <<<"$(free_ports 3)"
  declare -A S_URL=() S_PID=()
  if has_target nginx; then
    # One worker per gateway CPU, each bound to its CPU (the master is pinned to the same list by taskset).
    NGINX_WORKERS=$n NGINX_AFFINITY=$(affinity_line "$gw") \
      start_nginx "nginx_n$n" "$gw" nginx-proxy.conf.tmpl "PORT=$p_nginx" "BACKEND_PORT=$BACKEND_PORT"
    wait_ready "nginx_n$n" "${PID_OF[nginx_n$n]}" "http://127.0.0.1:$p_nginx/" 10
    S_URL[nginx]="http://127.0.0.1:$p_nginx/" S_PID[nginx]=${PID_OF[nginx_n$n]}
  fi
  if has_target turnpike; then
    d="$WORK/turnpike_n$n"
    mkdir -p "$d/conf"
    cat >"$d/conf/config.yaml" <<EOF
apisix:
  node_listen: [{ip: 127.0.0.1, port: $p_turnpike}]
  ssl: {enable: false}
  enable_control: false
plugin_attr:
  prometheus:
    enable_export_server: false
deployment:
  role: data_plane
  role_data_plane:
    config_provider: yaml
turnpike:
  event_loops: $n
  access_log: false
  upstream_max_requests: 1000000
  status_listen:
    ip: 127.0.0.1
    port: $p_status
EOF
    cat >"$d/conf/apisix.yaml" <<EOF
routes:
  - id: "1"
    uri: "/*"
    upstream:
      type: roundrobin
      nodes:
        "127.0.0.1:$BACKEND_PORT": 1
#END
EOF
    start_turnpike "turnpike_n$n" "$d" "$gw"
    wait_ready "turnpike_n$n" "${PID_OF[turnpike_n$n]}" "http://127.0.0.1:$p_turnpike/" "$READY_TIMEOUT_S"
    loops_seen=$(curl -fsS --max-time 2 "http://127.0.0.1:$p_status/status" 2>/dev/null \
      | python3 -c 'import json,sys; print(json.load(sys.stdin).get("event_loops",""))' 2>/dev/null || true)
    [[ -z $loops_seen || $loops_seen == "$n" ]] || die "turnpike_n$n reports $loops_seen event loops, expected $n"
    S_URL[turnpike]="http://127.0.0.1:$p_turnpike/" S_PID[turnpike]=${PID_OF[turnpike_n$n]}
  fi
  for t in "${!S_URL[@]}"; do
    got=$(curl -fsS --max-time 5 -o /dev/null -w '%{http_code} %{size_download}' "${S_URL[$t]}") \
      || die "$t loops=$n: request to ${S_URL[$t]} failed"
    [[ $got == "200 $EXPECTED_BODY_BYTES" ]] || die "$t loops=$n: expected '200 $EXPECTED_BODY_BYTES', got '$got'"
  done
  for ((round = 1; round <= ROUNDS; round++)); do
    for t in "${TARGETS[@]}"; do
      scaling_measure "$t" "$n" "$round" "${S_URL[$t]}" "${S_PID[$t]}"
    done
  done
  for t in "${TARGETS[@]}"; do stop_started "${S_PID[$t]}"; done
  unset S_URL S_PID
done

mkdir -p "$OUT"
OUT_JSON="$OUT/scaling-$(date -u -d "$TIMESTAMP" +%Y%m%dT%H%M%SZ).json"
skipped_args=()
((${#SCALING_SKIPPED[@]})) && skipped_args=("${SCALING_SKIPPED[@]}")
BENCH_TIMESTAMP=$TIMESTAMP BENCH_COMMAND=$COMMAND_LINE \
BENCH_HOSTNAME=$(hostname 2>/dev/null || cat /etc/hostname) BENCH_KERNEL=$(uname -srm) \
BENCH_CPU_MODEL=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo) BENCH_NPROC=$NPROC \
BENCH_JAVA_VERSION=$("$JAVA" -version 2>&1 | paste -sd ';' -) BENCH_NGINX_VERSION=$("$NGINX_BIN" -v 2>&1 | head -n 1) \
BENCH_WRK_VERSION=$(wrk -v 2>&1 | head -n 1 | sed 's/ Copyright.*//') \
BENCH_GIT_SHA=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown) BENCH_LOADAVG_START=$LOADAVG_START \
BENCH_ROUNDS=$ROUNDS BENCH_WARMUP=$WARMUP BENCH_DURATION=$DURATION BENCH_BODY_BYTES=$EXPECTED_BODY_BYTES \
BENCH_CONNS_PER_LOOP=$SCALING_CONNS_PER_LOOP BENCH_BACKEND_CPUS=$BACKEND_CPUS BENCH_BACKEND_WORKERS=$BACKEND_N \
BENCH_WRK_CPUS=$WRK_CPUS BENCH_GATEWAY_CPUS=$(cpu_range "$LOAD_N" $((PLAN_NPROC - 1))) BENCH_LOOPS_REQUESTED=$SCALING_LOOPS \
BENCH_CONTENDED_PCT=$CONTENDED_PCT BENCH_LAUNCHER=$LAUNCHER \
BENCH_SKIPPED_JSON=$(json_obj "${skipped_args[@]+"${skipped_args[@]}"}") \
  python3 "$LIB_DIR/bench_scaling.py" "$SCALING_RECORDS" "$OUT_JSON"
echo
echo "JSON: $OUT_JSON"
echo "Markdown report: ${OUT_JSON%.json}.md"
exit 0
