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
TARGET_ORDER = ["backend", "nginx", "haproxy", "turnpike", "turnpike_plugins", "turnpike_forward_auth",
                "turnpike_limit_count", "turnpike_limit_redis", "turnpike_access_log", "turnpike_prometheus",
                "turnpike_jvm_alt", "turnpike_routes", "nginx_chain", "turnpike_chain"]
# --chain: the plugin chain (key-auth + limit-count + prometheus) against nginx's closest equivalent (map auth,
# limit_req, stub_status): issue 14's targets for turnpike_chain / nginx_chain (medians, same run).
CHAIN_TARGETS = {"cpu_us_per_req": 0.90, "p99_ms": 1.20}
# Plugin-mode targets (the same Turnpike process, another route) with the CPU-per-request target against
# the plain route; any other turnpike_* target gets its ratio to the plain route without a target.
PLUGIN_TARGETS = {
    "turnpike_plugins": 1.08,        # key-auth + proxy-rewrite
    "turnpike_limit_count": 1.05,    # limit-count, policy local
    "turnpike_limit_redis": 1.10,    # limit-count, policy redis (leases)
    "turnpike_prometheus": 1.10,     # another process: prometheus in a global rule + access log (JSON to a file)
    "turnpike_access_log": 1.10,     # another process, access log on (JSON to a file)
}
# --rate: the fixed-rate run of each round, CO-corrected (keys added to results.<target>.median/min/max).
RATE_METRICS = [
    ("rate_rps", "req/s", 0),
    ("rate_p50_ms", "p50 ms", 3),
    ("rate_p90_ms", "p90 ms", 3),
    ("rate_p99_ms", "p99 ms", 3),
    ("rate_p999_ms", "p99.9 ms", 3),
    ("rate_max_ms", "max ms", 3),
    ("rate_cpu_us_per_req", "CPU us/req", 2),
    ("rate_cpu_util_pct", "CPU %", 1),
    ("rate_uncorrected_p99_ms", "uncorr. p99 ms", 3),
    ("rate_send_lag_p99_ms", "gen. lag p99 ms", 3),
    ("rate_other_cpu_pct", "others CPU %", 1),
]
# --tls: full handshakes (openssl s_time -new) and HTTPS keep-alive (wrk), per proxy.
HANDSHAKE_METRICS = [
    ("handshakes_per_s", "handshakes/s", 0),
    ("cpu_us_per_handshake", "CPU us/handshake", 1),
    ("cpu_util_pct", "CPU %", 1),
    ("handshakes_per_core_s", "handshakes/s per core", 0),
    ("other_cpu_pct", "others CPU %", 1),
]
HTTPS_TABLE_METRICS = [m for m in TABLE_METRICS if m[0] != "rss_peak_mib"]
# A fixed-rate run whose generator sent requests this late (p99) did not hold the rate by itself.
SEND_LAG_WARN_MS = 1.0


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


