package io.turnpike.perf;

import io.turnpike.perf.model.Report;
import io.turnpike.perf.read.ReportInputException;
import io.turnpike.perf.read.ResultInputs;
import io.turnpike.perf.render.MarkdownReportWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Command line of the perf-reports module.
 *
 * <pre>
 * java -jar perf-reports/target/perf-reports.jar report [--out FILE] [--title TEXT] FILE...
 * </pre>
 *
 * Exit status: 0 written, 1 bad input (the message names the file and field), 2 usage error.
 */
public final class PerfReportMain {

    public static final int OK = 0;
    public static final int BAD_INPUT = 1;
    public static final int USAGE = 2;

    private static final String USAGE_TEXT = String.join("\n",
            "usage: perf-reports report [--out FILE] [--title TEXT] FILE...",
            "  report   read bench JSON files (scripts/bench.sh) and write a Markdown report",
            "  --out    write the report to FILE instead of stdout",
            "  --title  report heading (default: \"" + Report.DEFAULT_TITLE + "\")",
            "");

    private PerfReportMain() {
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        int status = run(args, out, System.err);
        out.flush();
        System.exit(status);
    }

    /** Runs the command; never exits the JVM (tests call this). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || "help".equals(args[0]) || "--help".equals(args[0]) || "-h".equals(args[0])) {
            (args.length == 0 ? err : out).print(USAGE_TEXT);
            return args.length == 0 ? USAGE : OK;
        }
        if (!"report".equals(args[0])) {
            err.print("perf-reports: unknown command '" + args[0] + "'\n" + USAGE_TEXT);
            return USAGE;
        }
        Path outFile = null;
        String title = Report.DEFAULT_TITLE;
        List<Path> inputs = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if ("--out".equals(a) || "--title".equals(a)) {
                if (i + 1 >= args.length) {
                    err.print("perf-reports: " + a + " needs a value\n" + USAGE_TEXT);
                    return USAGE;
                }
                if ("--out".equals(a)) {
                    outFile = Path.of(args[++i]);
                } else {
                    title = args[++i];
                }
            } else if (a.startsWith("--")) {
                err.print("perf-reports: unknown option '" + a + "'\n" + USAGE_TEXT);
                return USAGE;
            } else {
                inputs.add(Path.of(a));
            }
        }
        if (inputs.isEmpty()) {
            err.print("perf-reports: report needs at least one input file\n" + USAGE_TEXT);
            return USAGE;
        }

        Report report;
        try {
            report = new ResultInputs().load(title, inputs);
        } catch (ReportInputException e) {
            err.println("perf-reports: error: " + e.getMessage());
            return BAD_INPUT;
        }
        String markdown = new MarkdownReportWriter().render(report);
        if (outFile == null) {
            out.print(markdown);
            out.flush();
            return OK;
        }
        try {
            Path parent = outFile.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(outFile, markdown, StandardCharsets.UTF_8);
        } catch (IOException e) {
            err.println("perf-reports: error: cannot write " + outFile + ": " + e);
            return BAD_INPUT;
        }
        return OK;
    }
}
