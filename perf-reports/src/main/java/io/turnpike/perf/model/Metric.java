package io.turnpike.perf.model;

/**
 * A per-target measurement of the side-by-side bench, with its JSON key in {@code scripts/bench.sh}
 * output, its display label and unit.
 */
public enum Metric {
    RPS("rps", "req/s", 0, true, Direction.HIGHER_IS_BETTER),
    P50_MS("p50_ms", "p50 ms", 3, true, Direction.LOWER_IS_BETTER),
    P90_MS("p90_ms", "p90 ms", 3, false, Direction.LOWER_IS_BETTER),
    P99_MS("p99_ms", "p99 ms", 3, true, Direction.LOWER_IS_BETTER),
    P999_MS("p999_ms", "p99.9 ms", 3, false, Direction.LOWER_IS_BETTER),
    CPU_US_PER_REQ("cpu_us_per_req", "CPU µs/req", 2, true, Direction.LOWER_IS_BETTER),
    CPU_UTIL_PCT("cpu_util_pct", "CPU %", 1, false, Direction.LOWER_IS_BETTER),
    RSS_PEAK_MIB("rss_peak_mib", "peak RSS MiB", 1, false, Direction.LOWER_IS_BETTER),
    /** CPU of processes outside the bench during the measured window, % of one core: noise, not a result. */
    OTHER_CPU_PCT("other_cpu_pct", "others CPU %", 1, false, Direction.LOWER_IS_BETTER);

    /** Which way is better, for readers of a ratio. */
    public enum Direction { HIGHER_IS_BETTER, LOWER_IS_BETTER }

    private final String key;
    private final String label;
    private final int decimals;
    private final boolean required;
    private final Direction direction;

    Metric(String key, String label, int decimals, boolean required, Direction direction) {
        this.key = key;
        this.label = label;
        this.decimals = decimals;
        this.required = required;
        this.direction = direction;
    }

    /** The field name in the bench JSON ({@code median}, {@code min}, {@code max}, {@code ratios}). */
    public String key() {
        return key;
    }

    public String label() {
        return label;
    }

    /** Decimals shown in reports. */
    public int decimals() {
        return decimals;
    }

    /** Whether a bench file without this metric is malformed (the others are shown when present). */
    public boolean required() {
        return required;
    }

    public Direction direction() {
        return direction;
    }

    /** The metric with this JSON key, or {@code null}. */
    public static Metric byKey(String key) {
        for (Metric m : values()) {
            if (m.key.equals(key)) {
                return m;
            }
        }
        return null;
    }
}
