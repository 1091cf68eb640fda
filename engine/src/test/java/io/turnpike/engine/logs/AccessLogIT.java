package io.turnpike.engine.logs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.turnpike.engine.TurnpikeMain;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The access log written by real gateways to real files: formats, every kind of exchange, reopen on SIGUSR1. */
class AccessLogIT {
    @TempDir
    Path dir;

    private static List<String> lines(Path f) throws IOException {
        return Files.exists(f) ? Files.readAllLines(f) : List.of();
    }

    @Test
    void http2RequestsAreLoggedWithTheirProtocol() throws Exception {
        Path log = dir.resolve("logs/access.log");
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port()), "",
                     "  event_loops: 1\n  access_log: true\n", new java.io.PrintStream(
                             new java.io.ByteArrayOutputStream()), true)) {
            Process p = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "--http2-prior-knowledge",
                    "http://127.0.0.1:" + gw.port + "/h2?q=1").start();
            assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(0, p.exitValue());
            assertTrue(LogWriter.get().flush(5000));
            List<String> l = lines(log);
            assertEquals(1, l.size(), l.toString());
            assertTrue(l.get(0).contains(" 127.0.0.1:" + gw.port + " \"GET /h2?q=1 HTTP/2.0\" 200 "), l.get(0));
        }
    }

    @Test
    void defaultFormatLogsProxiedRefusedAndMalformedExchanges() throws Exception {
        Path log = dir.resolve("logs/access.log");
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port())
                     .replace("uri: /*", "uri: /api/*"), "  event_loops: 1\n  access_log: true\n")) {
            try (RawHttpClient c = gw.client()) {
                assertEquals(200, c.exchange("GET /api/x?a=1 HTTP/1.1\r\nHost: Example.COM:9080\r\nUser-Agent: t\"ua\r\n"
                        + "Referer: http://r/\r\nAuthorization: Basic dXNlcjE6cHc=\r\n\r\n").status());
                assertEquals(404, c.exchange("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n").status());
            }
            try (RawHttpClient c = gw.client()) {
                c.send("GET /api/\u0001 HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(400, c.read(false).status());
            }
            assertTrue(LogWriter.get().flush(5000));
            List<String> l = lines(log);
            assertEquals(3, l.size(), l.toString());
            // $remote_addr - $remote_user [$time_local] $http_host "$request" $status $body_bytes_sent $request_time
            // "$http_referer" "$http_user_agent" $upstream_addr $upstream_status $upstream_response_time
            Pattern ok = Pattern.compile("127\\.0\\.0\\.1 - user1 \\[\\d\\d/[A-Z][a-z]{2}/\\d{4}:\\d\\d:\\d\\d:\\d\\d [+-]\\d{4}]"
                    + " Example\\.COM:9080 \"GET /api/x\\?a=1 HTTP/1\\.1\" 200 9 \\d+\\.\\d{3} \"http://r/\" \"t\\\\x22ua\""
                    + " 127\\.0\\.0\\.1:" + backend.port() + " 200 \\d+\\.\\d{3}");
            assertTrue(ok.matcher(l.get(0)).matches(), l.get(0));
            assertTrue(l.get(1).matches("127\\.0\\.0\\.1 - - \\[.*] x \"GET /nothing HTTP/1\\.1\" 404 \\d+ \\d+\\.\\d{3} \"-\" \"-\" - - -"),
                    l.get(1));
            assertTrue(l.get(2).matches("127\\.0\\.0\\.1 - - \\[.*] - \"-\" 400 \\d+ .*"), l.get(2));
            String status = new String(new java.net.URL("http://127.0.0.1:" + gw.statusPort + "/status").openStream()
                    .readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(status.contains("\"log_entries_dropped\":"), status);
        }
    }

    @Test
    void headsLongerThanMaxRequestBytesAreCut() throws Exception {
        Path log = dir.resolve("cut.log");
        String longPath = "/" + "a".repeat(400);
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port()),
                     "  event_loops: 1\n  access_log:\n    path: cut.log\n    max_request_bytes: 256\n"
                             + "    format: \"$request_method|$request_uri|$http_user_agent|$status|$server_port\"\n")) {
            try (RawHttpClient c = gw.client()) {
                assertEquals(200, c.exchange("GET /short HTTP/1.1\r\nHost: h\r\nUser-Agent: ua\r\n\r\n").status());
                assertEquals(200, c.exchange("GET " + longPath + " HTTP/1.1\r\nHost: h\r\nUser-Agent: ua\r\n\r\n")
                        .status());
            }
            assertTrue(LogWriter.get().flush(5000));
            List<String> l = lines(log);
            assertEquals(List.of("GET|/short|ua|200|" + gw.port,
                    "GET|" + ("GET " + longPath).substring(4, 256) + "|-|200|" + gw.port), l);
        }
    }

    @Test
    void jsonFormatHasOneObjectPerLineAndReopenStartsANewFile() throws Exception {
        Path log = dir.resolve("access.json");
        ObjectMapper json = new ObjectMapper();
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port()),
                     "  event_loops: 2\n  access_log:\n    path: access.json\n    format: json\n")) {
            try (RawHttpClient c = gw.client()) {
                for (int i = 0; i < 5; i++) {
                    assertEquals(200, c.exchange("GET /j" + i + " HTTP/1.1\r\nHost: h\r\nUser-Agent: \u00e9\"\\\r\n\r\n")
                            .status());
                }
            }
            assertTrue(LogWriter.get().flush(5000));
            List<String> l = lines(log);
            assertEquals(5, l.size(), l.toString());
            for (int i = 0; i < 5; i++) {
                JsonNode e = json.readTree(l.get(i));
                assertEquals("/j" + i, e.get("request_uri").asText());
                assertEquals(200, e.get("status").asInt());
                assertEquals("all", e.get("route_id").asText());
                assertEquals("GET", e.get("request_method").asText());
                assertEquals("h", e.get("host").asText());
                assertEquals("127.0.0.1:" + backend.port(), e.get("upstream_addr").asText());
                assertEquals("-", e.get("trace_id").asText());
                assertTrue(e.get("request_length").asInt() > 20);
                assertEquals(("ok:/j" + i).length(), e.get("body_bytes_sent").asInt());
            }
            // logrotate: rename, then reopen (what SIGUSR1 does; the process-level test below sends the signal).
            Path rotated = dir.resolve("access.json.1");
            Files.move(log, rotated);
            LogWriter.get().requestReopen();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!Files.exists(log) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            try (RawHttpClient c = gw.client()) {
                assertEquals(200, c.exchange("GET /after HTTP/1.1\r\nHost: h\r\n\r\n").status());
            }
            assertTrue(LogWriter.get().flush(5000));
            assertEquals(5, lines(rotated).size());
            List<String> now = lines(log);
            assertEquals(1, now.size(), now.toString());
            assertEquals("/after", json.readTree(now.get(0)).get("request_uri").asText());
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** logrotate against a real gateway process: rename the file, {@code kill -USR1}, the next entries go to a new file. */
    @Test
    void sigusr1ReopensTheLogInARealGatewayProcess() throws Exception {
        try (TestBackend backend = new TestBackend()) {
            int port = freePort();
            int statusPort = freePort();
            Path log = dir.resolve("logs/access.log");
            Files.writeString(dir.resolve("config.yaml"), ""
                    + "apisix:\n  ssl:\n    enable: false\n  node_listen:\n    - ip: 127.0.0.1\n      port: " + port + "\n"
                    + "deployment:\n  role: data_plane\n  role_data_plane:\n    config_provider: yaml\n"
                    + "turnpike:\n  event_loops: 2\n  access_log:\n    path: logs/access.log\n    format: \"$status $request_uri\"\n"
                    + "  status_listen:\n    ip: 127.0.0.1\n    port: " + statusPort + "\n");
            Files.writeString(dir.resolve("apisix.yaml"), ""
                    + "routes:\n  - id: \"1\"\n    uri: /*\n    upstream:\n      nodes:\n"
                    + "        \"127.0.0.1:" + backend.port() + "\": 1\n#END\n");
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(TurnpikeMain.class.getName());
            cmd.add("start");
            cmd.add("-c");
            cmd.add(dir.resolve("config.yaml").toString());
            Path out = dir.resolve("gateway.out");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!Files.readString(out).contains("started") && System.nanoTime() < deadline && p.isAlive()) {
                    Thread.sleep(50);
                }
                assertTrue(Files.readString(out).contains("started"), Files.readString(out));
                try (RawHttpClient c = new RawHttpClient(port)) {
                    assertEquals(200, c.exchange("GET /before HTTP/1.1\r\nHost: x\r\n\r\n").status());
                }
                waitFor(() -> lines(log).contains("200 /before"), "the entry reaches the file: " + out);
                Path rotated = dir.resolve("logs/access.log.1");
                Files.move(log, rotated);
                assertEquals(0, new ProcessBuilder("kill", "-USR1", Long.toString(p.pid())).start().waitFor());
                waitFor(() -> Files.exists(log), "SIGUSR1 reopens (creates) the file");
                try (RawHttpClient c = new RawHttpClient(port)) {
                    assertEquals(200, c.exchange("GET /after HTTP/1.1\r\nHost: x\r\n\r\n").status());
                }
                waitFor(() -> lines(log).contains("200 /after"), "the new entry goes to the new file");
                assertEquals(List.of("200 /before"), lines(rotated));
                assertTrue(p.isAlive(), "SIGUSR1 does not stop the gateway");
                p.destroy(); // SIGTERM: drain, flush, exit 0
                assertTrue(p.waitFor(15, TimeUnit.SECONDS));
                assertEquals(0, p.exitValue(), Files.readString(out));
            } finally {
                p.destroyForcibly();
            }
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void waitFor(Check c, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out: " + what);
            }
            Thread.sleep(20);
        }
    }
}
