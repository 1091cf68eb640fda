package io.turnpike.perf;

import io.turnpike.perf.gate.Baseline;
import io.turnpike.perf.gate.BaselineIO;
import io.turnpike.perf.gate.Finding;
import io.turnpike.perf.gate.Gate;
import io.turnpike.perf.gate.GateOptions;
import io.turnpike.perf.gate.Snapshot;
import io.turnpike.perf.model.Report;
import io.turnpike.perf.read.ReportInputException;
import io.turnpike.perf.read.ResultInputs;
import io.turnpike.perf.render.HtmlReportWriter;
import io.turnpike.perf.render.MarkdownReportWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Command line of the perf-reports module.
 *
 * <pre>
 * java -jar perf-reports/target/perf-reports.jar report  [--out FILE.md] [--html FILE.html] [--baseline FILE] [--title TEXT] FILE...
 * java -jar perf-reports/target/perf-reports.jar compare --baseline FILE [--time-threshold F] [--wide-band F]
 *                                                        [--latency-threshold F] [--only alloc|time] [--strict] FILE...
 * java -jar perf-reports/target/perf-reports.jar bless   --out FILE [--name NAME] [--note TEXT] FILE...
 * </pre>
 *
 * Exit status: 0 done (compare: no regression); 1 compare found a regression, or bad input (the message
 * names the file and field); 2 usage error.
 */
public final class PerfReportMain {

    public static final int OK = 0;
    public static final int BAD_INPUT = 1;
    public static final int REGRESSION = 1;
    public static final int USAGE = 2;

    private static final String USAGE_TEXT = String.join("\n",
            "usage: perf-reports report [--out FILE.md] [--html FILE.html] [--baseline FILE] [--title TEXT] FILE...",
            "       perf-reports compare --baseline FILE [--time-threshold F] [--wide-band F] [--latency-threshold F]",
            "                            [--alloc-epsilon B] [--only alloc|time] [--strict] FILE...",
            "       perf-reports bless --out FILE [--name NAME] [--note TEXT] [--allow-contended] FILE...",
            "  FILE     result files: bench JSON (scripts/bench.sh), JMH JSON (scripts/jmh.sh)",
            "  report   Markdown report (stdout or --out) and, with --html, an HTML page with inline SVG charts;",
            "           --baseline adds the comparison against a committed baseline",
            "  compare  check the run against a baseline; exit 1 on a regression:",
            "             allocation (gc.alloc.rate.norm) gates exactly: run > baseline + epsilon fails",
            "             (epsilon = max(--alloc-epsilon, JMH per-iteration overhead / ops), default "
                    + GateOptions.DEFAULT_ALLOC_EPSILON + " B/op)",
            "             time normalised by a reference in the same run fails beyond --time-threshold (default "
                    + GateOptions.DEFAULT_TIME_THRESHOLD + ")",
            "             raw time without a reference fails beyond --wide-band (default "
                    + GateOptions.DEFAULT_WIDE_BAND + ")",
            "             turnpike/nginx p99 ratio fails beyond --latency-threshold (default "
                    + GateOptions.DEFAULT_LATENCY_THRESHOLD + ")",
            "           --strict: a baseline benchmark missing from the run fails; --only: run one kind of rule",
            "  bless    write a baseline from the run files (commit it under perf-reports/baselines/);",
            "           refuses a CONTENDED side-by-side run unless --allow-contended",
            "");

    private PerfReportMain() {
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        int status = run(args, out, System.err);
        out.flush();
        System.exit(status);
    }

    /** Parsed options of any command. */
    private static final class Args {
        Path out;
        Path html;
        Path baseline;
        String title = Report.DEFAULT_TITLE;
        String name;
        String note = "";
        String only;
        boolean strict;
        boolean allowContended;
        double timeThreshold = GateOptions.DEFAULT_TIME_THRESHOLD;
        double wideBand = GateOptions.DEFAULT_WIDE_BAND;
        double latencyThreshold = GateOptions.DEFAULT_LATENCY_THRESHOLD;
        double allocEpsilon = GateOptions.DEFAULT_ALLOC_EPSILON;
        final List<Path> inputs = new ArrayList<>();

        GateOptions gateOptions() {
            return new GateOptions(timeThreshold, wideBand, latencyThreshold, allocEpsilon, strict,
                    only == null || "alloc".equals(only), only == null || "time".equals(only));
        }
    }

