# Sourced by scripts/bench.sh for --warmup-curve, once the turnpike target's config is written and before it would
# start; it exits when done. See docs/benchmarks.md, "Warm-up curve".
#
# Per round: launch Turnpike (bin/turnpike, the launcher's flags, pinned to the proxy core) while nothing else of
# this run is loaded, start wrk the moment the port answers, and sample the gateway's CPU time (/proc/PID/stat) and
# its request counter (/status) every second from launch. Each one-second bucket gives CPU µs per request; the
# steady state is the median of the buckets in the last third of the run; "settled" is the first second from launch
# after which every bucket stays within WARMUP_TOLERANCE (10 %) of it. Plain HTTP: keep-alive GETs as in the default
# run. With --tls: every request a new connection with a full TLS handshake (wrk -H 'Connection: close' on the HTTPS
# port), so a bucket's CPU per request is CPU per handshake plus one proxied request.

WARMUP_TOLERANCE=${WARMUP_TOLERANCE:-0.10}
CURVE_SECONDS=${CURVE_SECONDS:-$DURATION}
((CURVE_SECONDS >= 9)) || die "--warmup-curve: --duration must be at least 9 seconds (the steady state is its last third)"
command -v wrk >/dev/null 2>&1 || die "wrk not found (apt-get install -y wrk)"

if ((TLS)); then
  CURVE_URL="https://localhost:$TURNPIKE_TLS_PORT/"
  CURVE_WRK_ARGS=(-H "Connection: close")
  CURVE_KIND="tls-handshake"
else
  CURVE_URL="http://127.0.0.1:$TURNPIKE_PORT/"
  CURVE_WRK_ARGS=()
  CURVE_KIND="http-keepalive"
fi
CURVE_RECORDS="$WORK/warmup-curve.jsonl"
: >"$CURVE_RECORDS"

# await_curve_url PID WHAT: poll $CURVE_URL every 20 ms until it answers (as a load balancer would send traffic)
await_curve_url() {
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until curl -fsSk -o /dev/null --max-time 1 "$CURVE_URL" 2>/dev/null; do
    kill -0 "$1" 2>/dev/null || die "turnpike exited during the start ($2); logs in $WORK/turnpike/logs"
    ((SECONDS < deadline)) || die "turnpike not answering at $CURVE_URL after ${READY_TIMEOUT_S}s ($2)"
    sleep 0.02
  done
}

# --startup-cache: one training run under the same load (not measured), stopped with SIGTERM so the JVM writes the
# launcher's start-up cache (bin/turnpike, TURNPIKE_STARTUP_CACHE; docs/startup.md), which every round then maps.
CURVE_CACHE_FILE=""
if ((STARTUP_CACHE)); then
  export TURNPIKE_STARTUP_CACHE="$WORK/startup-cache/turnpike"
  start_turnpike turnpike "$WORK/turnpike" "$CORE_PROXY"
  pid=${PID_OF[turnpike]}
  await_curve_url "$pid" "the training run"
  log "training run: answering; wrk for ${CURVE_SECONDS}s, then SIGTERM (the JVM writes the cache as it exits)"
  run_bg "$WORK/warmup-train-wrk.txt" taskset -c "$CORE_LOAD" wrk -t1 -c"$CONNS" -d"${CURVE_SECONDS}s" \
    "${CURVE_WRK_ARGS[@]}" "$CURVE_URL" || die "wrk failed (see $WORK/warmup-train-wrk.txt)"
  train_stop_ns=$(now_ns)
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done # the cache: seconds, at most 120 s
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  mv "$WORK/turnpike/logs/stdout.log" "$WORK/turnpike/logs/stdout-training.log"
  CURVE_CACHE_FILE=$(find "$WORK/startup-cache" -maxdepth 1 -type f \( -name '*.aot' -o -name '*.jsa' \) | head -1)
  [[ -n $CURVE_CACHE_FILE ]] || die "the training run wrote no start-up cache (see $WORK/turnpike/logs/stdout-training.log)"
  log "training run: $(basename "$CURVE_CACHE_FILE") $(( $(stat -c %s "$CURVE_CACHE_FILE") >> 20 )) MiB, written $(( ($(now_ns) - train_stop_ns) / 1000000 )) ms after SIGTERM"
fi

