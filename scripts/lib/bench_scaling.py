#!/usr/bin/env python3
"""Summary of scripts/bench.sh --scaling: records (one JSON line per loop count, target and round) -> JSON, Markdown
and a table on stdout. docs/benchmarks.md, "Event-loop scaling".

Per loop count n and target (medians over rounds):
  rps, p50/p99 (wrk), cpu_us_per_req (the gateway's utime+stime over the measured run / requests),
  cores_used = gateway CPU seconds / measured seconds (measured, not n),
  cores_per_million_rps = cores_used / (rps / 1e6)  (equal to cpu_us_per_req: one core for one second = 1e6 us),
  scaling_efficiency = rps(n) / (n * rps(1)), cpu_efficiency = cpu_us_per_req(1) / cpu_us_per_req(n),
  load-side business (% of the wrk and backend cores): above LOAD_BOUND_PCT the load side, not the gateway, may set rps.
"""
import json
import os
import sys

FORMAT = "turnpike-bench-scaling/v1"
LOAD_BOUND_PCT = 90.0


def env(name, default=""):
    return os.environ.get("BENCH_" + name, default)


def median(vs):
    vs = sorted(v for v in vs if v is not None)
    if not vs:
        return None
    m = len(vs) // 2
    return vs[m] if len(vs) % 2 else (vs[m - 1] + vs[m]) / 2


