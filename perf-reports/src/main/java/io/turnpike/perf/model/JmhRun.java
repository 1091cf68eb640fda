package io.turnpike.perf.model;

import java.util.List;

/**
 * One JMH result file.
 *
 * @param source  file name, for the report
 * @param results benchmarks in file order
 */
public record JmhRun(String source, List<JmhResult> results) {

    public JmhRun {
        results = List.copyOf(results);
    }
}
