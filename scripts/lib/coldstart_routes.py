#!/usr/bin/env python3
"""Writes a realistic APISIX route set straight into etcd for scripts/coldstart.sh.

    coldstart_routes.py ETCD_URL PREFIX ROUTES NODE_PORT[,NODE_PORT...] [SSLS CERT_PEM KEY_PEM]

Layout as APISIX stores it (the same value shape as bench-jmh's propagation EtcdLoader: id, create_time,
update_time, then the Admin API body):
  <prefix>/upstreams/u<k>   UPSTREAMS upstreams, 1-3 nodes each (roundrobin or chash), a timeout on some
  <prefix>/services/s<k>    SERVICES services, each with an upstream_id
  <prefix>/routes/r<i>      i = 0..ROUTES-1, zero-padded so the last one written is also the last key listed:
      i % 10 in 0..5  an inline upstream of 1-3 nodes (60 %)
                 6..7 upstream_id (20 %)
                 8..9 service_id (20 %)
      uri: exact /r/<i>/v1 (i % 4 != 3) or prefix /rp/<i>/* (i % 4 == 3)
      methods: none (i % 3 == 0), [GET] (1), [GET, POST, PUT] (2)
      hosts: ["h<i>.coldstart.test"] for i % 7 == 0
      priority, name, desc and labels on some
  <prefix>/ssls/c<j>        j = 0..SSLS-1 (only with SSLS): the given certificate and key (a wildcard for
      *.coldstart.test), snis ["c<j>.coldstart.test"]: one server context each, as operators with one certificate
      per customer domain have
Puts go through etcd's v3 JSON gateway (/v3/kv/txn) in transactions of 100 (etcd's --max-txn-ops is 128).
Prints one line for the probe of the last route: METHOD PATH HOST (HOST '-' when the route has none).
"""
import base64
import json
import sys
import time
import urllib.request

UPSTREAMS = 200
SERVICES = 50
TXN_OPS = 100


def b64(s):
    return base64.b64encode(s.encode()).decode()


def nodes(ports, k):
    n = 1 + k % 3
    return [{"host": "127.0.0.1", "port": ports[(k + j) % len(ports)], "weight": 1 + (k + j) % 5}
            for j in range(min(n, len(ports)))]


def upstream(ports, k):
    u = {"type": "roundrobin" if k % 4 else "chash", "nodes": nodes(ports, k), "scheme": "http",
         "pass_host": "pass"}
    if u["type"] == "chash":
        u["hash_on"] = "vars"
        u["key"] = "remote_addr"
    if k % 5 == 0:
        u["timeout"] = {"connect": 3, "send": 10, "read": 10}
    if k % 6 == 0:
        u["retries"] = 1
    return u


def route(ports, i):
    r = {}
    if i % 4 == 3:
        r["uri"] = "/rp/%d/*" % i
    else:
        r["uri"] = "/r/%d/v1" % i
    m = i % 3
    if m == 1:
        r["methods"] = ["GET"]
    elif m == 2:
        r["methods"] = ["GET", "POST", "PUT"]
    if i % 7 == 0:
        r["hosts"] = ["h%d.coldstart.test" % i]
    if i % 11 == 0:
        r["priority"] = i % 5
    if i % 5 == 0:
        r["name"] = "route-%d" % i
        r["desc"] = "cold start route %d" % i
        r["labels"] = {"team": "t%d" % (i % 17), "env": "prod"}
    kind = i % 10
    if kind <= 5:
        r["upstream"] = upstream(ports, i)
    elif kind <= 7:
        r["upstream_id"] = "u%d" % (i % UPSTREAMS)
    else:
        r["service_id"] = "s%d" % (i % SERVICES)
    return r


def probe(i):
    path = "/rp/%d/x" % i if i % 4 == 3 else "/r/%d/v1" % i
    host = "h%d.coldstart.test" % i if i % 7 == 0 else "-"
    return "GET %s %s" % (path, host)


def main():
    etcd, prefix, count, ports = sys.argv[1], sys.argv[2].rstrip("/"), int(sys.argv[3]), \
        [int(p) for p in sys.argv[4].split(",")]
    now = int(time.time())
    width = max(5, len(str(count - 1)))

    def value(rid, body):
        return json.dumps({"id": rid, "create_time": now, "update_time": now, **body}, separators=(",", ":"))

    puts = []
    for k in range(UPSTREAMS):
        puts.append(("%s/upstreams/u%d" % (prefix, k), value("u%d" % k, upstream(ports, k + 1))))
    for k in range(SERVICES):
        puts.append(("%s/services/s%d" % (prefix, k),
                     value("s%d" % k, {"name": "service-%d" % k, "upstream_id": "u%d" % (k * 3 % UPSTREAMS)})))
    if len(sys.argv) > 5 and int(sys.argv[5]) > 0:
        cert, key = open(sys.argv[6]).read(), open(sys.argv[7]).read()
        for j in range(int(sys.argv[5])):
            puts.append(("%s/ssls/c%d" % (prefix, j),
                         value("c%d" % j, {"cert": cert, "key": key, "snis": ["c%d.coldstart.test" % j]})))
    for i in range(count):
        rid = "r%0*d" % (width, i)
        puts.append(("%s/routes/%s" % (prefix, rid), value(rid, route(ports, i))))
    for start in range(0, len(puts), TXN_OPS):
        ops = [{"requestPut": {"key": b64(k), "value": b64(v)}} for k, v in puts[start:start + TXN_OPS]]
        req = urllib.request.Request(etcd + "/v3/kv/txn", data=json.dumps({"success": ops}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            if resp.status != 200:
                sys.exit("etcd txn failed: HTTP %d" % resp.status)
            resp.read()
    print(probe(count - 1))


if __name__ == "__main__":
    main()
