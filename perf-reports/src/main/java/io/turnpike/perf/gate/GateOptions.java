package io.turnpike.perf.gate;

/**
 * Thresholds of {@link Gate}.
 *
 * @param timeThreshold      allowed relative slow-down of a time normalised by a reference measured in the same
 *                           run (JMH score / yardstick score, Turnpike / nginx CPU per request); 0.25 = +25 %
 * @param wideBand           allowed relative slow-down of a raw time with no reference in the run; 1.0 = 2×
 * @param latencyThreshold   allowed relative growth of the Turnpike / nginx p99 ratio; 2.0 = 3×
 * @param allocEpsilonFloor  smallest allocation tolerance in B/op (JMH rounding); see {@link Gate#allocEpsilon}
 * @param strict             whether a benchmark of the baseline missing from the run fails the gate
 * @param checkAlloc         whether allocation rules run
 * @param checkTime          whether time rules run
 */
public record GateOptions(double timeThreshold, double wideBand, double latencyThreshold, double allocEpsilonFloor,
                          boolean strict, boolean checkAlloc, boolean checkTime) {

    public static final double DEFAULT_TIME_THRESHOLD = 0.25;
    public static final double DEFAULT_WIDE_BAND = 1.0;
    public static final double DEFAULT_LATENCY_THRESHOLD = 2.0;
    public static final double DEFAULT_ALLOC_EPSILON = 1.0;

    public static GateOptions defaults() {
        return new GateOptions(DEFAULT_TIME_THRESHOLD, DEFAULT_WIDE_BAND, DEFAULT_LATENCY_THRESHOLD,
                DEFAULT_ALLOC_EPSILON, false, true, true);
    }

    public GateOptions {
        if (!(timeThreshold >= 0) || !(wideBand >= 0) || !(latencyThreshold >= 0) || !(allocEpsilonFloor >= 0)) {
            throw new IllegalArgumentException("thresholds must be non-negative numbers");
        }
    }
}
