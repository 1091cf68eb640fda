#!/usr/bin/env python3
"""Aggregates the raw per-round measurements of scripts/bench.sh.

Reads one JSON object per line (one wrk run against one target, plus the /proc CPU and RSS
readings of the process under test), writes the bench JSON (format turnpike-bench/v1, read by
perf-reports' BenchJsonReader) and prints the summary table on stdout. The run's context comes in
BENCH_* environment variables set by bench.sh, so nothing is quoted by hand in shell.
"""
import json
import os
import statistics
import sys

FORMAT = "turnpike-bench/v1"
# (key, column header, decimals) in table order.
METRICS = [
    ("rps", "req/s", 0),
    ("p50_ms", "p50 ms", 3),
    ("p90_ms", "p90 ms", 3),
    ("p99_ms", "p99 ms", 3),
    ("p999_ms", "p99.9 ms", 3),
    ("cpu_us_per_req", "CPU us/req", 2),
    ("cpu_util_pct", "CPU %", 1),
    ("rss_peak_mib", "peak RSS MiB", 1),
    ("other_cpu_pct", "others CPU %", 1),
]
# The stdout table leaves p90 and p99.9 out for width; the JSON has them.
TABLE_METRICS = [m for m in METRICS if m[0] not in ("p90_ms", "p999_ms")]
RATIO_METRICS = ["cpu_us_per_req", "p99_ms", "p50_ms", "rps"]
TARGET_ORDER = ["backend", "nginx", "turnpike"]


def env(name, default=""):
    return os.environ.get("BENCH_" + name, default)


def derive(raw):
    """One round's metrics from the raw wrk + /proc readings."""
    requests = raw["requests"]
    duration_s = raw["duration_us"] / 1e6
    cpu_s = raw["cpu_ticks"] / raw["clk_tck"]
    socket_errors = (raw["connect_errors"] + raw["read_errors"] + raw["write_errors"]
                     + raw["timeout_errors"])
    non2xx = raw["status_errors"]
    return {
        "round": raw["round"],
        "requests": requests,
        "duration_s": round(duration_s, 3),
        "rps": round(requests / duration_s, 1) if duration_s > 0 else 0.0,
        "p50_ms": raw["p50_us"] / 1000.0,
        "p90_ms": raw["p90_us"] / 1000.0,
        "p99_ms": raw["p99_us"] / 1000.0,
        "p999_ms": raw["p999_us"] / 1000.0,
        "latency_mean_ms": round(raw["lat_mean_us"] / 1000.0, 4),
        "latency_max_ms": raw["lat_max_us"] / 1000.0,
        "cpu_ticks": raw["cpu_ticks"],
        "cpu_s": round(cpu_s, 3),
        "cpu_us_per_req": round(cpu_s * 1e6 / requests, 3) if requests > 0 else None,
        "cpu_util_pct": round(100.0 * cpu_s / duration_s, 1) if duration_s > 0 else None,
        "rss_peak_mib": round(raw["rss_peak_kb"] / 1024.0, 1),
        # CPU of processes outside the bench during the window, % of one core (shared machine).
        "other_cpu_pct": round(100.0 * raw["other_cpu_ticks"] / raw["clk_tck"] / duration_s, 1)
        if duration_s > 0 else None,
        "bytes_per_req": round(raw["bytes"] / requests, 1) if requests > 0 else None,
        "non2xx": non2xx,
        "socket_errors": socket_errors,
        "socket_errors_detail": {k: raw[k + "_errors"] for k in ("connect", "read", "write", "timeout")},
        "errors": bool(non2xx or socket_errors or requests == 0),
    }


def mark_contended(r, threshold_pct):
    r["contended"] = r["other_cpu_pct"] is not None and r["other_cpu_pct"] > threshold_pct
    return r


def summarize(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None, None, None
    return statistics.median(vals), min(vals), max(vals)


def aggregate(rounds):
    median, lo, hi = {}, {}, {}
    for key, _, _ in METRICS:
        median[key], lo[key], hi[key] = summarize([r[key] for r in rounds])
    return {
        "rounds": rounds,
        "median": median,
        "min": lo,
        "max": hi,
        "non2xx_total": sum(r["non2xx"] for r in rounds),
        "socket_errors_total": sum(r["socket_errors"] for r in rounds),
        "flagged": any(r["errors"] for r in rounds),
        "contended": any(r["contended"] for r in rounds),
    }


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 4)


def ratios(results):
    if "turnpike" not in results or "nginx" not in results:
        return {}
    t, n = results["turnpike"], results["nginx"]
    out = {k: ratio(t["median"][k], n["median"][k]) for k in RATIO_METRICS}
    n_by_round = {r["round"]: r for r in n["rounds"]}
    out["per_round"] = {
        k: [ratio(r[k], n_by_round[r["round"]][k]) for r in t["rounds"] if r["round"] in n_by_round]
        for k in RATIO_METRICS
    }
    out["definition"] = "median(turnpike) / median(nginx); per_round: same-round ratios"
    return {"turnpike_vs_nginx": out}