def derive(r):
    secs = r["duration_us"] / 1e6
    cpu_s = r["cpu_ticks"] / r["clk_tck"]
    req = r["requests"]
    errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["status_errors"] + r["timeout_errors"]
    rps = req / secs if secs > 0 else None
    cores = cpu_s / secs if secs > 0 else None
    return {
        "round": r["round"], "oversubscribed": bool(r.get("oversubscribed")), "gateway_cpus": r.get("gateway_cpus"),
        "threads": r["threads"], "connections": r["connections"], "requests": req,
        "duration_s": round(secs, 3), "rps": round(rps, 1) if rps else None,
        "p50_ms": r["p50_us"] / 1000, "p90_ms": r["p90_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
        "p999_ms": r["p999_us"] / 1000,
        "cpu_s": round(cpu_s, 2), "cpu_us_per_req": round(cpu_s * 1e6 / req, 3) if req else None,
        "cores_used": round(cores, 3) if cores is not None else None,
        "cores_per_million_rps": round(cores / (rps / 1e6), 3) if rps and cores is not None else None,
        "backend_cpu_us_per_req": round(r["backend_cpu_ticks"] / r["clk_tck"] * 1e6 / req, 3) if req else None,
        "wrk_cpus_busy_pct": r["wrk_cpus_busy_pct"], "backend_cpus_busy_pct": r["backend_cpus_busy_pct"],
        "gateway_cpus_busy_pct": r["gateway_cpus_busy_pct"],
        "other_cpu_pct": round(100.0 * r["other_cpu_ticks"] / r["clk_tck"] / (r["wall_us"] / 1e6), 1)
        if r["wall_us"] else None,
        "rss_mib": round(r["vmrss_kb"] / 1024, 1), "rss_peak_mib": round(r["vmhwm_kb"] / 1024, 1),
        "errors": errors,
    }


KEYS = ["rps", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "cpu_us_per_req", "cores_used", "cores_per_million_rps",
        "backend_cpu_us_per_req", "wrk_cpus_busy_pct", "backend_cpus_busy_pct", "gateway_cpus_busy_pct",
        "other_cpu_pct", "rss_mib", "rss_peak_mib"]


def main(argv):
    records, out_json = argv[1], argv[2]
    by = {}
    with open(records, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                by.setdefault((r["loops"], r["target"]), []).append(derive(r))
    contended = float(env("CONTENDED_PCT", "10"))
    results = {}
    for (n, t), rounds in sorted(by.items()):
        med = {k: median([r[k] for r in rounds]) for k in KEYS}
        results.setdefault(t, {})[str(n)] = {
            "rounds": rounds, "median": med,
            "errors": sum(r["errors"] for r in rounds),
            "load_bound": max(med["wrk_cpus_busy_pct"] or 0, med["backend_cpus_busy_pct"] or 0) > LOAD_BOUND_PCT,
            "contended": any((r["other_cpu_pct"] or 0) > contended for r in rounds),
            "oversubscribed": any(r["oversubscribed"] for r in rounds),
            "gateway_cpus": rounds[0]["gateway_cpus"],
        }
    for t, per_n in results.items():
        one = per_n.get("1")
        for n, v in per_n.items():
            m = v["median"]
            if one and one["median"]["rps"] and m["rps"]:
                m["scaling_efficiency"] = round(m["rps"] / (int(n) * one["median"]["rps"]), 3)
            else:
                m["scaling_efficiency"] = None
            if one and one["median"]["cpu_us_per_req"] and m["cpu_us_per_req"]:
                m["cpu_efficiency"] = round(one["median"]["cpu_us_per_req"] / m["cpu_us_per_req"], 3)
            else:
                m["cpu_efficiency"] = None
    ratios = {}
    if "turnpike" in results and "nginx" in results:
        for n in sorted(set(results["turnpike"]) & set(results["nginx"]), key=int):
            a, b = results["turnpike"][n]["median"], results["nginx"][n]["median"]
            ratios[n] = {k: (round(a[k] / b[k], 3) if a[k] and b[k] else None)
                         for k in ("rps", "cpu_us_per_req", "p99_ms", "cores_per_million_rps")}
    skipped = json.loads(env("SKIPPED_JSON", "{}"))
    doc = {
        "format": FORMAT,
        "generated_at": env("TIMESTAMP"),
        "command": env("COMMAND"),
        "environment": {"hostname": env("HOSTNAME"), "kernel": env("KERNEL"), "cpu_model": env("CPU_MODEL"),
                        "nproc": int(env("NPROC", "0")), "java": env("JAVA_VERSION"), "nginx": env("NGINX_VERSION"),
                        "wrk": env("WRK_VERSION"), "git_sha": env("GIT_SHA"), "loadavg_start": env("LOADAVG_START")},
        "parameters": {
            "rounds": int(env("ROUNDS")), "warmup_s": int(env("WARMUP")), "duration_s": int(env("DURATION")),
            "body_bytes": int(env("BODY_BYTES")), "loops_requested": env("LOOPS_REQUESTED"),
            "wrk": "taskset -c WRK_CPUS wrk -t<n> -c<%s*n> -d<duration> --latency" % env("CONNS_PER_LOOP"),
            "connections_per_loop": int(env("CONNS_PER_LOOP")),
            "cores": {"backend": env("BACKEND_CPUS"), "backend_workers": int(env("BACKEND_WORKERS")),
                      "wrk": env("WRK_CPUS"), "gateway": env("GATEWAY_CPUS") + " (the first n)"},
            "turnpike": "bin/turnpike (%s) start, turnpike.event_loops: n, taskset -c <first n gateway cpus>"
                        % env("LAUNCHER"),
            "nginx": "worker_processes n; worker_cpu_affinity <one of the first n gateway cpus each>; taskset -c <them>",
            "load_bound_pct": LOAD_BOUND_PCT, "contended_pct": contended,
        },
        "definitions": {
            "cores_used": "gateway utime+stime (all threads / workers) over the measured run / its duration",
            "cores_per_million_rps": "cores_used / (rps / 1e6); equals cpu_us_per_req",
            "scaling_efficiency": "rps(n) / (n * rps(1))",
            "cpu_efficiency": "cpu_us_per_req(1) / cpu_us_per_req(n)",
            "load_bound": "the wrk or backend cores were more than load_bound_pct busy: rps may be set by the load "
                          "side, not the gateway",
        },
        "skipped": skipped,
        "results": results,
        "ratios_turnpike_vs_nginx": ratios,
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


def fmt(v, d):
    if v is None:
        return "-"
    return f"{v:,.{d}f}"


def render(doc):
    p, e = doc["parameters"], doc["environment"]
    lines = [f"# Event-loop scaling, {doc['generated_at']}", "",
             f"`{doc['command']}`  ", f"git {e['git_sha']}, {e['nproc']} cores ({e['cpu_model']}), "
             f"load average at start {e['loadavg_start']}", "",
             f"Core split: backend nginx cpus {p['cores']['backend']} ({p['cores']['backend_workers']} workers), "
             f"wrk cpus {p['cores']['wrk']}, gateway cpus {p['cores']['gateway']}. wrk: threads = n, "
             f"{p['connections_per_loop']} connections per loop. {p['rounds']} round(s) x ({p['warmup_s']} s warm-up"
             f" + {p['duration_s']} s), body {p['body_bytes']} B; medians over rounds.", "",
             "| target | loops | req/s | p50 ms | p99 ms | CPU us/req | cores used | cores per 1M req/s |"
             " scaling eff. | wrk cpus busy % | backend cpus busy % | RSS MiB | flags |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for t in ("nginx", "turnpike"):
        for n, v in sorted(doc["results"].get(t, {}).items(), key=lambda kv: int(kv[0])):
            m = v["median"]
            flags = []
            if v["load_bound"]:
                flags.append("LOAD-BOUND")
            if v["contended"]:
                flags.append("CONTENDED")
            if v["oversubscribed"]:
                flags.append("OVERSUBSCRIBED")
            if v["errors"]:
                flags.append(f"ERRORS {v['errors']}")
            lines.append(f"| {t} | {n} | {fmt(m['rps'], 0)} | {fmt(m['p50_ms'], 3)} | {fmt(m['p99_ms'], 3)} | "
                         f"{fmt(m['cpu_us_per_req'], 2)} | {fmt(m['cores_used'], 2)} | "
                         f"{fmt(m['cores_per_million_rps'], 2)} | {fmt(m['scaling_efficiency'], 2)} | "
                         f"{fmt(m['wrk_cpus_busy_pct'], 0)} | {fmt(m['backend_cpus_busy_pct'], 0)} | "
                         f"{fmt(m['rss_mib'], 0)} | {' '.join(flags)} |")
    if doc["ratios_turnpike_vs_nginx"]:
        lines += ["", "turnpike / nginx (medians):", "",
                  "| loops | req/s | CPU us/req | p99 |", "|---:|---:|---:|---:|"]
        for n, r in doc["ratios_turnpike_vs_nginx"].items():
            lines.append(f"| {n} | {fmt(r['rps'], 3)}x | {fmt(r['cpu_us_per_req'], 3)}x | {fmt(r['p99_ms'], 3)}x |")
    for n, why in doc["skipped"].items():
        lines.append(f"\nloops={n}: SKIPPED ({why})")
    lines += ["", "cores per 1M req/s = measured gateway CPU seconds / second / (req/s / 1e6); scaling efficiency ="
              " rps(n) / (n x rps(1)); LOAD-BOUND: the wrk or backend cores were over "
              f"{p['load_bound_pct']:.0f} % busy, so req/s may be set by the load side."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
