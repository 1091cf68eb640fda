package io.turnpike.perf.model;

import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run of {@code scripts/bench.sh}: the same backend measured directly, through nginx and through
 * Turnpike, in the same session on the same machine.
 *
 * @param source      where it was read from (file name), for the report
 * @param generatedAt UTC timestamp of the run
 * @param command     the bench command line
 * @param environment kernel, CPU, versions, git sha, in input order
 * @param parameters  the run's knobs
 * @param targets     results in input order
 * @param skipped     targets that were requested but not run, with the reason
 * @param ratios      median(turnpike) / median(nginx) per metric; empty unless both ran
 * @param pairRatios  the file's other ratios ({@code ratios.<a>_vs_<b>}), in input order
 */
public record SideBySideRun(String source, String generatedAt, String command, Map<String, String> environment,
                            BenchParameters parameters, List<TargetResult> targets, Map<String, String> skipped,
                            Map<Metric, Double> ratios, List<PairRatio> pairRatios) {

    public static final String TURNPIKE = "turnpike";
    public static final String NGINX = "nginx";

    public SideBySideRun {
        environment = Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        targets = List.copyOf(targets);
        skipped = Collections.unmodifiableMap(new LinkedHashMap<>(skipped));
        EnumMap<Metric, Double> r = new EnumMap<>(Metric.class);
        r.putAll(ratios);
        ratios = Collections.unmodifiableMap(r);
        pairRatios = List.copyOf(pairRatios);
    }

    /** Without other ratios. */
    public SideBySideRun(String source, String generatedAt, String command, Map<String, String> environment,
                         BenchParameters parameters, List<TargetResult> targets, Map<String, String> skipped,
                         Map<Metric, Double> ratios) {
        this(source, generatedAt, command, environment, parameters, targets, skipped, ratios, List.of());
    }

    /** The named other ratio ({@code <a>_vs_<b>}), or {@code null}. */
    public PairRatio pairRatio(String name) {
        for (PairRatio r : pairRatios) {
            if (r.name().equals(name)) {
                return r;
            }
        }
        return null;
    }

    /** The named target, or {@code null}. */
    public TargetResult target(String name) {
        for (TargetResult t : targets) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** Whether other processes competed for CPU during any target's rounds. */
    public boolean contended() {
        for (TargetResult t : targets) {
            if (t.contended()) {
                return true;
            }
        }
        return false;
    }

    /** Whether any target had errors in any round. */
    public boolean flagged() {
        for (TargetResult t : targets) {
            if (t.flagged()) {
                return true;
            }
        }
        return false;
    }
}
