#!/usr/bin/env bash
# Side-by-side benchmark: the same nginx backend measured directly, through nginx as a reverse
# proxy, and through Turnpike, in interleaved rounds on the same machine. See docs/benchmarks.md.
#
#   scripts/bench.sh [--quick] [--only backend,nginx,turnpike] [--rounds N] [--warmup S]
#                    [--duration S] [--conns N] [--body-bytes N] [--out DIR] [--keep-tmp]
#                    [--rate R] [--tls [--tls-key ec|rsa]] [--jvm-compare] [--routes N] [--chain] [--close]
#   scripts/bench.sh --scaling [--loops 1,2,4,8,16] ...   event-loop scaling vs nginx worker_processes
#   scripts/bench.sh --h2 [--h2-conns C] [--h2-streams M]  HTTP/2 (h2c and TLS h2) with h2load
#
# Layout (2 cores): backend nginx and wrk on core CORE_LOAD (0), the proxy under test on
# CORE_PROXY (1). CPU per request of the process under test comes from /proc/PID/stat
# (utime+stime of the process and its children, all threads) read around the measured wrk run.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
LIB_DIR="$SCRIPT_DIR/lib"
cd "$REPO_ROOT"

# The exact command, with the environment overrides that were in effect, for the JSON.
COMMAND_LINE=""
for v in ROUNDS WARMUP DURATION CONNS WRK_THREADS BODY_BYTES OUT CORE_LOAD CORE_PROXY TURNPIKE_JAR JAVA JVM_OPTS \
         RATE RATE_WARMUP RATE_TICK_US RATE_GENERATOR TLS TLS_KEY TLS_CLIENTS ALT_JVM_OPTS ROUTES SCALING_LOOPS H2_CONNS H2_STREAMS \
         CHAIN CHAIN_NGINX_RATE CHAIN_NGINX_BURST CHAIN_COUNT TURNPIKE_TRANSPORT CLOSE; do
  if [[ -n ${!v+set} ]]; then COMMAND_LINE+="$v=$(printf '%q' "${!v}") "; fi