for ((round = 1; round <= ROUNDS; round++)); do
  launch_ns=$(now_ns)
  start_turnpike turnpike "$WORK/turnpike" "$CORE_PROXY"
  pid=${PID_OF[turnpike]}
  # The sampler starts with the launch: one line per second since launch (cpu ticks, requests served).
  python3 - "$pid" "$TURNPIKE_STATUS_PORT" "$launch_ns" "$((CURVE_SECONDS + 3))" "$round" >>"$CURVE_RECORDS" \
    2>"$WORK/warmup-sampler.log" <<'PY' &
import json, os, sys, time, urllib.request
pid, status_port, launch_ns, seconds, rnd = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
hz = os.sysconf("SC_CLK_TCK")
def cpu():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
def kind(comm):
    # the JVM's JIT compiler threads, its collector (GC workers, G1's concurrent and service threads, the VM thread
    # that runs the pauses) and the event loops; whatever else (config sync, status, JVM housekeeping) is the rest
    if comm.startswith(("C1 CompilerThre", "C2 CompilerThre")):
        return "jit"
    if comm.startswith(("GC Thread", "G1 ", "VM Thread")):
        return "gc"
    if comm.startswith("turnpike-loop"):
        return "loop"
    return None
def by_kind():
    ticks = {"jit": 0, "gc": 0, "loop": 0}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return ticks  # the process has ended
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
        except OSError:
            continue
        k = kind(head.split("(", 1)[1])
        if k:
            fields = rest.split()
            ticks[k] += int(fields[11]) + int(fields[12])
    return ticks
def requests():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{status_port}/status", timeout=0.5) as r:
            return json.load(r)["counters"]["requests"]
    except Exception:
        return None  # not listening yet
for k in range(1, seconds + 1):
    due = launch_ns / 1e9 + k
    time.sleep(max(0.0, due - time.time()))
    try:
        c = cpu()
    except OSError:
        break
    print(json.dumps({"round": rnd, "second": k, "cpu_ticks": c, "hz": hz, "requests": requests(),
                      "thread_ticks": by_kind()}), flush=True)
PY
  sampler=$!
  STARTED_PIDS+=("$sampler")
  # wrk starts as soon as the port answers (polled every 20 ms), as a load balancer would send traffic.
  await_curve_url "$pid" "round $round"
  ready_ms=$(( ($(now_ns) - launch_ns) / 1000000 ))
  CURVE_JVM_FLAGS=$(jvm_flags_of "$pid" || true)
  remaining=$((CURVE_SECONDS - ready_ms / 1000))
  ((remaining >= 3)) || die "turnpike took ${ready_ms} ms to answer: longer than the curve (--duration $CURVE_SECONDS)"
  log "warm-up round $round/$ROUNDS: answering ${ready_ms} ms after launch; wrk for ${remaining}s"
  run_bg "$WORK/warmup-wrk-$round.txt" taskset -c "$CORE_LOAD" wrk -t1 -c"$CONNS" -d"${remaining}s" \
    "${CURVE_WRK_ARGS[@]}" "$CURVE_URL" || die "wrk failed (see $WORK/warmup-wrk-$round.txt)"
  wrk_end_ms=$(( ($(now_ns) - launch_ns) / 1000000 ))
  wait "$sampler" 2>/dev/null || true
  printf '{"round": %d, "ready_ms": %d, "wrk_end_ms": %d}\n' "$round" "$ready_ms" "$wrk_end_ms" >>"$CURVE_RECORDS"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done

mkdir -p "$OUT"
CURVE_STAMP=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$CURVE_RECORDS" "$OUT/warmup-$CURVE_STAMP.json" "$WARMUP_TOLERANCE" "$CURVE_KIND" "$COMMAND_LINE" \
  "${CURVE_JVM_FLAGS:-}" "$(basename "${CURVE_CACHE_FILE:-}")" <<'PY'
import json, statistics, sys
records, out, tol, kind, command, jvm = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
startup_cache = sys.argv[7] or None
samples, ready, wrk_end = {}, {}, {}
for line in open(records):
    r = json.loads(line)
    if "ready_ms" in r:
        ready[r["round"]] = r["ready_ms"]
        wrk_end[r["round"]] = r["wrk_end_ms"]
    else:
        samples.setdefault(r["round"], []).append(r)
def steady_kinds(buckets, n):
    # per thread kind: the median µs per request over the last n buckets (the steady state's split)
    tail = [b["by_thread_us_per_req"] for b in buckets[-n:] if "by_thread_us_per_req" in b]
    if not tail:
        return {}
    return {k: statistics.median(t.get(k, 0.0) for t in tail) for k in tail[0]}
