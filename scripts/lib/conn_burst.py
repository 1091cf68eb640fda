#!/usr/bin/env python3
"""A burst of new connections, one request each: how long the last first answer takes (docs/tail-latency.md).

    python3 scripts/lib/conn_burst.py PORT [N]

Opens N (default 64) connections to 127.0.0.1:PORT one after the other, sends `GET / HTTP/1.1` on each right after
its connect, and waits for every response head (and the `hello world\\n` body of bench.sh's backend). Prints the
min / median / max of the per-connection time from its request to its answer, and the whole burst's time. Pin it to
the load core (`taskset -c 0`) as wrk is. Each run opens at most N connections and gives up after 10 s.
"""
import selectors
import socket
import sys
import time

port = int(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 64
request = b"GET / HTTP/1.1\r\nHost: burst\r\n\r\n"
sel = selectors.DefaultSelector()
sent, got, lat = {}, {}, []
start = time.perf_counter()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setblocking(False)
    sent[s] = time.perf_counter()
    s.send(request)
    got[s] = b""
    sel.register(s, selectors.EVENT_READ)
deadline = start + 10
while len(lat) < n and time.perf_counter() < deadline:
    for key, _ in sel.select(0.5):
        s = key.fileobj
        data = s.recv(65536)
        got[s] += data
        if not data or (b"\r\n\r\n" in got[s] and got[s].endswith(b"\n")):
            lat.append((time.perf_counter() - sent[s]) * 1000)
            sel.unregister(s)
            s.close()
if len(lat) < n:
    sys.exit(f"conn_burst: only {len(lat)} of {n} answered within 10 s")
lat.sort()
print("first answer ms: min %.2f p50 %.2f max %.2f; burst of %d in %.1f ms"
      % (lat[0], lat[len(lat) // 2], lat[-1], n, (time.perf_counter() - start) * 1000))