    /** Runs the command; never exits the JVM (tests call this). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || "help".equals(args[0]) || "--help".equals(args[0]) || "-h".equals(args[0])) {
            (args.length == 0 ? err : out).print(USAGE_TEXT);
            return args.length == 0 ? USAGE : OK;
        }
        String command = args[0];
        if (!List.of("report", "compare", "bless").contains(command)) {
            err.print("perf-reports: unknown command '" + command + "'\n" + USAGE_TEXT);
            return USAGE;
        }
        Args a = new Args();
        for (int i = 1; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            if (arg.startsWith("--") && arg.contains("=")) {
                value = arg.substring(arg.indexOf('=') + 1);
                arg = arg.substring(0, arg.indexOf('='));
            }
            if ("--strict".equals(arg) && !"bless".equals(command)) {
                a.strict = true;
                continue;
            }
            if ("--allow-contended".equals(arg) && "bless".equals(command)) {
                a.allowContended = true;
                continue;
            }
            if (!arg.startsWith("--")) {
                a.inputs.add(Path.of(arg));
                continue;
            }
            if (!allowed(command, arg)) {
                err.print("perf-reports: unknown option '" + arg + "' for " + command + "\n" + USAGE_TEXT);
                return USAGE;
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    err.print("perf-reports: " + arg + " needs a value\n" + USAGE_TEXT);
                    return USAGE;
                }
                value = args[++i];
            }
            try {
                switch (arg) {
                    case "--out" -> a.out = Path.of(value);
                    case "--html" -> a.html = Path.of(value);
                    case "--baseline" -> a.baseline = Path.of(value);
                    case "--title" -> a.title = value;
                    case "--name" -> a.name = value;
                    case "--note" -> a.note = value;
                    case "--only" -> {
                        if (!"alloc".equals(value) && !"time".equals(value)) {
                            err.print("perf-reports: --only takes alloc or time, got '" + value + "'\n");
                            return USAGE;
                        }
                        a.only = value;
                    }
                    case "--time-threshold" -> a.timeThreshold = fraction(value);
                    case "--wide-band" -> a.wideBand = fraction(value);
                    case "--latency-threshold" -> a.latencyThreshold = fraction(value);
                    case "--alloc-epsilon" -> a.allocEpsilon = fraction(value);
                    default -> throw new IllegalStateException(arg);
                }
            } catch (NumberFormatException e) {
                err.print("perf-reports: " + arg + " takes a non-negative number, got '" + value + "'\n");
                return USAGE;
            }
        }
        if (a.inputs.isEmpty()) {
            err.print("perf-reports: " + command + " needs at least one input file\n" + USAGE_TEXT);
            return USAGE;
        }
        try {
            switch (command) {
                case "compare":
                    if (a.baseline == null) {
                        err.print("perf-reports: compare needs --baseline FILE\n" + USAGE_TEXT);
                        return USAGE;
                    }
                    return compare(a, out);
                case "bless":
                    if (a.out == null) {
                        err.print("perf-reports: bless needs --out FILE\n" + USAGE_TEXT);
                        return USAGE;
                    }
                    return bless(a, args, out);
                default:
                    return report(a, out, err);
            }
        } catch (ReportInputException e) {
            err.println("perf-reports: error: " + e.getMessage());
            return BAD_INPUT;
        } catch (IOException e) {
            err.println("perf-reports: error: " + e);
            return BAD_INPUT;
        }
    }

    private static boolean allowed(String command, String opt) {
        return switch (command) {
            case "report" -> List.of("--out", "--html", "--baseline", "--title", "--time-threshold", "--wide-band",
                    "--latency-threshold", "--alloc-epsilon", "--only").contains(opt);
            case "compare" -> List.of("--baseline", "--time-threshold", "--wide-band", "--latency-threshold",
                    "--alloc-epsilon", "--only").contains(opt);
            case "bless" -> List.of("--out", "--name", "--note", "--alloc-epsilon").contains(opt);
            default -> false;
        };
    }

    private static double fraction(String v) {
        double d = Double.parseDouble(v);
        if (!(d >= 0) || Double.isInfinite(d)) {
            throw new NumberFormatException(v);
        }
        return d;
    }

    private static int report(Args a, PrintStream out, PrintStream err) throws ReportInputException, IOException {
        Report report = new ResultInputs().load(a.title, a.inputs);
        Comparison comparison = null;
        if (a.baseline != null) {
            Baseline b = BaselineIO.read(a.baseline);
            List<Finding> findings = new Gate(a.gateOptions()).compare(b.snapshot(),
                    Snapshot.of(report, a.allocEpsilon));
            comparison = new Comparison(a.baseline.toString(), b, findings, a.gateOptions());
        }
        String markdown = new MarkdownReportWriter().render(report, comparison);
        if (a.out == null) {
            out.print(markdown);
            out.flush();
        } else {
            writeFile(a.out, markdown);
        }
        if (a.html != null) {
            writeFile(a.html, new HtmlReportWriter().render(report, comparison));
        }
        return OK;
    }

    /** A finished comparison, for the report writers. */
    public record Comparison(String baselinePath, Baseline baseline, List<Finding> findings, GateOptions options) {
    }

