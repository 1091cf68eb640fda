package io.turnpike.perf.read;

import com.fasterxml.jackson.databind.JsonNode;
import io.turnpike.perf.model.BenchParameters;
import io.turnpike.perf.model.FixedRateResult;
import io.turnpike.perf.model.Metric;
import io.turnpike.perf.model.PairRatio;
import io.turnpike.perf.model.SideBySideRun;
import io.turnpike.perf.model.Stat;
import io.turnpike.perf.model.TargetResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the JSON that {@code scripts/bench.sh} writes ({@code "format": "turnpike-bench/v1"}).
 * Required: {@code generated_at}, {@code command}, {@code environment}, {@code parameters}
 * (rounds, warmup_s, duration_s, connections) and, per target under {@code results}, the required
 * {@link Metric}s in {@code median}, {@code min} and {@code max}. Everything else is shown when present.
 */
public final class BenchJsonReader implements ResultReader<SideBySideRun> {

    public static final String FORMAT_PREFIX = "turnpike-bench/";
    public static final String FORMAT = FORMAT_PREFIX + "v1";

    @Override
    public String sourceName() {
        return "bench.sh side-by-side";
    }

    @Override
    public boolean accepts(JsonNode root) {
        return root.isObject() && root.path("format").asText("").startsWith(FORMAT_PREFIX);
    }

