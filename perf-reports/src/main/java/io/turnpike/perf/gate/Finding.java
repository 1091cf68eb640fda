package io.turnpike.perf.gate;

/**
 * One line of a comparison.
 *
 * @param verdict  what it means for the gate
 * @param check    which rule: {@code alloc}, {@code time}, {@code time (wide band)}, {@code cpu/req ratio},
 *                 {@code p99 ratio}, {@code errors}, {@code missing}, {@code new}
 * @param suite    JMH class, or {@code bench}
 * @param key      the benchmark or figure
 * @param baseline the baseline value the rule compares (normalised where the rule normalises), or {@code null}
 * @param run      the run's value, same form, or {@code null}
 * @param limit    the largest run value that passes, or {@code null}
 * @param message  the human-readable line: names the benchmark, both numbers and the threshold
 */
public record Finding(Verdict verdict, String check, String suite, String key, Double baseline, Double run,
                      Double limit, String message) {

    /** Outcome of one check. */
    public enum Verdict {
        /** Fails the gate. */
        REGRESSION,
        /** Does not fail the gate unless {@code --strict} (missing benchmarks) or never (noise notes). */
        WARNING,
        /** Passed and better than the baseline by more than the threshold: consider blessing. */
        IMPROVED,
        /** Passed. */
        OK,
        /** Not gated (yardsticks' allocation, benchmarks new since the baseline). */
        INFO
    }

    /** run / baseline, or {@code null}. */
    public Double ratio() {
        return baseline == null || run == null || baseline == 0 ? null : run / baseline;
    }
}
