package io.turnpike.perf.render;

import static io.turnpike.perf.render.SvgChart.esc;

import io.turnpike.perf.PerfReportMain.Comparison;
import io.turnpike.perf.gate.Finding;
import io.turnpike.perf.gate.Gate;
import io.turnpike.perf.model.FixedRateResult;
import io.turnpike.perf.model.JmhResult;
import io.turnpike.perf.model.JmhRun;
import io.turnpike.perf.model.Metric;
import io.turnpike.perf.model.PairRatio;
import io.turnpike.perf.model.Report;
import io.turnpike.perf.model.SideBySideRun;
import io.turnpike.perf.model.Stat;
import io.turnpike.perf.model.TargetResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a {@link Report} as one self-contained HTML page: tables plus charts as inline SVG (no script,
 * no external resource, so the page can be archived as a CI artifact and opened offline).
 */
public final class HtmlReportWriter {

    public String render(Report report, Comparison comparison) {
        StringBuilder h = new StringBuilder(16384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(report.title()))
                .append("</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em}"
                        + "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 6px;"
                        + "font-size:13px}td.n{text-align:right}tr.bad td{background:#fde2e2}.fail{color:#c00}"
                        + ".pass{color:#080}code{font-size:12px}svg{display:block;margin:.5em 0 1em}</style></head><body>\n");
        h.append("<h1>").append(esc(report.title())).append("</h1>\n");
        if (comparison != null) {
            comparison(h, comparison);
        }
        for (SideBySideRun run : report.sideBySide()) {
            sideBySide(h, run);
        }
        for (JmhRun run : report.jmh()) {
            jmh(h, run);
        }
        h.append("<p><small>Written by perf-reports (io.turnpike.perf). Charts are inline SVG.</small></p>\n");
        h.append("</body></html>\n");
        return h.toString();
    }

    private static void comparison(StringBuilder h, Comparison c) {
        List<Finding> findings = c.findings();
        long regressions = Gate.count(findings, Finding.Verdict.REGRESSION);
        h.append("<h2>Against baseline <code>").append(esc(c.baseline().name())).append("</code></h2>\n<p><b class=\"")
                .append(regressions > 0 ? "fail\">FAIL" : "pass\">PASS").append("</b>: ").append(regressions)
                .append(" regression(s), ").append(Gate.count(findings, Finding.Verdict.WARNING)).append(" warning(s), ")
                .append(Gate.count(findings, Finding.Verdict.IMPROVED)).append(" improved, ")
                .append(Gate.count(findings, Finding.Verdict.OK)).append(" ok. Baseline <code>")
                .append(esc(c.baselinePath())).append("</code>, blessed ").append(esc(c.baseline().blessedAt()))
                .append(" on ").append(esc(c.baseline().machine().getOrDefault("cpu_model", "?"))).append(" x")
                .append(esc(c.baseline().machine().getOrDefault("cores", "?"))).append(String.format(Locale.ROOT,
                        ". Limits: allocation exact (≥ %.2f B/op epsilon); time vs same-run reference +%.0f %%; "
                                + "raw time +%.0f %%; p99 ratio +%.0f %%.</p>\n", c.options().allocEpsilonFloor(),
                        c.options().timeThreshold() * 100, c.options().wideBand() * 100,
                        c.options().latencyThreshold() * 100));
        for (Map.Entry<String, List<Finding>> e : Gate.bySuite(findings).entrySet()) {
            h.append("<h3>").append(esc(e.getKey())).append("</h3>\n");
            SvgChart trend = new SvgChart(e.getKey() + ": time, run / baseline", "1.0 = baseline", List.of("run / baseline"));
            SvgChart alloc = new SvgChart(e.getKey() + ": allocation per op", "B/op", List.of("baseline", "run"));
            for (Finding f : e.getValue()) {
                boolean bad = f.verdict() == Finding.Verdict.REGRESSION;
                if (f.check().equals("alloc") && f.baseline() != null && f.run() != null) {
                    alloc.row(new SvgChart.Row(f.key(), new Double[] {f.baseline(), f.run()}, bad));
                } else if (f.ratio() != null && !f.check().equals("alloc") && !f.check().equals("errors")) {
                    String limit = f.limit() == null || f.baseline() == null ? ""
                            : String.format(Locale.ROOT, " (limit ×%.2f)", f.limit() / f.baseline());
                    trend.row(new SvgChart.Row(f.key() + (f.check().startsWith("time") ? "" : " " + f.check()) + limit,
                            new Double[] {f.ratio()}, bad));
                }
            }
            if (!trend.isEmpty()) {
                h.append(trend.marker(1.0, "baseline").render()).append('\n');
            }
            if (!alloc.isEmpty()) {
                h.append(alloc.render()).append('\n');
            }
            h.append("<table><tr><th>verdict</th><th>check</th><th>detail</th></tr>\n");
            for (Finding f : e.getValue()) {
                h.append(f.verdict() == Finding.Verdict.REGRESSION ? "<tr class=\"bad\">" : "<tr>").append("<td>")
                        .append(f.verdict()).append("</td><td>").append(esc(f.check())).append("</td><td>")
                        .append(esc(f.message())).append("</td></tr>\n");
            }
            h.append("</table>\n");
        }
    }

