package io.turnpike.perf.gate;

import io.turnpike.perf.model.JmhResult;

/**
 * What the gate keeps of one JMH benchmark: in a baseline file and in the snapshot of a run.
 *
 * @param key          {@code Class.method[param=value,...]}
 * @param mode         JMH mode
 * @param unit         score unit
 * @param score        primary score
 * @param scoreError   99.9 % half-width, or {@code null}
 * @param alloc        {@code gc.alloc.rate.norm} in B/op, or {@code null}
 * @param allocEpsilon the allocation tolerance of this benchmark in B/op (see {@link Gate#allocEpsilon})
 * @param reference    key of the benchmark in the same run this one is normalised by, or {@code null}
 * @param isReference  whether this benchmark is itself a yardstick (third-party code: Netty's decoder, a
 *                     {@code HashMap}); its allocation is reported, not gated
 */
public record JmhPoint(String key, String mode, String unit, double score, Double scoreError, Double alloc,
                       double allocEpsilon, String reference, boolean isReference) {

    /** The suite (JMH class) of a key. */
    public String suite() {
        int dot = key.indexOf('.');
        return dot < 0 ? key : key.substring(0, dot);
    }

    /** Time per op in seconds (throughput inverted): lower is better. */
    public double cost() {
        Double s = JmhResult.secondsPerOp(score, unit);
        if (s != null) {
            return s;
        }
        return unit.toLowerCase(java.util.Locale.ROOT).startsWith("ops/") ? 1.0 / score : score;
    }
}
