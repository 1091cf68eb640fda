#!/usr/bin/env python3
"""Tail-latency evidence from the flight recordings of `scripts/bench.sh --jfr DIR` (docs/tail-latency.md).

    python3 scripts/lib/jfr_tail.py DIR [--json OUT.json]

For each Turnpike recording DIR/NAME.jfr and each measured window of NAME in DIR/windows.tsv (target, round, kind,
start and end epoch ms): GC pauses (count, total, p50/max, per collection type and cause), safepoints (count,
total, max; which VM operations), JIT compilations (count, total and longest compile time, per tier), deoptimizations,
each thread's CPU share (jdk.ThreadCPULoad, averaged over the window, in % of one core), and the loop thread's
hottest frames (jdk.ExecutionSample, top frame). Events are read with the JDK's `jfr print --json`.
"""
import collections
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone

EVENTS = ["jdk.GCPhasePause", "jdk.GarbageCollection", "jdk.SafepointBegin", "jdk.ExecuteVMOperation",
          "jdk.Compilation", "jdk.Deoptimization", "jdk.ThreadCPULoad", "jdk.ExecutionSample"]


def ts_ms(s):
    # "2026-12-07T06:10:37.396926267Z" -> epoch ms (float)
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", s)
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp() * 1000.0
    frac = m.group(2) or "0"
    return base + float("0." + frac) * 1000.0


def dur_ms(s):
    # ISO-8601 duration "PT0.007306727S", "PT1M2.5S", "PT0S"
    if s is None:
        return 0.0
    m = re.match(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$", s)
    if not m:
        return 0.0
    h, mi, se = (float(g) if g else 0.0 for g in m.groups())
    return (h * 3600 + mi * 60 + se) * 1000.0


def load(jfr_file):
    out = subprocess.run(["jfr", "print", "--json", "--events", ",".join(EVENTS), jfr_file],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["recording"]["events"]


def pct(vals, p):
    if not vals:
        return 0.0
    vals = sorted(vals)
    k = min(len(vals) - 1, max(0, int(round(p / 100.0 * len(vals) + 0.5)) - 1))
    return vals[k]


def thread_name(t):
    if not t:
        return "?"
    return t.get("javaName") or t.get("osName") or "?"


def analyse(events, t0, t1):
    inwin = [e for e in events if t0 <= ts_ms(e["values"]["startTime"]) < t1]
    by = collections.defaultdict(list)
    for e in inwin:
        by[e["type"]].append(e["values"])
    secs = (t1 - t0) / 1000.0
    res = {"window_s": round(secs, 2)}
    pauses = [dur_ms(v["duration"]) for v in by["jdk.GCPhasePause"]]
    gcs = collections.Counter("%s/%s" % (v.get("name"), v.get("cause")) for v in by["jdk.GarbageCollection"])
    res["gc_pauses"] = {"count": len(pauses), "total_ms": round(sum(pauses), 2),
                        "p50_ms": round(pct(pauses, 50), 2), "max_ms": round(max(pauses, default=0), 2),
                        "per_s": round(len(pauses) / secs, 2) if secs else 0, "collections": dict(gcs)}
    sp = [dur_ms(v["duration"]) for v in by["jdk.SafepointBegin"]]
    ops = collections.Counter(v.get("operation") for v in by["jdk.ExecuteVMOperation"] if v.get("safepoint"))
    res["safepoints"] = {"count": len(sp), "total_ms": round(sum(sp), 2), "max_ms": round(max(sp, default=0), 2),
                         "vm_operations": dict(ops)}
    comp = by["jdk.Compilation"]
    cd = [dur_ms(v["duration"]) for v in comp]
    tiers = collections.Counter(str(v.get("compileLevel")) for v in comp)
    res["compilations"] = {"count": len(cd), "total_ms": round(sum(cd), 2), "max_ms": round(max(cd, default=0), 2),
                           "per_tier": dict(tiers), "deoptimizations": len(by["jdk.Deoptimization"])}
    cpu = collections.defaultdict(list)
    for v in by["jdk.ThreadCPULoad"]:
        cpu[thread_name(v.get("eventThread"))].append((v.get("user") or 0) + (v.get("system") or 0))
    # ThreadCPULoad is a fraction of the machine's CPUs (here: the cores the process may use); averaged per thread.
    res["thread_cpu"] = {k: round(100.0 * sum(v) / len(v), 1)
                         for k, v in sorted(cpu.items(), key=lambda kv: -sum(kv[1]) / len(kv[1])) if sum(v) > 0}
    frames = collections.Counter()
    loop_samples = 0
    for v in by["jdk.ExecutionSample"]:
        if not thread_name(v.get("sampledThread")).startswith("turnpike-loop"):
            continue
        loop_samples += 1
        st = (v.get("stackTrace") or {}).get("frames") or []
        if st:
            m = st[0]["method"]
            frames["%s.%s" % (m["type"]["name"].rsplit(".", 1)[-1], m["name"])] += 1
    res["loop_samples"] = loop_samples
    res["loop_top_frames"] = frames.most_common(8)
    return res


def main():
    d = sys.argv[1]
    out_json = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    windows = []
    with open(os.path.join(d, "windows.tsv")) as f:
        for line in f:
            t, r, kind, a, b = line.rstrip("\n").split("\t")
            windows.append((t, int(r), kind, float(a), float(b)))
    report = {}
    for name in sorted({w[0] for w in windows}):
        path = os.path.join(d, name + ".jfr")
        if not os.path.exists(path):
            continue
        events = load(path)
        for t, r, kind, a, b in windows:
            if t != name:
                continue
            res = analyse(events, a, b)
            report.setdefault(name, []).append(dict(round=r, kind=kind, **res))
            g, s, c = res["gc_pauses"], res["safepoints"], res["compilations"]
            print("%-16s r%d %-10s %5.1fs  GC pauses %3d (%.2f/s) total %7.2f ms p50 %5.2f max %6.2f | safepoints %3d "
                  "total %7.2f max %6.2f | compilations %4d (%7.1f ms, max %6.1f) deopt %d"
                  % (name, r, kind, res["window_s"], g["count"], g["per_s"], g["total_ms"], g["p50_ms"], g["max_ms"],
                     s["count"], s["total_ms"], s["max_ms"], c["count"], c["total_ms"], c["max_ms"],
                     c["deoptimizations"]))
            print("    collections %s; VM ops %s" % (g["collections"], s["vm_operations"]))
            print("    thread CPU %% (of the process's cores): %s" % dict(list(res["thread_cpu"].items())[:8]))
            print("    loop samples %d, top frames %s" % (res["loop_samples"], res["loop_top_frames"][:5]))
    if out_json:
        with open(out_json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
