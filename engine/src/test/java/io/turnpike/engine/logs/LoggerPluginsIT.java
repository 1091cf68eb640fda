package io.turnpike.engine.logs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** file-logger to a real file and http-logger to a real HTTP receiver started here; bad configurations refused. */
class LoggerPluginsIT {
    @TempDir
    Path dir;

    private final ObjectMapper json = new ObjectMapper();

    private static String route(int backendPort, String plugins) {
        return "routes:\n  - id: \"r1\"\n    uri: /*\n    plugins:\n" + plugins
                + "    upstream:\n      nodes:\n        \"127.0.0.1:" + backendPort + "\": 1\n";
    }

    @Test
    void fileLoggerWritesApisixEntriesOnePerLine() throws Exception {
        Path file = dir.resolve("out/file-logger.log");
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(backend.port(),
                     "      file-logger:\n        path: " + file + "\n"), "  event_loops: 1\n")) {
            try (RawHttpClient c = gw.client()) {
                assertEquals(200, c.exchange("GET /f?a=1&b=x%20y&flag HTTP/1.1\r\nHost: example.com\r\n"
                        + "X-Multi: 1\r\nX-Multi: 2\r\n\r\n").status());
                assertEquals(200, c.exchange("POST /g HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc")
                        .status());
            }
            assertTrue(LogWriter.get().flush(5000));
            List<String> lines = Files.readAllLines(file);
            assertEquals(2, lines.size(), lines.toString());
            JsonNode e = json.readTree(lines.get(0));
            assertEquals("127.0.0.1", e.get("client_ip").asText());
            assertEquals("r1", e.get("route_id").asText());
            assertEquals("GET", e.at("/request/method").asText());
            assertEquals("/f?a=1&b=x%20y&flag", e.at("/request/uri").asText());
            assertEquals("http://example.com/f?a=1&b=x%20y&flag", e.at("/request/url").asText());
            assertEquals("example.com", e.at("/request/headers/host").asText());
            assertEquals("[\"1\",\"2\"]", e.at("/request/headers/x-multi").toString());
            assertEquals("x y", e.at("/request/querystring/b").asText());
            assertTrue(e.at("/request/querystring/flag").asBoolean());
            assertEquals(200, e.at("/response/status").asInt());
            assertTrue(e.at("/response/size").asInt() > 0);
            assertEquals("127.0.0.1:" + backend.port(), e.get("upstream").asText());
            assertTrue(e.get("latency").asDouble() >= 0);
            assertTrue(e.get("upstream_latency").asLong() >= 0);
            assertTrue(Math.abs(e.get("start_time").asLong() - System.currentTimeMillis()) < 60_000);
            JsonNode p = json.readTree(lines.get(1));
            assertEquals("POST", p.at("/request/method").asText());
            assertTrue(p.at("/request/size").asInt() >= 3 + 40, "head and body: " + p);
        }
    }

    @Test
    void httpLoggerBatchesAndRetriesServerErrors() throws Exception {
        List<String> bodies = new CopyOnWriteArrayList<>();
        List<String> auth = new CopyOnWriteArrayList<>();
        AtomicInteger posts = new AtomicInteger();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        receiver.createContext("/logs", x -> {
            byte[] body = x.getRequestBody().readAllBytes();
            int n = posts.incrementAndGet();
            // The first attempt fails with a 500: the batch is retried and then delivered.
            int status = n == 1 ? 500 : 200;
            if (status == 200) {
                bodies.add(new String(body, StandardCharsets.UTF_8));
                auth.add(x.getRequestHeaders().getFirst("Authorization"));
            }
            x.sendResponseHeaders(status, -1);
            x.close();
        });
        receiver.start();
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(backend.port(), ""
                     + "      http-logger:\n        uri: http://127.0.0.1:" + receiver.getAddress().getPort() + "/logs\n"
                     + "        auth_header: Bearer t0k\n        batch_max_size: 3\n        inactive_timeout: 1\n"
                     + "        max_retry_count: 2\n        retry_delay: 0\n"), "  event_loops: 1\n")) {
            try (RawHttpClient c = gw.client()) {
                for (int i = 0; i < 7; i++) {
                    assertEquals(200, c.exchange("GET /h" + i + " HTTP/1.1\r\nHost: h\r\n\r\n").status());
                }
            }
            // Full batches of 3 at once; the rest after inactive_timeout (1 s). (On a very slow machine a gap of more
            // than 1 s between two requests closes a batch early: the split may differ, the entries may not.)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int entries = 0;
            while (System.nanoTime() < deadline) {
                entries = 0;
                for (String b : bodies) {
                    JsonNode n = json.readTree(b);
                    entries += n.isArray() ? n.size() : 1;
                }
                if (entries >= 7) {
                    break;
                }
                Thread.sleep(20);
            }
            assertEquals(7, entries, bodies.toString());
            boolean sawFull = false;
            for (String b : bodies) {
                JsonNode n = json.readTree(b);
                int k = n.isArray() ? n.size() : 1;
                assertTrue(k <= 3, "batch_max_size 3: " + b);
                assertTrue(n.isArray() == (k > 1), "several entries are an array, one is an object: " + b);
                sawFull |= k == 3;
                for (JsonNode e : n.isArray() ? n : List.of(n)) {
                    assertEquals("r1", e.get("route_id").asText());
                    assertTrue(e.at("/request/uri").asText().startsWith("/h"));
                }
            }
            assertTrue(sawFull, bodies.toString());
            assertEquals(bodies.size() + 1, posts.get(), "one retry after the 500");
            assertTrue(auth.stream().allMatch("Bearer t0k"::equals), auth.toString());
        } finally {
            receiver.stop(0);
        }
    }

    @Test
    void httpLoggerGivesUpAfterMaxRetriesAndNewLineConcatenates() throws Exception {
        AtomicInteger posts = new AtomicInteger();
        List<String> bodies = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        receiver.createContext("/", x -> {
            bodies.add(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            posts.incrementAndGet();
            x.sendResponseHeaders(503, -1);
            x.close();
        });
        receiver.start();
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(backend.port(), ""
                     + "      http-logger:\n        uri: http://127.0.0.1:" + receiver.getAddress().getPort() + "/\n"
                     + "        concat_method: new_line\n        batch_max_size: 2\n"
                     + "        max_retry_count: 1\n        retry_delay: 0\n"), "  event_loops: 1\n")) {
            try (RawHttpClient c = gw.client()) {
                assertEquals(200, c.exchange("GET /a HTTP/1.1\r\nHost: h\r\n\r\n").status());
                assertEquals(200, c.exchange("GET /b HTTP/1.1\r\nHost: h\r\n\r\n").status());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (posts.get() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(300);
            assertEquals(2, posts.get(), "one attempt and max_retry_count 1 retry, then the batch is dropped");
            String[] lines = bodies.get(0).split("\n");
            assertEquals(2, lines.length, bodies.get(0));
            assertEquals("/a", json.readTree(lines[0]).at("/request/uri").asText());
            assertEquals("/b", json.readTree(lines[1]).at("/request/uri").asText());
        } finally {
            receiver.stop(0);
        }
    }

    @Test
    void badLoggerConfigurationsAreRefusedWithTheField() throws Exception {
        String[][] cases = {
                {"      file-logger: {}\n", "property \"path\" is required"},
                {"      file-logger:\n        path: /tmp/x.log\n        log_format: {a: \"$host\"}\n",
                        "property \"log_format\" is not supported yet"},
                {"      file-logger:\n        path: /tmp/x.log\n        include_resp_body: true\n",
                        "property \"include_resp_body\" is not supported yet: true"},
                {"      file-logger:\n        path: /tmp/x.log\n        colour: red\n",
                        "additional properties forbidden, found colour"},
                {"      http-logger: {}\n", "property \"uri\" is required"},
                {"      http-logger:\n        uri: ftp://x/\n", "property \"uri\" validation failed"},
                {"      http-logger:\n        uri: https://x/\n", "property \"ssl_verify\": false with an https://"},
                {"      http-logger:\n        uri: http://x/\n        batch_max_size: 0\n",
                        "property \"batch_max_size\" validation failed: expected 0 to be at least 1"},
                {"      http-logger:\n        uri: http://x/\n        concat_method: csv\n",
                        "property \"concat_method\" validation failed: matches none of the enum values"},
                {"      http-logger:\n        uri: http://x/\n        include_req_body: true\n",
                        "property \"include_req_body\" is not supported yet: true"},
                {"      http-logger:\n        uri: http://x/\n        max_pending_entries: 10\n",
                        "property \"max_pending_entries\" is not supported yet"},
        };
        for (String[] c : cases) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> GatewayFixture.start(dir, route(1, c[0]), "  event_loops: 1\n").close(), c[0]);
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("apisix.yaml:"),
                    c[0] + " -> " + e.getMessage());
        }
    }
}
