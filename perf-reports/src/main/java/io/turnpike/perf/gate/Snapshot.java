package io.turnpike.perf.gate;

import io.turnpike.perf.model.JmhResult;
import io.turnpike.perf.model.JmhRun;
import io.turnpike.perf.model.Metric;
import io.turnpike.perf.model.Report;
import io.turnpike.perf.model.SideBySideRun;
import io.turnpike.perf.model.Stat;
import io.turnpike.perf.model.TargetResult;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The gate's view of a set of result files (one CI run) or of a baseline: JMH points by key and the
 * side-by-side figures. A baseline file is a snapshot plus where and when it was blessed, so
 * {@code bless} followed by {@code compare} of the same files compares a snapshot with itself.
 *
 * @param jmh   JMH points by key, in input order
 * @param bench side-by-side figures, or {@code null} when the run had no bench file
 */
public record Snapshot(Map<String, JmhPoint> jmh, BenchPoint bench) {

    /**
     * Methods that are yardsticks for the other methods of their class with the same parameters: Netty's
     * decoders for our parsers, a {@code String}-keyed {@code HashMap} for the router. A benchmark with a
     * yardstick gates on its time <em>divided by</em> the yardstick's time measured in the same run, which
     * cancels machine speed, CPU frequency and most of a shared machine's background load.
     */
    public static final Set<String> REFERENCE_METHODS = Set.of("nettyDecoder", "stringHashMapExact");

    public Snapshot {
        jmh = Collections.unmodifiableMap(new LinkedHashMap<>(jmh));
    }

    /** Builds the snapshot of a run; a later file's benchmark replaces an earlier one with the same key. */
    public static Snapshot of(Report report, double allocEpsilonFloor) {
        Map<String, JmhResult> byKey = new LinkedHashMap<>();
        for (JmhRun run : report.jmh()) {
            for (JmhResult r : run.results()) {
                byKey.remove(r.key());
                byKey.put(r.key(), r);
            }
        }
        Map<String, JmhPoint> points = new LinkedHashMap<>();
        for (JmhResult r : byKey.values()) {
            boolean isRef = REFERENCE_METHODS.contains(r.method());
            String ref = null;
            if (!isRef) {
                for (String m : REFERENCE_METHODS) {
                    String k = JmhResult.key(r.className(), m, r.params());
                    if (byKey.containsKey(k)) {
                        ref = k;
                        break;
                    }
                }
            }
            points.put(r.key(), new JmhPoint(r.key(), r.mode(), r.unit(), r.score(), r.scoreError(),
                    r.allocBytesPerOp(), Gate.allocEpsilon(r, allocEpsilonFloor), ref, isRef));
        }
        return new Snapshot(points, bench(report.sideBySide()));
    }

    private static BenchPoint bench(List<SideBySideRun> runs) {
        if (runs.isEmpty()) {
            return null;
        }
        long errors = 0;
        boolean contended = false;
        for (SideBySideRun run : runs) {
            TargetResult t = run.target(SideBySideRun.TURNPIKE);
            if (t != null) {
                errors += t.non2xx() + t.socketErrors();
            }
            contended |= run.contended();
        }
        return new BenchPoint(
                median(runs, r -> r.ratios().get(Metric.CPU_US_PER_REQ)),
                median(runs, r -> r.ratios().get(Metric.P99_MS)),
                median(runs, r -> med(r, SideBySideRun.TURNPIKE, Metric.CPU_US_PER_REQ)),
                median(runs, r -> med(r, SideBySideRun.TURNPIKE, Metric.P99_MS)),
                median(runs, r -> med(r, SideBySideRun.TURNPIKE, Metric.RPS)),
                median(runs, r -> med(r, SideBySideRun.NGINX, Metric.CPU_US_PER_REQ)),
                median(runs, r -> med(r, SideBySideRun.NGINX, Metric.P99_MS)),
                errors, contended);
    }

    private static Double med(SideBySideRun run, String target, Metric m) {
        TargetResult t = run.target(target);
        Stat s = t == null ? null : t.stat(m);
        return s == null ? null : s.median();
    }

    private static Double median(List<SideBySideRun> runs, Function<SideBySideRun, Double> f) {
        List<Double> v = new ArrayList<>();
        for (SideBySideRun r : runs) {
            Double d = f.apply(r);
            if (d != null) {
                v.add(d);
            }
        }
        if (v.isEmpty()) {
            return null;
        }
        Collections.sort(v);
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }
}
