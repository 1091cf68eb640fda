#!/usr/bin/env bash
# Manual check: with low limits both chains reject (503).
set -euo pipefail
R=/work/wt-chain; W=/tmp/chain-trip/w; rm -rf $W; mkdir -p $W/n/logs $W/n/tmp $W/n/html $W/b/logs $W/b/tmp $W/b/html $W/t/conf $W/t/logs
read -r BP NP TP SP EP <<<"$(python3 -c 'import socket;s=[socket.socket() for _ in range(5)];[x.bind(("127.0.0.1",0)) for x in s];print(*[x.getsockname()[1] for x in s])')"
sed -e "s|@PREFIX@|$W/b|g" -e "s|@USER_LINE@|user nobody nogroup;|" -e "s|@WORKERS@|1|" -e "s|@AFFINITY_LINE@||" $R/scripts/lib/nginx-common.conf.tmpl > $W/b/nginx.conf
sed -e "s|@PREFIX@|$W/b|g" -e "s|@PORT@|$BP|" -e 's|@BODY_DIRECTIVE@|return 200 "hello\\n";|' $R/scripts/lib/nginx-backend.conf.tmpl >> $W/b/nginx.conf
sed -e "s|@PREFIX@|$W/n|g" -e "s|@USER_LINE@|user nobody nogroup;|" -e "s|@WORKERS@|1|" -e "s|@AFFINITY_LINE@||" $R/scripts/lib/nginx-common.conf.tmpl > $W/n/nginx.conf
sed -e "s|@PREFIX@|$W/n|g" -e "s|@PORT@|$NP|" -e "s|@BACKEND_PORT@|$BP|" -e "s|@KEY@|k1|" -e "s|@CONSUMER@|bench|" -e "s|@RATE@|1|" -e "s|@BURST@|1|" $R/scripts/lib/nginx-chain-proxy.conf.tmpl >> $W/n/nginx.conf
nginx -p $W/b -e $W/b/logs/error.log -c $W/b/nginx.conf & B=$!
nginx -p $W/n -e $W/n/logs/error.log -c $W/n/nginx.conf & N=$!
cat > $W/t/conf/config.yaml <<Y
apisix:
  node_listen: [{ip: 127.0.0.1, port: $TP}]
  ssl: {enable: false}
  enable_control: false
deployment: {role: data_plane, role_data_plane: {config_provider: yaml}}
turnpike: {event_loops: 1, access_log: false, status_listen: {ip: 127.0.0.1, port: $SP}}
plugin_attr: {prometheus: {export_addr: {ip: 127.0.0.1, port: $EP}}}
Y
cat > $W/t/conf/apisix.yaml <<Y
global_rules: [{id: "metrics", plugins: {prometheus: {}}}]
routes:
  - id: "chain"
    uri: "/*"
    plugins:
      key-auth: {}
      limit-count: {count: 3, time_window: 3600, key_type: var, key: consumer_name}
    upstream: {type: roundrobin, nodes: {"127.0.0.1:$BP": 1}}
consumers: [{username: bench, plugins: {key-auth: {key: k1}}}]
#END
Y
(cd $W/t && JAVA_HOME=$(dirname $(dirname $(readlink -f $(command -v java)))) TURNPIKE_JAR=$R/engine/target/turnpike.jar exec $R/bin/turnpike start -c $W/t/conf/config.yaml) > $W/t/logs/out.log 2>&1 & T=$!
for _ in $(seq 150); do curl -fs -o /dev/null http://127.0.0.1:$EP/apisix/prometheus/metrics && break; sleep 0.2; done
for name in nginx:$NP turnpike:$TP; do
  port=${name#*:}; out=""
  for i in 1 2 3 4 5 6; do out+="$(curl -s -o /dev/null -w '%{http_code}' -H 'apikey: k1' http://127.0.0.1:$port/) "; done
  echo "${name%%:*} (low limit) 6 keyed requests: $out"
done
curl -s -D - -o /dev/null -H 'apikey: k1' http://127.0.0.1:$TP/ | grep -i ratelimit || true
kill $B $N $T || true; wait $B $N $T 2>/dev/null || true
