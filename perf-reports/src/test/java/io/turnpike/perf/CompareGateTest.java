package io.turnpike.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.perf.gate.Baseline;
import io.turnpike.perf.gate.BaselineIO;
import io.turnpike.perf.gate.JmhPoint;
import io.turnpike.perf.gate.Snapshot;
import io.turnpike.perf.read.ReportInputException;
import io.turnpike.perf.read.ResultInputs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compare and bless end to end through the command line, on crafted run files. */
class CompareGateTest {

    @TempDir
    Path dir;

    private ByteArrayOutputStream outBytes;
    private ByteArrayOutputStream errBytes;
    private Path baseline;

    private int run(String... args) {
        outBytes = new ByteArrayOutputStream();
        errBytes = new ByteArrayOutputStream();
        return PerfReportMain.run(args, new PrintStream(outBytes, true, StandardCharsets.UTF_8),
                new PrintStream(errBytes, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    /** The bench fixture without its errors and CONTENDED marks: a run fit to bless. */
    private Path cleanBench(String name, Consumer<ObjectNode> edit) {
        return BenchJsonFixture.write(dir, name, root -> {
            ObjectNode t = (ObjectNode) root.at("/results/turnpike");
            t.put("socket_errors_total", 0);
            t.put("flagged", false);
            t.put("contended", false);
            edit.accept(root);
        });
    }

    private static void turnpikeCpu(ObjectNode root, double cpuUs) {
        for (String s : new String[] {"median", "min", "max"}) {
            ((ObjectNode) root.at("/results/turnpike/" + s)).put("cpu_us_per_req", cpuUs);
        }
        ((ObjectNode) root.at("/ratios/turnpike_vs_nginx")).put("cpu_us_per_req", cpuUs / 16.0);
    }

    /** The first output line containing every fragment. */
    private String line(String... fragments) {
        return out().lines().filter(l -> java.util.Arrays.stream(fragments).allMatch(l::contains)).findFirst()
                .orElseThrow(() -> new AssertionError("no line with " + List.of(fragments) + " in:\n" + out()));
    }

    @BeforeEach
    void bless() {
        Path jmh = JmhJsonFixture.write(dir, "jmh-base.json");
        Path bench = cleanBench("bench-base.json", r -> { });
        baseline = dir.resolve("baselines/ci-smoke.json");
        assertEquals(PerfReportMain.OK, run("bless", "--out", baseline.toString(), "--note", "test baseline",
                jmh.toString(), bench.toString()), err());
        assertTrue(out().contains("wrote " + baseline), out());
    }

    @Test
    void unchangedRunPasses() {
        Path jmh = JmhJsonFixture.write(dir, "jmh-run.json");
        Path bench = cleanBench("bench-run.json", r -> { });
        assertEquals(PerfReportMain.OK, run("compare", "--baseline", baseline.toString(), jmh.toString(),
                bench.toString()), out() + err());
        assertTrue(out().contains("perf-reports compare: PASS: 0 regression(s)"), out());
        assertFalse(out().contains("REGRESSION"), out());
    }

    @Test
    void allocationRegressionFailsNamingTheBenchmarkAndBothNumbers() {
        // Baseline ~0 B/op (0.002), run 48 B/op: one small object per match.
        Path jmh = JmhJsonFixture.write(dir, "jmh-alloc.json",
                r -> JmhJsonFixture.setAlloc(r, "RouterMatchBenchmark.exactHit", 48.0));
        Path bench = cleanBench("bench-run.json", r -> { });

        assertEquals(PerfReportMain.REGRESSION, run("compare", "--baseline", baseline.toString(), jmh.toString(),
                bench.toString()));
        String l = line("RouterMatchBenchmark.exactHit[routes=10000]: allocates");
        assertTrue(l.startsWith("REGRESSION"), l);
        assertTrue(l.contains("allocates 48.00 B/op, baseline 0.00 B/op"), l);
        assertTrue(l.contains("limit 1.00 B/op = baseline + 1.00 B/op epsilon"), l);
        assertTrue(out().contains("FAIL: 1 regression(s)"), out());

        // Time rules off: allocation still gates (what perf-gate.sh uses to decide on a retry).
        assertEquals(PerfReportMain.REGRESSION, run("compare", "--only", "alloc", "--baseline", baseline.toString(),
                jmh.toString()));
        // ...and a time-only check does not see it.
        assertEquals(PerfReportMain.OK, run("compare", "--only", "time", "--baseline", baseline.toString(),
                jmh.toString(), bench.toString()), out());
    }

    @Test
    void allocationWithinEpsilonAndYardstickAllocationPass() {
        Path jmh = JmhJsonFixture.write(dir, "jmh-eps.json", r -> {
            JmhJsonFixture.setAlloc(r, "RouterMatchBenchmark.exactHit", 0.9);           // JMH rounding
            JmhJsonFixture.setAlloc(r, "RouterMatchBenchmark.stringHashMapExact", 40.0); // third-party, varies
        });
        assertEquals(PerfReportMain.OK, run("compare", "--baseline", baseline.toString(), jmh.toString()), out());
        assertTrue(line("RouterMatchBenchmark.stringHashMapExact[routes=10000]: 40.00").startsWith("INFO"), out());
    }

    @Test
    void timeRegressionBeyondThresholdFailsNamingTheBenchmark() {
        // turnpike parse 200 -> 300 ns while Netty's decoder stays at 500: 0.4 -> 0.6 of the yardstick, +50 %.
        Path jmh = JmhJsonFixture.write(dir, "jmh-slow.json",
                r -> JmhJsonFixture.setScore(r, "RequestParseBenchmark.turnpike", 300.0));

        assertEquals(PerfReportMain.REGRESSION, run("compare", "--baseline", baseline.toString(), jmh.toString()));
        String l = line("RequestParseBenchmark.turnpike[request=small]", " time ");
        assertTrue(l.startsWith("REGRESSION time"), l);
        assertTrue(l.contains("= 0.600 (300.0 ns/op / 500.0 ns/op), baseline 0.400 (200.0 ns/op / 500.0 ns/op)"), l);
        assertTrue(l.contains("+50.0 %, threshold +25 %"), l);

        // A wider threshold lets it through; a +20 % change passes the default.
        assertEquals(PerfReportMain.OK, run("compare", "--time-threshold", "0.6", "--baseline", baseline.toString(),
                jmh.toString()), out());
        Path jmh20 = JmhJsonFixture.write(dir, "jmh-20.json",
                r -> JmhJsonFixture.setScore(r, "RequestParseBenchmark.turnpike", 240.0));
        assertEquals(PerfReportMain.OK, run("compare", "--baseline", baseline.toString(), jmh20.toString()), out());
    }

    @Test
    void aSlowerMachineIsNotARegressionWhenTheYardstickSlowsToo() {
        Path jmh = JmhJsonFixture.write(dir, "jmh-busy.json", r -> {
            JmhJsonFixture.setScore(r, "RequestParseBenchmark.turnpike", 380.0);
            JmhJsonFixture.setScore(r, "RequestParseBenchmark.nettyDecoder", 950.0);
            JmhJsonFixture.setScore(r, "RouterMatchBenchmark.exactHit", 140.0);
            JmhJsonFixture.setScore(r, "RouterMatchBenchmark.stringHashMapExact", 100.0);
        });
        assertEquals(PerfReportMain.OK, run("compare", "--baseline", baseline.toString(), jmh.toString()), out());
    }

    @Test
    void aYardsticksOwnTimeIsReportedNotGated() {
        // Netty's decoder 3x slower with Turnpike's parser slower by the same factor: the machine, not a regression
        Path jmh = JmhJsonFixture.write(dir, "jmh-slow-machine.json", r -> {
            JmhJsonFixture.setScore(r, "RequestParseBenchmark.nettyDecoder", 1500.0);
            JmhJsonFixture.setScore(r, "RequestParseBenchmark.turnpike", 600.0);
        });
        assertEquals(PerfReportMain.OK, run("compare", "--baseline", baseline.toString(), jmh.toString()), out());
        String l = line("RequestParseBenchmark.nettyDecoder[request=small]: time");
        assertTrue(l.startsWith("INFO") && !out().contains("REGRESSION"), l);
        assertTrue(l.contains("time 1,500 ns/op, baseline 500.0 ns/op (yardstick of third-party code"), l);
    }

    @Test
    void withoutAYardstickTheWideBandApplies() {
        Path within = JmhJsonFixture.write(dir, "jmh-1.7x.json",
                r -> JmhJsonFixture.setScore(r, "ProxyPipelineBenchmark.proxy", 3400.0));
        assertEquals(PerfReportMain.OK, run("compare", "--baseline", baseline.toString(), within.toString()), out());

        Path beyond = JmhJsonFixture.write(dir, "jmh-2.5x.json", r -> {
            JmhJsonFixture.setScore(r, "ProxyPipelineBenchmark.proxy", 5000.0);
            JmhJsonFixture.setScore(r, "ProxyPipelineBenchmark.proxyThroughput", 200000.0); // ops/s: lower is worse
        });
        assertEquals(PerfReportMain.REGRESSION, run("compare", "--baseline", baseline.toString(), beyond.toString()));
        assertTrue(line("ProxyPipelineBenchmark.proxy[exchange=get]", "wide band").startsWith("REGRESSION time (wide band)"),
                out());
        String l = line("ProxyPipelineBenchmark.proxyThroughput[exchange=get]", "wide band");
        assertTrue(l.startsWith("REGRESSION time (wide band)"), l);
        assertTrue(l.contains("time 200,000 ops/s, baseline 500,000 ops/s: +150.0 %, threshold +100 %"), l);
    }

    @Test
    void sideBySideCpuRatioRegressionFailsUnlessTheRunWasContended() {
        Path jmh = JmhJsonFixture.write(dir, "jmh-run.json");
        // turnpike 24 -> 32 µs/req while nginx stays at 16: ratio 1.5 -> 2.0, +33 %.
        Path slow = cleanBench("bench-slow.json", r -> turnpikeCpu(r, 32.0));
        assertEquals(PerfReportMain.REGRESSION, run("compare", "--baseline", baseline.toString(), jmh.toString(),
                slow.toString()));
        String l = line("turnpike/nginx CPU µs per request");
        assertTrue(l.startsWith("REGRESSION cpu/req ratio"), l);
        assertTrue(l.contains("2.000 (32.00 / 16.00 µs), baseline 1.500 (24.00 / 16.00 µs): +33.3 %"), l);

        Path contended = cleanBench("bench-contended.json", r -> {
            turnpikeCpu(r, 32.0);
            ((ObjectNode) r.at("/results/nginx")).put("contended", true);
        });
        assertEquals(PerfReportMain.OK, run("compare", "--baseline", baseline.toString(), jmh.toString(),
                contended.toString()), out());
        assertTrue(line("turnpike/nginx CPU µs per request").startsWith("WARNING"), out());
        assertTrue(out().contains("run CONTENDED: not gated"), out());

        // Errors are not noise: a contended run with socket errors still fails.
        Path errors = cleanBench("bench-errors.json", r -> ((ObjectNode) r.at("/results/turnpike"))
                .put("socket_errors_total", 3).put("contended", true));
        assertEquals(PerfReportMain.REGRESSION, run("compare", "--baseline", baseline.toString(), jmh.toString(),
                errors.toString()));
        assertTrue(line("turnpike errors: 3").startsWith("REGRESSION errors"), out());
    }

    @Test
    void missingBenchmarksWarnOrFailWithStrict() {
        Path jmh = JmhJsonFixture.write(dir, "jmh-partial.json", r -> r.remove(4));
        assertEquals(PerfReportMain.OK, run("compare", "--baseline", baseline.toString(), jmh.toString()), out());
        assertTrue(line("ProxyPipelineBenchmark.proxy[exchange=get]: in the baseline, not in the run")
                .startsWith("WARNING"), out());
        assertTrue(line("side-by-side: in the baseline").startsWith("WARNING"), out());

        assertEquals(PerfReportMain.REGRESSION, run("compare", "--strict", "--baseline", baseline.toString(),
                jmh.toString()));
        assertTrue(line("ProxyPipelineBenchmark.proxy[exchange=get]: in the baseline").startsWith("REGRESSION"), out());
    }

    @Test
    void blessRoundTrip() throws Exception {
        Baseline b = BaselineIO.read(baseline);
        assertEquals("ci-smoke", b.name());
        assertEquals("test baseline", b.note());
        assertEquals(List.of("jmh-base.json", "bench-base.json"), b.sources());
        assertEquals(String.valueOf(Runtime.getRuntime().availableProcessors()), b.machine().get("cores"));
        assertNotNull(b.machine().get("cpu_model"));
        assertNotNull(b.machine().get("java"));
        assertEquals("Test CPU", b.environment().get("bench.cpu_model"));
        assertEquals("17.0.15", b.environment().get("jmh.jdk"));
        assertTrue(b.command().startsWith("perf-reports bless --out "), b.command());
        assertTrue(Files.readString(baseline).contains("\"format\" : \"turnpike-perf-baseline/v1\""));

        Snapshot fresh = Snapshot.of(new ResultInputs().load("t", List.of(dir.resolve("jmh-base.json"),
                dir.resolve("bench-base.json"))), 1.0);
        assertEquals(fresh, b.snapshot(), "what is read back is what was blessed");
        JmhPoint p = b.snapshot().jmh().get("RequestParseBenchmark.turnpike[request=small]");
        assertEquals("RequestParseBenchmark.nettyDecoder[request=small]", p.reference());
        assertTrue(b.snapshot().jmh().get("RequestParseBenchmark.nettyDecoder[request=small]").isReference());
        assertNull(b.snapshot().jmh().get("ProxyPipelineBenchmark.proxy[exchange=get]").reference());
        assertEquals(1.5, b.snapshot().bench().cpuRatio(), 1e-9);

        // Blessing a regressed run makes it the new normal.
        Path slower = JmhJsonFixture.write(dir, "jmh-slow.json",
                r -> JmhJsonFixture.setAlloc(r, "RouterMatchBenchmark.exactHit", 48.0));
        Path rebless = dir.resolve("baselines/next.json");
        assertEquals(PerfReportMain.OK, run("bless", "--out", rebless.toString(), slower.toString()), err());
        assertEquals("next", BaselineIO.read(rebless).name());
        assertEquals(PerfReportMain.OK, run("compare", "--baseline", rebless.toString(), slower.toString()), out());
    }

    @Test
    void blessRefusesAContendedSideBySideRun() {
        Path contended = BenchJsonFixture.write(dir, "bench-contended.json");
        Path out = dir.resolve("b.json");
        assertEquals(PerfReportMain.BAD_INPUT, run("bless", "--out", out.toString(), contended.toString()));
        assertTrue(err().contains("refusing to bless") && err().contains("bench-contended.json"), err());
        assertFalse(Files.exists(out));
        assertEquals(PerfReportMain.OK, run("bless", "--allow-contended", "--out", out.toString(),
                contended.toString()), err());
    }

    @Test
    void malformedJmhFilesNameTheFileAndField() {
        Path noScore = JmhJsonFixture.write(dir, "jmh-noscore.json",
                r -> ((ObjectNode) r.get(2).get("primaryMetric")).remove("score"));
        ReportInputException e = assertThrows(ReportInputException.class,
                () -> new ResultInputs().load("t", List.of(noScore)));
        assertEquals(noScore, e.file());
        assertEquals("[2].primaryMetric.score", e.field());
        assertEquals(noScore + ": missing field '[2].primaryMetric.score'", e.getMessage());

        Path badAlloc = JmhJsonFixture.write(dir, "jmh-badalloc.json", r -> ((ObjectNode) r.get(0)
                .get("secondaryMetrics").get("gc.alloc.rate.norm")).put("score", "lots"));
        e = assertThrows(ReportInputException.class, () -> new ResultInputs().load("t", List.of(badAlloc)));
        assertEquals("[0].secondaryMetrics.gc.alloc.rate.norm.score", e.field());

        Path noBenchmark = JmhJsonFixture.write(dir, "jmh-noname.json", r -> ((ObjectNode) r.get(1)).remove("benchmark"));
        assertEquals(PerfReportMain.BAD_INPUT, run("compare", "--baseline", baseline.toString(), noBenchmark.toString()));
        assertTrue(err().contains(noBenchmark + ": missing field '[1].benchmark'"), err());

        Path empty = JmhJsonFixture.write(dir, "jmh-empty.json", ArrayNode::removeAll);
        e = assertThrows(ReportInputException.class, () -> new ResultInputs().load("t", List.of(empty)));
        assertTrue(e.getMessage().startsWith(empty + ": a JMH result file must be a non-empty JSON array"), e.getMessage());
    }

    @Test
    void malformedBaselineNamesTheFileAndField() throws Exception {
        String text = Files.readString(baseline).replaceFirst("\"score\" : [0-9.E]+,", "\"score\" : \"fast\",");
        Path bad = dir.resolve("bad-baseline.json");
        Files.writeString(bad, text);
        assertEquals(PerfReportMain.BAD_INPUT, run("compare", "--baseline", bad.toString(),
                JmhJsonFixture.write(dir, "jmh-run.json").toString()));
        assertTrue(err().contains(bad + ": expected a number for field 'jmh.RequestParseBenchmark.turnpike[request=small].score'"),
                err());

        Path notBaseline = BenchJsonFixture.write(dir, "bench-as-baseline.json");
        assertEquals(PerfReportMain.BAD_INPUT, run("compare", "--baseline", notBaseline.toString(),
                JmhJsonFixture.write(dir, "jmh-run.json").toString()));
        assertTrue(err().contains(notBaseline + ": unsupported baseline turnpike-bench/v1"), err());
    }

    @Test
    void reportWritesMarkdownAndSelfContainedHtmlWithCharts() throws Exception {
        Path jmh = JmhJsonFixture.write(dir, "jmh-alloc.json",
                r -> JmhJsonFixture.setAlloc(r, "RouterMatchBenchmark.exactHit", 48.0));
        Path bench = cleanBench("bench-run.json", r -> { });
        Path md = dir.resolve("report/report.md");
        Path html = dir.resolve("report/report.html");
        assertEquals(PerfReportMain.OK, run("report", "--baseline", baseline.toString(), "--out", md.toString(),
                "--html", html.toString(), jmh.toString(), bench.toString()), err());

        String m = Files.readString(md);
        assertTrue(m.contains("## Against baseline `ci-smoke`"), m);
        assertTrue(m.contains("**FAIL**: 1 regression(s)"), m);
        assertTrue(m.contains("| **REGRESSION** | alloc | `RouterMatchBenchmark.exactHit[routes=10000]` |"), m);
        assertTrue(m.contains("## JMH `jmh-alloc.json`"), m);
        assertTrue(m.contains("| RequestParseBenchmark.turnpike | request=small | avgt | 200.0 | – | ns/op | 0.01 | 0.40× |"), m);
        assertTrue(m.contains("## Side-by-side run"), m);

        String h = Files.readString(html);
        assertTrue(h.startsWith("<!DOCTYPE html>"), h);
        for (String chart : new String[] {"Latency percentiles", "Throughput", "CPU per request", "Allocation per op",
            "RouterMatchBenchmark time per op", "run / baseline"}) {
            assertTrue(h.contains("<title>" + chart) || h.contains(chart), "chart " + chart);
        }
        assertTrue(h.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""), h);
        assertFalse(h.contains("<script"), "no JavaScript");
        assertFalse(h.contains("http://") && h.replace("http://www.w3.org/2000/svg", "").contains("http://"),
                "no external resource");
    }
}