done
COMMAND_LINE+="scripts/bench.sh"
for a in "$@"; do COMMAND_LINE+=" $(printf '%q' "$a")"; done

ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-5}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-1}
BODY_BYTES=${BODY_BYTES:-0}          # 0: the fixed "hello world\n" body (12 bytes)
OUT=${OUT:-perf-reports/results}
CORE_LOAD=${CORE_LOAD:-0}
CORE_PROXY=${CORE_PROXY:-1}
TURNPIKE_JAR=${TURNPIKE_JAR:-engine/target/turnpike.jar}
REPORT_JAR=${REPORT_JAR:-perf-reports/target/perf-reports.jar}
JAVA=${JAVA:-java}
# Turnpike is started through bin/turnpike, with the launcher's JVM flags (what users run). JVM_OPTS, when set, goes
# to the launcher as TURNPIKE_JVM_OPTS (after its defaults, so its flags win; a different collector cannot be
# selected that way: the JVM refuses two). --jvm-compare adds a second Turnpike process, turnpike_jvm_alt, started
# with `java $ALT_JVM_OPTS -jar` directly (default: the flags this script used before it used the launcher).
JVM_OPTS=${JVM_OPTS:-}
ALT_JVM_OPTS=${ALT_JVM_OPTS:--Xms512m -Xmx512m -XX:+UseParallelGC -XX:+AlwaysPreTouch --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Dio.netty.leakDetection.level=disabled}
LAUNCHER=${LAUNCHER:-$REPO_ROOT/bin/turnpike}
TURNPIKE_TRANSPORT=${TURNPIKE_TRANSPORT:-auto}  # turnpike.transport of the turnpike target (auto|epoll|io_uring|nio)
READY_TIMEOUT_S=${READY_TIMEOUT_S:-60}
KEEP_TMP=${KEEP_TMP:-0}
CONTENDED_PCT=${CONTENDED_PCT:-10}   # flag a run when other processes used more than this % of a core
CLOSE=${CLOSE:-0}                    # --close: a new client connection per request (wrk -H 'Connection: close')
RATE=${RATE:-0}                      # --rate: fixed offered load (req/s), CO-corrected latency; 0 = off
RATE_WARMUP=${RATE_WARMUP:-2}        # generator's own un-recorded seconds before its measured window
RATE_TIMEOUT_MS=${RATE_TIMEOUT_MS:-5000}
RATE_GENERATOR=${RATE_GENERATOR:-auto}  # --rate: native (scripts/lib/fixed_rate_load.c, needs cc), java, or auto
RATE_TICK_US=${RATE_TICK_US:-250}     # generator wakes at most once per tick (wrk2 uses 1 ms timers; docs/benchmarks.md)
TLS=${TLS:-0}                        # --tls: handshakes/s + CPU per handshake, HTTPS keep-alive req/s
TLS_KEY=${TLS_KEY:-ec}               # ec (P-256) | rsa (2048)
TLS_CLIENTS=${TLS_CLIENTS:-2}        # parallel `openssl s_time -new` clients for the handshake test
JMH_JAR=${JMH_JAR:-bench-jmh/target/benchmarks.jar}
QUICK=0
ONLY="backend,nginx,turnpike"
ONLY_SET=0
PLUGINS=${PLUGINS:-0}
WARMUP_CURVE=${WARMUP_CURVE:-0}        # --warmup-curve: CPU per request in each second from launch (scripts/lib/bench-warmup.sh)
STARTUP_CACHE=${STARTUP_CACHE:-0}      # --startup-cache (with --warmup-curve): a training run first, then rounds that use its cache
JVM_COMPARE=${JVM_COMPARE:-0}        # --jvm-compare: + turnpike_jvm_alt (java $ALT_JVM_OPTS -jar, same core)
ROUTES=${ROUTES:-0}                  # --routes N: + turnpike_routes, a Turnpike process with N more routes loaded
JFR_DIR=${JFR_DIR:-}                 # --jfr DIR: a flight recording per Turnpike process (docs/tail-latency.md)
SCALING=${SCALING:-0}                # --scaling: requests/s and CPU per request at 1..16 event loops vs nginx workers
SCALING_LOOPS=${SCALING_LOOPS:-1,2,4,8,16}
H2=${H2:-0}                          # --h2: h2load over h2c (prior knowledge) and TLS (ALPN h2), nginx vs Turnpike
H2_CONNS=${H2_CONNS:-16}
H2_STREAMS=${H2_STREAMS:-10}
# --- --chain (plugin chain vs nginx's closest equivalent) ---
CHAIN=${CHAIN:-0}                    # --chain: + nginx_chain and turnpike_chain, ratio turnpike_chain_vs_nginx_chain
CHAIN_NGINX_RATE=${CHAIN_NGINX_RATE:-1000000}   # nginx_chain limit_req rate (r/s) per consumer: never trips
CHAIN_NGINX_BURST=${CHAIN_NGINX_BURST:-1000000} # its burst (nodelay): requests in the same millisecond stay admitted
CHAIN_COUNT=${CHAIN_COUNT:-1000000000}          # turnpike_chain limit-count count per time_window (3600 s): never trips
CHAIN_KEY=bench-key-0123456789                  # the consumer's key-auth key; wrk sends it as the apikey header
# --- end --chain ---

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options (environment variable in brackets):
  --quick            CI smoke: 1 round, 3 s warm-up, 5 s load
  --only LIST        comma-separated subset of backend,nginx,haproxy,turnpike (default: backend,nginx,turnpike;
                     haproxy: Debian's haproxy as a second peer, nbthread 1 on the proxy core, keep-alive both
                     sides, http-reuse always; ratio turnpike_vs_haproxy)
  --rounds N         interleaved rounds [ROUNDS, default 3]
  --warmup S         warm-up seconds before every measured run [WARMUP, default 5]
  --duration S       measured seconds per run [DURATION, default 10]
  --conns N          wrk connections [CONNS, default 64]
  --body-bytes N     backend body size in bytes; 0 = "hello world\n" [BODY_BYTES, default 0]
  --out DIR          where bench-<UTC>.json goes [OUT, default perf-reports/results]
  --keep-tmp         keep the private temp dir (configs, logs, raw wrk output) [KEEP_TMP=1]
  --close            a new client connection per request: every wrk run (warm-ups included) sends
                     `Connection: close`, so each request is accept + request + close (the proxies keep their
                     upstream connections alive); CPU µs/req is then CPU per connection [CLOSE=1]
  --rate R           also a fixed-rate run per target and round: R req/s offered over --conns
                     connections, latency corrected for coordinated omission [RATE, default off]
  --plugins          also Turnpike with plugins (same process): turnpike_plugins, a route running key-auth +
                     proxy-rewrite headers (wrk sends the key), ratio turnpike_plugins_vs_turnpike; and
                     turnpike_forward_auth, forward-auth to the backend nginx (/auth, keep-alive);
                     turnpike_limit_count, limit-count policy local keyed by client address;
                     turnpike_limit_redis, the same with policy redis (the script starts its own redis-server
                     on a free port, on the load core) and reports Redis commands per 1,000 requests
                     from INFO commandstats; and
                     turnpike_access_log, a second Turnpike process with the same config and the access log
                     on (format json, to a file), ratio turnpike_access_log_vs_turnpike;
                     turnpike_prometheus, another Turnpike process (same core) with the prometheus plugin in a
                     global rule (as APISIX users enable it) and the access log on (JSON, to a file) over the
                     plain route, ratio turnpike_prometheus_vs_turnpike [PLUGINS=1]
  --warmup-curve     instead of the above: launch Turnpike, load it the moment it answers, and print its CPU per
                     request in each second since launch, the steady state (median of the last third) and the
                     second from which it stays within 10 %; --rounds fresh starts, --duration seconds each
                     (default 30); with --tls every request is a new TLS handshake [WARMUP_CURVE=1]
  --startup-cache    with --warmup-curve: first a training run (the launcher's TURNPIKE_STARTUP_CACHE, under the
                     same load for --duration seconds, then stopped so the JVM writes its cache), then the
                     rounds, each started with that cache (JDK 25+: AOT cache; older: class-data archive)
                     [STARTUP_CACHE=1]
  --chain            also the plugin chain against nginx's closest equivalent, two more processes on the proxy
                     core: nginx_chain, the nginx proxy plus auth by a map of the apikey header (401 when
                     unknown), limit_req keyed by that consumer and stub_status; turnpike_chain, a route with
                     key-auth + limit-count (policy local, key consumer_name) and prometheus in a global rule,
                     export endpoint on; neither limit trips at the bench's load (CHAIN_NGINX_RATE r/s, burst
                     CHAIN_NGINX_BURST; CHAIN_COUNT per hour). Ratio turnpike_chain_vs_nginx_chain [CHAIN=1]
  --tls              also TLS: full handshakes/s + CPU per handshake (openssl s_time -new) and HTTPS
                     keep-alive (wrk) through nginx and Turnpike on the same certificate [TLS=1]
  --tls-key ec|rsa   certificate key: ECDSA P-256 or RSA 2048 [TLS_KEY, default ec]
  --jvm-compare      also turnpike_jvm_alt: a second Turnpike process on the same core started with
                     `java $ALT_JVM_OPTS -jar` (default: Parallel GC, 512 MiB pre-touched heap) next to the
                     launcher's flags (bin/turnpike, G1); ratio turnpike_jvm_alt_vs_turnpike [JVM_COMPARE=1]
  --routes N         also turnpike_routes: a Turnpike process with N generated routes (plus the bench route)
                     loaded from its apisix.yaml; its CPU per request and resident memory [ROUTES, default 0]
  --jfr DIR          a JFR recording per launcher-started Turnpike process, DIR/NAME.jfr (profile settings plus
                     every compilation, 1 s thread CPU load; dumped at exit), and DIR/windows.tsv with the
                     measured windows (epoch ms) to cut the recordings by [JFR_DIR] (docs/tail-latency.md)
  --scaling          instead of the above: requests/s, CPU per request and scaling efficiency of Turnpike at
                     1, 2, 4, 8, 16 event loops against nginx with as many worker_processes (counts that do not
                     fit this machine's cores are skipped with a message; docs/benchmarks.md) [SCALING=1]
  --loops LIST       the event-loop counts of --scaling [SCALING_LOOPS, default 1,2,4,8,16]
  --h2               instead of the above: HTTP/2 with h2load, h2c (prior knowledge) and TLS (ALPN h2), nginx vs
                     Turnpike, the same HTTP/1.1 backend; --only nginx for nginx alone [H2=1]
  --h2-conns C       h2load connections [H2_CONNS, default 16]
  --h2-streams M     h2load concurrent streams per connection [H2_STREAMS, default 10]
Other environment: JVM_OPTS (extra launcher flags), TURNPIKE_TRANSPORT (the turnpike target's turnpike.transport), ALT_JVM_OPTS, LAUNCHER (bin/turnpike), JAVA, TURNPIKE_JAR, REPORT_JAR, JMH_JAR, WRK_THREADS, CORE_LOAD, CORE_PROXY,
READY_TIMEOUT_S, RATE_WARMUP (2), RATE_TIMEOUT_MS (5000), RATE_TICK_US (250),
RATE_GENERATOR (auto: native when cc is there, else java), TLS_CLIENTS (2).
EOF
}

die() { echo "bench: error: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

while (($#)); do
  case $1 in
    --quick) QUICK=1; shift ;;
    --only) [[ $# -ge 2 ]] || die "--only needs a value"; ONLY=$2; ONLY_SET=1; shift 2 ;;
    --only=*) ONLY=${1#*=}; ONLY_SET=1; shift ;;
    --rounds) [[ $# -ge 2 ]] || die "--rounds needs a value"; ROUNDS=$2; shift 2 ;;
    --warmup) [[ $# -ge 2 ]] || die "--warmup needs a value"; WARMUP=$2; shift 2 ;;
    --duration) [[ $# -ge 2 ]] || die "--duration needs a value"; DURATION=$2; DURATION_SET=1; shift 2 ;;
    --conns) [[ $# -ge 2 ]] || die "--conns needs a value"; CONNS=$2; shift 2 ;;
    --body-bytes) [[ $# -ge 2 ]] || die "--body-bytes needs a value"; BODY_BYTES=$2; shift 2 ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a value"; OUT=$2; shift 2 ;;
    --keep-tmp) KEEP_TMP=1; shift ;;
    --rate) [[ $# -ge 2 ]] || die "--rate needs a value"; RATE=$2; shift 2 ;;
    --rate=*) RATE=${1#*=}; shift ;;
    --tls) TLS=1; shift ;;
    --close) CLOSE=1; shift ;;
    --tls-key) [[ $# -ge 2 ]] || die "--tls-key needs a value"; TLS_KEY=$2; shift 2 ;;
    --tls-key=*) TLS_KEY=${1#*=}; shift ;;
    --plugins) PLUGINS=1; shift ;;
    --chain) CHAIN=1; shift ;;
    --jvm-compare) JVM_COMPARE=1; shift ;;
    --routes) [[ $# -ge 2 ]] || die "--routes needs a value"; ROUTES=$2; shift 2 ;;
    --routes=*) ROUTES=${1#*=}; shift ;;
    --jfr) [[ $# -ge 2 ]] || die "--jfr needs a directory"; JFR_DIR=$2; shift 2 ;;
    --scaling) SCALING=1; shift ;;
    --loops) [[ $# -ge 2 ]] || die "--loops needs a value"; SCALING_LOOPS=$2; shift 2 ;;
    --loops=*) SCALING_LOOPS=${1#*=}; shift ;;
    --h2) H2=1; shift ;;
    --warmup-curve) WARMUP_CURVE=1; shift ;;
    --startup-cache) STARTUP_CACHE=1; shift ;;
    --h2-conns) [[ $# -ge 2 ]] || die "--h2-conns needs a value"; H2_CONNS=$2; shift 2 ;;
    --h2-streams) [[ $# -ge 2 ]] || die "--h2-streams needs a value"; H2_STREAMS=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

if ((QUICK)); then
  ROUNDS=1 WARMUP=3 DURATION=5
fi
for v in ROUNDS WARMUP DURATION CONNS WRK_THREADS BODY_BYTES CORE_LOAD CORE_PROXY CONTENDED_PCT RATE RATE_WARMUP \
         RATE_TIMEOUT_MS RATE_TICK_US TLS TLS_CLIENTS JVM_COMPARE ROUTES SCALING H2 H2_CONNS H2_STREAMS CHAIN CHAIN_NGINX_RATE \
         CHAIN_NGINX_BURST CHAIN_COUNT CLOSE; do
  is_uint "${!v}" || die "$v must be a non-negative integer, got '${!v}'"
done
((ROUNDS >= 1)) || die "ROUNDS must be >= 1"
case $RATE_GENERATOR in auto | native | java) ;; *) die "RATE_GENERATOR must be auto, native or java, got '$RATE_GENERATOR'" ;; esac
# --jfr: absolute (start_turnpike expands it inside the process's directory); relative to the repo root, like --out
if [[ -n $JFR_DIR ]]; then mkdir -p "$JFR_DIR" && JFR_DIR=$(cd -- "$JFR_DIR" && pwd) || die "--jfr: cannot create $JFR_DIR"; fi
((DURATION >= 1)) || die "DURATION must be >= 1"
((CONNS >= WRK_THREADS)) || die "CONNS must be >= WRK_THREADS"
((TLS_CLIENTS >= 1)) || die "TLS_CLIENTS must be >= 1"
[[ $TLS_KEY == ec || $TLS_KEY == rsa ]] || die "--tls-key: expected ec or rsa, got '$TLS_KEY'"

((SCALING && H2)) && die "--scaling and --h2 are separate runs: give one of them"
if ((WARMUP_CURVE)); then
  ((SCALING || H2 || PLUGINS || RATE || JVM_COMPARE || ROUTES || CHAIN)) \
    && die "--warmup-curve runs alone (with --tls for handshakes): not with --scaling, --h2, --plugins, --rate, --jvm-compare, --routes, --chain"
  ((ONLY_SET)) || ONLY=turnpike
  [[ $ONLY == turnpike ]] || die "--warmup-curve measures turnpike alone: --only turnpike"
  ((${DURATION_SET:-0})) || DURATION=30
fi
((STARTUP_CACHE && !WARMUP_CURVE)) && die "--startup-cache goes with --warmup-curve"
((CLOSE && (RATE || TLS || SCALING || H2 || WARMUP_CURVE))) \
  && die "--close measures plain HTTP/1.1 with wrk: not with --rate, --tls, --scaling, --h2 or --warmup-curve"
if ((SCALING || H2)); then
  mode=$( ((SCALING)) && echo --scaling || echo --h2)
  ((PLUGINS || TLS || RATE || JVM_COMPARE || ROUTES || CHAIN)) \
    && die "$mode runs alone: --plugins, --tls, --rate, --jvm-compare, --routes and --chain belong to the default run"
  ((ONLY_SET)) || ONLY=nginx,turnpike
  [[ ,$ONLY, != *,backend,* && ,$ONLY, != *,haproxy,* ]] || die "$mode: --only takes nginx and/or turnpike"
fi
((H2_CONNS >= 1 && H2_STREAMS >= 1)) || die "--h2-conns and --h2-streams must be >= 1"
[[ $SCALING_LOOPS =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--loops: expected a comma-separated list of counts, got '$SCALING_LOOPS'"

TARGETS=()
IFS=',' read -r -a only_list <<<"$ONLY"
for t in "${only_list[@]}"; do
  case $t in
    backend|nginx|haproxy|turnpike) TARGETS+=("$t") ;;
    "") ;;
    *) die "--only: unknown target '$t' (expected backend, nginx, haproxy, turnpike)" ;;
  esac
done
((${#TARGETS[@]})) || die "--only selected no target"
if ((PLUGINS)); then
  [[ " ${TARGETS[*]} " == *" turnpike "* ]] || die "--plugins needs the turnpike target"
  TARGETS+=(turnpike_plugins turnpike_forward_auth turnpike_limit_count turnpike_limit_redis turnpike_access_log turnpike_prometheus)
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null \
    || { echo "--plugins needs redis-server and redis-cli (turnpike_limit_redis)" >&2; exit 2; }
fi

for cmd in nginx wrk curl taskset pgrep python3 getconf; do
  command -v "$cmd" >/dev/null 2>&1 \
    || die "'$cmd' not found (apt-get install -y nginx-light wrk curl util-linux procps python3)"
done
NGINX_BIN=$(command -v nginx)
NPROC=$(nproc)
((NPROC > CORE_LOAD && NPROC > CORE_PROXY)) || die "need cores $CORE_LOAD and $CORE_PROXY, nproc is $NPROC"
CLK_TCK=$(getconf CLK_TCK)

declare -A SKIPPED=()
has_target() { local t; for t in "${TARGETS[@]}"; do [[ $t == "$1" ]] && return 0; done; return 1; }
drop_target() {
  local t keep=()
  for t in "${TARGETS[@]}"; do [[ $t == "$1" ]] || keep+=("$t"); done
  TARGETS=("${keep[@]}")
}
if has_target turnpike && [[ ! -f $TURNPIKE_JAR ]]; then
  log "SKIPPING turnpike: $TURNPIKE_JAR not found (build it with: mvn -B -pl engine -am package)"
  SKIPPED[turnpike]="$TURNPIKE_JAR not found"
  drop_target turnpike
fi
((${#TARGETS[@]})) || die "nothing left to measure"
if ((JVM_COMPARE)); then
  if has_target turnpike; then TARGETS+=(turnpike_jvm_alt)
  elif [[ -n ${SKIPPED[turnpike]:-} ]]; then SKIPPED[turnpike_jvm_alt]=${SKIPPED[turnpike]}
  else die "--jvm-compare needs the turnpike target"; fi
fi
# --- --chain targets: nginx_chain always; turnpike_chain when the jar is there ---
if ((CHAIN)); then
  ((CHAIN_NGINX_RATE >= 1 && CHAIN_NGINX_BURST >= 1 && CHAIN_COUNT >= 1)) \
    || die "CHAIN_NGINX_RATE, CHAIN_NGINX_BURST (nginx refuses burst=0) and CHAIN_COUNT must be >= 1"
  TARGETS+=(nginx_chain)
  if [[ -f $TURNPIKE_JAR ]]; then TARGETS+=(turnpike_chain)
  else SKIPPED[turnpike_chain]="$TURNPIKE_JAR not found"; fi
fi
# --- end --chain ---
if ((ROUTES > 0)); then
  if has_target turnpike; then TARGETS+=(turnpike_routes)
  elif [[ -n ${SKIPPED[turnpike]:-} ]]; then SKIPPED[turnpike_routes]=${SKIPPED[turnpike]}
  else die "--routes needs the turnpike target"; fi
fi
if has_target turnpike || has_target turnpike_chain || ((RATE > 0)); then
  command -v "$JAVA" >/dev/null 2>&1 || die "'$JAVA' not found (set JAVA=/path/to/java)"
fi
if ((TLS)); then
  command -v openssl >/dev/null 2>&1 || die "--tls needs the openssl CLI (apt-get install -y openssl)"
  # wrk sends the URL's host as SNI; an IP literal is refused by Turnpike (no ssl object has that name), so
  # the HTTPS runs use https://localhost:PORT/, which must resolve to 127.0.0.1 first.
  [[ $(getent ahosts localhost 2>/dev/null | awk 'NR == 1 {print $1}') == 127.0.0.1 ]] \
    || die "--tls: 'localhost' must resolve to 127.0.0.1 first (wrk connects to the first address)"
  has_target nginx || has_target turnpike || die "--tls needs nginx or turnpike among the targets"
fi

# ---------------------------------------------------------------------------------------------
# Processes we start; only these are ever signalled.
STARTED_PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/turnpike-bench.XXXXXX")

cleanup() {
  local rc=$? pid
  if [[ -n ${WRK_PID:-} ]]; then
    for pid in $WRK_PID; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in $WRK_PID; do wait "$pid" 2>/dev/null || true; done
  fi
  for pid in "${STARTED_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]}"; do
    # nginx master and the JVM exit within a second on TERM; escalate if they do not.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((KEEP_TMP)) || ((rc != 0)); then
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
  # Binds N sockets at once so the ports are distinct, then releases them.
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
read -r BACKEND_PORT NGINX_PORT TURNPIKE_PORT TURNPIKE_STATUS_PORT NGINX_TLS_PORT TURNPIKE_TLS_PORT \
  TURNPIKE_LOG_PORT TURNPIKE_LOG_STATUS_PORT TURNPIKE_EXPORT_PORT TURNPIKE_PROM_PORT TURNPIKE_PROM_STATUS_PORT \
  TURNPIKE_PROM_EXPORT_PORT REDIS_PORT HAPROXY_PORT TURNPIKE_ALT_PORT TURNPIKE_ALT_STATUS_PORT TURNPIKE_ROUTES_PORT \
  TURNPIKE_ROUTES_STATUS_PORT <<<"$(free_ports 18)"

render() {
  # render TEMPLATE OUT KEY=VALUE...: replaces @KEY@ by VALUE (values must not contain '|').
  local tmpl=$1 out=$2 kv sed_args=()
  shift 2
  for kv in "$@"; do sed_args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${sed_args[@]}" "$tmpl" >"$out"
}

nginx_user_line() {
  # As root, nginx drops its worker to a user; nobody's primary group differs between distros.
  if ((EUID == 0)); then
    echo "user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
  fi
}

declare -A PID_OF=()
# start_nginx NAME CORE TEMPLATE KEY=VALUE...: starts it in the background, sets PID_OF[NAME].
start_nginx() {
  local name=$1 core=$2 tmpl=$3 prefix="$WORK/$1" pid
  shift 3
  mkdir -p "$prefix/logs" "$prefix/tmp" "$prefix/html"
  # NGINX_WORKERS (default 1) and NGINX_AFFINITY (a worker_cpu_affinity line, default none) from the environment.
  render "$LIB_DIR/nginx-common.conf.tmpl" "$prefix/nginx.conf" "PREFIX=$prefix" "USER_LINE=$(nginx_user_line)" \
    "WORKERS=${NGINX_WORKERS:-1}" "AFFINITY_LINE=${NGINX_AFFINITY:-}"
  render "$LIB_DIR/$tmpl" "$prefix/http.conf" "PREFIX=$prefix" "$@"
  cat "$prefix/http.conf" >>"$prefix/nginx.conf"
  "$NGINX_BIN" -t -q -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" \
    || die "nginx config for $name invalid: $prefix/nginx.conf"
  taskset -c "$core" "$NGINX_BIN" -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" \
    >"$prefix/logs/stdout.log" 2>&1 &
  pid=$!
  STARTED_PIDS+=("$pid")
  PID_OF[$name]=$pid
}

wait_ready() {
  # wait_ready NAME PID URL TIMEOUT_S: until URL answers 2xx, or the process dies, or time runs out.
  local name=$1 pid=$2 url=$3 timeout_s=$4 deadline
  deadline=$((SECONDS + timeout_s))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || die "$name (pid $pid) exited during start-up; logs in $WORK"
    if curl -fsSk -o /dev/null --max-time 1 "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  die "$name not ready at $url after ${timeout_s}s; logs in $WORK"
}

# --- /proc readings -------------------------------------------------------------------------
proc_tree() {
  # The PID and its descendants (the nginx master forks its worker; the JVM is one process).
  local pid=$1 child
  echo "$pid"
  for child in $(pgrep -P "$pid" 2>/dev/null || true); do proc_tree "$child"; done
}

cpu_ticks() {
  # Sum of utime+stime (stat fields 14, 15) over the tree; all threads of each process included.
  local pid stat total=0 f
  for pid in $(proc_tree "$1"); do
    stat=$(<"/proc/$pid/stat") || continue
    stat=${stat##*) }                 # comm may contain spaces; fields restart at 3 after ") "
    read -r -a f <<<"$stat"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

rss_peak_kb() {
  # Sum of VmHWM over the tree (for nginx, master + worker: slightly over-counts shared pages).
  local pid total=0 kb
  for pid in $(proc_tree "$1"); do
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

describe_process() {
  local pid names=() comm
  for pid in $(proc_tree "$1"); do
    comm=$(<"/proc/$pid/comm") || continue
    names+=("$comm:$pid")
  done
  echo "${names[*]}"
}


# --- Turnpike through the launcher ------------------------------------------------------------
# bin/turnpike picks the JVM flags per JDK (G1, heap and direct-memory bounds, JDK 24+ Unsafe/JNI flags); the script
# runs it as users do, with the JVM of $JAVA (as JAVA_HOME) and the jar of $TURNPIKE_JAR. The launcher execs the JVM,
# so the PID is the JVM's and taskset's CPU list applies to every JVM thread.
JAVA_HOME_FOR_LAUNCHER=
TURNPIKE_JAR_ABS=
prepare_launcher() {
  local jbin
  [[ -x $LAUNCHER ]] || die "launcher $LAUNCHER not found or not executable"
  jbin=$(command -v "$JAVA") || die "'$JAVA' not found (set JAVA=/path/to/java)"
  jbin=$(readlink -f -- "$jbin")
  JAVA_HOME_FOR_LAUNCHER=$(cd -- "$(dirname -- "$jbin")/.." && pwd)
  [[ -x $JAVA_HOME_FOR_LAUNCHER/bin/java ]] || die "cannot derive JAVA_HOME from $jbin"
  TURNPIKE_JAR_ABS=$(cd -- "$(dirname -- "$TURNPIKE_JAR")" && pwd)/$(basename -- "$TURNPIKE_JAR")
}
java_major() {
  local spec
  spec=$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
  echo "${spec%%.*}"
}
# --jfr DIR: " -XX:StartFlightRecording=..." for Turnpike process NAME (empty without --jfr). The settings are the
# JDK's profile.jfc with every compilation (threshold 0) and thread CPU load each second; windows.tsv gets a line
# per measured window (target, round, kind, start and end epoch ms) from jfr_window.
jfr_opts() {
  [[ -n $JFR_DIR ]] || return 0
  if [[ ! -f $JFR_DIR/tail.jfc ]]; then
    mkdir -p "$JFR_DIR"
    sed -e '/name="jdk.Compilation"/,/<\/event>/ s/>100 ms</>0 ms</' \
        -e '/name="jdk.ThreadCPULoad"/,/<\/event>/ s/>10 s</>1 s</' \
        "$JAVA_HOME_FOR_LAUNCHER/lib/jfr/profile.jfc" >"$JFR_DIR/tail.jfc"
  fi
  printf ' -XX:StartFlightRecording=name=bench,settings=%s,filename=%s,dumponexit=true' \
    "$(realpath "$JFR_DIR/tail.jfc")" "$(realpath "$JFR_DIR")/$1.jfr"
}
jfr_window() { [[ -z $JFR_DIR ]] || printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$JFR_DIR/windows.tsv"; }
# start_turnpike NAME DIR CPUS: `bin/turnpike start -c DIR/conf/config.yaml` in DIR (logs in DIR/logs), pinned to
# CPUS (a taskset list); sets PID_OF[NAME]. With ALT_JVM=1 in the environment, `java $ALT_JVM_OPTS -jar` instead.
start_turnpike() {
  local name=$1 dir=$2 cpus=$3 opts=()
  [[ -n $TURNPIKE_JAR_ABS ]] || prepare_launcher
  mkdir -p "$dir/logs"
  if [[ ${ALT_JVM:-0} == 1 ]]; then
    read -r -a opts <<<"$ALT_JVM_OPTS"
    if (( $(java_major) >= 24 )); then opts+=(--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED); fi
    (cd "$dir" && exec taskset -c "$cpus" "$JAVA" "${opts[@]}" -jar "$TURNPIKE_JAR_ABS" start -c "$dir/conf/config.yaml") \
      >"$dir/logs/stdout.log" 2>&1 &
  else
    (cd "$dir" && JAVA_HOME=$JAVA_HOME_FOR_LAUNCHER TURNPIKE_JAR=$TURNPIKE_JAR_ABS TURNPIKE_JVM_OPTS="$JVM_OPTS$(jfr_opts "$name")" \
       exec taskset -c "$cpus" "$LAUNCHER" start -c "$dir/conf/config.yaml") >"$dir/logs/stdout.log" 2>&1 &
  fi
  PID_OF[$name]=$!
  STARTED_PIDS+=("${PID_OF[$name]}")
}
# The JVM flags a running Turnpike was started with (from /proc/PID/cmdline, up to -jar).
jvm_flags_of() {
  tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | awk 'NR > 1 && $0 == "-jar" {exit} NR > 1 {printf "%s%s", sep, $0; sep=" "}'
}

# --- resident memory ----------------------------------------------------------------------------
# mem_kb PID FIELD: FIELD (VmRSS or VmHWM) summed over the process tree (nginx: master + workers, which slightly
# over-counts their shared pages).
mem_kb() {
  local pid total=0 kb
  for pid in $(proc_tree "$1"); do
    kb=$(awk -v f="$2:" '$1 == f {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}
MEMORY_RECORDS="$WORK/memory.jsonl"
: >"$MEMORY_RECORDS"
# mem_snapshot TARGET PHASE: appends {target, phase, pid, vmrss_kb, vmhwm_kb} to $MEMORY_RECORDS.
mem_snapshot() {
  local pid=${PID_OF[$1]}
  printf '{"target":"%s","phase":"%s","pid":%d,"vmrss_kb":%d,"vmhwm_kb":%d}\n' "$1" "$2" "$pid" \
    "$(mem_kb "$pid" VmRSS)" "$(mem_kb "$pid" VmHWM)" >>"$MEMORY_RECORDS"
}

BG_PID=
run_bg() {
  # run_bg OUTFILE CMD...: like run_wrk, for the other load clients.
  local out=$1 rc=0
  shift
  "$@" >"$out" 2>&1 &
  BG_PID=$!
  WRK_PID=$BG_PID
  wait "$BG_PID" || rc=$?
  BG_PID=
  WRK_PID=
  return "$rc"
}

now_ns() { date +%s%N; }
first_line() { "$@" 2>&1 | head -n 1 || true; }
json_obj() {
  # json_obj KEY VALUE...: a flat JSON object of strings, via python for correct escaping.
  python3 -c 'import json,sys; a=sys.argv[1:]; print(json.dumps(dict(zip(a[::2], a[1::2]))))' "$@"
}

# --scaling is a separate run (scripts/lib/bench-scaling.sh) with the helpers above; --h2 (scripts/lib/bench-h2.sh)
# starts after the backend.
if ((SCALING)); then
  # shellcheck source=lib/bench-scaling.sh
  source "$LIB_DIR/bench-scaling.sh"
fi
# --- backend --------------------------------------------------------------------------------
if ((BODY_BYTES > 0)); then
  mkdir -p "$WORK/backend/html"
  head -c "$BODY_BYTES" /dev/zero | tr '\0' 'x' >"$WORK/backend/html/body"
  BODY_DIRECTIVE="            try_files /body =404;"
  EXPECTED_BODY_BYTES=$BODY_BYTES
else
  BODY_DIRECTIVE="            return 200 \"hello world\\\\n\";"
  EXPECTED_BODY_BYTES=12
fi
if ((EUID == 0)); then
  # The worker runs as nobody and must be able to reach the body file.
  chmod 755 "$WORK"
fi
start_nginx backend "$CORE_LOAD" nginx-backend.conf.tmpl "PORT=$BACKEND_PORT" "BODY_DIRECTIVE=$BODY_DIRECTIVE"
if ((EUID == 0)); then chmod -R a+rX "$WORK/backend/html"; fi
wait_ready backend "${PID_OF[backend]}" "http://127.0.0.1:$BACKEND_PORT/" 10
if ((H2)); then
  # shellcheck source=lib/bench-h2.sh
  source "$LIB_DIR/bench-h2.sh"
fi

# --- TLS: one certificate for both proxies ---------------------------------------------------
TLS_SNI=bench.turnpike.test
TLS_CERT_DESC=
if ((TLS)); then
  mkdir -p "$WORK/tls"
  if [[ $TLS_KEY == rsa ]]; then key_args=(-newkey rsa:2048); else key_args=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1); fi
  openssl req -x509 "${key_args[@]}" -nodes -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" -days 2 \
    -subj "/CN=$TLS_SNI" -addext "subjectAltName=DNS:$TLS_SNI,DNS:localhost,IP:127.0.0.1" >"$WORK/tls/openssl.log" 2>&1 \
    || die "openssl could not make the certificate (see $WORK/tls/openssl.log)"
  if ((EUID == 0)); then chmod -R a+rX "$WORK/tls"; chmod 755 "$WORK"; fi
  TLS_CERT_DESC=$(openssl x509 -in "$WORK/tls/cert.pem" -noout -text \
    | awk '/Public Key Algorithm|Public-Key|ASN1 OID/ {sub(/^ +/, ""); printf "%s%s", sep, $0; sep="; "}')
  # One session ticket key for both proxies (48 bytes: name 16 | HMAC 16 | AES 16, the layout of nginx's 48-byte
  # ssl_session_ticket_key file and of Turnpike's session_ticket_keys): tickets on with a shared key on both sides.
  head -c 48 /dev/urandom >"$WORK/tls/ticket.key"
  TLS_TICKET_KEY_B64=$(base64 -w0 "$WORK/tls/ticket.key")
  if ((EUID == 0)); then chmod a+r "$WORK/tls/ticket.key"; fi
fi

# --- proxy A: nginx -------------------------------------------------------------------------
if has_target nginx; then
  start_nginx nginx "$CORE_PROXY" nginx-proxy.conf.tmpl "PORT=$NGINX_PORT" "BACKEND_PORT=$BACKEND_PORT"
  wait_ready nginx "${PID_OF[nginx]}" "http://127.0.0.1:$NGINX_PORT/" 10
  if ((TLS)); then
    # A separate nginx (same layout: 1 worker, pinned to the proxy core) for HTTPS, so its CPU is read alone.
    start_nginx nginx_tls "$CORE_PROXY" nginx-tls-proxy.conf.tmpl "PORT=$NGINX_TLS_PORT" \
      "BACKEND_PORT=$BACKEND_PORT" "CERT=$WORK/tls/cert.pem" "KEY=$WORK/tls/key.pem" "TICKET_KEY=$WORK/tls/ticket.key"
    wait_ready nginx_tls "${PID_OF[nginx_tls]}" "https://127.0.0.1:$NGINX_TLS_PORT/" 10
  fi
fi

# --- peer 2: HAProxy (--only ...,haproxy,...) -------------------------------------------------
if has_target haproxy; then
  command -v haproxy >/dev/null 2>&1 || die "haproxy not found (apt-get install -y haproxy)"
  mkdir -p "$WORK/haproxy"
  render "$LIB_DIR/haproxy.cfg.tmpl" "$WORK/haproxy/haproxy.cfg" "PORT=$HAPROXY_PORT" "BACKEND_PORT=$BACKEND_PORT"
  haproxy -c -q -f "$WORK/haproxy/haproxy.cfg" || die "haproxy config invalid: $WORK/haproxy/haproxy.cfg"
  taskset -c "$CORE_PROXY" haproxy -db -f "$WORK/haproxy/haproxy.cfg" >"$WORK/haproxy/stdout.log" 2>&1 &
  PID_OF[haproxy]=$!
  STARTED_PIDS+=("${PID_OF[haproxy]}")
  wait_ready haproxy "${PID_OF[haproxy]}" "http://127.0.0.1:$HAPROXY_PORT/" 10
fi

# --- Redis for turnpike_limit_redis (--plugins): on the load core, no persistence ---------------
if ((PLUGINS)); then
  mkdir -p "$WORK/redis"
  taskset -c "$CORE_LOAD" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$WORK/redis" >"$WORK/redis/redis.log" 2>&1 &
  PID_OF[redis]=$!
  STARTED_PIDS+=("${PID_OF[redis]}")
  for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" PING 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  redis-cli -p "$REDIS_PORT" PING 2>/dev/null | grep -q PONG || die "redis-server did not start (see $WORK/redis/redis.log)"
fi

# --- proxy B: Turnpike ----------------------------------------------------------------------
# --plugins only: the same limit as limit-count with policy redis (leases from the script's own redis-server). Without
# --plugins there is no redis-server, and the route would keep the gateway's Redis link reconnecting in the background
# of every measured run.
limit_redis_route() {
  ((PLUGINS)) || return 0
  cat <<EOF
  - id: "limit-redis"
    uri: "/limitredis/*"
    plugins:
      limit-count:
        count: 1000000000
        time_window: 3600
        policy: redis
        redis_host: 127.0.0.1
        redis_port: $REDIS_PORT
    upstream:
      type: roundrobin
      nodes:
        "127.0.0.1:$BACKEND_PORT": 1
EOF
}
if has_target turnpike; then
  conf="$WORK/turnpike/conf"
  mkdir -p "$conf" "$WORK/turnpike/logs"
  if ((TLS)); then
    ssl_yaml="  ssl:
    enable: true
    listen: [{ip: 127.0.0.1, port: $TURNPIKE_TLS_PORT}]
    # openssl s_time sends no SNI: the listener answers with this name's certificate.
    fallback_sni: $TLS_SNI"
  else
    ssl_yaml="  ssl: {enable: false}"
  fi
  cat >"$conf/config.yaml" <<EOF
apisix:
  node_listen: [{ip: 127.0.0.1, port: $TURNPIKE_PORT}]
$ssl_yaml
deployment:
  role: data_plane
  role_data_plane:
    config_provider: yaml
turnpike:
  event_loops: 1
  transport: $TURNPIKE_TRANSPORT
  # Same as the nginx proxy: no access log, upstream connections kept for the whole run.
  access_log: false
  upstream_max_requests: 1000000
  status_listen:
    ip: 127.0.0.1
    port: $TURNPIKE_STATUS_PORT
plugin_attr:
  prometheus:
    export_addr: {ip: 127.0.0.1, port: $TURNPIKE_EXPORT_PORT}
EOF
  cat >"$conf/apisix.yaml" <<EOF
routes:
  - id: "1"
    uri: "/*"
    upstream:
      type: roundrobin
      nodes:
        "127.0.0.1:$BACKEND_PORT": 1
  # --plugins: the same upstream behind key-auth + proxy-rewrite (header edits both ways of the issue's plan).
  - id: "plugins"
    uri: "/plugins/*"
    plugins:
      key-auth: {}
      proxy-rewrite:
        uri: "/"
        headers:
          set: {X-Api-Version: v2}
          remove: [User-Agent]
    upstream:
      type: roundrobin
      nodes:
        "127.0.0.1:$BACKEND_PORT": 1
  # --plugins: forward-auth to a keep-alive auth service (the backend nginx answers 200 on /auth).
  - id: "forward-auth"
    uri: "/fwd/*"
    plugins:
      forward-auth:
        uri: "http://127.0.0.1:$BACKEND_PORT/auth"
        request_headers: [Authorization]
        # One idle keep-alive connection per concurrent request (wrk's 64): the default pool of 5 (APISIX's) would
        # close most connections after each answer and reconnect.
        keepalive_pool: 128
      proxy-rewrite:
        uri: "/"
    upstream:
      type: roundrobin
      nodes:
        "127.0.0.1:$BACKEND_PORT": 1
  # --plugins: limit-count alone (the backend answers any path), policy local, keyed by the client address, far
  # above what the run sends (every request is counted and admitted; the quota headers are written).
  - id: "limit-count"
    uri: "/limit/*"
    plugins:
      limit-count:
        count: 1000000000
        time_window: 3600
    upstream:
      type: roundrobin
      nodes:
        "127.0.0.1:$BACKEND_PORT": 1
$(limit_redis_route)
consumers:
  - username: bench
    plugins:
      key-auth: {key: bench-key-0123456789}
EOF
  if ((TLS)); then
    # The same certificate and key as nginx_tls, as an ssl object (certificates come only from ssls).
    {
      echo "ssls:"
      echo "  - id: bench"
      echo "    snis: [\"$TLS_SNI\", \"localhost\"]"
      echo "    cert: |"; sed 's/^/      /' "$WORK/tls/cert.pem"
      echo "    key: |"; sed 's/^/      /' "$WORK/tls/key.pem"
      echo "    session_ticket_keys: [\"$TLS_TICKET_KEY_B64\"]"
    } >>"$conf/apisix.yaml"
  fi
  echo "#END" >>"$conf/apisix.yaml"
  if ((WARMUP_CURVE)); then
    # shellcheck source=lib/bench-warmup.sh
    source "$LIB_DIR/bench-warmup.sh" # measures the curve from launch, writes warmup-<UTC>.json, exits
  fi
  start_turnpike turnpike "$WORK/turnpike" "$CORE_PROXY"
  wait_ready turnpike "${PID_OF[turnpike]}" "http://127.0.0.1:$TURNPIKE_PORT/" "$READY_TIMEOUT_S"
  # The transport the process runs on, as /status names it (auto: epoll, or NIO without the native library): in the JSON.
  TURNPIKE_TRANSPORT_IN_USE=$(curl -s --max-time 2 "http://127.0.0.1:$TURNPIKE_STATUS_PORT/status" \
    | sed -n 's/.*"transport":"\([a-z_]*\)".*/\1/p')
  log "turnpike transport: ${TURNPIKE_TRANSPORT_IN_USE:-unknown} (turnpike.transport: $TURNPIKE_TRANSPORT)"
  if ((PLUGINS)); then
    # --plugins: the same gateway with the access log on (JSON to a file), as a second process (the access log is
    # process-wide); pinned to the same core, measured alone like every target.
    logconf="$WORK/turnpike-log/conf"
    mkdir -p "$logconf" "$WORK/turnpike-log/logs"
    cat >"$logconf/config.yaml" <<EOF
apisix:
  node_listen: [{ip: 127.0.0.1, port: $TURNPIKE_LOG_PORT}]
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
  event_loops: 1
  access_log:
    path: $WORK/turnpike-log/logs/access.log
    format: json
  upstream_max_requests: 1000000
  status_listen:
    ip: 127.0.0.1
    port: $TURNPIKE_LOG_STATUS_PORT
EOF
    cp "$conf/apisix.yaml" "$logconf/apisix.yaml"
    start_turnpike turnpike_access_log "$WORK/turnpike-log" "$CORE_PROXY"
    wait_ready turnpike_access_log "${PID_OF[turnpike_access_log]}" "http://127.0.0.1:$TURNPIKE_LOG_PORT/" \
      "$READY_TIMEOUT_S"
  fi
fi

# --- proxy B': Turnpike with the prometheus plugin in a global rule (--plugins) ----------------
# A global rule covers every route of a process, so this is a second process, on the same core, serving the plain
# route only; its CPU per request is compared with the plain process's (turnpike_prometheus_vs_turnpike).
if has_target turnpike_prometheus; then
  pconf="$WORK/turnpike_prometheus/conf"
  mkdir -p "$pconf" "$WORK/turnpike_prometheus/logs"
  cat >"$pconf/config.yaml" <<EOF
apisix:
  node_listen: [{ip: 127.0.0.1, port: $TURNPIKE_PROM_PORT}]
  ssl: {enable: false}
deployment:
  role: data_plane
  role_data_plane:
    config_provider: yaml
turnpike:
  event_loops: 1
  # Observability as operators run it: the prometheus plugin in a global rule and the access log (JSON, to a file).
  access_log:
    path: $WORK/turnpike_prometheus/logs/access.log
    format: json
  upstream_max_requests: 1000000
  status_listen:
    ip: 127.0.0.1
    port: $TURNPIKE_PROM_STATUS_PORT
plugin_attr:
  prometheus:
    export_addr: {ip: 127.0.0.1, port: $TURNPIKE_PROM_EXPORT_PORT}
EOF
  cat >"$pconf/apisix.yaml" <<EOF
global_rules:
  - id: "metrics"
    plugins:
      prometheus: {}
routes:
  - id: "1"
    uri: "/*"
    upstream:
      type: roundrobin
      nodes:
        "127.0.0.1:$BACKEND_PORT": 1
#END
EOF
  start_turnpike turnpike_prometheus "$WORK/turnpike_prometheus" "$CORE_PROXY"
  wait_ready turnpike_prometheus "${PID_OF[turnpike_prometheus]}" "http://127.0.0.1:$TURNPIKE_PROM_PORT/" \
    "$READY_TIMEOUT_S"
fi

# --- --chain: the plugin chain (key-auth + limit-count + prometheus) and nginx's closest equivalent ---------------
# Two more processes on the proxy core, each measured alone like every target. Their ports come from a second
# free_ports call, re-drawn until none collides with the first set.
if ((CHAIN)); then
  taken=" $BACKEND_PORT $NGINX_PORT $TURNPIKE_PORT $TURNPIKE_STATUS_PORT $NGINX_TLS_PORT $TURNPIKE_TLS_PORT $TURNPIKE_LOG_PORT $TURNPIKE_LOG_STATUS_PORT $TURNPIKE_EXPORT_PORT $TURNPIKE_PROM_PORT $TURNPIKE_PROM_STATUS_PORT $TURNPIKE_PROM_EXPORT_PORT $REDIS_PORT $HAPROXY_PORT $TURNPIKE_ALT_PORT $TURNPIKE_ALT_STATUS_PORT $TURNPIKE_ROUTES_PORT $TURNPIKE_ROUTES_STATUS_PORT "
  for _ in $(seq 20); do
    read -r NGINX_CHAIN_PORT TURNPIKE_CHAIN_PORT TURNPIKE_CHAIN_STATUS_PORT TURNPIKE_CHAIN_EXPORT_PORT <<<"$(free_ports 4)"
    clash=0
    for p in $NGINX_CHAIN_PORT $TURNPIKE_CHAIN_PORT $TURNPIKE_CHAIN_STATUS_PORT $TURNPIKE_CHAIN_EXPORT_PORT; do
      [[ $taken == *" $p "* ]] && clash=1
    done
    ((clash)) || break
  done
  ((clash == 0)) || die "--chain: could not find free ports distinct from the others"
  # nginx_chain: the nginx proxy's layout (1 worker, proxy core, upstream keep-alive) plus map auth, limit_req and
  # stub_status (scripts/lib/nginx-chain-proxy.conf.tmpl).
  start_nginx nginx_chain "$CORE_PROXY" nginx-chain-proxy.conf.tmpl "PORT=$NGINX_CHAIN_PORT" \
    "BACKEND_PORT=$BACKEND_PORT" "KEY=$CHAIN_KEY" "CONSUMER=bench" "RATE=$CHAIN_NGINX_RATE" "BURST=$CHAIN_NGINX_BURST"
  wait_ready nginx_chain "${PID_OF[nginx_chain]}" "http://127.0.0.1:$NGINX_CHAIN_PORT/nginx_status" 10
  if has_target turnpike_chain; then
    # turnpike_chain: the plain target's settings (no access log, as nginx's access_log off), the export server on;
    # prometheus in a global rule (as APISIX users enable it), key-auth + limit-count on the route.
    cconf="$WORK/turnpike_chain/conf"
    mkdir -p "$cconf" "$WORK/turnpike_chain/logs"
    cat >"$cconf/config.yaml" <<EOF
apisix:
  node_listen: [{ip: 127.0.0.1, port: $TURNPIKE_CHAIN_PORT}]
  ssl: {enable: false}
  enable_control: false
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
    port: $TURNPIKE_CHAIN_STATUS_PORT
plugin_attr:
  prometheus:
    export_addr: {ip: 127.0.0.1, port: $TURNPIKE_CHAIN_EXPORT_PORT}
EOF
    cat >"$cconf/apisix.yaml" <<EOF
global_rules:
  - id: "metrics"
    plugins:
      prometheus: {}
routes:
  - id: "chain"
    uri: "/*"
    plugins:
      key-auth: {}
      # Policy local, one counter per consumer, far above what the run sends: every request is counted and admitted
      # (the quota headers are written, limit-count's default).
      limit-count:
        count: $CHAIN_COUNT
        time_window: 3600
        key_type: var
        key: consumer_name
    upstream:
      type: roundrobin
      nodes:
        "127.0.0.1:$BACKEND_PORT": 1
consumers:
  - username: bench
    plugins:
      key-auth: {key: $CHAIN_KEY}
#END
EOF
    start_turnpike turnpike_chain "$WORK/turnpike_chain" "$CORE_PROXY"
    # Ready when the export endpoint answers (the data port answers 401 without the key).
    wait_ready turnpike_chain "${PID_OF[turnpike_chain]}" \
      "http://127.0.0.1:$TURNPIKE_CHAIN_EXPORT_PORT/apisix/prometheus/metrics" "$READY_TIMEOUT_S"
    deadline=$((SECONDS + READY_TIMEOUT_S))
    until curl -fsS -o /dev/null --max-time 1 -H "apikey: $CHAIN_KEY" "http://127.0.0.1:$TURNPIKE_CHAIN_PORT/" 2>/dev/null; do
      ((SECONDS < deadline)) || die "turnpike_chain not ready on its data port; logs in $WORK/turnpike_chain/logs"
      kill -0 "${PID_OF[turnpike_chain]}" 2>/dev/null || die "turnpike_chain exited during start-up; logs in $WORK"
      sleep 0.2
    done
  fi
fi
# --- end --chain ---

# --- Turnpike, second JVM flag set (--jvm-compare) and many routes (--routes N) ------------------------
# minimal_turnpike_config DIR PORT STATUS_PORT: the plain target's settings, no TLS, no Prometheus export server.
minimal_turnpike_config() {
  mkdir -p "$1/conf" "$1/logs"
  cat >"$1/conf/config.yaml" <<EOF
apisix:
  node_listen: [{ip: 127.0.0.1, port: $2}]
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
  event_loops: 1
  access_log: false
  upstream_max_requests: 1000000
  status_listen:
    ip: 127.0.0.1
    port: $3
EOF
}
if has_target turnpike_jvm_alt; then
  minimal_turnpike_config "$WORK/turnpike_jvm_alt" "$TURNPIKE_ALT_PORT" "$TURNPIKE_ALT_STATUS_PORT"
  cat >"$WORK/turnpike_jvm_alt/conf/apisix.yaml" <<EOF
routes:
  - id: "1"
    uri: "/*"
    upstream:
      type: roundrobin
      nodes:
        "127.0.0.1:$BACKEND_PORT": 1
#END
EOF
  ALT_JVM=1 start_turnpike turnpike_jvm_alt "$WORK/turnpike_jvm_alt" "$CORE_PROXY"
  wait_ready turnpike_jvm_alt "${PID_OF[turnpike_jvm_alt]}" "http://127.0.0.1:$TURNPIKE_ALT_PORT/" "$READY_TIMEOUT_S"
fi
ROUTES_URL_PATH=/
if has_target turnpike_routes; then
  # The shape of bench-jmh's Configs.routes (RouterMatch, SnapshotCompile): i % 3 == 0 an exact path
  # /api/v1/svc{i}/items, 1 a prefix /pfx/svc{i}/*, 2 an exact path with a host h{i}.example.com; all on one
  # upstream object (upstream_id), plus the catch-all route of the plain target. The load goes to an exact-path
  # route in the middle of the set.
  minimal_turnpike_config "$WORK/turnpike_routes" "$TURNPIKE_ROUTES_PORT" "$TURNPIKE_ROUTES_STATUS_PORT"
  python3 - "$ROUTES" "$BACKEND_PORT" >"$WORK/turnpike_routes/conf/apisix.yaml" <<'PY'
import sys
n, port = int(sys.argv[1]), sys.argv[2]
w = sys.stdout.write
w('upstreams:\n  - id: "bench"\n    type: roundrobin\n    nodes:\n      "127.0.0.1:%s": 1\n' % port)
w('routes:\n  - id: "1"\n    uri: "/*"\n    upstream_id: "bench"\n')
for i in range(n):
    k = "%06d" % i
    if i % 3 == 0:
        w('  - {id: "r%s", uri: "/api/v1/svc%s/items", upstream_id: "bench"}\n' % (k, k))
    elif i % 3 == 1:
        w('  - {id: "r%s", uri: "/pfx/svc%s/*", upstream_id: "bench"}\n' % (k, k))
    else:
        w('  - {id: "r%s", uri: "/host/svc%s/items", host: "h%s.example.com", upstream_id: "bench"}\n' % (k, k, k))
w('#END\n')
PY
  ROUTES_URL_PATH=$(printf '/api/v1/svc%06d/items' $(( (ROUTES / 2) / 3 * 3 )))
  start_turnpike turnpike_routes "$WORK/turnpike_routes" "$CORE_PROXY"
  wait_ready turnpike_routes "${PID_OF[turnpike_routes]}" "http://127.0.0.1:$TURNPIKE_ROUTES_PORT/" "$READY_TIMEOUT_S"
fi

declare -A URL=(
  [backend]="http://127.0.0.1:$BACKEND_PORT/"
  [nginx]="http://127.0.0.1:$NGINX_PORT/"
  [haproxy]="http://127.0.0.1:$HAPROXY_PORT/"
  [turnpike]="http://127.0.0.1:$TURNPIKE_PORT/"
  [turnpike_plugins]="http://127.0.0.1:$TURNPIKE_PORT/plugins/"
  [turnpike_forward_auth]="http://127.0.0.1:$TURNPIKE_PORT/fwd/"
  [turnpike_limit_count]="http://127.0.0.1:$TURNPIKE_PORT/limit/"
  [turnpike_limit_redis]="http://127.0.0.1:$TURNPIKE_PORT/limitredis/"
  [turnpike_access_log]="http://127.0.0.1:$TURNPIKE_LOG_PORT/"
  [turnpike_prometheus]="http://127.0.0.1:$TURNPIKE_PROM_PORT/"
  [turnpike_jvm_alt]="http://127.0.0.1:$TURNPIKE_ALT_PORT/"
  [turnpike_routes]="http://127.0.0.1:$TURNPIKE_ROUTES_PORT$ROUTES_URL_PATH"
)
# Extra request headers per target (wrk -H and the readiness curl).
declare -A HDR=([turnpike_plugins]="apikey: bench-key-0123456789")
# --- --chain URLs and key ---
if ((CHAIN)); then
  URL[nginx_chain]="http://127.0.0.1:$NGINX_CHAIN_PORT/"
  URL[turnpike_chain]="http://127.0.0.1:${TURNPIKE_CHAIN_PORT:-0}/"
  HDR[nginx_chain]="apikey: $CHAIN_KEY"
  HDR[turnpike_chain]="apikey: $CHAIN_KEY"
fi
# --- end --chain ---
if ((PLUGINS)); then
  PID_OF[turnpike_plugins]=${PID_OF[turnpike]}
  PID_OF[turnpike_forward_auth]=${PID_OF[turnpike]}
  PID_OF[turnpike_limit_count]=${PID_OF[turnpike]}
  PID_OF[turnpike_limit_redis]=${PID_OF[turnpike]}
fi
# TLS targets: the proxy process serving HTTPS and its port.
declare -A TLS_PID=() TLS_PORT=() TLS_NEGOTIATED=()
TLS_TARGETS=()
if ((TLS)); then
  if has_target nginx; then TLS_TARGETS+=(nginx); TLS_PID[nginx]=${PID_OF[nginx_tls]}; TLS_PORT[nginx]=$NGINX_TLS_PORT; fi
  if has_target turnpike; then TLS_TARGETS+=(turnpike); TLS_PID[turnpike]=${PID_OF[turnpike]}; TLS_PORT[turnpike]=$TURNPIKE_TLS_PORT; fi
  ((${#TLS_TARGETS[@]})) || die "--tls: no proxy left to measure"
fi
for t in "${TLS_TARGETS[@]}"; do
  got=$(curl -fsS --max-time 5 -k -o /dev/null -w '%{http_code} %{size_download}' "https://127.0.0.1:${TLS_PORT[$t]}/") \
    || die "$t (TLS): request to https://127.0.0.1:${TLS_PORT[$t]}/ failed"
  [[ $got == "200 $EXPECTED_BODY_BYTES" ]] || die "$t (TLS): expected '200 $EXPECTED_BODY_BYTES', got '$got'"
  # What the handshake test negotiates (s_time sends no SNI either).
  TLS_NEGOTIATED[$t]=$(openssl s_client -connect "127.0.0.1:${TLS_PORT[$t]}" -noservername -brief </dev/null 2>&1 \
    | awk -F': *' '/^(Protocol version|Ciphersuite|Peer signature type|Server Temp Key|Negotiated TLS1.3 group)/ {printf "%s%s=%s", sep, $1, $2; sep="; "}') || true
  [[ -n ${TLS_NEGOTIATED[$t]} ]] || die "$t (TLS): openssl s_client could not complete a handshake without SNI"
  # Same certificate chain and ticket policy on both sides: certificates sent, and TLS 1.3 tickets issued on a
  # connection that sends one request (BoringSSL sends its tickets with the first response, OpenSSL at once).
  chain_len=$(openssl s_client -connect "127.0.0.1:${TLS_PORT[$t]}" -noservername -showcerts </dev/null 2>/dev/null \
    | grep -c 'BEGIN CERTIFICATE') || true
  tickets=$( (printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'; sleep 1) \
    | timeout 10 openssl s_client -connect "127.0.0.1:${TLS_PORT[$t]}" -noservername -msg 2>/dev/null \
    | grep -c '^<<< .*NewSessionTicket') || true
  TLS_NEGOTIATED[$t]+="; Certificates sent=${chain_len:-0}; Session tickets per handshake=${tickets:-0}"
done

# Every target must return the backend's body before we time anything.
for t in "${TARGETS[@]}"; do
  hdr_args=()
  [[ -n ${HDR[$t]:-} ]] && hdr_args=(-H "${HDR[$t]}")
  got=$(curl -fsS --max-time 5 "${hdr_args[@]+"${hdr_args[@]}"}" -o /dev/null -w '%{http_code} %{size_download}' \
    "${URL[$t]}") || die "$t: request to ${URL[$t]} failed"
  [[ $got == "200 $EXPECTED_BODY_BYTES" ]] \
    || die "$t: expected '200 $EXPECTED_BODY_BYTES' (status, body bytes), got '$got'"
done

# --- --chain pre-flight: the chain really runs on both sides ---------------------------------------------
# Without the key and with a wrong key: 401 from both; with the key: 200 (checked above). Around a few keyed requests,
# nginx's stub_status request counter and Turnpike's apisix_http_status{code="200",route="chain"} counter must grow.
chain_status() { curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$@" || echo "curl-failed"; }
nginx_status_requests() {
  # stub_status' third line: "accepts handled requests" totals.
  curl -fsS --max-time 5 "http://127.0.0.1:$NGINX_CHAIN_PORT/nginx_status" | awk 'NR == 3 {print $3}'
}
prom_chain_200() {
  curl -fsS --max-time 5 "http://127.0.0.1:$TURNPIKE_CHAIN_EXPORT_PORT/apisix/prometheus/metrics" \
    | awk '/^apisix_http_status\{/ && /code="200"/ && /route="chain"/ {n += $NF} END {print n + 0}'
}
CHAIN_PREFLIGHT=
if ((CHAIN)); then
  for t in nginx_chain turnpike_chain; do
    has_target "$t" || continue
    got=$(chain_status "${URL[$t]}")
    [[ $got == 401 ]] || die "$t: a request without the apikey header got '$got', expected 401"
    got=$(chain_status -H "apikey: wrong-$CHAIN_KEY" "${URL[$t]}")
    [[ $got == 401 ]] || die "$t: a request with an unknown key got '$got', expected 401"
    got=$(chain_status -H "${HDR[$t]}" "${URL[$t]}")
    [[ $got == 200 ]] || die "$t: a request with the key got '$got', expected 200"
    if [[ $t == nginx_chain ]]; then before=$(nginx_status_requests); else before=$(prom_chain_200); fi
    for _ in 1 2 3 4 5; do chain_status -H "${HDR[$t]}" "${URL[$t]}" >/dev/null; done
    if [[ $t == nginx_chain ]]; then after=$(nginx_status_requests); else after=$(prom_chain_200); fi
    [[ -n $before && -n $after ]] && ((after >= before + 5)) \
      || die "$t: its counter did not grow by the 5 requests sent (before '$before', after '$after')"
    log "$t pre-flight: no key 401, unknown key 401, key 200; $( [[ $t == nginx_chain ]] && echo "stub_status requests" || echo 'apisix_http_status{code="200",route="chain"}') $before -> $after"
    CHAIN_PREFLIGHT+="$t: no key 401, unknown key 401, key 200, counter $before -> $after; "
  done
fi
# --- end --chain ---

# Resident memory of every process under test, idle (ready, one check request served, no load yet); again right
# after its last measured run (measure). Targets that share a process (the --plugins routes) are not repeated.
MEM_TARGETS=()
for t in "${TARGETS[@]}"; do
  case $t in turnpike_plugins|turnpike_forward_auth|turnpike_limit_count|turnpike_limit_redis) continue ;; esac
  MEM_TARGETS+=("$t")
done
is_mem_target() { local t; for t in "${MEM_TARGETS[@]}"; do [[ $t == "$1" ]] && return 0; done; return 1; }
for t in "${MEM_TARGETS[@]}"; do mem_snapshot "$t" idle; done

# --- load -----------------------------------------------------------------------------------
RECORDS="$WORK/records.jsonl"
: >"$RECORDS"
CLOSE_HDR=()
((CLOSE)) && CLOSE_HDR=(-H 'Connection: close')
WRK_COMMAND="taskset -c $CORE_LOAD wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s --latency${CLOSE_HDR[*]:+ -H 'Connection: close'} -s scripts/lib/wrk-report.lua URL"

WRK_PID=
run_wrk() {
  # run_wrk OUTFILE WRK_ARGS...: in the background and waited for, so that a signal to the script
  # is handled at once (bash runs traps only between foreground commands) and cleanup can stop it.
  local out=$1 rc=0
  shift
  taskset -c "$CORE_LOAD" wrk -t"$WRK_THREADS" -c"$CONNS" "$@" >"$out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || rc=$?
  WRK_PID=
  return "$rc"
}

# Commands Redis executed so far (INFO commandstats, all commands but INFO itself).
redis_calls() {
  redis-cli -p "$REDIS_PORT" INFO commandstats | awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" {n += $3} END {print n + 0}'
}

# For turnpike_limit_redis: Redis commands per 1,000 requests of the measured run (after REDIS_CALLS0).
redis_note() {
  [[ $1 == turnpike_limit_redis ]] || return 0
  local calls reqs
  calls=$(( $(redis_calls) - REDIS_CALLS0 ))
  reqs=$(awk '/requests in/ {print $1}' "$2")
  [[ -n $reqs && $reqs -gt 0 ]] || return 0
  echo ", redis $calls commands = $(awk -v c="$calls" -v r="$reqs" 'BEGIN {printf "%.2f", c * 1000 / r}') per 1,000 requests"
}

measure() {
  local target=$1 round=$2 url=${URL[$1]} pid=${PID_OF[$1]} raw="$WORK/wrk-$1-r$2.txt" c0 c1 line rss others t0
  local hdr=("${CLOSE_HDR[@]+"${CLOSE_HDR[@]}"}")
  [[ -n ${HDR[$target]:-} ]] && hdr+=(-H "${HDR[$target]}")
  if ((WARMUP > 0)); then
    run_wrk "$WORK/wrk-$target-r$round-warmup.txt" "${hdr[@]+"${hdr[@]}"}" -d"${WARMUP}s" "$url" \
      || die "$target warm-up: wrk failed (see $WORK/wrk-$target-r$round-warmup.txt)"
  fi
  kill -0 "$pid" 2>/dev/null || die "$target (pid $pid) died"
  python3 "$LIB_DIR/proc_cpu_others.py" snap "$WORK/others-before.json"
  [[ $target == turnpike_limit_redis ]] && REDIS_CALLS0=$(redis_calls)
  c0=$(cpu_ticks "$pid")
  t0=$(date +%s%3N)
  run_wrk "$raw" "${hdr[@]+"${hdr[@]}"}" -d"${DURATION}s" --latency -s "$LIB_DIR/wrk-report.lua" "$url" \
    || die "$target: wrk failed (see $raw)"
  jfr_window "$target" "$round" saturating "$t0" "$(date +%s%3N)"
  c1=$(cpu_ticks "$pid")
  others=$(python3 "$LIB_DIR/proc_cpu_others.py" diff "$WORK/others-before.json" "$$")
  rss=$(rss_peak_kb "$pid")
  if ((round == ROUNDS)) && is_mem_target "$target"; then mem_snapshot "$target" end_of_load; fi
  line=$(grep '^BENCH_JSON ' "$raw" | tail -n 1) || die "$target: no BENCH_JSON line in $raw"
  printf '{"target":"%s","round":%d,"cpu_ticks":%d,"other_cpu_ticks":%d,"clk_tck":%d,"rss_peak_kb":%d,%s\n' \
    "$target" "$round" "$((c1 - c0))" "$others" "$CLK_TCK" "$rss" "${line#BENCH_JSON \{}" >>"$RECORDS"
  log "round $round/$ROUNDS $target: $(awk '/Requests\/sec/ {print $2 " req/s"}' "$raw"), cpu $((c1 - c0)) ticks, other processes $others ticks$(redis_note "$target" "$raw")"
}

# --- fixed-rate mode (--rate) ------------------------------------------------------------------
# The open-loop generator (bench-jmh/src/main/java/io/turnpike/bench/load/FixedRateLoad.java): taken from
# benchmarks.jar when that is newer than the source, else compiled here into the temp dir (JDK + HdrHistogram only).
RATE_RECORDS="$WORK/rate-records.jsonl"
TLS_RECORDS="$WORK/tls-records.jsonl"
: >"$RATE_RECORDS"
: >"$TLS_RECORDS"
LOADGEN_CP=
LOADGEN_SRC=bench-jmh/src/main/java/io/turnpike/bench/load/FixedRateLoad.java
LOADGEN_SRCS=("$LOADGEN_SRC" "${LOADGEN_SRC%/*}/ResponseFramer.java")
LOADGEN_JAVA_OPTS=(-XX:+UseSerialGC -Xms256m -Xmx256m -Xmn192m -XX:TieredStopAtLevel=4)
jar_has() { python3 -c 'import sys, zipfile; sys.exit(0 if sys.argv[2] in zipfile.ZipFile(sys.argv[1]).namelist() else 1)' "$1" "$2" 2>/dev/null; }
LOADGEN_NATIVE_SRC=$LIB_DIR/fixed_rate_load.c
LOADGEN_CMD=()
# The generator: the native one (scripts/lib/fixed_rate_load.c, built with cc) when a C compiler is there, else the
# Java one (bench-jmh's FixedRateLoad, from the JMH jar or compiled with javac). RATE_GENERATOR=java|native forces one.
prepare_loadgen() {
  local hdr="" j
  if [[ $RATE_GENERATOR != java ]] && command -v "${CC:-cc}" >/dev/null 2>&1 && [[ -f $LOADGEN_NATIVE_SRC ]]; then
    mkdir -p "$WORK/loadgen"
    "${CC:-cc}" -O2 -o "$WORK/loadgen/fixed-rate-load" "$LOADGEN_NATIVE_SRC" >"$WORK/loadgen/cc.log" 2>&1 \
      || die "--rate: could not compile $LOADGEN_NATIVE_SRC (see $WORK/loadgen/cc.log)"
    LOADGEN_CMD=("$WORK/loadgen/fixed-rate-load")
    return
  fi
  [[ $RATE_GENERATOR != native ]] || die "--rate: RATE_GENERATOR=native needs a C compiler (${CC:-cc})"
  if [[ -f $JMH_JAR && ( ! -f $LOADGEN_SRC || ( $JMH_JAR -nt $LOADGEN_SRC && $JMH_JAR -nt ${LOADGEN_SRCS[1]} ) ) ]] \
      && jar_has "$JMH_JAR" io/turnpike/bench/load/FixedRateLoad.class; then
    LOADGEN_CP=$JMH_JAR
  else
    [[ -f $LOADGEN_SRC ]] || die "--rate: neither $JMH_JAR with the load generator nor $LOADGEN_SRC"
    command -v javac >/dev/null 2>&1 || die "--rate: javac not found (a JDK is needed to build the load generator)"
    for j in "$JMH_JAR" "$TURNPIKE_JAR" "$HOME"/.m2/repository/org/hdrhistogram/HdrHistogram/*/HdrHistogram-*.jar; do
      if [[ -f $j ]] && jar_has "$j" org/HdrHistogram/Histogram.class; then hdr=$j; break; fi
    done
    [[ -n $hdr ]] || die "--rate: no HdrHistogram jar found (build engine or bench-jmh)"
    mkdir -p "$WORK/loadgen"
    javac -nowarn -d "$WORK/loadgen" -cp "$hdr" "${LOADGEN_SRCS[@]}" >"$WORK/loadgen/javac.log" 2>&1 \
      || die "--rate: could not compile $LOADGEN_SRC (see $WORK/loadgen/javac.log)"
    LOADGEN_CP="$WORK/loadgen:$hdr"
  fi
  LOADGEN_CMD=("$JAVA" "${LOADGEN_JAVA_OPTS[@]}" -cp "$LOADGEN_CP" io.turnpike.bench.load.FixedRateLoad)
}
if ((RATE > 0)); then
  prepare_loadgen
  log "fixed-rate generator: ${LOADGEN_CMD[*]}"
fi



measure_rate() {
  # The open-loop run at RATE req/s; the generator reads the target's CPU at its window's edges itself.
  local target=$1 round=$2 url=${URL[$1]} pid=${PID_OF[$1]} raw="$WORK/rate-$1-r$2.txt" pids line others t0 t1
  pids=$(proc_tree "$pid" | paste -sd, -)
  python3 "$LIB_DIR/proc_cpu_others.py" snap "$WORK/others-before.json"
  t0=$(now_ns)
  run_bg "$raw" taskset -c "$CORE_LOAD" "${LOADGEN_CMD[@]}" --url "$url" --rate "$RATE" --conns "$CONNS" \
      --warmup "$RATE_WARMUP" --duration "$DURATION" --timeout-ms "$RATE_TIMEOUT_MS" --tick-us "$RATE_TICK_US" --cpu-pids "$pids" \
    || die "$target: fixed-rate generator failed (see $raw)"
  t1=$(now_ns)
  jfr_window "$target" "$round" fixed_rate "$((t0 / 1000000 + RATE_WARMUP * 1000))" "$((t1 / 1000000))"
  others=$(python3 "$LIB_DIR/proc_cpu_others.py" diff "$WORK/others-before.json" "$$")
  line=$(grep '^FIXED_RATE_JSON ' "$raw" | tail -n 1) || die "$target: no FIXED_RATE_JSON line in $raw"
  printf '{"target":"%s","round":%d,"clk_tck":%d,"other_cpu_ticks":%d,"other_window_us":%d,%s\n' \
    "$target" "$round" "$CLK_TCK" "$others" "$(((t1 - t0) / 1000))" "${line#FIXED_RATE_JSON \{}" >>"$RATE_RECORDS"
  log "round $round/$ROUNDS $target @ $RATE req/s: $(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print("p50 %.3f ms, p99 %.3f ms, cpu %d ticks, generator send lag p99 %.3f ms"
      % (d["p50_us"] / 1000, d["p99_us"] / 1000, d["cpu_ticks"], d["send_lag_p99_us"] / 1000))' "${line#FIXED_RATE_JSON }")"
}

# --- TLS (--tls) ----------------------------------------------------------------------------------
measure_https() {
  # HTTPS keep-alive: the same wrk run as the plain one, over TLS to the proxy's HTTPS port.
  local target=$1 round=$2 url="https://localhost:${TLS_PORT[$1]}/" pid=${TLS_PID[$1]} raw="$WORK/wrk-https-$1-r$2.txt" c0 c1 line others rss
  if ((WARMUP > 0)); then
    run_wrk "$WORK/wrk-https-$target-r$round-warmup.txt" -d"${WARMUP}s" "$url" \
      || die "$target (https) warm-up: wrk failed"
  fi
  python3 "$LIB_DIR/proc_cpu_others.py" snap "$WORK/others-before.json"
  c0=$(cpu_ticks "$pid")
  run_wrk "$raw" -d"${DURATION}s" --latency -s "$LIB_DIR/wrk-report.lua" "$url" || die "$target (https): wrk failed (see $raw)"
  c1=$(cpu_ticks "$pid")
  others=$(python3 "$LIB_DIR/proc_cpu_others.py" diff "$WORK/others-before.json" "$$")
  rss=$(rss_peak_kb "$pid")
  line=$(grep '^BENCH_JSON ' "$raw" | tail -n 1) || die "$target (https): no BENCH_JSON line in $raw"
  printf '{"kind":"https","target":"%s","round":%d,"cpu_ticks":%d,"other_cpu_ticks":%d,"clk_tck":%d,"rss_peak_kb":%d,%s\n' \
    "$target" "$round" "$((c1 - c0))" "$others" "$CLK_TCK" "$rss" "${line#BENCH_JSON \{}" >>"$TLS_RECORDS"
  log "round $round/$ROUNDS $target https: $(awk '/Requests\/sec/ {print $2 " req/s"}' "$raw"), cpu $((c1 - c0)) ticks"
}

run_s_time() {
  # run_s_time PREFIX PORT SECONDS: TLS_CLIENTS parallel `openssl s_time -new` (full handshakes, no request, no
  # SNI, no resumption), pinned to the load core; prints the total handshake count and the number of failures.
  local prefix=$1 port=$2 secs=$3 i pids=() total=0 failed=0 n
  for ((i = 0; i < TLS_CLIENTS; i++)); do
    taskset -c "$CORE_LOAD" openssl s_time -new -connect "127.0.0.1:$port" -time "$secs" >"$prefix-$i.txt" 2>&1 &
    pids+=($!)
  done
  WRK_PID="${pids[*]}"
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed=$((failed + 1))
    n=$(awk '/connections in [0-9.]+s;/ {print $1; exit}' "$prefix-$i.txt")
    [[ -n $n ]] || failed=$((failed + 1))
    total=$((total + ${n:-0}))
  done
  WRK_PID=
  echo "$total $failed"
}

measure_handshakes() {
  local target=$1 round=$2 port=${TLS_PORT[$1]} pid=${TLS_PID[$1]} c0 c1 t0 t1 others total failed wsecs
  # The full warm-up, as for the other runs: the handshake path (accept, ClientHello, engine set-up, close) is code
  # the keep-alive runs never execute, and the JVM compiles it during its first few thousand handshakes.
  wsecs=$WARMUP
  if ((wsecs > 0)); then
    read -r total failed <<<"$(run_s_time "$WORK/s_time-$target-r$round-warmup" "$port" "$wsecs")"
  fi
  python3 "$LIB_DIR/proc_cpu_others.py" snap "$WORK/others-before.json"
  c0=$(cpu_ticks "$pid")
  t0=$(now_ns)
  read -r total failed <<<"$(run_s_time "$WORK/s_time-$target-r$round" "$port" "$DURATION")"
  t1=$(now_ns)
  c1=$(cpu_ticks "$pid")
  others=$(python3 "$LIB_DIR/proc_cpu_others.py" diff "$WORK/others-before.json" "$$")
  printf '{"kind":"handshake","target":"%s","round":%d,"handshakes":%d,"failed_clients":%d,"clients":%d,"duration_us":%d,"cpu_ticks":%d,"other_cpu_ticks":%d,"clk_tck":%d}\n' \
    "$target" "$round" "$total" "$failed" "$TLS_CLIENTS" "$(((t1 - t0) / 1000))" "$((c1 - c0))" "$others" "$CLK_TCK" >>"$TLS_RECORDS"
  log "round $round/$ROUNDS $target handshakes: $total in $(((t1 - t0) / 1000000)) ms, cpu $((c1 - c0)) ticks"
}

TIMESTAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)   # start of the measurements; names the result file
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOADAVG_START%% *}" 'BEGIN { exit !(l > 0.5) }'; then
  log "WARNING: load average is $LOADAVG_START before the bench: other work on this machine will skew the numbers"
fi
log "work dir $WORK; ports backend=$BACKEND_PORT nginx=$NGINX_PORT turnpike=$TURNPIKE_PORT"
log "targets: ${TARGETS[*]}; $ROUNDS round(s) x (${WARMUP}s warm-up + ${DURATION}s), $CONNS conns"
((RATE > 0)) && log "fixed rate: $RATE req/s over $CONNS connections, ${RATE_WARMUP}s + ${DURATION}s per target and round"
((TLS)) && log "TLS ($TLS_KEY certificate): HTTPS keep-alive (wrk) and full handshakes ($TLS_CLIENTS x openssl s_time -new) on ${TLS_TARGETS[*]}"
for ((round = 1; round <= ROUNDS; round++)); do
  for t in "${TARGETS[@]}"; do
    measure "$t" "$round"
    if ((RATE > 0)); then
      # The fixed-rate generator sends no request header: a target that needs one (the apikey of --plugins' and
      # --chain's key-auth routes) would measure 401s, so it has no fixed-rate run.
      if [[ -n ${HDR[$t]:-} ]]; then
        if ((round == 1)); then log "fixed rate: no run for $t (the generator sends no '${HDR[$t]%%:*}' header)"; fi
      else
        measure_rate "$t" "$round"
      fi
    fi
  done
  for t in "${TLS_TARGETS[@]}"; do
    measure_https "$t" "$round"
    measure_handshakes "$t" "$round"
  done
done

# --- results --------------------------------------------------------------------------------

mkdir -p "$OUT"
OUT_JSON="$OUT/bench-$(date -u -d "$TIMESTAMP" +%Y%m%dT%H%M%SZ).json"
git_sha=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git_dirty=unknown
if [[ $git_sha != unknown ]]; then
  if [[ -n $(git --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null) ]]; then git_dirty=true; else git_dirty=false; fi
fi
TURNPIKE_JVM_FLAGS=
ALT_JVM_FLAGS=
if [[ -n ${PID_OF[turnpike]:-} ]]; then TURNPIKE_JVM_FLAGS=$(jvm_flags_of "${PID_OF[turnpike]}"); fi
if [[ -n ${PID_OF[turnpike_jvm_alt]:-} ]]; then ALT_JVM_FLAGS=$(jvm_flags_of "${PID_OF[turnpike_jvm_alt]}"); fi
processes_args=()
for t in "${TARGETS[@]}"; do processes_args+=("$t" "$(describe_process "${PID_OF[$t]}")"); done
skipped_args=()
for t in "${!SKIPPED[@]}"; do skipped_args+=("$t" "${SKIPPED[$t]}"); done
negotiated_args=()
for t in "${TLS_TARGETS[@]}"; do negotiated_args+=("$t" "${TLS_NEGOTIATED[$t]}"); done

# --- --chain: what the two chains ran, for the JSON (parameters.chain) ---
CHAIN_JSON=
if ((CHAIN)); then
  CHAIN_JSON=$(json_obj \
    nginx_chain "map \$http_apikey \$consumer (401 when empty); limit_req_zone \$consumer rate=${CHAIN_NGINX_RATE}r/s, limit_req burst=$CHAIN_NGINX_BURST nodelay (status 503); stub_status on /nginx_status; template scripts/lib/nginx-chain-proxy.conf.tmpl" \
    turnpike_chain "route /*: key-auth (header apikey) + limit-count (policy local, count $CHAIN_COUNT per 3600 s, key_type var, key consumer_name, quota headers on); prometheus in a global rule, export server on; access log off" \
    preflight "$CHAIN_PREFLIGHT")
fi
# --- end --chain ---
BENCH_CHAIN_JSON=$CHAIN_JSON \
BENCH_TIMESTAMP=$TIMESTAMP \
BENCH_COMMAND=$COMMAND_LINE \
BENCH_HOSTNAME=$(hostname 2>/dev/null || cat /etc/hostname) \
BENCH_KERNEL=$(uname -srm) \
BENCH_CPU_MODEL=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo) \
BENCH_NPROC=$NPROC \
BENCH_JAVA_VERSION=$(if command -v "$JAVA" >/dev/null 2>&1; then "$JAVA" -version 2>&1 | paste -sd ';' -; else echo none; fi) \
BENCH_NGINX_VERSION=$(first_line "$NGINX_BIN" -v) \
BENCH_WRK_VERSION=$(first_line wrk -v | sed 's/ Copyright.*//') \
BENCH_GIT_SHA=$git_sha \
BENCH_GIT_DIRTY=$git_dirty \
BENCH_LOADAVG_START=$LOADAVG_START \
BENCH_ROUNDS=$ROUNDS BENCH_WARMUP=$WARMUP BENCH_DURATION=$DURATION BENCH_CONNS=$CONNS \
BENCH_WRK_THREADS=$WRK_THREADS BENCH_BODY_BYTES=$EXPECTED_BODY_BYTES BENCH_QUICK=$QUICK BENCH_CLOSE=$CLOSE \
BENCH_TARGETS="${TARGETS[*]}" BENCH_CORE_LOAD=$CORE_LOAD BENCH_CORE_PROXY=$CORE_PROXY \
BENCH_CLK_TCK=$CLK_TCK BENCH_CONTENDED_PCT=$CONTENDED_PCT BENCH_JVM_OPTS="$TURNPIKE_JVM_FLAGS" BENCH_TURNPIKE_JAR=$TURNPIKE_JAR \
BENCH_TURNPIKE_TRANSPORT=${TURNPIKE_TRANSPORT_IN_USE:-} BENCH_LAUNCHER=$LAUNCHER BENCH_ALT_JVM_OPTS="$ALT_JVM_FLAGS" BENCH_MEMORY_RECORDS=$MEMORY_RECORDS BENCH_ROUTES=$ROUTES \
BENCH_ROUTES_URL_PATH=$ROUTES_URL_PATH \
BENCH_WRK_COMMAND=$WRK_COMMAND \
BENCH_RATE=$RATE BENCH_RATE_WARMUP=$RATE_WARMUP BENCH_RATE_RECORDS=$RATE_RECORDS \
BENCH_RATE_COMMAND="taskset -c $CORE_LOAD ${LOADGEN_CMD[*]:-?} --url URL --rate $RATE --conns $CONNS --warmup $RATE_WARMUP --duration $DURATION --timeout-ms $RATE_TIMEOUT_MS --tick-us $RATE_TICK_US --cpu-pids PIDS" \
BENCH_TLS=$TLS BENCH_TLS_KEY=$TLS_KEY BENCH_TLS_CLIENTS=$TLS_CLIENTS BENCH_TLS_RECORDS=$TLS_RECORDS \
BENCH_TLS_CERT="$TLS_CERT_DESC" BENCH_OPENSSL_VERSION="$(first_line openssl version)" \
BENCH_TLS_NEGOTIATED_JSON=$(json_obj "${negotiated_args[@]+"${negotiated_args[@]}"}") \
BENCH_TLS_HANDSHAKE_COMMAND="taskset -c $CORE_LOAD openssl s_time -new -connect 127.0.0.1:PORT -time $DURATION (x $TLS_CLIENTS in parallel)" \
BENCH_PROCESSES_JSON=$(json_obj "${processes_args[@]}") \
BENCH_SKIPPED_JSON=$(json_obj "${skipped_args[@]+"${skipped_args[@]}"}") \
  python3 "$LIB_DIR/bench_summary.py" "$RECORDS" "$OUT_JSON"

echo
echo "JSON: $OUT_JSON"
if [[ -f $REPORT_JAR ]] && command -v "$JAVA" >/dev/null 2>&1; then
  OUT_MD=${OUT_JSON%.json}.md
  if "$JAVA" -jar "$REPORT_JAR" report --out "$OUT_MD" "$OUT_JSON"; then
    # perf-reports renders the wrk tables; the resident-memory table and the JVM flags are appended here.
    python3 "$LIB_DIR/bench_summary.py" --memory-markdown "$OUT_JSON" >>"$OUT_MD" || log "memory table not appended"
    echo "Markdown report: $OUT_MD"
  else
    log "perf-reports failed on $OUT_JSON (the JSON is still there)"
  fi
else
  log "no $REPORT_JAR: skipping the Markdown report (mvn -B -pl perf-reports package)"
fi