def derive_rate(raw):
    """One fixed-rate run (FixedRateLoad's FIXED_RATE_JSON plus the bench's readings)."""
    duration_s = raw["duration_us"] / 1e6
    window_s = raw.get("cpu_window_us", raw["duration_us"]) / 1e6
    requests = raw["requests"]
    cpu_s = raw["cpu_ticks"] / raw["clk_tck"] if raw["cpu_ticks"] >= 0 else None
    other_window_s = raw["other_window_us"] / 1e6
    ms = lambda k: round(raw[k] / 1000.0, 4)
    errors = raw["status_errors"] + raw["connect_errors"] + raw["read_errors"] + raw["timeout_errors"] + raw["unfinished"]
    return {
        "round": raw["round"],
        "rate": raw["rate"],
        "expected": raw["expected"],
        "requests": requests,
        "rate_rps": round(requests / duration_s, 1) if duration_s > 0 else 0.0,
        "rate_p50_ms": ms("p50_us"),
        "rate_p90_ms": ms("p90_us"),
        "rate_p99_ms": ms("p99_us"),
        "rate_p999_ms": ms("p999_us"),
        "rate_max_ms": ms("max_us"),
        "rate_mean_ms": ms("mean_us"),
        "rate_uncorrected_p50_ms": ms("uncorrected_p50_us"),
        "rate_uncorrected_p99_ms": ms("uncorrected_p99_us"),
        "rate_uncorrected_max_ms": ms("uncorrected_max_us"),
        "rate_send_lag_p50_ms": ms("send_lag_p50_us"),
        "rate_send_lag_p99_ms": ms("send_lag_p99_us"),
        "rate_cpu_ticks": raw["cpu_ticks"],
        "rate_cpu_us_per_req": round(cpu_s * 1e6 / requests, 3) if cpu_s is not None and requests > 0 else None,
        "rate_cpu_util_pct": round(100.0 * cpu_s / window_s, 1) if cpu_s is not None and window_s > 0 else None,
        "rate_generator_cpu_pct": round(100.0 * raw.get("generator_cpu_ticks", 0) / raw["clk_tck"] / window_s, 1)
        if window_s > 0 else None,
        # Over the generator's whole run (JVM start, warm-up, drain), % of one core.
        "rate_other_cpu_pct": round(100.0 * raw["other_cpu_ticks"] / raw["clk_tck"] / other_window_s, 1)
        if other_window_s > 0 else None,
        "non2xx": raw["status_errors"],
        "socket_errors": raw["connect_errors"] + raw["read_errors"] + raw["timeout_errors"],
        "unfinished": raw["unfinished"],
        "errors": bool(errors or requests == 0),
    }


def merge_rate(results, rate_rounds, threshold):
    for target, rounds in rate_rounds.items():
        if target not in results:
            continue
        res = results[target]
        for r in rounds:
            r["contended"] = r["rate_other_cpu_pct"] is not None and r["rate_other_cpu_pct"] > threshold
            r["lagged"] = r["rate_send_lag_p99_ms"] > SEND_LAG_WARN_MS
        res["fixed_rate_rounds"] = rounds
        for key, _, _ in RATE_METRICS + [("rate_uncorrected_p50_ms", "", 0), ("rate_send_lag_p50_ms", "", 0),
                                         ("rate_mean_ms", "", 0), ("rate_generator_cpu_pct", "", 0)]:
            res["median"][key], res["min"][key], res["max"][key] = summarize([r[key] for r in rounds])
        res["fixed_rate_flagged"] = any(r["errors"] for r in rounds)
        res["fixed_rate_contended"] = any(r["contended"] for r in rounds)
        res["fixed_rate_lagged"] = any(r["lagged"] for r in rounds)


def derive_handshake(raw):
    duration_s = raw["duration_us"] / 1e6
    n = raw["handshakes"]
    cpu_s = raw["cpu_ticks"] / raw["clk_tck"]
    cpu_us = cpu_s * 1e6 / n if n > 0 else None
    return {
        "round": raw["round"],
        "handshakes": n,
        "duration_s": round(duration_s, 3),
        "clients": raw["clients"],
        "handshakes_per_s": round(n / duration_s, 1) if duration_s > 0 else 0.0,
        "cpu_ticks": raw["cpu_ticks"],
        "cpu_us_per_handshake": round(cpu_us, 2) if cpu_us else None,
        "cpu_util_pct": round(100.0 * cpu_s / duration_s, 1) if duration_s > 0 else None,
        # What one fully busy core of the proxy would sustain at this CPU cost.
        "handshakes_per_core_s": round(1e6 / cpu_us, 0) if cpu_us else None,
        "other_cpu_pct": round(100.0 * raw["other_cpu_ticks"] / raw["clk_tck"] / duration_s, 1)
        if duration_s > 0 else None,
        "failed_clients": raw["failed_clients"],
        "errors": bool(raw["failed_clients"] or n == 0),
    }


def aggregate_handshakes(rounds, threshold):
    median, lo, hi = {}, {}, {}
    for r in rounds:
        r["contended"] = r["other_cpu_pct"] is not None and r["other_cpu_pct"] > threshold
    for key, _, _ in HANDSHAKE_METRICS:
        median[key], lo[key], hi[key] = summarize([r[key] for r in rounds])
    return {"rounds": rounds, "median": median, "min": lo, "max": hi,
            "flagged": any(r["errors"] for r in rounds), "contended": any(r["contended"] for r in rounds)}


