package io.turnpike.perf.render;

import io.turnpike.perf.PerfReportMain.Comparison;
import io.turnpike.perf.gate.Finding;
import io.turnpike.perf.gate.Gate;
import io.turnpike.perf.model.BenchParameters;
import io.turnpike.perf.model.FixedRateResult;
import io.turnpike.perf.model.JmhResult;
import io.turnpike.perf.model.JmhRun;
import io.turnpike.perf.model.Metric;
import io.turnpike.perf.model.PairRatio;
import io.turnpike.perf.model.Report;
import io.turnpike.perf.model.SideBySideRun;
import io.turnpike.perf.model.Stat;
import io.turnpike.perf.model.TargetResult;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders a {@link Report} as GitHub-flavoured Markdown. Numbers use {@link Locale#ROOT}. */
public final class MarkdownReportWriter {

    /** Metrics in table order. */
    private static final Metric[] TABLE = {
        Metric.RPS, Metric.P50_MS, Metric.P90_MS, Metric.P99_MS, Metric.P999_MS,
        Metric.CPU_US_PER_REQ, Metric.CPU_UTIL_PCT, Metric.RSS_PEAK_MIB, Metric.OTHER_CPU_PCT,
    };
    /** Ratios in the order they matter: CPU per request is the headline. */
    private static final Metric[] RATIOS = {Metric.CPU_US_PER_REQ, Metric.P99_MS, Metric.P50_MS, Metric.RPS};

    public String render(Report report) {
        return render(report, null);
    }

    /** The report, with the comparison against a baseline first when there is one. */
    public String render(Report report, Comparison comparison) {
        StringBuilder md = new StringBuilder(4096);
        md.append("# ").append(report.title()).append("\n\n");
        if (comparison != null) {
            comparison(md, comparison);
        }
        if (report.sideBySide().size() > 1) {
            overview(md, report);
        }
        for (SideBySideRun run : report.sideBySide()) {
            sideBySide(md, run);
        }
        for (JmhRun run : report.jmh()) {
            jmh(md, run);
        }
        return md.toString();
    }

    private static void comparison(StringBuilder md, Comparison c) {
        List<Finding> findings = c.findings();
        long regressions = Gate.count(findings, Finding.Verdict.REGRESSION);
        md.append("## Against baseline `").append(c.baseline().name()).append("`\n\n");
        md.append("**").append(regressions > 0 ? "FAIL" : "PASS").append("**: ").append(regressions)
                .append(" regression(s), ").append(Gate.count(findings, Finding.Verdict.WARNING)).append(" warning(s), ")
                .append(Gate.count(findings, Finding.Verdict.IMPROVED)).append(" improved, ")
                .append(Gate.count(findings, Finding.Verdict.OK)).append(" ok, ")
                .append(Gate.count(findings, Finding.Verdict.INFO)).append(" not gated. Baseline `")
                .append(c.baselinePath()).append("`, blessed ").append(c.baseline().blessedAt()).append(" on ")
                .append(cell(c.baseline().machine().getOrDefault("cpu_model", "?"))).append(" x")
                .append(c.baseline().machine().getOrDefault("cores", "?")).append(". Thresholds: allocation exact (+")
                .append(number(c.options().allocEpsilonFloor(), 2)).append(" B/op floor), time vs same-run reference +")
                .append(number(c.options().timeThreshold() * 100, 0)).append(" %, raw time +")
                .append(number(c.options().wideBand() * 100, 0)).append(" %, p99 ratio +")
                .append(number(c.options().latencyThreshold() * 100, 0)).append(" %.\n\n");
        for (Map.Entry<String, List<Finding>> e : Gate.bySuite(findings).entrySet()) {
            md.append("### ").append(e.getKey()).append("\n\n");
            md.append("| verdict | check | benchmark | baseline | run | run / baseline | limit |\n");
            md.append("|---|---|---|---:|---:|---:|---:|\n");
            for (Finding f : e.getValue()) {
                md.append("| ").append(f.verdict() == Finding.Verdict.REGRESSION ? "**REGRESSION**" : f.verdict().name())
                        .append(" | ").append(f.check()).append(" | `").append(f.key()).append("` | ")
                        .append(f.baseline() == null ? "–" : sig(f.baseline())).append(" | ")
                        .append(f.run() == null ? "–" : sig(f.run())).append(" | ")
                        .append(f.ratio() == null ? "–" : ratio(f.ratio())).append(" | ")
                        .append(f.limit() == null ? "–" : sig(f.limit())).append(" |\n");
            }
            md.append('\n');
        }
        md.append("Time rows compare normalised values (score / same-run reference) where the check is `time`, ")
                .append("raw ns per op (throughput inverted) where it is `time (wide band)`; allocation rows are B/op.\n\n");
    }

    private static void jmh(StringBuilder md, JmhRun run) {
        md.append("## JMH `").append(run.source()).append("`\n\n");
        JmhResult first = run.results().get(0);
        md.append("JDK ").append(first.jdk().isEmpty() ? "?" : first.jdk()).append(", ").append(first.forks())
                .append(" fork(s) x ").append(first.iterations()).append(" iteration(s) of ")
                .append(first.measurementTimeS() == null ? "?" : number(first.measurementTimeS(), 1))
                .append(" s. Score ± 99.9 % error; allocation is `gc.alloc.rate.norm` (bytes per op on the benchmark ")
                .append("thread; below 1 B/op is JMH's own bookkeeping). *vs ref*: time relative to the yardstick ")
                .append("of the same class and parameters in this run.\n\n");
        md.append("| benchmark | params | mode | score | error | unit | B/op | vs ref |\n");
        md.append("|---|---|---|---:|---:|---|---:|---:|\n");
        for (JmhResult r : run.results()) {
            md.append("| ").append(r.className()).append('.').append(r.method()).append(" | ")
                    .append(params(r)).append(" | ").append(r.mode()).append(" | ").append(sig(r.score())).append(" | ")
                    .append(r.scoreError() == null ? "–" : sig(r.scoreError())).append(" | ").append(r.unit())
                    .append(" | ").append(r.allocBytesPerOp() == null ? "–" : number(r.allocBytesPerOp(), 2))
                    .append(" | ").append(vsRef(run, r)).append(" |\n");
        }
        md.append('\n');
    }

    static String params(JmhResult r) {
        if (r.params().isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        r.params().forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append('=').append(v));
        return sb.toString();
    }

    /** time / yardstick time in the same file, or a dash. */
    static String vsRef(JmhRun run, JmhResult r) {
        if (io.turnpike.perf.gate.Snapshot.REFERENCE_METHODS.contains(r.method())) {
            return "ref";
        }
        for (JmhResult o : run.results()) {
            if (o.className().equals(r.className()) && o.params().equals(r.params())
                    && io.turnpike.perf.gate.Snapshot.REFERENCE_METHODS.contains(o.method())) {
                Double a = r.secondsPerOp();
                Double b = o.secondsPerOp();
                if (a != null && b != null && b > 0) {
                    return ratio(a / b);
                }
            }
        }
        return "–";
    }

    /** Three significant figures or more, grouped thousands. */
    static String sig(double v) {
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 1000 ? "%,.0f" : a >= 100 ? "%.1f" : a >= 1 ? "%.2f" : a == 0 ? "%.0f" : "%.4f", v);
    }

    private static void overview(StringBuilder md, Report report) {
        md.append("## Overview\n\n");
        md.append("| run | git | nginx CPU µs/req | turnpike CPU µs/req | CPU/req turnpike/nginx | p99 turnpike/nginx |\n");
        md.append("|---|---|---:|---:|---:|---:|\n");
        for (SideBySideRun run : report.sideBySide()) {
            md.append("| ").append(run.generatedAt()).append(" (`").append(run.source()).append("`) | ")
                    .append(cell(run.environment().getOrDefault("git_sha", "?"))).append(" | ")
                    .append(median(run.target(SideBySideRun.NGINX), Metric.CPU_US_PER_REQ)).append(" | ")
                    .append(median(run.target(SideBySideRun.TURNPIKE), Metric.CPU_US_PER_REQ)).append(" | ")
                    .append(ratio(run.ratios().get(Metric.CPU_US_PER_REQ))).append(" | ")
                    .append(ratio(run.ratios().get(Metric.P99_MS))).append(" |\n");
        }
        md.append('\n');
    }

    private static void sideBySide(StringBuilder md, SideBySideRun run) {
        BenchParameters p = run.parameters();
        md.append("## Side-by-side run ").append(run.generatedAt()).append(" (`").append(run.source()).append("`)\n\n");
        md.append("Backend alone, nginx as reverse proxy and Turnpike, same backend, same machine, interleaved rounds. ")
                .append("Cells: median over ").append(p.rounds()).append(p.rounds() == 1 ? " round" : " rounds");
        if (p.rounds() > 1) {
            md.append(" [min–max]");
        }
        md.append(". CPU µs/req and peak RSS are those of the process under test (for `backend`, the backend itself).\n\n");

        md.append("| target |");
        for (Metric m : TABLE) {
            md.append(' ').append(m.label()).append(" |");
        }
        md.append(" errors |\n|---|");
        for (int i = 0; i < TABLE.length; i++) {
            md.append("---:|");
        }
        md.append("---|\n");
        for (TargetResult t : run.targets()) {
            md.append("| ").append(t.name()).append(" |");
            for (Metric m : TABLE) {
                md.append(' ').append(statCell(t.stat(m), m)).append(" |");
            }
            md.append(' ').append(t.flagged() ? "**FLAGGED** " : "").append(t.contended() ? "**CONTENDED** " : "")
                    .append("non-2xx ").append(t.non2xx()).append(", socket ").append(t.socketErrors()).append(" |\n");
        }
        md.append('\n');
        for (Map.Entry<String, String> e : run.skipped().entrySet()) {
            md.append("- `").append(e.getKey()).append("` skipped: ").append(e.getValue()).append('\n');
        }
        if (!run.skipped().isEmpty()) {
            md.append('\n');
        }
        if (run.flagged()) {
            md.append("> **Warning:** at least one target had non-2xx responses or socket errors; its numbers are suspect.\n\n");
        }
        if (run.contended()) {
            md.append("> **Warning:** other processes used CPU during measured runs (others CPU %, CONTENDED rows); ")
                    .append("the machine was shared, so compare with care or rerun.\n\n");
        }

        if (!run.ratios().isEmpty()) {
            md.append("### Turnpike / nginx\n\n");
            md.append("Ratio of the medians from this run (compare ratios, not absolute numbers, across machines).\n\n");
            md.append("| metric | turnpike / nginx | better when |\n|---|---:|---|\n");
            for (Metric m : RATIOS) {
                Double r = run.ratios().get(m);
                if (r != null) {
                    md.append("| ").append(m.label()).append(" | ").append(ratio(r)).append(" | ")
                            .append(m.direction() == Metric.Direction.LOWER_IS_BETTER ? "lower" : "higher")
                            .append(" |\n");
                }
            }
            md.append('\n');
        }
        if (!run.pairRatios().isEmpty()) {
            md.append("### Other ratios\n\n");
            md.append("Ratio of the medians of two targets of this run (CPU and latency: lower is better).\n\n");
            md.append("| ratio |");
            for (Metric m : RATIOS) {
                md.append(' ').append(m.label()).append(" |");
            }
            md.append(" target |\n|---|").append("---:|".repeat(RATIOS.length)).append("---|\n");
            for (PairRatio r : run.pairRatios()) {
                md.append("| ").append(cell(r.label())).append(" |");
                for (Metric m : RATIOS) {
                    md.append(' ').append(ratio(r.ratios().get(m))).append(" |");
                }
                md.append(' ').append(r.target() == null ? "" : "`" + cell(r.target()) + "` "
                        + (Boolean.TRUE.equals(r.targetMet()) ? "met" : "**not met**")).append(" |\n");
            }
            md.append('\n');
        }

        fixedRate(md, run);
        md.append("### Parameters\n\n");
        md.append("- command: `").append(run.command()).append("`\n");
        md.append("- rounds ").append(p.rounds()).append(", warm-up ").append(p.warmupS()).append(" s, duration ")
                .append(p.durationS()).append(" s, ").append(p.connections()).append(" connections, ")
                .append(p.wrkThreads()).append(" wrk thread(s), body ").append(p.bodyBytes()).append(" B")
                .append(p.connectionClose() ? ", a new client connection per request (`Connection: close`): CPU µs/req"
                        + " is CPU per connection" : "").append('\n');
        md.append("- pinning: wrk and backend on CPU ").append(p.loadCores()).append(", proxy under test on CPU ")
                .append(p.proxyCores()).append('\n');
        if (!p.wrkCommand().isEmpty()) {
            md.append("- load: `").append(p.wrkCommand()).append("`\n");
        }
        if (!p.jvmOpts().isEmpty()) {
            md.append("- Turnpike JVM: `").append(p.jvmOpts()).append("`\n");
        }
        md.append('\n');

        md.append("### Environment\n\n| | |\n|---|---|\n");
        for (Map.Entry<String, String> e : run.environment().entrySet()) {
            md.append("| ").append(e.getKey()).append(" | ").append(cell(e.getValue())).append(" |\n");
        }
        md.append('\n');
    }

    /** The fixed-rate table ({@code --rate}), when any target has fixed-rate rounds. */
    private static void fixedRate(StringBuilder md, SideBySideRun run) {
        long rate = fixedRateOf(run);
        if (rate < 0) {
            return;
        }
        md.append("### Fixed rate ").append(String.format(Locale.ROOT, "%,d", rate))
                .append(" req/s (corrected for coordinated omission)\n\n")
                .append("Latency from each request's due time; medians [min–max] over the rounds the generator kept on ")
                .append("time (LAGGED rounds, where it sent requests more than 1 ms late at p99, are left out).\n\n")
                .append("| target | rounds | p50 ms | p99 ms | p99.9 ms | CPU µs/req | gen. lag p99 ms |\n")
                .append("|---|---|---:|---:|---:|---:|---:|\n");
        for (TargetResult t : run.targets()) {
            FixedRateResult f = t.fixedRate();
            if (f == null) {
                continue;
            }
            md.append("| ").append(t.name()).append(" | ").append(roundsCell(f)).append(" | ")
                    .append(statCell(f.p50Ms(), Metric.P50_MS)).append(" | ").append(statCell(f.p99Ms(), Metric.P99_MS))
                    .append(" | ").append(statCell(f.p999Ms(), Metric.P999_MS)).append(" | ")
                    .append(statCell(f.cpuUsPerReq(), Metric.CPU_US_PER_REQ)).append(" | ")
                    .append(statCell(f.sendLagP99Ms(), Metric.P99_MS)).append(" |\n");
        }
        md.append('\n');
        Double p99 = fixedRateRatio(run, FixedRateResult::p99Ms);
        Double p999 = fixedRateRatio(run, FixedRateResult::p999Ms);
        if (p99 != null) {
            md.append("Turnpike / nginx at this rate: p99 ").append(ratio(p99)).append(", p99.9 ").append(ratio(p999))
                    .append(" (lower is better).\n\n");
        }
    }

    /** The offered rate of the run's fixed-rate rounds, or -1 when it has none. */
    static long fixedRateOf(SideBySideRun run) {
        for (TargetResult t : run.targets()) {
            if (t.fixedRate() != null) {
                return t.fixedRate().rate();
            }
        }
        return -1;
    }

    static String roundsCell(FixedRateResult f) {
        if (f.allLagged()) {
            return "all " + f.rounds() + " **LAGGED**";
        }
        return f.lagged() == 0 ? String.valueOf(f.rounds()) : f.judgedRounds() + " of " + f.rounds();
    }

    /** turnpike / nginx of one fixed-rate median, or null unless both have fixed-rate rounds. */
    static Double fixedRateRatio(SideBySideRun run, java.util.function.Function<FixedRateResult, Stat> stat) {
        FixedRateResult a = null;
        FixedRateResult b = null;
        for (TargetResult t : run.targets()) {
            if (SideBySideRun.TURNPIKE.equals(t.name())) {
                a = t.fixedRate();
            } else if (SideBySideRun.NGINX.equals(t.name())) {
                b = t.fixedRate();
            }
        }
        if (a == null || b == null || stat.apply(b).median() == 0) {
            return null;
        }
        return stat.apply(a).median() / stat.apply(b).median();
    }

    static String statCell(Stat s, Metric m) {
        if (s == null) {
            return "–";
        }
        String cell = number(s.median(), m.decimals());
        if (s.hasRange()) {
            cell += " [" + number(s.min(), m.decimals()) + "–" + number(s.max(), m.decimals()) + "]";
        }
        return cell;
    }

    private static String median(TargetResult t, Metric m) {
        Stat s = t == null ? null : t.stat(m);
        return s == null ? "–" : number(s.median(), m.decimals());
    }

    static String number(double v, int decimals) {
        return decimals == 0
                ? String.format(Locale.ROOT, "%,.0f", v)
                : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    static String ratio(Double r) {
        return r == null ? "–" : String.format(Locale.ROOT, "%.2f×", r);
    }

    /** Keeps a free-form value inside one table cell. */
    private static String cell(String v) {
        return v.replace("|", "\\|").replace("\n", " ");
    }
}