rounds = []
for rnd, rows in sorted(samples.items()):
    buckets = []
    for prev, cur in zip(rows, rows[1:]):
        if prev["requests"] is None or cur["requests"] is None:
            continue
        # only whole seconds under load: from the second the port answered to the last second wrk ran through
        if prev["second"] * 1000 < ready.get(rnd, 0) or cur["second"] * 1000 > wrk_end.get(rnd, 1 << 60):
            continue
        n = cur["requests"] - prev["requests"]
        cpu_us = (cur["cpu_ticks"] - prev["cpu_ticks"]) * 1e6 / cur["hz"]
        if n > 0:
            b = {"second": cur["second"], "requests": n, "cpu_us_per_req": round(cpu_us / n, 2)}
            if "thread_ticks" in cur and "thread_ticks" in prev:
                # µs per request by thread kind; a thread that ended within the second is not counted (rest: 0 floor)
                per = {k: (cur["thread_ticks"][k] - prev["thread_ticks"].get(k, 0)) * 1e6 / cur["hz"] / n
                       for k in cur["thread_ticks"]}
                per["rest"] = max(0.0, cpu_us / n - sum(per.values()))
                b["by_thread_us_per_req"] = {k: round(v, 2) for k, v in per.items()}
            buckets.append(b)
    if len(buckets) < 6:
        continue
    tail = [b["cpu_us_per_req"] for b in buckets[-(len(buckets) // 3):]]
    steady = statistics.median(tail)
    settled = None
    for i, b in enumerate(buckets):
        if all(x["cpu_us_per_req"] <= steady * (1 + tol) for x in buckets[i:]):
            settled = b["second"]
            break
    # The warm-up's extra CPU (above steady, from the first bucket to the settled second) and which threads spent it
    extra, steady_by = {}, steady_kinds(buckets, len(buckets) // 3)
    for b in buckets:
        if settled is not None and b["second"] >= settled:
            break
        over = (b["cpu_us_per_req"] - steady) * b["requests"]
        if over <= 0 or "by_thread_us_per_req" not in b:
            continue
        for k, v in b["by_thread_us_per_req"].items():
            extra[k] = extra.get(k, 0.0) + max(0.0, v - steady_by.get(k, 0.0)) * b["requests"]
    rounds.append({"round": rnd, "ready_ms": ready.get(rnd), "steady_cpu_us_per_req": round(steady, 2),
                   "settled_second": settled,
                   "warmup_extra_cpu_ms_by_thread": {k: round(v / 1000, 1) for k, v in extra.items()},
                   "buckets": buckets})
if not rounds:
    sys.exit("warm-up curve: no round produced enough samples")
doc = {"format": "turnpike-warmup/v1", "kind": kind, "tolerance": tol, "command": command, "jvm_flags": jvm,
       "startup_cache": startup_cache,
       "rounds": rounds,
       "median_settled_second": statistics.median([r["settled_second"] for r in rounds if r["settled_second"]] or [0]),
       "median_ready_ms": statistics.median([r["ready_ms"] for r in rounds if r["ready_ms"] is not None] or [0])}
json.dump(doc, open(out, "w"), indent=1)
secs = sorted({b["second"] for r in rounds for b in r["buckets"]})
print(f"\nwarm-up curve ({kind}{', start-up cache ' + startup_cache if startup_cache else ''}): CPU µs per request in each second since launch, by round")
print("second  " + "  ".join(f"round {r['round']:>2}" for r in rounds))
for s in secs:
    cells = []
    for r in rounds:
        b = next((b for b in r["buckets"] if b["second"] == s), None)
        cells.append(f"{b['cpu_us_per_req']:>8.2f}" if b else f"{'-':>8}")
    print(f"{s:>6}  " + "  ".join(cells))
for r in rounds:
    if r["warmup_extra_cpu_ms_by_thread"]:
        print(f"round {r['round']}: CPU above steady before settling, by thread (ms): "
              + ", ".join(f"{k} {v}" for k, v in sorted(r["warmup_extra_cpu_ms_by_thread"].items(), key=lambda kv: -kv[1])))
for r in rounds:
    print(f"round {r['round']}: answering {r['ready_ms']} ms after launch; steady {r['steady_cpu_us_per_req']} µs/req "
          f"(median of the last third); "
          + (f"within {tol:.0%} from second {r['settled_second']} on" if r['settled_second'] else f"never within {tol:.0%} for good"))
unsettled = sum(1 for r in rounds if r["settled_second"] is None)
print(f"median: settled at second {doc['median_settled_second']} after launch (target: 5)"
      + (f"; {unsettled} round(s) never settled" if unsettled else ""))
print(f"JSON: {out}")
PY
exit 0
