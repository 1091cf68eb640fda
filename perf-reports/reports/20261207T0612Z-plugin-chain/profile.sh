#!/usr/bin/env bash
# JFR profile of Turnpike under the --chain load (key-auth + limit-count local + prometheus global rule).
# Layout as bench.sh: backend nginx + wrk on core 0, Turnpike on core 1. Run under flock /tmp/turnpike-bench.lock.
set -euo pipefail
R=${R:-/work/wt-chain}; W=${W:-/tmp/chain-trip/p}; OUTJFR=${OUTJFR:-$W/chain.jfr}; SECS=${SECS:-20}
rm -rf $W; mkdir -p $W/b/logs $W/b/tmp $W/b/html $W/t/conf $W/t/logs
read -r BP TP SP EP <<<"$(python3 -c 'import socket;s=[socket.socket() for _ in range(4)];[x.bind(("127.0.0.1",0)) for x in s];print(*[x.getsockname()[1] for x in s])')"
sed -e "s|@PREFIX@|$W/b|g" -e "s|@USER_LINE@|user nobody nogroup;|" -e "s|@WORKERS@|1|" -e "s|@AFFINITY_LINE@||" $R/scripts/lib/nginx-common.conf.tmpl > $W/b/nginx.conf
sed -e "s|@PREFIX@|$W/b|g" -e "s|@PORT@|$BP|" -e 's|@BODY_DIRECTIVE@|return 200 "hello world\\n";|' $R/scripts/lib/nginx-backend.conf.tmpl >> $W/b/nginx.conf
chmod 755 $W $W/b
taskset -c 0 nginx -p $W/b -e $W/b/logs/error.log -c $W/b/nginx.conf & B=$!
cat > $W/t/conf/config.yaml <<Y
apisix:
  node_listen: [{ip: 127.0.0.1, port: $TP}]
  ssl: {enable: false}
  enable_control: false
deployment: {role: data_plane, role_data_plane: {config_provider: yaml}}
turnpike: {event_loops: 1, access_log: false, upstream_max_requests: 1000000, status_listen: {ip: 127.0.0.1, port: $SP}}
plugin_attr: {prometheus: {export_addr: {ip: 127.0.0.1, port: $EP}}}
Y
cat > $W/t/conf/apisix.yaml <<Y
global_rules: [{id: "metrics", plugins: {prometheus: {}}}]
routes:
  - id: "chain"
    uri: "/*"
    plugins:
      key-auth: {}
      limit-count: {count: 1000000000, time_window: 3600, key_type: var, key: consumer_name}
    upstream: {type: roundrobin, nodes: {"127.0.0.1:$BP": 1}}
consumers: [{username: bench, plugins: {key-auth: {key: bench-key-0123456789}}}]
#END
Y
JH=$(dirname $(dirname $(readlink -f $(command -v java))))
(cd $W/t && JAVA_HOME=$JH TURNPIKE_JAR=$R/engine/target/turnpike.jar \
  TURNPIKE_JVM_OPTS="-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints ${EXTRA_OPTS:-}" \
  exec taskset -c 1 $R/bin/turnpike start -c $W/t/conf/config.yaml) > $W/t/logs/out.log 2>&1 & T=$!
trap 'kill $B $T 2>/dev/null || true; wait $B $T 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -fs -o /dev/null -H 'apikey: bench-key-0123456789' http://127.0.0.1:$TP/ && break; sleep 0.2; done
taskset -c 0 wrk -t1 -c64 -d10s -H 'apikey: bench-key-0123456789' http://127.0.0.1:$TP/ > $W/warm.txt
jcmd $T JFR.start name=chain settings=/tmp/chain-trip/fast.jfc filename=$OUTJFR > /dev/null
perf record -F 497 -p $T -o $W/perf.data > $W/perf.log 2>&1 & PERF=$!
c0=$(awk "{print \$14+\$15, \$14, \$15}" /proc/$T/stat)
taskset -c 0 wrk -t1 -c64 -d${SECS}s --latency -H 'apikey: bench-key-0123456789' http://127.0.0.1:$TP/ | tee $W/load.txt
c1=$(awk "{print \$14+\$15, \$14, \$15}" /proc/$T/stat)
kill -INT $PERF; wait $PERF || true
jcmd $T JFR.stop name=chain > /dev/null
req=$(awk '/requests in/ {print $1}' $W/load.txt)
echo "cpu ticks (total utime stime) before: $c0 after: $c1; requests $req"
curl -s http://127.0.0.1:$EP/apisix/prometheus/metrics | grep '^apisix_http_status' | head -3
kill $T; wait $T || true
perf report -i $W/perf.data --stdio --sort dso,sym 2>/dev/null | grep -v "^#" | grep -v "^$" | head -70 > $W/perf-top.txt
perf report -i $W/perf.data --stdio --sort dso 2>/dev/null | grep -v "^#" | grep -v "^$" | head -15 > $W/perf-dso.txt
