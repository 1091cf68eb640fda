#!/usr/bin/env bash
# Per-thread CPU of Turnpike (chain config) over consecutive 10 s wrk windows after start: does the JIT keep
# compiling during the bench's measured window? No JFR, no perf. Run under flock /tmp/turnpike-bench.lock.
set -euo pipefail
R=${R:-/work/wt-chain}; W=${W:-/tmp/chain-trip/th}
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
(cd $W/t && JAVA_HOME=$JH TURNPIKE_JAR=$R/engine/target/turnpike.jar exec taskset -c 1 $R/bin/turnpike start -c $W/t/conf/config.yaml) > $W/t/logs/out.log 2>&1 & T=$!
trap 'kill $B $T 2>/dev/null || true; wait $B $T 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -fs -o /dev/null -H 'apikey: bench-key-0123456789' http://127.0.0.1:$TP/ && break; sleep 0.2; done
snap() { for t in /proc/$T/task/*; do printf '%s\t%s\n' "$(tr ' ' '_' < $t/comm)" "$(awk '{print $14+$15}' $t/stat)"; done | awk -F'\t' '{n=$1; sub(/#?[0-9]+$/,"",n); s[n]+=$2} END {for (k in s) print k, s[k]}' | sort; }
snap > $W/s0
for w in 1 2 3 4 5 6; do
  taskset -c 0 wrk -t1 -c64 -d10s -H 'apikey: bench-key-0123456789' http://127.0.0.1:$TP/ > $W/w$w.txt
  snap > $W/s$w
  req=$(awk '/requests in/ {print $1}' $W/w$w.txt)
  echo "window $w (${w}0 s of load): $req requests; CPU ticks by thread group: $(join $W/s$((w-1)) $W/s$w | awk -v r=$req '{d=$3-$2; if (d>0) printf "%s=%d ", $1, d; t+=d} END {printf "| total %d ticks = %.2f us/req", t, t*1e4/r}')"
done
