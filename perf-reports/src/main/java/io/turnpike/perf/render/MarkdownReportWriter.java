package io.turnpike.perf.render;

import io.turnpike.perf.model.BenchParameters;
import io.turnpike.perf.model.Metric;
import io.turnpike.perf.model.Report;
import io.turnpike.perf.model.SideBySideRun;
import io.turnpike.perf.model.Stat;
import io.turnpike.perf.model.TargetResult;
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
        StringBuilder md = new StringBuilder(4096);
        md.append("# ").append(report.title()).append("\n\n");
        if (report.sideBySide().size() > 1) {
            overview(md, report);
        }
        for (SideBySideRun run : report.sideBySide()) {
            sideBySide(md, run);
        }
        return md.toString();
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

        md.append("### Parameters\n\n");
        md.append("- command: `").append(run.command()).append("`\n");
        md.append("- rounds ").append(p.rounds()).append(", warm-up ").append(p.warmupS()).append(" s, duration ")
                .append(p.durationS()).append(" s, ").append(p.connections()).append(" connections, ")
                .append(p.wrkThreads()).append(" wrk thread(s), body ").append(p.bodyBytes()).append(" B\n");
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