def tls_section(path, threshold):
    """The --tls results, or None."""
    if not path or not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    hs, https = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            raw = json.loads(line)
            if raw["kind"] == "handshake":
                hs.setdefault(raw["target"], []).append(derive_handshake(raw))
            else:
                https.setdefault(raw["target"], []).append(mark_contended(derive(raw), threshold))
    handshake = {t: aggregate_handshakes(rs, threshold) for t, rs in hs.items()}
    keepalive = {t: aggregate(rs) for t, rs in https.items()}
    out = {
        "key": env("TLS_KEY"),
        "certificate": env("TLS_CERT"),
        "openssl": env("OPENSSL_VERSION"),
        "negotiated": json.loads(env("TLS_NEGOTIATED_JSON", "{}")),
        "handshake_clients": int(env("TLS_CLIENTS", "0")),
        "handshake_command": env("TLS_HANDSHAKE_COMMAND"),
        "handshake": {"results": handshake},
        "https": {"results": keepalive},
        "ratios": {},
    }
    if "turnpike" in handshake and "nginx" in handshake and "turnpike" in keepalive and "nginx" in keepalive:
        th, nh = handshake["turnpike"]["median"], handshake["nginx"]["median"]
        tk, nk = keepalive["turnpike"]["median"], keepalive["nginx"]["median"]
        r = {
            "cpu_us_per_handshake": ratio(th["cpu_us_per_handshake"], nh["cpu_us_per_handshake"]),
            "handshakes_per_s": ratio(th["handshakes_per_s"], nh["handshakes_per_s"]),
            "https_cpu_us_per_req": ratio(tk["cpu_us_per_req"], nk["cpu_us_per_req"]),
            "https_rps": ratio(tk["rps"], nk["rps"]),
            "https_p99_ms": ratio(tk["p99_ms"], nk["p99_ms"]),
            "definition": "median(turnpike) / median(nginx); CPU: lower is better",
        }
        # Issue 5's targets: within 10% of nginx's CPU per handshake and per HTTPS request.
        r["target_cpu_per_handshake_met"] = r["cpu_us_per_handshake"] is not None and r["cpu_us_per_handshake"] <= 1.10
        r["target_cpu_per_request_met"] = r["https_cpu_us_per_req"] is not None and r["https_cpu_us_per_req"] <= 1.10
        out["ratios"]["turnpike_vs_nginx"] = r
    return out


def headline(results, tls):
    """Cores needed per million requests per second = CPU us per request (us/req x 1e6 req/s / 1e6 us/s)."""
    h = {"cores_per_million_rps": {t: r["median"]["cpu_us_per_req"] for t, r in results.items()
                                   if r["median"].get("cpu_us_per_req") is not None},
         "definition": "median CPU us per request x 1e6 req/s / 1e6 us per core-second"}
    rate = {t: r["median"].get("rate_cpu_us_per_req") for t, r in results.items()
            if r["median"].get("rate_cpu_us_per_req") is not None}
    if rate:
        h["cores_per_million_rps_at_fixed_rate"] = rate
    if tls:
        h["cores_per_million_https_rps"] = {t: r["median"]["cpu_us_per_req"]
                                            for t, r in tls["https"]["results"].items()}
        # CPU us per handshake x 1e4 / 1e6 = cores for 10,000 full handshakes per second.
        h["cores_per_10k_handshakes_per_s"] = {
            t: round(r["median"]["cpu_us_per_handshake"] / 100.0, 4)
            for t, r in tls["handshake"]["results"].items() if r["median"]["cpu_us_per_handshake"] is not None}
    return h


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 4)