    private static void sideBySide(StringBuilder h, SideBySideRun run) {
        h.append("<h2>Side-by-side run ").append(esc(run.generatedAt())).append(" (<code>").append(esc(run.source()))
                .append("</code>)</h2>\n<p>Same backend measured directly, through nginx and through Turnpike, ")
                .append("interleaved rounds on the same machine; medians over ").append(run.parameters().rounds())
                .append(" round(s). Command: <code>").append(esc(run.command())).append("</code></p>\n");
        SvgChart lat = new SvgChart("Latency percentiles", "ms", List.of("p50", "p90", "p99", "p99.9"));
        SvgChart rps = new SvgChart("Throughput", "req/s", List.of("req/s"));
        SvgChart cpu = new SvgChart("CPU per request of the process under test", "µs/req", List.of("CPU µs/req"));
        for (TargetResult t : run.targets()) {
            lat.row(new SvgChart.Row(t.name(), med(t, Metric.P50_MS), med(t, Metric.P90_MS), med(t, Metric.P99_MS),
                    med(t, Metric.P999_MS)));
            rps.row(new SvgChart.Row(t.name(), med(t, Metric.RPS)));
            cpu.row(new SvgChart.Row(t.name(), med(t, Metric.CPU_US_PER_REQ)));
        }
        h.append(lat.render()).append('\n').append(rps.render()).append('\n').append(cpu.render()).append('\n');
        Metric[] cols = {Metric.RPS, Metric.P50_MS, Metric.P90_MS, Metric.P99_MS, Metric.P999_MS,
            Metric.CPU_US_PER_REQ, Metric.CPU_UTIL_PCT, Metric.RSS_PEAK_MIB, Metric.OTHER_CPU_PCT};
        h.append("<table><tr><th>target</th>");
        for (Metric m : cols) {
            h.append("<th>").append(esc(m.label())).append("</th>");
        }
        h.append("<th>errors</th></tr>\n");
        for (TargetResult t : run.targets()) {
            h.append(t.flagged() ? "<tr class=\"bad\">" : "<tr>").append("<td>").append(esc(t.name())).append("</td>");
            for (Metric m : cols) {
                h.append("<td class=\"n\">").append(esc(MarkdownReportWriter.statCell(t.stat(m), m))).append("</td>");
            }
            h.append("<td>").append(t.contended() ? "CONTENDED " : "").append("non-2xx ").append(t.non2xx())
                    .append(", socket ").append(t.socketErrors()).append("</td></tr>\n");
        }
        h.append("</table>\n");
        if (!run.ratios().isEmpty()) {
            h.append("<p>Turnpike / nginx, this run: ");
            List<String> parts = new ArrayList<>();
            for (Metric m : new Metric[] {Metric.CPU_US_PER_REQ, Metric.P99_MS, Metric.P50_MS, Metric.RPS}) {
                Double r = run.ratios().get(m);
                if (r != null) {
                    parts.add(esc(m.label()) + " <b>" + MarkdownReportWriter.ratio(r) + "</b>");
                }
            }
            h.append(String.join(", ", parts)).append(".</p>\n");
        }
        for (PairRatio r : run.pairRatios()) {
            List<String> parts = new ArrayList<>();
            for (Metric m : new Metric[] {Metric.CPU_US_PER_REQ, Metric.P99_MS, Metric.P50_MS, Metric.RPS}) {
                Double v = r.ratios().get(m);
                if (v != null) {
                    parts.add(esc(m.label()) + " <b>" + MarkdownReportWriter.ratio(v) + "</b>");
                }
            }
            h.append("<p>").append(esc(r.label())).append(", this run: ").append(String.join(", ", parts));
            if (r.target() != null) {
                h.append(" (target <code>").append(esc(r.target())).append("</code>: ")
                        .append(Boolean.TRUE.equals(r.targetMet()) ? "met" : "<b>not met</b>").append(')');
            }
            h.append(".</p>\n");
        }
        fixedRate(h, run);
        environment(h, run.environment());
    }

