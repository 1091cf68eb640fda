#!/usr/bin/env python3
"""Big-value writes against a live gateway (etcd mode): loop latency and resident memory.

Starts its own etcd and `bin/turnpike start` (traditional role: etcd + Admin API), then, while a prober sends one plain
request every PROBE_MS on a kept-alive connection and records its latency:

  1. quiet      : probes only
  2. big write  : one PUT of a route whose FIELD holds about BIG_BYTES (vars | desc | labels | plugins | nodes)
  3. writers    : WRITERS threads PUT small routes (each its own id) for WRITE_S seconds
  4. idle conns : (with --idle N) N idle connections opened and held, then closed
  5. settle     : SETTLE_S seconds of nothing, to see whether memory goes back

and reads VmRSS of the gateway (/proc/PID/status) after each phase. Bounded: every phase has a time limit.
Used by scripts/big-write-stall.sh and scripts/memory-burst.sh.
"""
import argparse, http.client, json, os, resource, shutil, signal, socket, subprocess, sys, tempfile, threading, time

KEY = "edd1c9f034335f136f87ad84b625c8f1"


IDLE_OPENER = """
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks, t_end = [], time.time() + 60
for i in range(n):
    if time.time() > t_end:
        break
    socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
print(len(socks), flush=True)
sys.stdin.read()
"""


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return -1.0
    return -1.0