def pair_ratio(results, a, b):
    t, n = results[a], results[b]
    out = {k: ratio(t["median"][k], n["median"][k]) for k in RATIO_METRICS}
    n_by_round = {r["round"]: r for r in n["rounds"]}
    out["per_round"] = {
        k: [ratio(r[k], n_by_round[r["round"]][k]) for r in t["rounds"] if r["round"] in n_by_round]
        for k in RATIO_METRICS
    }
    # The median of the same-round ratios: robust to a burst of interference that hits one round's later targets
    # (on a shared machine the medians of the two targets can come from different rounds).
    out["per_round_median"] = {}
    for k, vs in out["per_round"].items():
        vs = sorted(v for v in vs if v is not None)
        out["per_round_median"][k] = vs[len(vs) // 2] if len(vs) % 2 else (
            (vs[len(vs) // 2 - 1] + vs[len(vs) // 2]) / 2 if vs else None)
    out["definition"] = (f"median({a}) / median({b}); per_round: same-round ratios; per_round_median: their"
                         " median")
    return out


def ratios(results):
    out = {}
    if "turnpike" in results and "nginx" in results:
        out["turnpike_vs_nginx"] = pair_ratio(results, "turnpike", "nginx")
    if "turnpike" in results and "haproxy" in results:
        out["turnpike_vs_haproxy"] = pair_ratio(results, "turnpike", "haproxy")
    if "turnpike_chain" in results and "nginx_chain" in results:
        r = pair_ratio(results, "turnpike_chain", "nginx_chain")
        r["target"] = " and ".join("%s <= %.2f" % kv for kv in CHAIN_TARGETS.items())
        r["target_met"] = all(r[k] is not None and r[k] <= v for k, v in CHAIN_TARGETS.items())
        out["turnpike_chain_vs_nginx_chain"] = r
    if "nginx_chain" in results and "nginx" in results:
        # What the chain costs nginx (same nginx layout without map, limit_req, stub_status).
        out["nginx_chain_vs_nginx"] = pair_ratio(results, "nginx_chain", "nginx")
    if "turnpike" not in results:
        return out
    # The plugin layer's cost: the same process, a route with plugins vs the plain route.
    for t in sorted(results):
        if not t.startswith("turnpike_"):
            continue
        r = pair_ratio(results, t, "turnpike")
        limit = PLUGIN_TARGETS.get(t)
        if limit is not None:
            r["target"] = "cpu_us_per_req <= %.2f" % limit
            r["target_met"] = r["cpu_us_per_req"] is not None and r["cpu_us_per_req"] <= limit
        out[t + "_vs_turnpike"] = r
    return out


def fmt(v, decimals):
    if v is None:
        return "-"
    return f"{v:,.{decimals}f}" if decimals == 0 else f"{v:.{decimals}f}"


def print_table(doc):
    p = doc["parameters"]
    print()
    print(f"Turnpike side-by-side bench  {doc['generated_at']}  git {doc['environment']['git_sha']}")
    print(f"rounds={p['rounds']} warmup={p['warmup_s']}s duration={p['duration_s']}s "
          f"conns={p['connections']} wrk_threads={p['wrk_threads']} body={p['body_bytes']}B"
          f"{' connection-per-request' if p.get('connection_close') else ''}  "
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
    rh = doc["ratios"].get("turnpike_vs_haproxy")
    if rh:
        parts = [f"{k}={fmt(rh[k], 2)}x" for k in RATIO_METRICS]
        print("turnpike/haproxy (median ratio; CPU and latency: lower is better): " + "  ".join(parts))
    rc = doc["ratios"].get("turnpike_chain_vs_nginx_chain")
    if rc:
        parts = [f"{k}={fmt(rc[k], 2)}x" for k in RATIO_METRICS]
        prm = rc["per_round_median"]
        print("turnpike_chain/nginx_chain (median ratio; CPU and latency: lower is better): " + "  ".join(parts)
              + f"  [same-round median: cpu {fmt(prm['cpu_us_per_req'], 2)}x, p99 {fmt(prm['p99_ms'], 2)}x]"
              + f"  target {rc['target']}: {'met' if rc['target_met'] else 'NOT met'}")
    for name in ("nginx_chain_vs_nginx", "turnpike_chain_vs_turnpike"):
        rn = doc["ratios"].get(name)
        if rn:
            print(name.replace("_vs_", "/") + " (median ratio, the chain's cost): "
                  + "  ".join(f"{k}={fmt(rn[k], 2)}x" for k in RATIO_METRICS))
    if "fixed_rate" in doc["parameters"]:
        print_rate_table(doc)
    if doc.get("tls"):
        print_tls_tables(doc)
    print_memory(doc)
    rj = doc["ratios"].get("turnpike_jvm_alt_vs_turnpike")
    if rj:
        print()
        print("JVM flags: turnpike (launcher) " + doc["parameters"].get("jvm_opts", ""))
        print("           turnpike_jvm_alt    " + doc["parameters"].get("alt_jvm_opts", ""))
        print("turnpike_jvm_alt/turnpike (median ratio): " + "  ".join(f"{k}={fmt(rj[k], 3)}x" for k in RATIO_METRICS))
    print_headline(doc)
    if any(r["flagged"] for r in doc["results"].values()):
        print("WARNING: at least one run had non-2xx responses or socket errors; its numbers are suspect.")
    if any(r["contended"] for r in doc["results"].values()):
        print(f"WARNING: other processes used more than {p['contended_pct']}% of a core during at least one "
              "measured run (others CPU %); the machine was shared, compare with care or rerun.")


def print_rows(headers, rows):
    widths = [max(len(r[i]) for r in rows + [headers]) for i in range(len(headers))]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def cells(res, metrics, rounds):
    row = []
    for key, _, dec in metrics:
        m, lo, hi = res["median"].get(key), res["min"].get(key), res["max"].get(key)
        cell = fmt(m, dec)
        if rounds > 1 and m is not None:
            cell += f" [{fmt(lo, dec)}-{fmt(hi, dec)}]"
        row.append(cell)
    return row


def ordered(names):
    return sorted(names, key=lambda n: TARGET_ORDER.index(n) if n in TARGET_ORDER else 99)


def print_rate_table(doc):
    p = doc["parameters"]
    fr = p["fixed_rate"]
    print()
    print(f"Fixed rate {fr['rate']:,} req/s over {p['connections']} connections, {fr['warmup_s']}s + "
          f"{p['duration_s']}s: latency from the intended send time (corrected for coordinated omission)")
    headers = ["target"] + [h for _, h, _ in RATE_METRICS] + ["errors"]
    rows = []
    for name in ordered(doc["results"]):
        res = doc["results"][name]
        if "fixed_rate_rounds" not in res:
            continue
        rs = res["fixed_rate_rounds"]
        flags = ("FLAGGED " if res["fixed_rate_flagged"] else "") + ("CONTENDED " if res["fixed_rate_contended"] else "") \
            + ("LAGGED " if res["fixed_rate_lagged"] else "")
        rows.append([name] + cells(res, RATE_METRICS, p["rounds"])
                    + [flags + f"non2xx={sum(r['non2xx'] for r in rs)} sock={sum(r['socket_errors'] for r in rs)} "
                               f"unfinished={sum(r['unfinished'] for r in rs)}"])
    print_rows(headers, rows)
    if any(r.get("fixed_rate_lagged") for r in doc["results"].values()):
        print(f"WARNING: LAGGED: the generator itself sent requests more than {SEND_LAG_WARN_MS} ms late (p99) on the "
              "load core: the corrected latencies include that delay; lower --rate or quiet the machine.")


def print_tls_tables(doc):
    p = doc["parameters"]
    tls = doc["tls"]
    print()
    neg = "; ".join(f"{t}: {v}" for t, v in tls["negotiated"].items())
    print(f"TLS ({tls['key']} certificate, same for both): {neg}")
    print(f"Full handshakes: {tls['handshake_clients']} x `openssl s_time -new` on the load core, "
          f"{p['duration_s']}s, no request, no resumption")
    headers = ["target"] + [h for _, h, _ in HANDSHAKE_METRICS] + ["errors"]
    rows = []
    for name in ordered(tls["handshake"]["results"]):
        res = tls["handshake"]["results"][name]
        rows.append([name] + cells(res, HANDSHAKE_METRICS, p["rounds"])
                    + [("FLAGGED " if res["flagged"] else "") + ("CONTENDED " if res["contended"] else "")
                       + f"failed_clients={sum(r['failed_clients'] for r in res['rounds'])}"])
    print_rows(headers, rows)
    print()
    print(f"HTTPS keep-alive: wrk -c{p['connections']} over TLS, {p['duration_s']}s")
    headers = ["target"] + [h for _, h, _ in HTTPS_TABLE_METRICS] + ["errors"]
    rows = []
    for name in ordered(tls["https"]["results"]):
        res = tls["https"]["results"][name]
        rows.append([name] + cells(res, HTTPS_TABLE_METRICS, p["rounds"])
                    + [("FLAGGED " if res["flagged"] else "") + ("CONTENDED " if res["contended"] else "")
                       + f"non2xx={res['non2xx_total']} sock={res['socket_errors_total']}"])
    print_rows(headers, rows)
    r = tls["ratios"].get("turnpike_vs_nginx")
    if r:
        yes = lambda b: "met" if b else "NOT met"
        print(f"turnpike/nginx TLS: CPU/handshake={fmt(r['cpu_us_per_handshake'], 2)}x "
              f"({yes(r['target_cpu_per_handshake_met'])}: target <= 1.10)  "
              f"HTTPS CPU/req={fmt(r['https_cpu_us_per_req'], 2)}x ({yes(r['target_cpu_per_request_met'])}: "
              f"target <= 1.10)  handshakes/s={fmt(r['handshakes_per_s'], 2)}x  HTTPS req/s={fmt(r['https_rps'], 2)}x  "
              f"HTTPS p99={fmt(r['https_p99_ms'], 2)}x")


def memory_section(path, routes):
    """results of mem_snapshot in bench.sh: per process target, VmRSS / VmHWM idle and at the end of its load."""
    if not path or not os.path.exists(path):
        return None
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            m = out.setdefault(r["target"], {"pid": r["pid"]})
            m[r["phase"] + "_rss_mib"] = round(r["vmrss_kb"] / 1024.0, 1)
            m[r["phase"] + "_hwm_mib"] = round(r["vmhwm_kb"] / 1024.0, 1)
    for t, m in out.items():
        m["routes"] = (routes + 1) if t == "turnpike_routes" else 1
    if not out:
        return None
    return {"unit": "MiB", "source": "/proc/PID/status VmRSS (resident now) and VmHWM (peak since start), summed "
            "over the process tree (nginx master + workers; shared pages counted twice)",
            "phases": {"idle": "after readiness and one check request, before any load",
                       "end_of_load": "right after the target's last measured run (warm-ups included before it)"},
            "results": out}


MEMORY_COLUMNS = [("routes", "routes", 0), ("idle_rss_mib", "idle RSS", 1), ("idle_hwm_mib", "idle HWM", 1),
                  ("end_of_load_rss_mib", "end-of-load RSS", 1), ("end_of_load_hwm_mib", "end-of-load HWM", 1)]


def memory_rows(mem):
    rows = []
    for t in ordered(mem["results"]):
        m = mem["results"][t]
        rows.append([t] + [fmt(m.get(k), d) for k, _, d in MEMORY_COLUMNS])
    return rows


def print_memory(doc):
    mem = doc.get("memory")
    if not mem:
        return
    print()
    print("resident memory, MiB (VmRSS now / VmHWM peak, /proc/PID/status)")
    print_rows(["process"] + [h for _, h, _ in MEMORY_COLUMNS], memory_rows(mem))


def memory_markdown(doc):
    mem = doc.get("memory")
    if not mem:
        return ""
    lines = ["", "## Resident memory", "",
             "MiB, from `/proc/PID/status`: VmRSS (resident now) and VmHWM (peak since start); idle = ready, before "
             "any load; end of load = right after the target's last measured run. nginx: master + worker summed.", "",
             "| process | " + " | ".join(h for _, h, _ in MEMORY_COLUMNS) + " |",
             "|---|" + "---:|" * len(MEMORY_COLUMNS)]
    for row in memory_rows(mem):
        lines.append("| " + " | ".join(row) + " |")
    p = doc["parameters"]
    lines += ["", f"Turnpike JVM flags (launcher `{p.get('launcher', '')}`): `{p.get('jvm_opts', '')}`"]
    if p.get("turnpike_transport"):
        lines += ["", f"Turnpike transport (the `turnpike` target's /status): {p['turnpike_transport']}"]
    if p.get("alt_jvm_opts"):
        lines.append(f"turnpike_jvm_alt JVM flags: `{p['alt_jvm_opts']}`")
    r = doc["ratios"].get("turnpike_jvm_alt_vs_turnpike")
    if r:
        lines.append(f"turnpike_jvm_alt / turnpike (median): CPU us/req {fmt(r['cpu_us_per_req'], 3)}x, "
                     f"p99 {fmt(r['p99_ms'], 3)}x, req/s {fmt(r['rps'], 3)}x")
    return "\n".join(lines) + "\n"


def print_headline(doc):
    h = doc["headline"]
    c = h["cores_per_million_rps"]
    names = [t for t in ("turnpike", "nginx") if t in c]
    if names:
        print()
        print("cores per 1M req/s: " + ", ".join(f"{t} {fmt(c[t], 2)}" for t in names))
    for key, label in (("cores_per_million_rps_at_fixed_rate", "cores per 1M req/s (from the fixed-rate run)"),
                       ("cores_per_million_https_rps", "cores per 1M HTTPS keep-alive req/s"),
                       ("cores_per_10k_handshakes_per_s", "cores per 10k full TLS handshakes/s")):
        v = h.get(key)
        if v:
            print(f"{label}: " + ", ".join(f"{t} {fmt(v[t], 2)}" for t in ("turnpike", "nginx") if t in v))


def main(argv):
    if len(argv) == 3 and argv[1] == "--memory-markdown":
        with open(argv[2], encoding="utf-8") as f:
            sys.stdout.write(memory_markdown(json.load(f)))
        return 0
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
    rate_path = env("RATE_RECORDS")
    rate_rounds = {}
    if int(env("RATE", "0") or 0) > 0 and rate_path and os.path.exists(rate_path):
        with open(rate_path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    raw = json.loads(line)
                    rate_rounds.setdefault(raw["target"], []).append(derive_rate(raw))
        merge_rate(results, rate_rounds, threshold)
    tls = tls_section(env("TLS_RECORDS"), threshold) if env("TLS") == "1" else None
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
            "connection_close": env("CLOSE", "0") == "1",
            "quick": env("QUICK") == "1",
            "targets": env("TARGETS").split(),
            "cores": {"load": env("CORE_LOAD"), "backend": env("CORE_LOAD"), "proxy": env("CORE_PROXY")},
            "clk_tck": int(env("CLK_TCK")),
            "contended_pct": threshold,
            "jvm_opts": env("JVM_OPTS"),
            "turnpike_jar": env("TURNPIKE_JAR"),
            "turnpike_transport": env("TURNPIKE_TRANSPORT", ""),
            "wrk_command": env("WRK_COMMAND"),
            "launcher": env("LAUNCHER"),
            "alt_jvm_opts": env("ALT_JVM_OPTS"),
            "routes": int(env("ROUTES", "0") or 0),
            "routes_url_path": env("ROUTES_URL_PATH"),
        },
        "processes": json.loads(env("PROCESSES_JSON", "{}")),
        "skipped": skipped,
        "results": results,
        "ratios": ratios(results),
        "headline": headline(results, tls),
    }
    if env("CHAIN_JSON", ""):
        doc["parameters"]["chain"] = json.loads(env("CHAIN_JSON"))
    if rate_rounds:
        doc["parameters"]["fixed_rate"] = {"rate": int(env("RATE")), "warmup_s": int(env("RATE_WARMUP")),
                                           "command": env("RATE_COMMAND"),
                                           "send_lag_warn_ms": SEND_LAG_WARN_MS}
        rt = doc["ratios"].get("turnpike_vs_nginx")
        if rt is not None:
            for k in ("rate_cpu_us_per_req", "rate_p50_ms", "rate_p99_ms", "rate_p999_ms"):
                rt[k] = ratio(results["turnpike"]["median"].get(k), results["nginx"]["median"].get(k))
    if tls:
        doc["tls"] = tls
    mem = memory_section(env("MEMORY_RECORDS"), int(env("ROUTES", "0") or 0))
    if mem:
        doc["memory"] = mem
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, out_path)
    print_table(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