    /** The fixed-rate chart and table ({@code --rate}), when any target has fixed-rate rounds. */
    private static void fixedRate(StringBuilder h, SideBySideRun run) {
        long rate = MarkdownReportWriter.fixedRateOf(run);
        if (rate < 0) {
            return;
        }
        String title = String.format(Locale.ROOT, "Fixed rate %,d req/s: latency from the due time", rate);
        h.append("<h3>").append(esc(title)).append("</h3>\n<p>Medians over the rounds the generator kept on time ")
                .append("(LAGGED rounds left out).</p>\n");
        SvgChart lat = new SvgChart(title, "ms", List.of("p50", "p99", "p99.9"));
        h.append("<table><tr><th>target</th><th>rounds</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th>")
                .append("<th>CPU µs/req</th><th>gen. lag p99 ms</th></tr>\n");
        for (TargetResult t : run.targets()) {
            FixedRateResult f = t.fixedRate();
            if (f == null) {
                continue;
            }
            lat.row(new SvgChart.Row(t.name(), f.p50Ms().median(), f.p99Ms().median(), f.p999Ms().median()));
            h.append(f.allLagged() ? "<tr class=\"bad\">" : "<tr>").append("<td>").append(esc(t.name()))
                    .append("</td><td>").append(esc(MarkdownReportWriter.roundsCell(f).replace("**", "")))
                    .append("</td><td class=\"n\">").append(esc(MarkdownReportWriter.statCell(f.p50Ms(), Metric.P50_MS)))
                    .append("</td><td class=\"n\">").append(esc(MarkdownReportWriter.statCell(f.p99Ms(), Metric.P99_MS)))
                    .append("</td><td class=\"n\">")
                    .append(esc(MarkdownReportWriter.statCell(f.p999Ms(), Metric.P999_MS)))
                    .append("</td><td class=\"n\">")
                    .append(esc(MarkdownReportWriter.statCell(f.cpuUsPerReq(), Metric.CPU_US_PER_REQ)))
                    .append("</td><td class=\"n\">")
                    .append(esc(MarkdownReportWriter.statCell(f.sendLagP99Ms(), Metric.P99_MS))).append("</td></tr>\n");
        }
        h.append("</table>\n").append(lat.render()).append('\n');
        Double p99 = MarkdownReportWriter.fixedRateRatio(run, FixedRateResult::p99Ms);
        if (p99 != null) {
            h.append("<p>Turnpike / nginx at this rate: p99 <b>").append(MarkdownReportWriter.ratio(p99))
                    .append("</b>, p99.9 <b>")
                    .append(MarkdownReportWriter.ratio(MarkdownReportWriter.fixedRateRatio(run, FixedRateResult::p999Ms)))
                    .append("</b>.</p>\n");
        }
    }

    private static Double med(TargetResult t, Metric m) {
        Stat s = t.stat(m);
        return s == null ? null : s.median();
    }

    private static void jmh(StringBuilder h, JmhRun run) {
        h.append("<h2>JMH <code>").append(esc(run.source())).append("</code></h2>\n");
        JmhResult first = run.results().get(0);
        h.append("<p>JDK ").append(esc(first.jdk())).append(", ").append(first.forks()).append(" fork(s) x ")
                .append(first.iterations()).append(" measurement iteration(s). Allocation is <code>gc.alloc.rate.norm</code> ")
                .append("(bytes per op on the benchmark thread; below 1 B/op is JMH's own bookkeeping).</p>\n");
        SvgChart alloc = new SvgChart("Allocation per op", "B/op", List.of("B/op"));
        Map<String, SvgChart> time = new LinkedHashMap<>();
        for (JmhResult r : run.results()) {
            String label = r.method() + (r.params().isEmpty() ? "" : " " + MarkdownReportWriter.params(r));
            if (r.allocBytesPerOp() != null) {
                alloc.row(new SvgChart.Row(r.className() + "." + label, r.allocBytesPerOp()));
            }
            time.computeIfAbsent(r.className() + " " + r.unit(),
                    k -> new SvgChart(r.className() + (r.higherIsBetter() ? " throughput" : " time per op"), r.unit(),
                            List.of(r.unit()))).row(new SvgChart.Row(label, r.score()));
        }
        if (!alloc.isEmpty()) {
            h.append(alloc.render()).append('\n');
        }
        for (SvgChart c : time.values()) {
            h.append(c.render()).append('\n');
        }
        h.append("<table><tr><th>benchmark</th><th>params</th><th>mode</th><th>score</th><th>error</th><th>unit</th>"
                + "<th>B/op</th><th>vs ref</th></tr>\n");
        for (JmhResult r : run.results()) {
            h.append("<tr><td>").append(esc(r.className() + "." + r.method())).append("</td><td>")
                    .append(esc(MarkdownReportWriter.params(r))).append("</td><td>").append(esc(r.mode()))
                    .append("</td><td class=\"n\">").append(MarkdownReportWriter.sig(r.score()))
                    .append("</td><td class=\"n\">").append(r.scoreError() == null ? "–" : MarkdownReportWriter.sig(r.scoreError()))
                    .append("</td><td>").append(esc(r.unit())).append("</td><td class=\"n\">")
                    .append(r.allocBytesPerOp() == null ? "–" : String.format(Locale.ROOT, "%.2f", r.allocBytesPerOp()))
                    .append("</td><td class=\"n\">").append(esc(MarkdownReportWriter.vsRef(run, r))).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void environment(StringBuilder h, Map<String, String> env) {
        if (env.isEmpty()) {
            return;
        }
        h.append("<details><summary>Environment</summary><table>\n");
        for (Map.Entry<String, String> e : env.entrySet()) {
            h.append("<tr><td>").append(esc(e.getKey())).append("</td><td>").append(esc(e.getValue())).append("</td></tr>\n");
        }
        h.append("</table></details>\n");
    }
}
