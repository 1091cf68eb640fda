package io.turnpike.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.perf.model.Metric;
import io.turnpike.perf.model.Report;
import io.turnpike.perf.model.SideBySideRun;
import io.turnpike.perf.read.ReportInputException;
import io.turnpike.perf.read.ResultInputs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerfReportMainTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();

    private int run(String... args) {
        return PerfReportMain.run(args, new PrintStream(outBytes, true, StandardCharsets.UTF_8),
                new PrintStream(errBytes, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    private static String rowOf(String markdown, String target) {
        return markdown.lines().filter(l -> l.startsWith("| " + target + " |")).findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + target + " in:\n" + markdown));
    }

    @Test
    void reportShowsMediansRangesRatiosEnvironmentAndCommand() {
        Path file = BenchJsonFixture.write(dir, "bench-1.json");

        assertEquals(PerfReportMain.OK, run("report", file.toString()), err());
        String md = out();

        String nginx = rowOf(md, "nginx");
        assertTrue(nginx.contains("50,000 [49,500–50,500]"), nginx);
        assertTrue(nginx.contains("2.000 [1.900–2.200]"), nginx);
        assertTrue(nginx.contains("16.00 [15.50–16.50]"), nginx);
        assertTrue(nginx.contains("18.2 |"), "a metric without spread shows no range: " + nginx);
        String turnpike = rowOf(md, "turnpike");
        assertTrue(turnpike.contains("24.00 [23.00–25.00]"), turnpike);
        assertTrue(turnpike.contains("**FLAGGED** **CONTENDED** non-2xx 0, socket 2"), turnpike);
        assertTrue(md.contains("> **Warning:** other processes used CPU"), md);
        assertTrue(md.contains("> **Warning:**"), md);
        assertTrue(rowOf(md, "backend").contains("80,000 [79,000–81,000]"), md);

        assertTrue(md.contains("| CPU µs/req | 1.50× | lower |"), md);
        assertTrue(md.contains("| p99 ms | 1.50× | lower |"), md);
        assertTrue(md.contains("| req/s | 0.90× | higher |"), md);

        assertTrue(md.contains("`scripts/bench.sh --rounds 3`"), md);
        assertTrue(md.contains("`taskset -c 0 wrk -t1 -c64 -d10s --latency URL`"), md);
        assertTrue(md.contains("| cpu_model | Test CPU |"), md);
        assertTrue(md.contains("| git_sha | abc123def456 |"), md);
        assertTrue(md.contains("wrk and backend on CPU 0, proxy under test on CPU 1"), md);
        assertTrue(md.contains("2030-01-02T03:04:05Z (`bench-1.json`)"), md);
        assertTrue(err().isEmpty(), err());
    }

    /** A fixed-rate round as bench.sh writes it ({@code results.<target>.fixed_rate_rounds[]}). */
    private static ObjectNode rateRound(double p50, double p99, double p999, double cpu, double lag, boolean lagged) {
        ObjectNode r = BenchJsonFixture.MAPPER.createObjectNode();
        r.put("rate", 20000).put("rate_p50_ms", p50).put("rate_p99_ms", p99).put("rate_p999_ms", p999)
                .put("rate_cpu_us_per_req", cpu).put("rate_send_lag_p99_ms", lag).put("lagged", lagged);
        return r;
    }

    @Test
    void fixedRateRoundsAreSummedUpWithoutTheLaggedOnes() throws Exception {
        Path file = BenchJsonFixture.write(dir, "bench-rate.json", root -> {
            ((ObjectNode) root.at("/results/nginx")).putArray("fixed_rate_rounds")
                    .add(rateRound(0.2, 5.0, 7.0, 40, 2.5, true))
                    .add(rateRound(0.2, 1.0, 4.0, 35, 0.2, false))
                    .add(rateRound(0.3, 3.0, 6.0, 36, 0.3, false));
            ((ObjectNode) root.at("/results/turnpike")).putArray("fixed_rate_rounds")
                    .add(rateRound(0.1, 1.2, 4.5, 34, 0.2, false))
                    .add(rateRound(0.2, 1.6, 5.0, 36, 0.3, false))
                    .add(rateRound(0.1, 1.0, 4.0, 35, 0.2, false));
            ((ObjectNode) root.at("/results/backend")).putArray("fixed_rate_rounds")
                    .add(rateRound(0.1, 9.0, 12.0, 12, 3.0, true))
                    .add(rateRound(0.1, 11.0, 14.0, 12, 4.0, true));
        });

        SideBySideRun run = new ResultInputs().load("t", List.of(file)).sideBySide().get(0);
        var nginx = run.targets().stream().filter(t -> t.name().equals("nginx")).findFirst().orElseThrow().fixedRate();
        assertEquals(20000, nginx.rate());
        assertEquals(1, nginx.lagged());
        assertEquals(2.0, nginx.p99Ms().median(), 1e-9, "the LAGGED round (5.0 ms) is left out: median of 1.0, 3.0");
        assertEquals(1.0, nginx.p99Ms().min(), 1e-9);

        assertEquals(PerfReportMain.OK, run("report", "--html", dir.resolve("r.html").toString(), file.toString()),
                err());
        String md = out();
        assertTrue(md.contains("### Fixed rate 20,000 req/s (corrected for coordinated omission)"), md);
        String fixed = md.substring(md.indexOf("### Fixed rate"));
        assertTrue(rowOf(fixed, "nginx").contains("| 2 of 3 | 0.250 [0.200–0.300] | 2.000 [1.000–3.000] |"),
                rowOf(fixed, "nginx"));
        assertTrue(rowOf(fixed, "turnpike").contains("| 3 | 0.100 [0.100–0.200] | 1.200 [1.000–1.600] |"),
                rowOf(fixed, "turnpike"));
        assertTrue(rowOf(fixed, "backend").contains("| all 2 **LAGGED** | 0.100 | 10.000 [9.000–11.000] |"),
                rowOf(fixed, "backend"));
        assertTrue(md.contains("Turnpike / nginx at this rate: p99 0.60×, p99.9 0.90× (lower is better)."), md);
        String html = Files.readString(dir.resolve("r.html"));
        assertTrue(html.contains("Fixed rate 20,000 req/s: latency from the due time"), html);
        assertTrue(html.contains("p99 <b>0.60×</b>, p99.9 <b>0.90×</b>"), html);
    }

    @Test
    void noFixedRateSectionWithoutFixedRateRounds() {
        Path file = BenchJsonFixture.write(dir, "bench-norate.json");
        assertEquals(PerfReportMain.OK, run("report", file.toString()), err());
        assertFalse(out().contains("Fixed rate"), out());
    }

    @Test
    void ratiosAreComputedFromMediansWhenTheFileHasNone() throws Exception {
        Path file = BenchJsonFixture.write(dir, "bench-2.json", root -> root.remove("ratios"));

        SideBySideRun run = new ResultInputs().load(Report.DEFAULT_TITLE, List.of(file)).sideBySide().get(0);

        assertEquals(24.0 / 16.0, run.ratios().get(Metric.CPU_US_PER_REQ), 1e-9);
        assertEquals(3.0 / 2.0, run.ratios().get(Metric.P99_MS), 1e-9);
        assertEquals(45000.0 / 50000.0, run.ratios().get(Metric.RPS), 1e-9);
        assertEquals(3, run.target("nginx").rounds());
    }

    @Test
    void noRatiosWithoutBothProxies() throws Exception {
        Path file = BenchJsonFixture.write(dir, "bench-3.json", root -> {
            root.remove("ratios");
            ((ObjectNode) root.get("results")).remove("turnpike");
            ((ObjectNode) root.get("skipped")).put("turnpike", "engine/target/turnpike.jar not found");
        });

        SideBySideRun run = new ResultInputs().load(Report.DEFAULT_TITLE, List.of(file)).sideBySide().get(0);
        assertTrue(run.ratios().isEmpty());
        assertNull(run.target("turnpike"));

        assertEquals(PerfReportMain.OK, run("report", file.toString()));
        assertFalse(out().contains("### Turnpike / nginx"), out());
        assertTrue(out().contains("- `turnpike` skipped: engine/target/turnpike.jar not found"), out());
    }

    @Test
    void missingMetricNamesFileAndField() {
        Path file = BenchJsonFixture.write(dir, "broken.json",
                root -> ((ObjectNode) root.at("/results/nginx/median")).remove("cpu_us_per_req"));

        assertEquals(PerfReportMain.BAD_INPUT, run("report", file.toString()));
        assertTrue(err().contains(file.toString()), err());
        assertTrue(err().contains("missing field 'results.nginx.median.cpu_us_per_req'"), err());
        assertTrue(out().isEmpty(), "nothing is written on bad input");
    }

    @Test
    void missingSectionAndWrongTypesAreNamed() {
        Path noParams = BenchJsonFixture.write(dir, "no-params.json", root -> root.remove("parameters"));
        ReportInputException e = assertThrows(ReportInputException.class,
                () -> new ResultInputs().load("t", List.of(noParams)));
        assertEquals("parameters", e.field());
        assertEquals(noParams, e.file());
        assertEquals(noParams + ": missing field 'parameters'", e.getMessage());

        Path badRounds = BenchJsonFixture.write(dir, "bad-rounds.json",
                root -> ((ObjectNode) root.get("parameters")).put("rounds", "three"));
        e = assertThrows(ReportInputException.class, () -> new ResultInputs().load("t", List.of(badRounds)));
        assertEquals("parameters.rounds", e.field());

        Path nullP99 = BenchJsonFixture.write(dir, "null-p99.json",
                root -> ((ObjectNode) root.at("/results/turnpike/max")).putNull("p99_ms"));
        e = assertThrows(ReportInputException.class, () -> new ResultInputs().load("t", List.of(nullP99)));
        assertEquals("results.turnpike.max.p99_ms", e.field());
    }

    @Test
    void invalidJsonUnknownFormatAndMissingFileNameTheFile() throws Exception {
        Path notJson = dir.resolve("truncated.json");
        Files.writeString(notJson, "{\"format\": \"turnpike-bench/v1\", \"results\": {");
        assertEquals(PerfReportMain.BAD_INPUT, run("report", notJson.toString()));
        assertTrue(err().contains(notJson + ": not valid JSON"), err());

        Path other = dir.resolve("other.json");
        Files.writeString(other, "{\"hello\": 1}");
        ReportInputException e = assertThrows(ReportInputException.class,
                () -> new ResultInputs().load("t", List.of(other)));
        assertTrue(e.getMessage().startsWith(other + ": unrecognized input"), e.getMessage());

        Path v2 = BenchJsonFixture.write(dir, "v2.json", root -> root.put("format", "turnpike-bench/v2"));
        e = assertThrows(ReportInputException.class, () -> new ResultInputs().load("t", List.of(v2)));
        assertEquals("format", e.field());

        Path missing = dir.resolve("nope.json");
        e = assertThrows(ReportInputException.class, () -> new ResultInputs().load("t", List.of(missing)));
        assertEquals(missing + ": no such file", e.getMessage());
    }

    @Test
    void outWritesFileAndSeveralInputsGetAnOverview() throws Exception {
        Path a = BenchJsonFixture.write(dir, "bench-a.json");
        Path b = BenchJsonFixture.write(dir, "bench-b.json", root -> {
            root.put("generated_at", "2030-02-02T00:00:00Z");
            ((ObjectNode) root.at("/ratios/turnpike_vs_nginx")).put("cpu_us_per_req", 1.25);
        });
        Path md = dir.resolve("sub/report.md");

        assertEquals(PerfReportMain.OK, run("report", "--title", "Nightly", "--out", md.toString(), a.toString(),
                b.toString()), err());
        assertTrue(out().isEmpty());
        String text = Files.readString(md);
        assertTrue(text.startsWith("# Nightly\n"), text);
        assertTrue(text.contains("## Overview"), text);
        assertTrue(text.contains("| 2030-01-02T03:04:05Z (`bench-a.json`) | abc123def456 | 16.00 | 24.00 | 1.50× | 1.50× |"),
                text);
        assertTrue(text.contains("| 2030-02-02T00:00:00Z (`bench-b.json`) | abc123def456 | 16.00 | 24.00 | 1.25× | 1.50× |"),
                text);
        assertEquals(2, text.lines().filter(l -> l.startsWith("## Side-by-side run")).count());
    }

    @Test
    void usageErrors() {
        assertEquals(PerfReportMain.USAGE, run());
        assertEquals(PerfReportMain.USAGE, run("report"));
        assertEquals(PerfReportMain.USAGE, run("report", "--out"));
        assertEquals(PerfReportMain.USAGE, run("report", "--bogus", "x.json"));
        assertEquals(PerfReportMain.USAGE, run("compare", "x.json"));
        assertTrue(err().contains("usage: perf-reports report"), err());
        assertEquals(PerfReportMain.OK, run("help"));
    }
}
