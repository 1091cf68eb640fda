package io.turnpike.perf.model;

/** One metric over the rounds of a run: median and range. */
public record Stat(double median, double min, double max) {

    public Stat {
        if (!(min <= median && median <= max)) {
            throw new IllegalArgumentException("expected min <= median <= max, got " + min + ", " + median + ", " + max);
        }
    }

    /** Median (the mean of the middle two for an even count, as bench.sh's) and range of {@code values}, not empty. */
    public static Stat of(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no values");
        }
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        int n = v.length;
        double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        return new Stat(median, v[0], v[n - 1]);
    }

    /** Whether the rounds disagreed at all. */
    public boolean hasRange() {
        return min != max;
    }
}
