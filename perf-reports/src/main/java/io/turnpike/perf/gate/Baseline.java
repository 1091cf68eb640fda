package io.turnpike.perf.gate;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A committed baseline ({@code perf-reports/baselines/NAME.json}, format {@value #FORMAT}): the snapshot of
 * the run it was blessed from, with where, when and how.
 *
 * @param name        baseline name (the file's stem by default)
 * @param blessedAt   UTC timestamp of the bless
 * @param command     the bless command line
 * @param note        free text (why it was blessed)
 * @param machine     the machine that ran bless (CPU model, cores, memory, kernel, JVM)
 * @param environment what the run files recorded (bench.sh environment; JMH JDK), prefixed by source
 * @param sources     the run files' names
 * @param snapshot    the figures the gate compares
 */
public record Baseline(String name, String blessedAt, String command, String note, Map<String, String> machine,
                       Map<String, String> environment, List<String> sources, Snapshot snapshot) {

    public static final String FORMAT = "turnpike-perf-baseline/v1";

    public Baseline {
        machine = Collections.unmodifiableMap(new LinkedHashMap<>(machine));
        environment = Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        sources = List.copyOf(sources);
    }
}