    private static int compare(Args a, PrintStream out) throws ReportInputException {
        Baseline b = BaselineIO.read(a.baseline);
        Report report = new ResultInputs().load(Report.DEFAULT_TITLE, a.inputs);
        GateOptions opts = a.gateOptions();
        List<Finding> findings = new Gate(opts).compare(b.snapshot(), Snapshot.of(report, a.allocEpsilon));
        out.println("perf-reports compare: baseline " + a.baseline + " ('" + b.name() + "', blessed " + b.blessedAt()
                + " on " + b.machine().getOrDefault("cpu_model", "?") + " x" + b.machine().getOrDefault("cores", "?")
                + ", git " + b.environment().getOrDefault("bench.git_sha", "?") + ")");
        out.println("run: " + String.join(" ", a.inputs.stream().map(Path::toString).toList()));
        out.println(String.format(Locale.ROOT, "rules: alloc run > baseline + max(%s B/op, JMH overhead/ops) fails; "
                        + "time vs same-run reference +%.0f %%; raw time (no reference) +%.0f %%; p99 ratio +%.0f %%%s%s",
                allocText(opts.allocEpsilonFloor()), opts.timeThreshold() * 100, opts.wideBand() * 100,
                opts.latencyThreshold() * 100, opts.strict() ? "; --strict" : "",
                a.only == null ? "" : "; only " + a.only + " rules"));
        String thisCpu = BaselineIO.thisMachine().get("cpu_model");
        String thisCores = BaselineIO.thisMachine().get("cores");
        if (!thisCpu.equals(b.machine().get("cpu_model")) || !thisCores.equals(b.machine().get("cores"))) {
            out.println("note: this machine (" + thisCpu + " x" + thisCores + ") is not the baseline's: raw times"
                    + " (wide band) compare across machines; ratio and allocation rules do not depend on it");
        }
        for (Finding f : findings) {
            out.println(String.format(Locale.ROOT, "%-10s %-16s %s", f.verdict(), f.check(), f.message()));
        }
        long regressions = Gate.count(findings, Finding.Verdict.REGRESSION);
        out.println(String.format(Locale.ROOT, "perf-reports compare: %s: %d regression(s), %d warning(s), %d improved, "
                        + "%d ok, %d not gated", regressions > 0 ? "FAIL" : "PASS", regressions,
                Gate.count(findings, Finding.Verdict.WARNING), Gate.count(findings, Finding.Verdict.IMPROVED),
                Gate.count(findings, Finding.Verdict.OK), Gate.count(findings, Finding.Verdict.INFO)));
        return regressions > 0 ? REGRESSION : OK;
    }

    private static String allocText(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static int bless(Args a, String[] args, PrintStream out) throws ReportInputException, IOException {
        Report report = new ResultInputs().load(Report.DEFAULT_TITLE, a.inputs);
        if (!a.allowContended) {
            for (io.turnpike.perf.model.SideBySideRun run : report.sideBySide()) {
                if (run.contended()) {
                    Path file = a.inputs.stream().filter(p -> p.getFileName().toString().equals(run.source()))
                            .findFirst().orElse(Path.of(run.source()));
                    throw new ReportInputException(file, null,
                            "refusing to bless: side-by-side run " + run.source() + " is CONTENDED (other processes"
                                    + " used CPU during a measured round); rerun on a quiet machine or pass --allow-contended");
                }
            }
        }
        String name = a.name;
        if (name == null) {
            String file = a.out.getFileName().toString();
            name = file.endsWith(".json") ? file.substring(0, file.length() - 5) : file;
        }
        StringBuilder cmd = new StringBuilder("perf-reports");
        for (String s : args) {
            cmd.append(' ').append(s);
        }
        Baseline b = BaselineIO.bless(name, cmd.toString(), a.note, report, a.inputs, a.allocEpsilon);
        BaselineIO.write(b, a.out);
        out.println("perf-reports bless: wrote " + a.out + " (" + b.snapshot().jmh().size() + " JMH benchmark(s)"
                + (b.snapshot().bench() != null ? ", side-by-side figures" : "") + "); review and commit it");
        return OK;
    }

    private static void writeFile(Path file, String text) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }
}
