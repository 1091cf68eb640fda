package io.turnpike.perf.read;

import com.fasterxml.jackson.databind.JsonNode;
import io.turnpike.perf.model.JmhResult;
import io.turnpike.perf.model.JmhRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads JMH's JSON result file ({@code -rf json}, what {@code scripts/jmh.sh} writes): a top-level array
 * with one object per benchmark and parameter combination. Required per element: {@code benchmark},
 * {@code mode}, {@code primaryMetric.score} and {@code primaryMetric.scoreUnit}. Optional:
 * {@code params}, {@code primaryMetric.scoreError} (JMH writes the string {@code "NaN"} when it has none),
 * {@code secondaryMetrics["gc.alloc.rate.norm"].score} (present with {@code -prof gc}), {@code measurementTime},
 * {@code measurementIterations}, {@code forks}, {@code jdkVersion}.
 */
public final class JmhJsonReader implements ResultReader<JmhRun> {

    public static final String ALLOC_NORM = "gc.alloc.rate.norm";

    @Override
    public String sourceName() {
        return "JMH (-rf json)";
    }

    @Override
    public boolean accepts(JsonNode root) {
        if (!root.isArray()) {
            return false;
        }
        if (root.isEmpty()) {
            return true; // rejected in read() with a clear message
        }
        JsonNode first = root.get(0);
        return first.isObject() && (first.has("benchmark") || first.has("primaryMetric") || first.has("jmhVersion"));
    }

    @Override
    public JmhRun read(Path file, JsonNode root) throws ReportInputException {
        if (!root.isArray() || root.isEmpty()) {
            throw new ReportInputException(file, null, "a JMH result file must be a non-empty JSON array of benchmarks");
        }
        JsonFields f = new JsonFields(file);
        List<JmhResult> results = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            String at = "[" + i + "]";
            JsonNode b = root.get(i);
            if (!b.isObject()) {
                throw new ReportInputException(file, at, "expected an object for field");
            }
            String benchmark = f.requireText(b, at, "benchmark");
            String mode = f.requireText(b, at, "mode");
            JsonNode primary = f.requireObject(b, at, "primaryMetric");
            String pAt = at + ".primaryMetric";
            double score = f.requireNumber(primary, pAt, "score");
            String unit = f.requireText(primary, pAt, "scoreUnit");
            Double error = JsonFields.number(primary, "scoreError");

            Map<String, String> params = new LinkedHashMap<>();
            JsonNode p = b.path("params");
            if (!p.isMissingNode() && !p.isNull()) {
                if (!p.isObject()) {
                    throw new ReportInputException(file, at + ".params", "expected an object for field");
                }
                for (Map.Entry<String, JsonNode> e : p.properties()) {
                    params.put(e.getKey(), e.getValue().asText());
                }
            }

            Double alloc = null;
            JsonNode norm = b.path("secondaryMetrics").path(ALLOC_NORM);
            if (!norm.isMissingNode()) {
                alloc = f.requireNumber(norm, at + ".secondaryMetrics." + ALLOC_NORM, "score");
                String allocUnit = JsonFields.text(norm, "scoreUnit", "B/op");
                if (!"B/op".equals(allocUnit)) {
                    throw new ReportInputException(file, at + ".secondaryMetrics." + ALLOC_NORM + ".scoreUnit",
                            "expected B/op, got " + allocUnit + " in field");
                }
            }
            results.add(new JmhResult(benchmark, mode, params, score, error, unit, alloc,
                    parseDuration(JsonFields.text(b, "measurementTime", "")),
                    b.path("measurementIterations").asInt(0), b.path("forks").asInt(0),
                    JsonFields.text(b, "jdkVersion", "")));
        }
        return new JmhRun(file.getFileName().toString(), results);
    }

    /** JMH's {@code "1 s"}, {@code "500 ms"}, {@code "10 s"} in seconds; {@code null} when not of that shape. */
    static Double parseDuration(String text) {
        String[] parts = text.trim().split("\\s+");
        if (parts.length != 2) {
            return null;
        }
        try {
            Double per = JmhResult.timeUnitSeconds(parts[1]);
            return per == null ? null : Double.parseDouble(parts[0]) * per;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
