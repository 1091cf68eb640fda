package io.turnpike.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.turnpike.perf.model.FixedRateResult;
import io.turnpike.perf.model.Metric;
import io.turnpike.perf.model.PairRatio;
import io.turnpike.perf.model.SideBySideRun;
import io.turnpike.perf.read.ResultInputs;
import io.turnpike.perf.render.MarkdownReportWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feeds raw per-round records through {@code scripts/lib/bench_summary.py} (what bench.sh runs) and
 * reads the JSON it writes with {@link ResultInputs}, so the writer and the reader cannot drift apart.
 * Skipped where python3 is not installed.
 */
class BenchSummaryContractTest {

    private static final Path SCRIPT = Path.of("..", "scripts", "lib", "bench_summary.py");

    @TempDir
    Path dir;

    private static String record(String target, int round, long requests, long cpuTicks, long p99Us) {
        return "{\"target\":\"" + target + "\",\"round\":" + round + ",\"cpu_ticks\":" + cpuTicks
                + ",\"other_cpu_ticks\":50,\"clk_tck\":100,\"rss_peak_kb\":20480,\"requests\":" + requests + ",\"duration_us\":10000000,"
                + "\"bytes\":" + requests * 150 + ",\"connect_errors\":0,\"read_errors\":0,\"write_errors\":0,"
                + "\"status_errors\":0,\"timeout_errors\":0,\"lat_mean_us\":900.5,\"lat_max_us\":9000,"
                + "\"p50_us\":800,\"p90_us\":1200,\"p99_us\":" + p99Us + ",\"p999_us\":5000}\n";
    }

