#!/usr/bin/env python3
"""scripts/bench.sh --h2 helper.

  bench_h2.py record TARGET ROUND H2LOAD_OUT LATENCY_LOG CPU_TICKS CLK_TCK OTHER_TICKS WALL_US RSS_KB
      one JSON line from h2load's summary and its --log-file (tab-separated: start time us, status, latency us)
  bench_h2.py summary RECORDS.jsonl OUT.json
      medians over rounds, ratios turnpike / nginx per transport; OUT.json, OUT.md and a table on stdout
"""
import json
import os
import re
import sys

FORMAT = "turnpike-bench-h2/v1"
ORDER = ["nginx_h2c", "turnpike_h2c", "nginx_h2", "turnpike_h2"]


def percentile(sorted_vs, p):
    if not sorted_vs:
        return None
    i = min(len(sorted_vs) - 1, max(0, int(round(p / 100.0 * len(sorted_vs) + 0.5)) - 1))
    return sorted_vs[i]


def record(argv):
    target, rnd, out_path, lat_path, ticks, clk, others, wall_us, rss_kb = argv
    text = open(out_path, encoding="utf-8", errors="replace").read()
    m = re.search(r"^finished in ([\d.]+)(m?s), ([\d.]+) req/s", text, re.M)
    req = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                    r"(\d+) errored, (\d+) timeout", text, re.M)
    codes = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text, re.M)
    proto = re.search(r"^Application protocol: (\S+)", text, re.M)
    if not (m and req and codes):
        print(f"no h2load summary in {out_path}", file=sys.stderr)
        return 1
    secs = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
    lats = []
    with open(lat_path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                lats.append(int(parts[2]))
    lats.sort()
    succeeded = int(req.group(4))
    cpu_s = int(ticks) / int(clk)
    rec = {
        "target": target, "round": int(rnd), "protocol": proto.group(1) if proto else None,
        "duration_s": round(secs, 3), "requests": succeeded, "rps": round(succeeded / secs, 1) if secs else None,
        "failed": int(req.group(5)), "errored": int(req.group(6)), "timeout": int(req.group(7)),
        "non2xx": int(codes.group(2)) + int(codes.group(3)) + int(codes.group(4)),
        "p50_ms": ms(percentile(lats, 50)), "p90_ms": ms(percentile(lats, 90)), "p99_ms": ms(percentile(lats, 99)),
        "p999_ms": ms(percentile(lats, 99.9)), "max_ms": ms(lats[-1] if lats else None),
        "latency_samples": len(lats),
        "cpu_ticks": int(ticks), "cpu_s": round(cpu_s, 2),
        "cpu_us_per_req": round(cpu_s * 1e6 / succeeded, 3) if succeeded else None,
        "cpu_util_pct": round(100 * cpu_s / secs, 1) if secs else None,
        "other_cpu_pct": round(100.0 * int(others) / int(clk) / (int(wall_us) / 1e6), 1) if int(wall_us) else None,
        "rss_mib": round(int(rss_kb) / 1024, 1),
    }
    rec["errors"] = rec["failed"] + rec["errored"] + rec["timeout"] + rec["non2xx"]
    print(json.dumps(rec))
    return 0


def ms(us):
    return None if us is None else us / 1000.0


KEYS = ["rps", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "cpu_us_per_req", "cpu_util_pct", "other_cpu_pct",
        "rss_mib"]


def median(vs):
    vs = sorted(v for v in vs if v is not None)
    if not vs:
        return None
    k = len(vs) // 2
    return vs[k] if len(vs) % 2 else (vs[k - 1] + vs[k]) / 2


def env(name, default=""):
    return os.environ.get("BENCH_" + name, default)


def fmt(v, d):
    return "-" if v is None else f"{v:,.{d}f}"


def summary(argv):
    records, out_json = argv
    by = {}
    with open(records, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                by.setdefault(r["target"], []).append(r)
    contended = float(env("CONTENDED_PCT", "10"))
    results = {}
    for t, rounds in by.items():
        results[t] = {
            "rounds": rounds,
            "median": {k: median([r[k] for r in rounds]) for k in KEYS},
            "min": {k: min((r[k] for r in rounds if r[k] is not None), default=None) for k in KEYS},
            "max": {k: max((r[k] for r in rounds if r[k] is not None), default=None) for k in KEYS},
            "protocol": sorted({r["protocol"] or "?" for r in rounds}),
            "errors": sum(r["errors"] for r in rounds),
            "contended": any((r["other_cpu_pct"] or 0) > contended for r in rounds),
        }
    ratios = {}
    for tr in ("h2c", "h2"):
        a, b = results.get("turnpike_" + tr), results.get("nginx_" + tr)
        if a and b:
            ratios[tr] = {k: (round(a["median"][k] / b["median"][k], 3) if a["median"][k] and b["median"][k] else None)
                          for k in ("cpu_us_per_req", "p50_ms", "p99_ms", "rps")}
    doc = {
        "format": FORMAT, "generated_at": env("TIMESTAMP"), "command": env("COMMAND"),
        "environment": {"hostname": env("HOSTNAME"), "kernel": env("KERNEL"), "cpu_model": env("CPU_MODEL"),
                        "nproc": env("NPROC"), "java": env("JAVA_VERSION"), "nginx": env("NGINX_VERSION"),
                        "h2load": env("H2LOAD_VERSION"), "openssl": env("OPENSSL_VERSION"), "git_sha": env("GIT_SHA"),
                        "loadavg_start": env("LOADAVG_START")},
        "parameters": {"rounds": int(env("ROUNDS")), "warmup_s": int(env("WARMUP")), "duration_s": int(env("DURATION")),
                       "body_bytes": int(env("BODY_BYTES")), "h2load_connections": int(env("H2_CONNS")),
                       "h2load_streams_per_connection": int(env("H2_STREAMS")), "h2load_command": env("H2LOAD_COMMAND"),
                       "cores": {"load": env("CORE_LOAD"), "proxy": env("CORE_PROXY")}, "contended_pct": contended},
        "skipped": json.loads(env("SKIPPED_JSON", "{}")),
        "results": results,
        "ratios_turnpike_vs_nginx": ratios,
        "definitions": {"latency": "per request, from h2load --log-file (request start to end of response), "
                                   "closed loop: not corrected for coordinated omission",
                        "cpu_us_per_req": "proxy utime+stime over the measured h2load run / succeeded requests"},
    }
    with open(out_json + ".tmp", "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(out_json + ".tmp", out_json)
    md = render(doc)
    with open(out_json[:-5] + ".md", "w", encoding="utf-8") as f:
        f.write(md)
    print()
    print(md)
    return 0


def render(doc):
    p, e = doc["parameters"], doc["environment"]
    lines = [f"# HTTP/2 side by side (h2load), {doc['generated_at']}", "",
             f"`{doc['command']}`  ", f"git {e['git_sha']}; {e['nginx']}; {e['h2load']}; load average at start "
             f"{e['loadavg_start']}", "",
             f"h2load -c {p['h2load_connections']} -m {p['h2load_streams_per_connection']} on core {p['cores']['load']}"
             f" (with the backend), proxy on core {p['cores']['proxy']}; {p['rounds']} round(s) x ({p['warmup_s']} s "
             f"warm-up + {p['duration_s']} s); body {p['body_bytes']} B; medians [min-max].", "",
             "| target | protocol | req/s | p50 ms | p99 ms | p99.9 ms | CPU us/req | CPU % | RSS MiB | flags |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    multi = p["rounds"] > 1
    for t in sorted(doc["results"], key=lambda n: ORDER.index(n) if n in ORDER else 99):
        r = doc["results"][t]

        def c(k, d):
            s = fmt(r["median"][k], d)
            if multi and r["median"][k] is not None:
                s += f" [{fmt(r['min'][k], d)}-{fmt(r['max'][k], d)}]"
            return s
        flags = (["CONTENDED"] if r["contended"] else []) + ([f"ERRORS {r['errors']}"] if r["errors"] else [])
        lines.append(f"| {t} | {','.join(r['protocol'])} | {c('rps', 0)} | {c('p50_ms', 3)} | {c('p99_ms', 3)} | "
                     f"{c('p999_ms', 3)} | {c('cpu_us_per_req', 2)} | {c('cpu_util_pct', 1)} | {c('rss_mib', 0)} | "
                     f"{' '.join(flags)} |")
    for tr, r in doc["ratios_turnpike_vs_nginx"].items():
        lines.append(f"\nturnpike_{tr} / nginx_{tr}: CPU us/req {fmt(r['cpu_us_per_req'], 3)}x, p99 "
                     f"{fmt(r['p99_ms'], 3)}x, req/s {fmt(r['rps'], 3)}x")
    for t, why in doc["skipped"].items():
        lines.append(f"\n{t}: NOT MEASURED ({why})")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "record" and len(sys.argv) == 11:
        sys.exit(record(sys.argv[2:]))
    if len(sys.argv) == 4 and sys.argv[1] == "summary":
        sys.exit(summary(sys.argv[2:]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
