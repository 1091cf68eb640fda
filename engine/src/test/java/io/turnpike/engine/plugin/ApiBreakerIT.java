package io.turnpike.engine.plugin;

import com.sun.net.httpserver.HttpServer;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * api-breaker against a real gateway and a real backend (the JDK's HTTP server on loopback answering the status asked
 * for in {@code ?s=}): the breaker opens after {@code failures} unhealthy upstream statuses, answers its configured
 * reply without reaching the backend, closes after 2^n seconds, and {@code successes} healthy statuses reset it.
 */
class ApiBreakerIT {
    @TempDir
    static Path dir;
    static HttpServer backend;
    static final AtomicInteger hits = new AtomicInteger();
    static GatewayFixture gw;

    @BeforeAll
    static void up() throws Exception {
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        backend.createContext("/", ex -> {
            hits.incrementAndGet();
            String q = ex.getRequestURI().getQuery();
            int status = q != null && q.startsWith("s=") ? Integer.parseInt(q.substring(2)) : 200;
            byte[] body = ("status " + status).getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        backend.setExecutor(Executors.newSingleThreadExecutor());
        backend.start();
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort(); // nothing listens there once closed: connects are refused
        }
        String up = "    upstream:\n      nodes:\n        \"127.0.0.1:" + backend.getAddress().getPort() + "\": 1\n";
        String yaml = "routes:\n"
                + "  - id: ab\n    uri: /ab/*\n    plugins:\n      api-breaker:\n"
                + "        break_response_code: 502\n        break_response_body: \"breaker open\"\n"
                + "        break_response_headers:\n"
                + "          - {key: X-Breaker, value: open}\n"
                + "          - {key: X-Method, value: \"$request_method $uri\"}\n"
                + "        max_breaker_sec: 3\n"
                + "        unhealthy:\n          http_statuses: [500, 503]\n          failures: 3\n"
                + "        healthy:\n          successes: 3\n" + up
                + "  - id: bare\n    uri: /bare/*\n    plugins:\n      api-breaker:\n"
                + "        break_response_code: 599\n"
                + "        break_response_headers:\n          - {key: X-Breaker, value: open}\n"
                + "        unhealthy:\n          failures: 1\n" + up
                + "  - id: down\n    uri: /down/*\n    plugins:\n      api-breaker:\n"
                + "        break_response_code: 503\n        break_response_body: \"cut off\"\n"
                + "        unhealthy:\n          http_statuses: [502]\n          failures: 1\n"
                + "    upstream:\n      nodes:\n        \"127.0.0.1:" + closedPort + "\": 1\n";
        gw = GatewayFixture.start(dir, yaml, "  event_loops: 2\n");
    }

    @AfterAll
    static void down() {
        if (gw != null) {
            gw.close();
        }
        backend.stop(0);
    }

    static RawHttpClient.Response get(String target) throws Exception {
        try (RawHttpClient c = gw.client()) {
            return c.exchange("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n");
        }
    }

    @Test
    void opensAfterFailuresAnswersItsReplyClosesAfterTheBreakAndResetsOnSuccesses() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertEquals(500, get("/ab/x?s=500").status(), "failure " + (i + 1) + " goes to the upstream");
        }
        int before = hits.get();
        RawHttpClient.Response open = get("/ab/x?s=200");
        assertEquals(502, open.status());
        assertEquals("breaker open", open.bodyText());
        assertEquals("open", open.header("x-breaker"));
        assertEquals("GET /ab/x", open.header("x-method"), "variables rendered per request");
        assertEquals(before, hits.get(), "an open breaker does not reach the upstream");
        // Open for 2^1 s, compared in whole seconds (APISIX's ngx.time()): between 2 and 3 s after it opened.
        long openedAt = System.nanoTime();
        long deadline = openedAt + 10_000_000_000L;
        int status;
        do {
            Thread.sleep(100);
            status = get("/ab/x?s=500").status();
        } while (status == 502 && System.nanoTime() < deadline);
        long openMs = (System.nanoTime() - openedAt) / 1_000_000;
        assertEquals(500, status, "the breaker closed: the request reached the upstream");
        assertTrue(openMs >= 1_500, "open for about 2 s, closed after " + openMs + " ms");
        // That failure counted (4, not a multiple of 3: still closed); three successes clear everything.
        for (int i = 0; i < 3; i++) {
            assertEquals(200, get("/ab/x?s=200").status());
        }
        // Cleared: it takes three failures again (without the reset, 4 + 2 = 6 would open it at the second).
        assertEquals(503, get("/ab/x?s=503").status());
        assertEquals(503, get("/ab/x?s=503").status());
        assertEquals(500, get("/ab/x?s=500").status());
        assertEquals(502, get("/ab/x?s=200").status(), "third failure after the reset opened it");
    }

    @Test
    void withoutABodyTheReplyIsTheCodeAloneAsInApisix() throws Exception {
        assertEquals(404, get("/bare/x?s=404").status(), "neither healthy nor unhealthy: nothing counted");
        assertEquals(200, get("/bare/x?s=200").status());
        assertEquals(500, get("/bare/x?s=500").status());
        RawHttpClient.Response r = get("/bare/x");
        assertEquals(599, r.status());
        assertEquals(0, r.body().length);
        assertNull(r.header("x-breaker"), "APISIX sends break_response_headers only with break_response_body");
    }

    @Test
    void aGatewayAnswerForAFailedUpstreamCountsAsItsStatus() throws Exception {
        // nginx's $upstream_status is 502 for a refused connect: with 502 unhealthy, one failure opens the breaker.
        assertEquals(502, get("/down/x").status());
        RawHttpClient.Response r = get("/down/x");
        assertEquals(503, r.status());
        assertEquals("cut off", r.bodyText());
    }
}