    private static boolean python3Available() {
        try {
            Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void summaryJsonFromTheBenchScriptIsReadable() throws Exception {
        assumeTrue(Files.isRegularFile(SCRIPT), "no " + SCRIPT);
        assumeTrue(python3Available(), "python3 not installed");

        Path records = dir.resolve("records.jsonl");
        // 500,000 requests in 10 s; nginx 800 ticks = 8 s CPU = 16 µs/req; turnpike 1200 ticks = 24 µs/req.
        Files.writeString(records, record("nginx", 1, 500_000, 800, 2000) + record("turnpike", 1, 500_000, 1200, 3000)
                + record("nginx", 2, 500_000, 780, 2100) + record("turnpike", 2, 500_000, 1180, 3100)
                + record("nginx", 3, 500_000, 820, 1900) + record("turnpike", 3, 500_000, 1220, 2900));
        Path out = dir.resolve("bench.json");
        String output = summarize(records, out, "nginx turnpike");
        assertTrue(output.contains("cpu_us_per_req=1.50x"), output);

        SideBySideRun run = new ResultInputs().load("t", List.of(out)).sideBySide().get(0);
        assertEquals(16.0, run.target("nginx").stat(Metric.CPU_US_PER_REQ).median(), 1e-9);
        assertEquals(15.6, run.target("nginx").stat(Metric.CPU_US_PER_REQ).min(), 1e-9);
        assertEquals(24.4, run.target("turnpike").stat(Metric.CPU_US_PER_REQ).max(), 1e-9);
        assertEquals(50_000.0, run.target("turnpike").stat(Metric.RPS).median(), 1e-9);
        assertEquals(3.0, run.target("turnpike").stat(Metric.P99_MS).median(), 1e-9);
        assertEquals(1.5, run.ratios().get(Metric.CPU_US_PER_REQ), 1e-9);
        assertEquals(1.5, run.ratios().get(Metric.P99_MS), 1e-9);
        assertEquals(3, run.parameters().rounds());
        assertEquals("0123456789ab", run.environment().get("git_sha"));
        // 50 ticks of others in 10 s = 5 % of a core: noted, under the default 10 % threshold.
        assertEquals(5.0, run.target("nginx").stat(Metric.OTHER_CPU_PCT).median(), 1e-9);
        assertTrue(!run.contended());
    }

    /** Runs bench_summary.py over the records as bench.sh does; returns its stdout. */
    private static String summarize(Path records, Path out, String targets) throws Exception {
        return summarize(records, out, targets, Map.of());
    }

    private static String summarize(Path records, Path out, String targets, Map<String, String> extraEnv)
            throws Exception {
        ProcessBuilder pb = new ProcessBuilder("python3", SCRIPT.toString(), records.toString(), out.toString())
                .redirectErrorStream(true);
        pb.environment().putAll(Map.ofEntries(
                Map.entry("BENCH_TIMESTAMP", "2030-01-01T00:00:00Z"),
                Map.entry("BENCH_COMMAND", "scripts/bench.sh"),
                Map.entry("BENCH_GIT_SHA", "0123456789ab"),
                Map.entry("BENCH_ROUNDS", "3"),
                Map.entry("BENCH_WARMUP", "5"),
                Map.entry("BENCH_DURATION", "10"),
                Map.entry("BENCH_CONNS", "64"),
                Map.entry("BENCH_WRK_THREADS", "1"),
                Map.entry("BENCH_BODY_BYTES", "12"),
                Map.entry("BENCH_TARGETS", targets),
                Map.entry("BENCH_CORE_LOAD", "0"),
                Map.entry("BENCH_CORE_PROXY", "1"),
                Map.entry("BENCH_CLK_TCK", "100")));
        pb.environment().putAll(extraEnv);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "bench_summary.py hung");
        assertEquals(0, p.exitValue(), output);
        return output;
    }

    /** A fixed-rate record as bench.sh's measure_rate writes it: the generator's FIXED_RATE_JSON plus its readings. */
    private static String rateRecord(String target, int round, long p99Us, long p999Us, long lagP99Us) {
        return "{\"target\":\"" + target + "\",\"round\":" + round + ",\"clk_tck\":100,\"other_cpu_ticks\":5,"
                + "\"other_window_us\":12000000,\"generator\":\"native\",\"rate\":20000,\"conns\":64,"
                + "\"duration_us\":10000000,\"cpu_window_us\":10000000,\"expected\":200000,\"requests\":200000,"
                + "\"achieved_rps\":20000.0,\"bytes\":30000000,\"status_errors\":0,\"connect_errors\":0,"
                + "\"read_errors\":0,\"timeout_errors\":0,\"unfinished\":0,\"errors\":0,\"cpu_ticks\":700,"
                + "\"generator_cpu_ticks\":450,\"count\":200000,\"p50_us\":150.0,\"p90_us\":300.0,\"p99_us\":" + p99Us
                + ",\"p999_us\":" + p999Us + ",\"max_us\":9000.0,\"mean_us\":200.0,\"uncorrected_p50_us\":140.0,"
                + "\"uncorrected_p99_us\":900.0,\"uncorrected_max_us\":8000.0,\"send_lag_p50_us\":40.0,"
                + "\"send_lag_p99_us\":" + lagP99Us + ",\"send_lag_max_us\":3000.0}\n";
    }

    @Test
    void fixedRateRoundsAreReadWithoutTheLaggedOnes() throws Exception {
        assumeTrue(Files.isRegularFile(SCRIPT), "no " + SCRIPT);
        assumeTrue(python3Available(), "python3 not installed");

        Path records = dir.resolve("records.jsonl");
        StringBuilder r = new StringBuilder();
        for (int round = 1; round <= 3; round++) {
            r.append(record("nginx", round, 500_000, 800, 2000)).append(record("turnpike", round, 500_000, 820, 2400));
        }
        Files.writeString(records, r.toString());
        Path rate = dir.resolve("rate-records.jsonl");
        // nginx: round 1 LAGGED (send lag p99 2.5 ms > 1 ms), so its p99 median is that of 1.0 and 3.0 ms = 2.0 ms.
        Files.writeString(rate, rateRecord("nginx", 1, 9000, 12000, 2500) + rateRecord("turnpike", 1, 1200, 4500, 200)
                + rateRecord("nginx", 2, 1000, 4000, 200) + rateRecord("turnpike", 2, 1600, 5000, 300)
                + rateRecord("nginx", 3, 3000, 6000, 300) + rateRecord("turnpike", 3, 1000, 4000, 200));
        Path out = dir.resolve("bench.json");
        summarize(records, out, "nginx turnpike",
                Map.of("BENCH_RATE", "20000", "BENCH_RATE_WARMUP", "2", "BENCH_RATE_RECORDS", rate.toString(),
                        "BENCH_RATE_COMMAND", "fixed-rate-load --url URL --rate 20000"));

        SideBySideRun run = new ResultInputs().load("t", List.of(out)).sideBySide().get(0);
        FixedRateResult nginx = run.target("nginx").fixedRate();
        assertEquals(20000, nginx.rate());
        assertEquals(3, nginx.rounds());
        assertEquals(1, nginx.lagged());
        assertEquals(2.0, nginx.p99Ms().median(), 1e-9);
        assertEquals(5.0, nginx.p999Ms().median(), 1e-9);
        assertEquals(35.0, nginx.cpuUsPerReq().median(), 1e-9); // 700 ticks = 7 s over 200,000 requests
        FixedRateResult turnpike = run.target("turnpike").fixedRate();
        assertEquals(0, turnpike.lagged());
        assertEquals(1.2, turnpike.p99Ms().median(), 1e-9);
        String md = new MarkdownReportWriter().render(new ResultInputs().load("t", List.of(out)));
        assertTrue(md.contains("Turnpike / nginx at this rate: p99 0.60×, p99.9 0.90× (lower is better)."), md);
    }

    @Test
    void aConnectionPerRequestRunIsMarkedInTheJsonAndTheReport() throws Exception {
        assumeTrue(Files.isRegularFile(SCRIPT), "no " + SCRIPT);
        assumeTrue(python3Available(), "python3 not installed");

        Path records = dir.resolve("records.jsonl");
        Files.writeString(records, record("nginx", 1, 150_000, 700, 4000) + record("turnpike", 1, 150_000, 900, 4500));
        Path out = dir.resolve("bench.json");
        String output = summarize(records, out, "nginx turnpike", Map.of("BENCH_CLOSE", "1"));
        assertTrue(output.contains("body=12B connection-per-request"), output);
        assertTrue(Files.readString(out).contains("\"connection_close\": true"), Files.readString(out));

        SideBySideRun run = new ResultInputs().load("t", List.of(out)).sideBySide().get(0);
        assertTrue(run.parameters().connectionClose());
        String md = new MarkdownReportWriter().render(new ResultInputs().load("t", List.of(out)));
        assertTrue(md.contains("a new client connection per request (`Connection: close`)"), md);

        // a keep-alive run (no BENCH_CLOSE) says nothing of the kind
        Path keepAlive = dir.resolve("keep-alive.json");
        summarize(records, keepAlive, "nginx turnpike");
        SideBySideRun ka = new ResultInputs().load("t", List.of(keepAlive)).sideBySide().get(0);
        assertTrue(!ka.parameters().connectionClose());
        assertTrue(!new MarkdownReportWriter().render(new ResultInputs().load("t", List.of(keepAlive)))
                .contains("connection per request"));
    }

    @Test
    void chainTargetsAndTheirRatioAreReadAndRendered() throws Exception {
        assumeTrue(Files.isRegularFile(SCRIPT), "no " + SCRIPT);
        assumeTrue(python3Available(), "python3 not installed");

        Path records = dir.resolve("records.jsonl");
        // --chain: nginx_chain 800 ticks / 500,000 = 16 us/req, p99 2 ms; turnpike_chain 1,360 ticks = 27.2 us/req,
        // p99 2.2 ms: CPU 1.70x (target <= 0.90 not met), p99 1.10x.
        StringBuilder r = new StringBuilder();
        for (int round = 1; round <= 3; round++) {
            r.append(record("nginx", round, 500_000, 780, 1900)).append(record("turnpike", round, 500_000, 1200, 3000))
                    .append(record("nginx_chain", round, 500_000, 800, 2000))
                    .append(record("turnpike_chain", round, 500_000, 1360, 2200));
        }
        Files.writeString(records, r.toString());
        Path out = dir.resolve("bench.json");
        String output = summarize(records, out, "nginx turnpike nginx_chain turnpike_chain");
        assertTrue(output.contains("turnpike_chain/nginx_chain (median ratio"), output);
        assertTrue(output.contains("cpu_us_per_req=1.70x  p99_ms=1.10x"), output);

        SideBySideRun run = new ResultInputs().load("t", List.of(out)).sideBySide().get(0);
        assertEquals(27.2, run.target("turnpike_chain").stat(Metric.CPU_US_PER_REQ).median(), 1e-9);
        PairRatio chain = run.pairRatio("turnpike_chain_vs_nginx_chain");
        assertEquals(1.7, chain.ratios().get(Metric.CPU_US_PER_REQ), 1e-9);
        assertEquals(1.1, chain.ratios().get(Metric.P99_MS), 1e-9);
        assertEquals("cpu_us_per_req <= 0.90 and p99_ms <= 1.20", chain.target());
        assertEquals(Boolean.FALSE, chain.targetMet());
        assertEquals("turnpike_chain / nginx_chain", chain.label());
        assertEquals(800.0 / 780.0, run.pairRatio("nginx_chain_vs_nginx").ratios().get(Metric.CPU_US_PER_REQ), 1e-4);
        assertEquals(null, run.pairRatio("nginx_chain_vs_nginx").target());

        String md = new MarkdownReportWriter().render(new ResultInputs().load("t", List.of(out)));
        String row = md.lines().filter(l -> l.startsWith("| turnpike_chain / nginx_chain |")).findFirst()
                .orElseThrow(() -> new AssertionError("no chain ratio row in:\n" + md));
        assertTrue(row.contains("1.70×") && row.contains("1.10×") && row.contains("**not met**"), row);
    }
}
