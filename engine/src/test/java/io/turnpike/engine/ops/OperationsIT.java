package io.turnpike.engine.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operations surface of a real gateway process: PID file, control API, SIGHUP reload through
 * {@code turnpike reload} (live keys applied, restart keys reported, an invalid file refused), {@code quit} and
 * {@code stop}.
 */
class OperationsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    /** CLI output captured. */
    static final class Cli {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        final PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);

        String text() {
            return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        }
    }

    String config(int port, int statusPort, int controlPort, String extraTurnpike) {
        return "apisix:\n  node_listen:\n    - ip: 127.0.0.1\n      port: " + port + "\n"
                + "  enable_control: true\n  control:\n    ip: 127.0.0.1\n    port: " + controlPort + "\n"
                + "deployment:\n  role: data_plane\n  role_data_plane:\n    config_provider: yaml\n"
                + "turnpike:\n  event_loops: 2\n  pid_file: run/gw.pid\n"
                + "  status_listen:\n    ip: 127.0.0.1\n    port: " + statusPort + "\n" + extraTurnpike;
    }

    void writeRoutes(int backendPort) throws IOException {
        Files.writeString(dir.resolve("apisix.yaml"), ""
                + "upstreams:\n  - id: \"u1\"\n    nodes:\n      \"127.0.0.1:" + backendPort + "\": 1\n"
                + "routes:\n  - id: \"1\"\n    uri: /*\n    upstream_id: \"u1\"\n#END\n");
    }

    HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void pidFileControlApiReloadAndQuit() throws Exception {
        try (TestBackend backend = new TestBackend()) {
            int port = GatewayProcess.freePort();
            int statusPort = GatewayProcess.freePort();
            int controlPort = GatewayProcess.freePort();
            Path cfg = dir.resolve("config.yaml");
            Files.writeString(cfg, config(port, statusPort, controlPort, "  drain_timeout_ms: 10000\n"));
            writeRoutes(backend.port());
            try (GatewayProcess g = GatewayProcess.start(cfg, dir, dir.resolve("gw.log"))) {
                Path pidFile = dir.resolve("run/gw.pid");
                assertEquals(Long.toString(g.pid()), Files.readString(pidFile).trim());

                // control API
                HttpResponse<String> routes = get(controlPort, "/v1/routes");
                assertEquals(200, routes.statusCode());
                JsonNode r = JSON.readTree(routes.body());
                assertEquals(1, r.size());
                assertEquals("/apisix/routes/1", r.get(0).get("key").asText());
                assertEquals("u1", r.get(0).get("value").get("upstream_id").asText());
                JsonNode one = JSON.readTree(get(controlPort, "/v1/route/1").body());
                assertEquals("/*", one.get("value").get("uri").asText());
                HttpResponse<String> missing = get(controlPort, "/v1/route/nope");
                assertEquals(404, missing.statusCode());
                assertEquals("route[nope] not found", JSON.readTree(missing.body()).get("error_msg").asText());
                JsonNode ups = JSON.readTree(get(controlPort, "/v1/upstreams").body());
                assertEquals("/apisix/upstreams/u1", ups.get(0).get("key").asText());
                assertEquals(200, get(controlPort, "/v1/upstream/u1").statusCode());
                assertEquals(404, get(controlPort, "/v1/upstream/u2").statusCode());
                HttpResponse<String> hc = get(controlPort, "/v1/healthcheck");
                assertEquals(200, hc.statusCode());
                assertEquals("{}", hc.body().trim());
                assertEquals(404, get(controlPort, "/v1/healthcheck/upstreams/u1").statusCode());
                JsonNode schema = JSON.readTree(get(controlPort, "/v1/schema").body());
                assertTrue(schema.get("plugins").has("key-auth"), schema.toString());
                assertTrue(schema.get("plugins").get("key-auth").has("schema"));
                assertEquals(404, get(controlPort, "/v1/nothing").statusCode());

                try (RawHttpClient c = new RawHttpClient(port)) {
                    assertEquals(200, c.exchange("GET /a HTTP/1.1\r\nHost: x\r\n\r\n").status());
                }

                // reload: one live key, one restart key
                Files.writeString(cfg, config(port, statusPort, controlPort,
                        "  drain_timeout_ms: 20000\n  max_headers: 50\n"));
                Cli reload = new Cli();
                int rc = OpsCli.signal("reload", cfg.toString(), dir.toString(), null, reload.o, reload.e);
                assertEquals(0, rc, reload.text());
                assertTrue(reload.text().contains("applied turnpike.drain_timeout_ms"), reload.text());
                assertTrue(reload.text().contains("need a restart (not applied): turnpike.max_headers"),
                        reload.text());
                assertTrue(g.awaitLog("changed but need a restart (not applied): turnpike.max_headers", 5000),
                        g.log());

                // the control API moves live
                int controlPort2 = GatewayProcess.freePort();
                Files.writeString(cfg, config(port, statusPort, controlPort2,
                        "  drain_timeout_ms: 20000\n  max_headers: 50\n"));
                Cli moved = new Cli();
                assertEquals(0, OpsCli.signal("reload", cfg.toString(), dir.toString(), null, moved.o, moved.e),
                        moved.text());
                assertTrue(moved.text().contains("applied apisix.control"), moved.text());
                assertTrue(moved.text().contains("turnpike.max_headers"), "still reported: " + moved.text());
                assertEquals(200, get(controlPort2, "/v1/routes").statusCode());

                // PUT /v1/plugins/reload re-reads config.yaml too
                HttpResponse<String> put = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + controlPort2 + "/v1/plugins/reload"))
                        .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, put.statusCode());
                assertEquals("done", put.body().trim());

                // an invalid file: the CLI refuses to send, and a HUP sent anyway changes nothing
                Files.writeString(cfg, config(port, statusPort, controlPort2, "  max_headers: lots\n"));
                Cli bad = new Cli();
                assertEquals(1, OpsCli.signal("reload", cfg.toString(), dir.toString(), null, bad.o, bad.e));
                assertTrue(bad.text().contains("turnpike.max_headers"), bad.text());
                new ProcessBuilder("kill", "-HUP", Long.toString(g.pid())).start().waitFor();
                assertTrue(g.awaitLog("refused, nothing changed", 5000), g.log());
                // the report file follows the log line
                Path reportFile = dir.resolve("run/gw.pid.reload");
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (JSON.readTree(Files.readString(reportFile)).get("ok").asBoolean()
                        && System.nanoTime() < until) {
                    Thread.sleep(20);
                }
                JsonNode report = JSON.readTree(Files.readString(reportFile));
                assertFalse(report.get("ok").asBoolean(), report.toString());
                assertTrue(report.get("errors").get(0).asText().contains("turnpike.max_headers"), report.toString());
                try (RawHttpClient c = new RawHttpClient(port)) {
                    assertEquals(200, c.exchange("GET /still HTTP/1.1\r\nHost: x\r\n\r\n").status());
                }

                // quit: graceful, waits for the exit, PID file removed
                Files.writeString(cfg, config(port, statusPort, controlPort2, ""));
                Cli quit = new Cli();
                assertEquals(0, OpsCli.signal("quit", cfg.toString(), dir.toString(), null, quit.o, quit.e),
                        quit.text());
                assertFalse(g.process.isAlive());
                assertEquals(0, g.process.exitValue());
                assertFalse(Files.exists(pidFile), "PID file removed at exit");
                assertTrue(g.log().contains("draining (up to 20000 ms)"), "drain bound reloaded live: " + g.log());

                Cli again = new Cli();
                assertEquals(1, OpsCli.signal("quit", cfg.toString(), dir.toString(), null, again.o, again.e));
                assertTrue(again.text().contains("no PID file"), again.text());
            }
        }
    }

    @Test
    void stopCutsTheDrainShort() throws Exception {
        try (TestBackend backend = new TestBackend()) {
            int port = GatewayProcess.freePort();
            Path cfg = dir.resolve("config.yaml");
            Files.writeString(cfg, config(port, GatewayProcess.freePort(), GatewayProcess.freePort(),
                    "  drain_timeout_ms: 60000\n"));
            writeRoutes(backend.port());
            try (GatewayProcess g = GatewayProcess.start(cfg, dir, dir.resolve("gw.log"));
                 RawHttpClient busy = new RawHttpClient(port, 30000)) {
                busy.send("GET /slow?ms=20000 HTTP/1.1\r\nHost: x\r\n\r\n");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (backend.requests.get() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertEquals(1, backend.requests.get(), "the slow request is upstream");
                Cli stop = new Cli();
                assertEquals(0, OpsCli.signal("stop", cfg.toString(), dir.toString(), null, stop.o, stop.e),
                        stop.text());
                assertFalse(g.process.isAlive());
                assertEquals(0, g.process.exitValue());
                assertTrue(g.log().contains("fast stop"), g.log());
                // the exchange in flight was cut: no response
                assertThrows(IOException.class, () -> busy.read(false));
            }
        }
    }

    @Test
    void underNohupTheGatewaySaysThatReloadCannotReachIt() throws Exception {
        // nohup leaves SIGHUP ignored, the JVM keeps it so and installs no handler: say it at start, not at reload
        try (TestBackend backend = new TestBackend()) {
            int port = GatewayProcess.freePort();
            writeRoutes(backend.port());
            Path cfg = dir.resolve("config.yaml");
            Files.writeString(cfg, config(port, GatewayProcess.freePort(), GatewayProcess.freePort(), ""));
            try (GatewayProcess g = GatewayProcess.start(cfg, dir, dir.resolve("nohup.log"), List.of("nohup"))) {
                assertTrue(g.awaitLog("SIGHUP is ignored in this process (started under nohup?)", 5000), g.log());
            }
            try (GatewayProcess g = GatewayProcess.start(cfg, dir, dir.resolve("plain.log"))) {
                assertFalse(g.log().contains("SIGHUP is ignored"), g.log());
            }
        }
    }

    @Test
    void signalCommandsRefuseAStrangerProcess() throws Exception {
        Path pid = dir.resolve("logs/turnpike.pid");
        Process sleeper = new ProcessBuilder("sleep", "30").start();
        try {
            PidFile.write(pid, sleeper.pid());
            Cli c = new Cli();
            assertEquals(1, OpsCli.signal("quit", dir.resolve("none.yaml").toString(), dir.toString(), null, c.o,
                    c.e));
            assertTrue(c.text().contains("is not a Turnpike gateway"), c.text());
            assertTrue(sleeper.isAlive());
        } finally {
            sleeper.destroyForcibly();
        }
    }
}
