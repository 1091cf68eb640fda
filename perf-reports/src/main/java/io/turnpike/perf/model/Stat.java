package io.turnpike.perf.model;

/** One metric over the rounds of a run: median and range. */
public record Stat(double median, double min, double max) {

    public Stat {
        if (!(min <= median && median <= max)) {
            throw new IllegalArgumentException("expected min <= median <= max, got " + min + ", " + median + ", " + max);
        }
    }

    /** Whether the rounds disagreed at all. */
    public boolean hasRange() {
        return min != max;
    }
}
