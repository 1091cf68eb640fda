package io.turnpike.perf.model;

import java.util.List;

/**
 * Everything one report shows. Each result source gets its own list; JMH and Gatling results will
 * be added as further components next to {@code sideBySide}.
 *
 * @param title      report heading
 * @param sideBySide side-by-side runs (scripts/bench.sh), in input order
 */
public record Report(String title, List<SideBySideRun> sideBySide) {

    public static final String DEFAULT_TITLE = "Turnpike performance report";

    public Report {
        sideBySide = List.copyOf(sideBySide);
    }

    public boolean isEmpty() {
        return sideBySide.isEmpty();
    }
}
