package io.turnpike.perf.model;

import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One JMH benchmark result (one method, one parameter combination) as {@code scripts/jmh.sh} writes it
 * with {@code -rf json -prof gc}.
 *
 * @param benchmark          fully qualified {@code package.Class.method}
 * @param mode               JMH mode: {@code avgt}, {@code thrpt}, {@code sample}, {@code ss}
 * @param params             {@code @Param} values, sorted by name
 * @param score              primary metric score
 * @param scoreError         99.9 % half-width, or {@code null} when JMH reports none (one iteration: NaN)
 * @param unit               primary metric unit ({@code ns/op}, {@code ops/s}, ...)
 * @param allocBytesPerOp    {@code gc.alloc.rate.norm} in B/op, or {@code null} without {@code -prof gc}
 * @param measurementTimeS   seconds per measurement iteration, or {@code null} when not parseable
 * @param iterations         measurement iterations per fork
 * @param forks              forks
 * @param jdk                JDK version of the forked JVM
 */
public record JmhResult(String benchmark, String mode, Map<String, String> params, double score, Double scoreError,
                        String unit, Double allocBytesPerOp, Double measurementTimeS, int iterations, int forks,
                        String jdk) {

    public JmhResult {
        params = Collections.unmodifiableMap(new TreeMap<>(params));
    }

    /** Simple class name ({@code RouterMatchBenchmark}). */
    public String className() {
        String[] parts = benchmark.split("\\.");
        return parts.length >= 2 ? parts[parts.length - 2] : benchmark;
    }

    /** Method name ({@code exactHit}). */
    public String method() {
        int dot = benchmark.lastIndexOf('.');
        return dot < 0 ? benchmark : benchmark.substring(dot + 1);
    }

    /** Stable identity across runs: {@code Class.method[name=value,...]}. */
    public String key() {
        return key(className(), method(), params);
    }

    public static String key(String className, String method, Map<String, String> params) {
        StringBuilder sb = new StringBuilder(className).append('.').append(method);
        if (!params.isEmpty()) {
            sb.append('[');
            boolean first = true;
            for (Map.Entry<String, String> e : new TreeMap<>(params).entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                sb.append(e.getKey()).append('=').append(e.getValue());
            }
            sb.append(']');
        }
        return sb.toString();
    }

    /** Whether a higher score is better (throughput modes). */
    public boolean higherIsBetter() {
        return isThroughputUnit(unit);
    }

    static boolean isThroughputUnit(String unit) {
        return unit.toLowerCase(Locale.ROOT).startsWith("ops/");
    }

    /**
     * Seconds per operation, derived from the score and its unit, or {@code null} for an unknown unit.
     * Throughput ({@code ops/s}) is inverted, so lower is always better.
     */
    public Double secondsPerOp() {
        return secondsPerOp(score, unit);
    }

    public static Double secondsPerOp(double score, String unit) {
        String u = unit.toLowerCase(Locale.ROOT).trim();
        if (u.startsWith("ops/")) {
            Double per = timeUnitSeconds(u.substring(4));
            return per == null || score <= 0 ? null : per / score;
        }
        if (u.endsWith("/op")) {
            Double per = timeUnitSeconds(u.substring(0, u.length() - 3));
            return per == null ? null : score * per;
        }
        return null;
    }

    /** Seconds in one {@code ns}, {@code us}, {@code ms}, {@code s}, {@code min}; {@code null} otherwise. */
    public static Double timeUnitSeconds(String u) {
        switch (u.trim()) {
            case "ns": return 1e-9;
            case "us": case "µs": return 1e-6;
            case "ms": return 1e-3;
            case "s": return 1.0;
            case "min": return 60.0;
            default: return null;
        }
    }
}
