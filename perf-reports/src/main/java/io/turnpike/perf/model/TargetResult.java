package io.turnpike.perf.model;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The measurements of one target (backend alone, nginx proxy, Turnpike) in one side-by-side run.
 *
 * @param name         target name as the bench names it ({@code backend}, {@code nginx}, {@code turnpike})
 * @param rounds       how many measured rounds the stats summarize
 * @param stats        per-metric median and range; only metrics present in the input
 * @param non2xx       responses with a status of 400 or above, over all rounds
 * @param socketErrors connect, read, write and timeout errors, over all rounds
 * @param flagged      whether any round had errors (its numbers are suspect)
 * @param contended    whether other processes on the machine used noticeable CPU during a round
 * @param fixedRate    its fixed-rate runs ({@code --rate}), or {@code null} when the run had none
 */
public record TargetResult(String name, int rounds, Map<Metric, Stat> stats, long non2xx, long socketErrors,
                           boolean flagged, boolean contended, FixedRateResult fixedRate) {

    /** A target without fixed-rate runs. */
    public TargetResult(String name, int rounds, Map<Metric, Stat> stats, long non2xx, long socketErrors,
                        boolean flagged, boolean contended) {
        this(name, rounds, stats, non2xx, socketErrors, flagged, contended, null);
    }

    public TargetResult {
        EnumMap<Metric, Stat> copy = new EnumMap<>(Metric.class);
        copy.putAll(stats);
        stats = Collections.unmodifiableMap(copy);
    }

    /** The stat for this metric, or {@code null} if the input did not have it. */
    public Stat stat(Metric metric) {
        return stats.get(metric);
    }
}
