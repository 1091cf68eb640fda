package io.turnpike.perf.gate;

import io.turnpike.perf.gate.Finding.Verdict;
import io.turnpike.perf.model.JmhResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Compares the snapshot of a run with a baseline snapshot.
 *
 * <p>Rules (see docs/perf-reports.md):
 * <ul>
 *   <li><b>Allocation</b> ({@code gc.alloc.rate.norm}, B/op) is deterministic for a given code path and gates
 *       exactly: the run fails when it allocates more than baseline + ε, where ε = max(1 B/op, JMH's own
 *       per-iteration allocation spread over the iteration's ops) ({@link #allocEpsilon}). Yardstick
 *       benchmarks (Netty's decoder, a HashMap) measure third-party code: their allocation is reported only.</li>
 *   <li><b>Time</b> of a JMH benchmark with a yardstick in the same class and run gates on score / yardstick
 *       score: fails when that ratio grew by more than {@code timeThreshold}. Without a yardstick, the raw
 *       time gates on the wide band. A yardstick's own time is reported only (it is the machine's speed).</li>
 *   <li><b>Side by side</b>: Turnpike / nginx CPU µs per request (same run) gates on {@code timeThreshold};
 *       the Turnpike / nginx p99 ratio on {@code latencyThreshold}; Turnpike's raw CPU µs per request on the
 *       wide band; Turnpike errors (non-2xx, socket) fail when the baseline had none.</li>
 *   <li>A baseline benchmark absent from the run is a warning ({@code strict}: a regression); a run
 *       benchmark absent from the baseline is listed, not gated.</li>
 * </ul>
 */
public final class Gate {

    /**
     * JMH's own allocation on the benchmark thread per measurement iteration (iteration bookkeeping,
     * result objects): about 28–38 KB measured in this repository's runs (e.g. 3.0 B/op × 12.5 k ops in a 1 s
     * iteration of an 80 µs benchmark); twice that for headroom.
     */
    public static final double JMH_ITERATION_OVERHEAD_BYTES = 64 * 1024;

    private final GateOptions options;

    public Gate(GateOptions options) {
        this.options = options;
    }

    /**
     * The allocation tolerance of one result, in B/op: {@code max(floor, 64 KiB / ops per iteration)}.
     * {@code gc.alloc.rate.norm} divides all bytes the benchmark thread allocated in an iteration by the ops
     * of that iteration, so JMH's fixed per-iteration allocation shows up as a fraction of a byte for a
     * nanosecond benchmark (0.002–0.04 B/op here) and as whole bytes for a slow one. The floor of 1 B/op
     * absorbs that rounding while no real per-op allocation can hide under it: the smallest Java object is
     * 16 B, so one extra object every 16 ops already exceeds it.
     */
    public static double allocEpsilon(JmhResult r, double floor) {
        Double perOp = r.secondsPerOp();
        Double iteration = r.measurementTimeS();
        if (perOp == null || iteration == null || perOp <= 0 || iteration <= 0) {
            return floor;
        }
        double opsPerIteration = iteration / perOp;
        return Math.max(floor, JMH_ITERATION_OVERHEAD_BYTES / opsPerIteration);
    }

    /** Every check, in baseline order, then benchmarks new in the run. */
    public List<Finding> compare(Snapshot baseline, Snapshot run) {
        List<Finding> out = new ArrayList<>();
        for (JmhPoint b : baseline.jmh().values()) {
            JmhPoint r = run.jmh().get(b.key());
            if (r == null) {
                out.add(new Finding(options.strict() ? Verdict.REGRESSION : Verdict.WARNING, "missing", b.suite(),
                        b.key(), null, null, null, b.key() + ": in the baseline, not in the run"
                        + (options.strict() ? " (--strict)" : "")));
                continue;
            }
            if (options.checkAlloc()) {
                alloc(out, b, r);
            }
            if (options.checkTime()) {
                time(out, baseline, run, b, r);
            }
        }
        for (JmhPoint r : run.jmh().values()) {
            if (!baseline.jmh().containsKey(r.key())) {
                out.add(new Finding(Verdict.INFO, "new", r.suite(), r.key(), null, null, null,
                        r.key() + ": not in the baseline, not gated (bless to add it)"));
            }
        }
        bench(out, baseline.bench(), run.bench());
        return out;
    }

    private void alloc(List<Finding> out, JmhPoint b, JmhPoint r) {
        if (b.alloc() == null || r.alloc() == null) {
            out.add(new Finding(Verdict.WARNING, "alloc", b.suite(), b.key(), b.alloc(), r.alloc(), null,
                    b.key() + ": no gc.alloc.rate.norm in the " + (r.alloc() == null ? "run" : "baseline")
                            + " (run JMH with -prof gc)"));
            return;
        }
        double eps = Math.max(b.allocEpsilon(), r.allocEpsilon());
        double limit = b.alloc() + eps;
        String nums = bytes(r.alloc()) + " B/op, baseline " + bytes(b.alloc()) + " B/op";
        if (b.isReference()) {
            out.add(new Finding(Verdict.INFO, "alloc", b.suite(), b.key(), b.alloc(), r.alloc(), null,
                    b.key() + ": " + nums + " (yardstick of third-party code: not gated)"));
        } else if (r.alloc() > limit) {
            out.add(new Finding(Verdict.REGRESSION, "alloc", b.suite(), b.key(), b.alloc(), r.alloc(), limit,
                    b.key() + ": allocates " + nums + " (+" + bytes(r.alloc() - b.alloc()) + " B/op; limit "
                            + bytes(limit) + " B/op = baseline + " + bytes(eps) + " B/op epsilon)"));
        } else if (r.alloc() < b.alloc() - eps) {
            out.add(new Finding(Verdict.IMPROVED, "alloc", b.suite(), b.key(), b.alloc(), r.alloc(), limit,
                    b.key() + ": allocates " + nums + " (less: bless to lock it in)"));
        } else {
            out.add(new Finding(Verdict.OK, "alloc", b.suite(), b.key(), b.alloc(), r.alloc(), limit,
                    b.key() + ": " + nums + " (limit " + bytes(limit) + ")"));
        }
    }

    private void time(List<Finding> out, Snapshot baseline, Snapshot run, JmhPoint b, JmhPoint r) {
        if (b.isReference()) {
            // A yardstick times third-party code: its time says how fast the machine was, which is what the ratios
            // of our benchmarks divide out. Gating it failed CI on a slow machine (Netty's decoder 2.3x its quiet
            // time after the test suite) with no change of ours; reported, like its allocation.
            out.add(new Finding(Verdict.INFO, "time", b.suite(), b.key(), b.cost() * 1e9, r.cost() * 1e9, null,
                    b.key() + ": time " + score(r) + ", baseline " + score(b)
                            + " (yardstick of third-party code: the machine's speed, not gated)"));
            return;
        }
        JmhPoint bRef = b.reference() == null ? null : baseline.jmh().get(b.reference());
        JmhPoint rRef = b.reference() == null ? null : run.jmh().get(b.reference());
        if (bRef != null && rRef != null) {
            double bn = b.cost() / bRef.cost();
            double rn = r.cost() / rRef.cost();
            String refName = b.reference().substring(b.reference().indexOf('.') + 1);
            String detail = "time / " + refName + " = " + ratio(rn) + " (" + score(r) + " / " + score(rRef)
                    + "), baseline " + ratio(bn) + " (" + score(b) + " / " + score(bRef) + ")";
            out.add(timeFinding("time", b, bn, rn, options.timeThreshold(), detail));
        } else {
            String why = b.reference() != null ? " (yardstick " + b.reference() + " missing from the run)" : "";
            String detail = "time " + score(r) + ", baseline " + score(b) + why;
            // Compared in ns per op (throughput inverted), so the report's numbers are readable.
            out.add(timeFinding("time (wide band)", b, b.cost() * 1e9, r.cost() * 1e9, options.wideBand(), detail));
        }
    }

    private static Finding timeFinding(String check, JmhPoint b, double base, double run, double threshold,
                                       String detail) {
        return change(check, b.suite(), b.key(), base, run, threshold, detail);
    }

    /** A lower-is-better value against its baseline with a relative threshold. */
    private static Finding change(String check, String suite, String key, double base, double run, double threshold,
                                  String detail) {
        double limit = base * (1 + threshold);
        double rel = base == 0 ? 0 : run / base - 1;
        String tail = ": " + detail + ": " + pct(rel) + ", threshold +" + pctAbs(threshold);
        if (run > limit) {
            return new Finding(Verdict.REGRESSION, check, suite, key, base, run, limit, key + tail);
        }
        Verdict v = run < base / (1 + threshold) ? Verdict.IMPROVED : Verdict.OK;
        return new Finding(v, check, suite, key, base, run, limit, key + tail);
    }

    private void bench(List<Finding> out, BenchPoint b, BenchPoint r) {
        if (b == null) {
            if (r != null) {
                out.add(new Finding(Verdict.INFO, "new", "bench", "side-by-side", null, null, null,
                        "side-by-side: not in the baseline, not gated (bless to add it)"));
            }
            return;
        }
        if (r == null) {
            out.add(new Finding(options.strict() ? Verdict.REGRESSION : Verdict.WARNING, "missing", "bench",
                    "side-by-side", null, null, null, "side-by-side: in the baseline, no bench file in the run"
                    + (options.strict() ? " (--strict)" : "")));
            return;
        }
        if (options.checkTime()) {
            List<Finding> times = new ArrayList<>();
            benchTimes(times, b, r);
            for (Finding f : times) {
                if (r.contended() && f.verdict() == Verdict.REGRESSION) {
                    // bench.sh measured other processes' CPU (not ours) above its threshold: the machine was
                    // shared, so a slower figure says nothing about Turnpike. Reported, not gated.
                    f = new Finding(Verdict.WARNING, f.check(), f.suite(), f.key(), f.baseline(), f.run(), f.limit(),
                            f.message() + " [run CONTENDED: not gated, rerun on a quiet machine]");
                }
                out.add(f);
            }
            if (r.contended()) {
                out.add(new Finding(Verdict.WARNING, "noise", "bench", "side-by-side", null, null, null,
                        "side-by-side: other processes used CPU during a measured round (CONTENDED): its time checks"
                                + " cannot fail the gate"));
            }
        }
        if (b.turnpikeErrors() == 0 && r.turnpikeErrors() > 0) {
            out.add(new Finding(Verdict.REGRESSION, "errors", "bench", "turnpike errors", 0.0,
                    (double) r.turnpikeErrors(), 0.0, "turnpike errors: " + r.turnpikeErrors()
                    + " non-2xx responses or socket errors, baseline 0"));
        }
    }

    private void benchTimes(List<Finding> out, BenchPoint b, BenchPoint r) {
        {
            if (b.cpuRatio() != null && r.cpuRatio() != null) {
                out.add(change("cpu/req ratio", "bench", "turnpike/nginx CPU µs per request", b.cpuRatio(),
                        r.cpuRatio(), options.timeThreshold(), ratio(r.cpuRatio()) + " (" + num(r.turnpikeCpuUs())
                                + " / " + num(r.nginxCpuUs()) + " µs), baseline " + ratio(b.cpuRatio()) + " ("
                                + num(b.turnpikeCpuUs()) + " / " + num(b.nginxCpuUs()) + " µs)"));
            } else {
                out.add(new Finding(Verdict.WARNING, "missing", "bench", "turnpike/nginx CPU µs per request", null,
                        null, null, "turnpike/nginx CPU µs per request: needs both targets in the run and the baseline"));
            }
            if (b.p99Ratio() != null && r.p99Ratio() != null) {
                out.add(change("p99 ratio", "bench", "turnpike/nginx p99", b.p99Ratio(), r.p99Ratio(),
                        options.latencyThreshold(), ratio(r.p99Ratio()) + " (" + num(r.turnpikeP99Ms()) + " / "
                                + num(r.nginxP99Ms()) + " ms), baseline " + ratio(b.p99Ratio()) + " ("
                                + num(b.turnpikeP99Ms()) + " / " + num(b.nginxP99Ms()) + " ms)"));
            }
            if (b.turnpikeCpuUs() != null && r.turnpikeCpuUs() != null) {
                out.add(change("time (wide band)", "bench", "turnpike CPU µs per request", b.turnpikeCpuUs(),
                        r.turnpikeCpuUs(), options.wideBand(), num(r.turnpikeCpuUs()) + " µs, baseline "
                                + num(b.turnpikeCpuUs()) + " µs"));
            }
        }
    }

    /** Whether the findings fail the gate. */
    public static boolean failed(List<Finding> findings) {
        return findings.stream().anyMatch(f -> f.verdict() == Verdict.REGRESSION);
    }

    /** Count of findings with this verdict. */
    public static long count(List<Finding> findings, Verdict v) {
        return findings.stream().filter(f -> f.verdict() == v).count();
    }

    static String bytes(double v) {
        return String.format(Locale.ROOT, "%,.2f", v);
    }

    static String ratio(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    static String pct(double rel) {
        return String.format(Locale.ROOT, "%+.1f %%", rel * 100);
    }

    static String pctAbs(double rel) {
        return String.format(Locale.ROOT, "%.0f %%", rel * 100);
    }

    static String num(Double v) {
        if (v == null) {
            return "?";
        }
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 1000 ? "%,.0f" : a >= 100 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f", v);
    }

    static String score(JmhPoint p) {
        return num(p.score()) + " " + p.unit();
    }

    /** Findings grouped for display: {@code suite -> findings}. */
    public static Map<String, List<Finding>> bySuite(List<Finding> findings) {
        Map<String, List<Finding>> m = new java.util.LinkedHashMap<>();
        for (Finding f : findings) {
            m.computeIfAbsent(f.suite(), k -> new ArrayList<>()).add(f);
        }
        return m;
    }
}