def fmt(v, decimals):
    if v is None:
        return "-"
    return f"{v:,.{decimals}f}" if decimals == 0 else f"{v:.{decimals}f}"


def print_table(doc):
    p = doc["parameters"]
    print()
    print(f"Turnpike side-by-side bench  {doc['generated_at']}  git {doc['environment']['git_sha']}")
    print(f"rounds={p['rounds']} warmup={p['warmup_s']}s duration={p['duration_s']}s "
          f"conns={p['connections']} wrk_threads={p['wrk_threads']} body={p['body_bytes']}B  "
          f"cores: wrk+backend={p['cores']['load']} proxy={p['cores']['proxy']}")
    print("values: median [min-max] over rounds")
    headers = ["target"] + [h for _, h, _ in TABLE_METRICS] + ["errors"]
    rows = []
    for name in sorted(doc["results"], key=lambda n: TARGET_ORDER.index(n) if n in TARGET_ORDER else 99):
        res = doc["results"][name]
        row = [name]
        for key, _, dec in TABLE_METRICS:
            m, lo, hi = res["median"][key], res["min"][key], res["max"][key]
            cell = fmt(m, dec)
            if p["rounds"] > 1 and m is not None:
                cell += f" [{fmt(lo, dec)}-{fmt(hi, dec)}]"
            row.append(cell)
        row.append(("FLAGGED " if res["flagged"] else "") + ("CONTENDED " if res["contended"] else "")
                   + f"non2xx={res['non2xx_total']} sock={res['socket_errors_total']}")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [headers]) for i in range(len(headers))]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    for name, reason in doc.get("skipped", {}).items():
        print(f"{name}: SKIPPED ({reason})")
    rt = doc["ratios"].get("turnpike_vs_nginx")
    if rt:
        parts = [f"{k}={fmt(rt[k], 2)}x" for k in RATIO_METRICS]
        print("turnpike/nginx (median ratio; CPU and latency: lower is better): " + "  ".join(parts))
    if any(r["flagged"] for r in doc["results"].values()):
        print("WARNING: at least one run had non-2xx responses or socket errors; its numbers are suspect.")
    if any(r["contended"] for r in doc["results"].values()):
        print(f"WARNING: other processes used more than {p['contended_pct']}% of a core during at least one "
              "measured run (others CPU %); the machine was shared, compare with care or rerun.")


def main(argv):
    if len(argv) != 3:
        print("usage: bench_summary.py RECORDS.jsonl OUT.json", file=sys.stderr)
        return 2
    records_path, out_path = argv[1], argv[2]
    threshold = float(env("CONTENDED_PCT", "10"))
    by_target = {}
    with open(records_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                raw = json.loads(line)
                by_target.setdefault(raw["target"], []).append(mark_contended(derive(raw), threshold))
    results = {t: aggregate(rs) for t, rs in by_target.items()}
    skipped = json.loads(env("SKIPPED_JSON", "{}"))
    doc = {
        "format": FORMAT,
        "generated_at": env("TIMESTAMP"),
        "command": env("COMMAND"),
        "environment": {
            "hostname": env("HOSTNAME"),
            "kernel": env("KERNEL"),
            "cpu_model": env("CPU_MODEL"),
            "nproc": env("NPROC"),
            "java": env("JAVA_VERSION"),
            "nginx": env("NGINX_VERSION"),
            "wrk": env("WRK_VERSION"),
            "git_sha": env("GIT_SHA"),
            "git_dirty": env("GIT_DIRTY"),
            "loadavg_start": env("LOADAVG_START"),
        },
        "parameters": {
            "rounds": int(env("ROUNDS")),
            "warmup_s": int(env("WARMUP")),
            "duration_s": int(env("DURATION")),
            "connections": int(env("CONNS")),
            "wrk_threads": int(env("WRK_THREADS")),
            "body_bytes": int(env("BODY_BYTES")),
            "quick": env("QUICK") == "1",
            "targets": env("TARGETS").split(),
            "cores": {"load": env("CORE_LOAD"), "backend": env("CORE_LOAD"), "proxy": env("CORE_PROXY")},
            "clk_tck": int(env("CLK_TCK")),
            "contended_pct": threshold,
            "jvm_opts": env("JVM_OPTS"),
            "turnpike_jar": env("TURNPIKE_JAR"),
            "wrk_command": env("WRK_COMMAND"),
        },
        "processes": json.loads(env("PROCESSES_JSON", "{}")),
        "skipped": skipped,
        "results": results,
        "ratios": ratios(results),
    }
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, out_path)
    print_table(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