def wait_http(port, path, timeout_s, want=200):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path); r = c.getresponse(); r.read(); c.close()
            if r.status == want:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def admin(port, method, path, body=None, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    c.request(method, path, body=data, headers={"X-API-KEY": KEY, "Content-Type": "application/json"})
    r = c.getresponse(); out = r.read(); c.close()
    return r.status, out


def big_route(field, size, upstream):
    """A route whose FIELD makes it about SIZE bytes of compact JSON."""
    first = _big_route(field, size, upstream)
    return _big_route(field, int(size * size / len(first)), upstream)


def _big_route(field, size, upstream):
    r = {"uri": "/big", "upstream": upstream}
    if field == "vars":
        n = max(1, size // 25)
        r["vars"] = [["arg_k%06d" % i, "~=", "v%06d" % i] for i in range(n)]
    elif field == "desc":
        r["desc"] = "d" * min(size, 256)  # APISIX caps desc at 256; the rest goes into labels
        r["labels"] = {"l%06d" % i: "v" * 20 for i in range(max(1, size // 32))}
    elif field == "labels":
        r["labels"] = {"l%06d" % i: "v" * 20 for i in range(max(1, size // 32))}
    elif field == "plugins":
        r["plugins"] = {"proxy-rewrite": {"headers": {"set": {"X-H%06d" % i: "v" * 20 for i in range(max(1, size // 32))}}}}
    elif field == "nodes":
        n = max(1, size // 44)
        r["upstream"] = {"type": "roundrobin", "nodes": [{"host": "127.0.0.%d" % (1 + i % 250), "port": 10000 + i % 50000,
                                                         "weight": 1} for i in range(n)]}
    else:
        raise SystemExit("unknown field " + field)
    out = json.dumps(r, separators=(",", ":")).encode()
    return out


class Prober(threading.Thread):
    """One plain request every interval on a kept-alive connection; latencies per phase."""

    def __init__(self, port, path, interval_s):
        super().__init__(daemon=True)
        self.port, self.path, self.interval = port, path, interval_s
        self.phase = "quiet"; self.lat = {}; self.errors = {}; self.stop = False

    def run(self):
        conn = None
        while not self.stop:
            t0 = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("GET", self.path); r = conn.getresponse(); r.read()
                self.lat.setdefault(self.phase, []).append((time.perf_counter() - t0) * 1000)
            except OSError:
                self.errors[self.phase] = self.errors.get(self.phase, 0) + 1
                conn = None
            left = self.interval - (time.perf_counter() - t0)
            if left > 0:
                time.sleep(left)


def pct(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs); return s[min(len(s) - 1, int(p / 100.0 * len(s)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--field", default="labels")
    ap.add_argument("--big-bytes", type=int, default=2_500_000)
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--write-s", type=float, default=10)
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--settle-s", type=float, default=30)
    ap.add_argument("--probe-ms", type=float, default=20)
    ap.add_argument("--loops", type=int, default=2)
    ap.add_argument("--jvm-opts", default=None, help="TURNPIKE_JVM_OPTS for the gateway")
    ap.add_argument("--etcd-max-request-bytes", type=int, default=8 * 1024 * 1024)
    ap.add_argument("--launcher", default=None, help="launcher to run (default bin/turnpike), e.g. an older copy")
    ap.add_argument("--nmt", action="store_true", help="native memory tracking: print the JVM's own breakdown at the end")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()

    if a.idle:
        # the gateway inherits it: room for the idle connections on both ends
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 2 * a.idle + 4096), hard))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tmp = tempfile.mkdtemp(prefix="turnpike-hostile-")
    procs = []
    try:
        etcd_port, peer = free_port(), free_port()
        etcd = subprocess.Popen(["etcd", "--data-dir", tmp + "/etcd", "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
                                 "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
                                 "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                                 "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                                 "--initial-cluster", f"default=http://127.0.0.1:{peer}",
                                 "--max-request-bytes", str(a.etcd_max_request_bytes), "--log-level", "error"],
                                stdout=open(tmp + "/etcd.log", "w"), stderr=subprocess.STDOUT)
        procs.append(etcd)
        port, status_port, admin_port = free_port(), free_port(), free_port()
        cfg = tmp + "/config.yaml"
        with open(cfg, "w") as f:
            f.write(f"""apisix:
  ssl:
    enable: false
  node_listen:
    - ip: 127.0.0.1
      port: {port}
deployment:
  role: traditional
  role_traditional:
    config_provider: etcd
  etcd:
    host:
      - "http://127.0.0.1:{etcd_port}"
    prefix: /apisix
    timeout: 5
  admin:
    admin_key:
      - name: admin
        key: {KEY}
        role: admin
    admin_listen:
      ip: 127.0.0.1
      port: {admin_port}
turnpike:
  event_loops: {a.loops}
  status_listen:
    ip: 127.0.0.1
    port: {status_port}
plugin_attr:
  prometheus:
    enable_export_server: false
""")
        env = dict(os.environ)
        if a.jvm_opts is not None:
            env["TURNPIKE_JVM_OPTS"] = a.jvm_opts
        if a.nmt:
            env["TURNPIKE_JVM_OPTS"] = (env.get("TURNPIKE_JVM_OPTS", "") + " -XX:NativeMemoryTracking=summary").strip()
        if a.launcher:
            env["TURNPIKE_JAR"] = root + "/engine/target/turnpike.jar"
        gw = subprocess.Popen([a.launcher or root + "/bin/turnpike", "start", "-c", cfg], stdout=open(tmp + "/gateway.log", "w"),
                              stderr=subprocess.STDOUT, env=env, preexec_fn=os.setsid)
        procs.append(gw)
        if not wait_http(status_port, "/status/ready", 60):
            raise SystemExit("gateway not ready; see " + tmp + "/gateway.log")
        upstream = {"type": "roundrobin", "nodes": {f"127.0.0.1:{status_port}": 1}}
        st, body = admin(admin_port, "PUT", "/apisix/admin/routes/probe", {"uri": "/status", "upstream": upstream})
        assert st in (200, 201), body
        if not wait_http(port, "/status", 10):
            raise SystemExit("probe route not served")
        rows = []

        def mark(name):
            rows.append((name, rss_mb(gw.pid)))

        mark("ready")
        prober = Prober(port, "/status", a.probe_ms / 1000.0); prober.start()
        time.sleep(2); mark("quiet")

        prober.phase = "big write"
        big = big_route(a.field, a.big_bytes, upstream)
        t0 = time.perf_counter()
        try:
            st, body = admin(admin_port, "PUT", "/apisix/admin/routes/big", big)
        except OSError as e:  # a 413 may close the connection before the whole body is sent
            st, body = -1, repr(e).encode()
        big_ms = (time.perf_counter() - t0) * 1000
        print(f"big PUT ({a.field}, {len(big)} bytes): {st} in {big_ms:.0f} ms {body[:200]!r}")
        time.sleep(2); mark("after big write")

        prober.phase = "writers"
        stop_at = time.time() + a.write_s
        counts = [0] * a.writers; statuses = {}
        small_ms = []

        def writer(i):
            c = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=30)
            n = 0
            while time.time() < stop_at:
                b = json.dumps({"uri": f"/w{i}/{n}", "upstream": upstream}).encode()
                t = time.perf_counter()
                try:
                    c.request("PUT", f"/apisix/admin/routes/w{i}", body=b,
                              headers={"X-API-KEY": KEY, "Content-Type": "application/json"})
                    r = c.getresponse(); r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                except OSError:
                    c = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=30)
                small_ms.append((time.perf_counter() - t) * 1000)
                n += 1
            counts[i] = n

        ws = [threading.Thread(target=writer, args=(i,)) for i in range(a.writers)]
        for w in ws: w.start()
        peak = 0.0
        while any(w.is_alive() for w in ws):
            peak = max(peak, rss_mb(gw.pid)); time.sleep(0.2)
        for w in ws: w.join()
        mark("after writers (peak %.0f)" % peak)
        print(f"small writes: {sum(counts)} in {a.write_s:.0f} s by {a.writers} writers, statuses {statuses}, "
              f"write latency p50 {pct(small_ms, 50):.1f} ms p99 {pct(small_ms, 99):.1f} ms")

        if a.idle:
            prober.phase = "idle conns"
            # opened by another process, so that the prober (this process) is not slowed by the opener
            opener = subprocess.Popen([sys.executable, "-c", IDLE_OPENER, str(port), str(a.idle)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            opened = opener.stdout.readline().strip()
            time.sleep(2); mark(f"{opened} idle connections open")
            opener.stdin.close(); opener.wait(30)
            time.sleep(2); mark("idle connections closed")

        prober.phase = "settle"
        t_end = time.time() + a.settle_s
        while time.time() < t_end:
            time.sleep(1)
        mark(f"settled {a.settle_s:.0f} s")
        prober.stop = True; prober.join(5)

        print("\nphase                     probes   p50 ms   p99 ms   max ms  errors")
        for ph in ["quiet", "big write", "writers", "idle conns", "settle"]:
            xs = prober.lat.get(ph, [])
            if xs or ph in prober.errors:
                print(f"{ph:24s} {len(xs):7d} {pct(xs, 50):8.1f} {pct(xs, 99):8.1f} {max(xs) if xs else float('nan'):8.1f}"
                      f"  {prober.errors.get(ph, 0)}")
        print("\nVmRSS of the gateway:")
        for name, mb in rows:
            print(f"  {name:40s} {mb:8.0f} MB")
        if a.nmt:
            java_pid = gw.pid  # bin/turnpike execs java: same pid
            out = subprocess.run(["jcmd", str(java_pid), "VM.native_memory", "summary", "scale=MB"],
                                 capture_output=True, text=True, timeout=30).stdout
            print("\nJVM native memory (committed):")
            for line in out.splitlines():
                line = line.strip()
                if line.startswith("Total") or (line.startswith("-") and "committed" in line):
                    print("  " + line)
        try:
            with open(f"/proc/{gw.pid}/cmdline") as f:
                print("\ngateway command line:", f.read().replace("\0", " ")[:400])
        except OSError:
            pass
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM) if p is procs[-1] and len(procs) > 1 else p.terminate()
            except OSError:
                pass
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        if a.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
