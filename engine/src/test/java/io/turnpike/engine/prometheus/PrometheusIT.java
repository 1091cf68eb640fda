package io.turnpike.engine.prometheus;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The prometheus plugin and exporter against a real gateway, backend and client on loopback: real scrapes (HTTP GET of
 * the export endpoint) after real traffic, checked line by line, by {@code promtool check metrics}, and by a real
 * Prometheus server scraping the gateway.
 */
class PrometheusIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    static GatewayFixture gw;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static String routes(boolean withR1) {
        String up = "    upstream:\n      nodes:\n        \"127.0.0.1:" + backend.port() + "\": 1\n";
        return "global_rules:\n  - id: g\n    plugins:\n      prometheus: {}\n"
                + "services:\n  - id: s1\n    name: billing\n" + up.replace("    upstream", "    upstream")
                + "consumers:\n  - username: jack\n    plugins:\n      key-auth:\n        key: jack-key\n"
                + "  - username: anna\n    plugins:\n      key-auth:\n        key: anna-key\n"
                + "      prometheus:\n        prefer_name: true\n"
                + "routes:\n"
                + (withR1 ? "  - id: r1\n    name: one\n    uri: /r1/*\n    service_id: s1\n" : "")
                + "  - id: r2\n    uri: /r2\n    host: api.example\n    plugins:\n      key-auth: {}\n" + up
                + "  - id: r4\n    name: four\n    uri: /r4\n    plugins:\n      key-auth: {}\n" + up
                + "  - id: r3\n    name: three\n    uri: /r3\n    service_id: s1\n    plugins:\n"
                + "      prometheus:\n        prefer_name: true\n";
    }

    @BeforeAll
    static void up() throws Exception {
        backend = new TestBackend();
        gw = GatewayFixture.start(dir, routes(true), "  event_loops: 2\n");
    }

    @AfterAll
    static void down() throws Exception {
        if (gw != null) {
            gw.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    static String scrape() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + gw.running.prometheusAddress.getPort() + "/apisix/prometheus/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
        return r.body();
    }

    static long value(String body, String series) {
        for (String line : body.split("\n")) {
            if (line.startsWith(series + " ")) {
                return (long) Double.parseDouble(line.substring(series.length() + 1));
            }
        }
        return -1;
    }

    static void get(String path, String extraHeaders, int expect) throws Exception {
        try (RawHttpClient c = gw.client()) {
            RawHttpClient.Response r = c.exchange("GET " + path + " HTTP/1.1\r\nHost: api.example\r\n" + extraHeaders
                    + "Connection: close\r\n\r\n");
            assertEquals(expect, r.status(), path);
        }
    }

    static void promtool(String body) throws Exception {
        Path f = Files.createTempFile(dir, "metrics", ".prom");
        Files.writeString(f, body);
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectInput(f.toFile())
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        // promtool's linter wants counters named *_total and nothing else so: APISIX's apisix_http_status and
        // apisix_bandwidth (counters) and apisix_http_requests_total (a gauge) break that rule, and dashboards depend
        // on those names. Anything else it reports fails the test.
        List<String> problems = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank() && !line.matches("apisix_(http_status|bandwidth) counter metrics should have"
                    + " \"_total\" suffix") && !line.equals("apisix_http_requests_total non-counter metrics should"
                    + " not have \"_total\" suffix")) {
                problems.add(line);
            }
        }
        assertTrue(problems.isEmpty(), "promtool: " + problems + "\n" + body);
        assertTrue(p.exitValue() == 0 || out.contains("\"_total\" suffix"), out);
    }

    @Test
    void realTrafficIsCountedWithApisixNamesAndLabels() throws Exception {
        String before = scrape();
        for (int i = 0; i < 3; i++) {
            get("/r1/a", "", 200);
        }
        get("/r2", "apikey: jack-key\r\n", 200);
        get("/r2", "", 401);
        get("/r3", "", 200);
        get("/nothing", "", 404);
        get("/r4", "apikey: anna-key\r\n", 200);
        String body = scrape();
        // the consumer's prometheus (prefer_name) over the global rule's, as APISIX merges consumer plugins
        assertEquals(1, value(body, "apisix_http_status{code=\"200\",route=\"four\",matched_uri=\"/r4\","
                + "matched_host=\"\",service=\"\",consumer=\"anna\",node=\"127.0.0.1\"}")
                - Math.max(0, value(before, "apisix_http_status{code=\"200\",route=\"four\",matched_uri=\"/r4\","
                + "matched_host=\"\",service=\"\",consumer=\"anna\",node=\"127.0.0.1\"}")), body);
        assertEquals(3, value(body, "apisix_http_status{code=\"200\",route=\"r1\",matched_uri=\"/r1/*\","
                + "matched_host=\"\",service=\"s1\",consumer=\"\",node=\"127.0.0.1\"}"), body);
        String jack = "apisix_http_status{code=\"200\",route=\"r2\",matched_uri=\"/r2\","
                + "matched_host=\"api.example\",service=\"\",consumer=\"jack\",node=\"127.0.0.1\"}";
        assertEquals(1, value(body, jack) - Math.max(0, value(before, jack)), body);
        assertEquals(1, value(body, "apisix_http_status{code=\"401\",route=\"r2\",matched_uri=\"/r2\","
                + "matched_host=\"api.example\",service=\"\",consumer=\"\",node=\"\"}"), body);
        // prefer_name on the route's own prometheus: route and service by name
        assertEquals(1, value(body, "apisix_http_status{code=\"200\",route=\"three\",matched_uri=\"/r3\","
                + "matched_host=\"\",service=\"billing\",consumer=\"\",node=\"127.0.0.1\"}"), body);
        // the global rule counts what matched no route, as APISIX does
        assertEquals(1, value(body, "apisix_http_status{code=\"404\",route=\"\",matched_uri=\"\",matched_host=\"\","
                + "service=\"\",consumer=\"\",node=\"\"}"), body);
        assertTrue(value(body, "apisix_bandwidth{type=\"egress\",route=\"r1\",service=\"s1\",consumer=\"\","
                + "node=\"127.0.0.1\"}") > 0, body);
        assertTrue(value(body, "apisix_bandwidth{type=\"ingress\",route=\"r1\",service=\"s1\",consumer=\"\","
                + "node=\"127.0.0.1\"}") > 0, body);
        // latency: default labels type, service, consumer, node; the upstream type only where an upstream answered
        String[] lat = {"apisix_http_latency_count{type=\"request\",service=\"s1\",consumer=\"\",node=\"127.0.0.1\"}",
                "apisix_http_latency_bucket{type=\"upstream\",service=\"s1\",consumer=\"\",node=\"127.0.0.1\",le=\"+Inf\"}",
                "apisix_http_latency_bucket{type=\"apisix\",service=\"s1\",consumer=\"\",node=\"127.0.0.1\",le=\"60000\"}",
                "apisix_http_latency_count{type=\"request\",service=\"billing\",consumer=\"\",node=\"127.0.0.1\"}"};
        for (int i = 0; i < lat.length; i++) {
            assertEquals(i < 3 ? 3 : 1, value(body, lat[i]) - Math.max(0, value(before, lat[i])), lat[i] + "\n" + body);
        }
        assertTrue(value(body, "apisix_http_requests_total") >= 7, body);
        assertTrue(body.contains("\napisix_node_info{hostname=\""), body);
        assertTrue(value(body, "apisix_nginx_http_current_connections{state=\"accepted\"}") >= 7, body);
        assertTrue(value(body, "turnpike_errors_total{error=\"route_not_found\"}") >= 1, body);
        assertEquals(2, countLines(body, "turnpike_loop_requests_total{loop="), body);
        assertFalse(body.contains("apisix_etcd_reachable"), "no etcd in standalone mode");
        promtool(body);
    }

    static int countLines(String body, String prefix) {
        int n = 0;
        for (String line : body.split("\n")) {
            if (line.startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }

    @Test
    void otherPathsAndMethods() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + gw.running.prometheusAddress.getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, r.statusCode());
        r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.running.prometheusAddress.getPort()
                        + "/apisix/prometheus/metrics")).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, r.statusCode());
    }

    @Test
    void aDeletedRoutesSeriesShowsInOneMoreScrapeThenExpires() throws Exception {
        get("/r1/expire", "", 200);
        get("/r2", "apikey: jack-key\r\n", 200);
        String before = scrape();
        assertTrue(before.contains("route=\"r1\""), before);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        writeRoutes(false, deadline);
        String last = scrape();
        assertTrue(last.contains("route=\"r1\""), "one more scrape shows the deleted route's series\n" + last);
        boolean gone = false;
        while (!gone && System.nanoTime() < deadline) {
            Thread.sleep(PrometheusRecorder.EXPIRE_TICK_MS / 2);
            gone = !scrape().contains("route=\"r1\"");
        }
        assertTrue(gone, "expired after the scrape that showed it");
        assertTrue(scrape().contains("route=\"r2\""), "other routes' series stay");
        writeRoutes(true, System.nanoTime() + TimeUnit.SECONDS.toNanos(20));
    }

    static void writeRoutes(boolean withR1, long deadline) throws Exception {
        long version = gw.running.server.publisher().latest().version;
        Files.writeString(dir.resolve("apisix.yaml"), routes(withR1) + "\n#END\n");
        while (gw.running.server.publisher().latest().version == version && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(gw.running.server.publisher().latest().version != version, "the file change was applied");
        Thread.sleep(100); // every loop applies it
    }

    /**
     * Every query of the Grafana dashboard (docs/grafana/turnpike.json) is valid PromQL for the real server, and every
     * metric it names is one the gateway exports (etcd's only in etcd mode).
     */
    static void dashboardQueriesRunAndNameExportedMetrics(int promPort) throws Exception {
        Path dashboard = Path.of("../docs/grafana/turnpike.json");
        com.fasterxml.jackson.databind.JsonNode d = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(dashboard.toFile());
        String body = scrape();
        int queries = 0;
        for (com.fasterxml.jackson.databind.JsonNode panel : d.get("panels")) {
            if (!panel.has("targets")) {
                continue;
            }
            for (com.fasterxml.jackson.databind.JsonNode t : panel.get("targets")) {
                String expr = t.get("expr").asText().replace("$__rate_interval", "1m").replace("$route", ".*")
                        .replace("$service", ".*").replace("$instance", ".*");
                String answer = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + promPort
                        + "/api/v1/query?query=" + java.net.URLEncoder.encode(expr, StandardCharsets.UTF_8))).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(answer.contains("\"status\":\"success\""), panel.get("title") + ": " + expr + " -> " + answer);
                Matcher m = Pattern.compile("\\b((apisix|turnpike)_[a-z_]+?)(_bucket)?\\b").matcher(expr);
                while (m.find()) {
                    String name = m.group(1);
                    if (!name.startsWith("apisix_etcd_")) {
                        assertTrue(body.contains("\n" + name + "{") || body.contains("\n" + name + " ")
                                || body.contains("\n" + name + "_bucket{"), panel.get("title") + " names " + name);
                    }
                }
                queries++;
            }
        }
        assertTrue(queries > 10, "the dashboard has its queries");
    }

    /** A real Prometheus server scrapes the gateway and answers a query over what it scraped. */
    @Test
    void aRealPrometheusScrapesTheGateway() throws Exception {
        get("/r2", "apikey: jack-key\r\n", 200);
        int promPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            promPort = s.getLocalPort();
        }
        Path cfg = dir.resolve("prometheus.yml");
        Files.writeString(cfg, "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: turnpike\n"
                + "    metrics_path: /apisix/prometheus/metrics\n    static_configs:\n"
                + "      - targets: ['127.0.0.1:" + gw.running.prometheusAddress.getPort() + "']\n");
        Path data = Files.createDirectories(dir.resolve("prom-data"));
        Process p = new ProcessBuilder("prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + data,
                "--web.listen-address=127.0.0.1:" + promPort).redirectErrorStream(true)
                .redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        try {
            String q = "http://127.0.0.1:" + promPort + "/api/v1/query?query="
                    + java.net.URLEncoder.encode("sum(apisix_http_status{route=\"r2\",consumer=\"jack\"})",
                    StandardCharsets.UTF_8);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String answer = "";
            Pattern value = Pattern.compile("\"value\":\\[[0-9.]+,\"([0-9.]+)\"]");
            while (System.nanoTime() < deadline) {
                try {
                    answer = HTTP.send(HttpRequest.newBuilder(URI.create(q)).build(),
                            HttpResponse.BodyHandlers.ofString()).body();
                    Matcher m = value.matcher(answer);
                    if (m.find() && Double.parseDouble(m.group(1)) >= 1) {
                        break;
                    }
                } catch (java.io.IOException notYet) {
                    // Prometheus still starting
                }
                Thread.sleep(250);
            }
            Matcher m = value.matcher(answer);
            assertTrue(m.find() && Double.parseDouble(m.group(1)) >= 1, "Prometheus answered " + answer + "\n"
                    + Files.readString(dir.resolve("prometheus.log")));
            String targets = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + promPort
                    + "/api/v1/targets")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(targets.contains("\"health\":\"up\""), targets);
            dashboardQueriesRunAndNameExportedMetrics(promPort);
        } finally {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }
}