    @Override
    public SideBySideRun read(Path file, JsonNode root) throws ReportInputException {
        JsonFields f = new JsonFields(file);
        String format = f.requireText(root, "", "format");
        if (!FORMAT.equals(format)) {
            throw new ReportInputException(file, "format",
                    "unsupported version " + format + " (this reader knows " + FORMAT + ") in field");
        }
        String generatedAt = f.requireText(root, "", "generated_at");
        String command = f.requireText(root, "", "command");

        JsonNode envNode = f.requireObject(root, "", "environment");
        Map<String, String> environment = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : envNode.properties()) {
            environment.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asText());
        }

        BenchParameters parameters = readParameters(f, f.requireObject(root, "", "parameters"));

        JsonNode resultsNode = f.requireObject(root, "", "results");
        if (resultsNode.isEmpty()) {
            throw new ReportInputException(file, "results", "no target in field");
        }
        List<TargetResult> targets = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : resultsNode.properties()) {
            targets.add(readTarget(f, file, e.getKey(), e.getValue(), parameters.rounds()));
        }

        Map<String, String> skipped = new LinkedHashMap<>();
        JsonNode skippedNode = root.path("skipped");
        for (Map.Entry<String, JsonNode> e : skippedNode.properties()) {
            skipped.put(e.getKey(), e.getValue().asText());
        }

        Map<Metric, Double> ratios = readRatios(root, targets);
        return new SideBySideRun(file.getFileName().toString(), generatedAt, command, environment, parameters,
                targets, skipped, ratios, readPairRatios(root));
    }

    private static BenchParameters readParameters(JsonFields f, JsonNode p) throws ReportInputException {
        String at = "parameters";
        JsonNode cores = p.path("cores");
        return new BenchParameters(
                f.requireInt(p, at, "rounds"),
                f.requireInt(p, at, "warmup_s"),
                f.requireInt(p, at, "duration_s"),
                f.requireInt(p, at, "connections"),
                p.path("wrk_threads").asInt(1),
                p.path("body_bytes").asInt(0),
                JsonFields.text(cores, "load", "?"),
                JsonFields.text(cores, "proxy", "?"),
                JsonFields.text(p, "wrk_command", ""),
                JsonFields.text(p, "jvm_opts", ""),
                p.path("connection_close").asBoolean(false));
    }

    private static TargetResult readTarget(JsonFields f, Path file, String name, JsonNode t, int defaultRounds)
            throws ReportInputException {
        String at = "results." + name;
        if (!t.isObject()) {
            throw new ReportInputException(file, at, "expected an object for field");
        }
        JsonNode median = f.requireObject(t, at, "median");
        JsonNode min = f.requireObject(t, at, "min");
        JsonNode max = f.requireObject(t, at, "max");
        Map<Metric, Stat> stats = new EnumMap<>(Metric.class);
        for (Metric m : Metric.values()) {
            if (m.required()) {
                double md = f.requireNumber(median, at + ".median", m.key());
                double lo = f.requireNumber(min, at + ".min", m.key());
                double hi = f.requireNumber(max, at + ".max", m.key());
                stats.put(m, stat(file, at, m, md, lo, hi));
            } else {
                Double md = JsonFields.number(median, m.key());
                Double lo = JsonFields.number(min, m.key());
                Double hi = JsonFields.number(max, m.key());
                if (md != null && lo != null && hi != null) {
                    stats.put(m, stat(file, at, m, md, lo, hi));
                }
            }
        }
        JsonNode rounds = t.path("rounds");
        int roundCount = rounds.isArray() ? rounds.size() : defaultRounds;
        long non2xx = t.path("non2xx_total").asLong(0);
        long socketErrors = t.path("socket_errors_total").asLong(0);
        boolean flagged = t.path("flagged").asBoolean(non2xx + socketErrors > 0);
        boolean contended = t.path("contended").asBoolean(false);
        return new TargetResult(name, roundCount, stats, non2xx, socketErrors, flagged, contended,
                readFixedRate(f, at, t.path("fixed_rate_rounds")));
    }

    /**
     * {@code results.<target>.fixed_rate_rounds} ({@code bench.sh --rate}): medians and ranges over the rounds that
     * were not LAGGED (over all of them when every one was); null when the run had no fixed-rate rounds.
     */
    private static FixedRateResult readFixedRate(JsonFields f, String at, JsonNode rounds)
            throws ReportInputException {
        if (!rounds.isArray() || rounds.isEmpty()) {
            return null;
        }
        int lagged = 0;
        for (JsonNode r : rounds) {
            lagged += r.path("lagged").asBoolean(false) ? 1 : 0;
        }
        boolean all = lagged == rounds.size();
        List<double[]> cols = new ArrayList<>(); // p50, p99, p99.9, CPU, send lag
        for (int i = 0; i < 5; i++) {
            cols.add(new double[rounds.size() - (all ? 0 : lagged)]);
        }
        String[] keys = {"rate_p50_ms", "rate_p99_ms", "rate_p999_ms", "rate_cpu_us_per_req", "rate_send_lag_p99_ms"};
        boolean cpu = true;
        int n = 0;
        long rate = 0;
        for (int k = 0; k < rounds.size(); k++) {
            JsonNode r = rounds.get(k);
            String rat = at + ".fixed_rate_rounds[" + k + "]";
            rate = (long) f.requireNumber(r, rat, "rate");
            if (!all && r.path("lagged").asBoolean(false)) {
                continue;
            }
            for (int i = 0; i < keys.length; i++) {
                if (i == 3) {
                    Double c = JsonFields.number(r, keys[i]);
                    cpu &= c != null;
                    cols.get(i)[n] = c == null ? 0 : c;
                } else {
                    cols.get(i)[n] = f.requireNumber(r, rat, keys[i]);
                }
            }
            n++;
        }
        return new FixedRateResult(rate, rounds.size(), lagged, Stat.of(cols.get(0)), Stat.of(cols.get(1)),
                Stat.of(cols.get(2)), cpu ? Stat.of(cols.get(3)) : null, Stat.of(cols.get(4)));
    }

    private static Stat stat(Path file, String at, Metric m, double median, double min, double max)
            throws ReportInputException {
        if (!(min <= median && median <= max)) {
            throw new ReportInputException(file, at + ".{min,median,max}." + m.key(),
                    "expected min <= median <= max (" + min + ", " + median + ", " + max + ") in field");
        }
        return new Stat(median, min, max);
    }

    /**
     * Every {@code ratios.<a>_vs_<b>} object but turnpike_vs_nginx with at least one known metric: what bench.sh adds
     * for its optional targets (haproxy, --plugins, --chain, ...). Targets it does not know are fine: the names are
     * not checked against a list.
     */
    private static List<PairRatio> readPairRatios(JsonNode root) {
        List<PairRatio> out = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.path("ratios").properties()) {
            JsonNode node = e.getValue();
            if (e.getKey().equals("turnpike_vs_nginx") || !e.getKey().contains("_vs_") || !node.isObject()) {
                continue;
            }
            Map<Metric, Double> values = new EnumMap<>(Metric.class);
            for (Map.Entry<String, JsonNode> v : node.properties()) {
                Metric m = Metric.byKey(v.getKey());
                if (m != null && v.getValue().isNumber()) {
                    values.put(m, v.getValue().doubleValue());
                }
            }
            if (values.isEmpty()) {
                continue;
            }
            JsonNode target = node.path("target");
            JsonNode met = node.path("target_met");
            out.add(new PairRatio(e.getKey(), values, target.isTextual() ? target.asText() : null,
                    met.isBoolean() ? met.asBoolean() : null));
        }
        return out;
    }

    /** The file's own ratios when it has them; otherwise computed from the medians, when both proxies ran. */
    private static Map<Metric, Double> readRatios(JsonNode root, List<TargetResult> targets) {
        Map<Metric, Double> ratios = new EnumMap<>(Metric.class);
        JsonNode node = root.path("ratios").path("turnpike_vs_nginx");
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                Metric m = Metric.byKey(e.getKey());
                if (m != null && e.getValue().isNumber()) {
                    ratios.put(m, e.getValue().doubleValue());
                }
            }
            return ratios;
        }
        TargetResult turnpike = null;
        TargetResult nginx = null;
        for (TargetResult t : targets) {
            if (SideBySideRun.TURNPIKE.equals(t.name())) {
                turnpike = t;
            } else if (SideBySideRun.NGINX.equals(t.name())) {
                nginx = t;
            }
        }
        if (turnpike == null || nginx == null) {
            return ratios;
        }
        for (Metric m : Metric.values()) {
            Stat a = turnpike.stat(m);
            Stat b = nginx.stat(m);
            if (a != null && b != null && b.median() != 0) {
                ratios.put(m, a.median() / b.median());
            }
        }
        return ratios;
    }
}
