package io.turnpike.perf.model;

import java.util.List;

/**
 * Everything one report shows. Each result source gets its own list; Gatling results will be added as
 * a further component.
 *
 * @param title      report heading
 * @param sideBySide side-by-side runs (scripts/bench.sh), in input order
 * @param jmh        JMH result files (scripts/jmh.sh), in input order
 */
public record Report(String title, List<SideBySideRun> sideBySide, List<JmhRun> jmh) {

    public static final String DEFAULT_TITLE = "Turnpike performance report";

    public Report {
        sideBySide = List.copyOf(sideBySide);
        jmh = List.copyOf(jmh);
    }

    public Report(String title, List<SideBySideRun> sideBySide) {
        this(title, sideBySide, List.of());
    }

    public boolean isEmpty() {
        return sideBySide.isEmpty() && jmh.isEmpty();
    }
}
