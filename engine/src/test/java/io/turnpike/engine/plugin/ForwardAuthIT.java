package io.turnpike.engine.plugin;

import com.sun.net.httpserver.HttpServer;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * forward-auth against a real authorization service (the JDK's HTTP server on loopback) and a real backend: the
 * exchange pauses on its loop while the sub-request runs, and resumes with the service's verdict; a service that is
 * down or too slow gives {@code status_on_error}, never a hang, and the loop keeps serving meanwhile.
 */
class ForwardAuthIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    static GatewayFixture gw;
    static HttpServer auth;
    static final Map<String, String> seen = new ConcurrentHashMap<>();
    static final AtomicInteger authCalls = new AtomicInteger();
    /** Accepts connections and never answers (a hung auth service). */
    static ServerSocket hung;
    static final java.util.List<java.net.Socket> hungAccepted = new java.util.concurrent.CopyOnWriteArrayList<>();

    static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @BeforeAll
    static void up() throws Exception {
        backend = new TestBackend();
        auth = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        auth.setExecutor(Executors.newFixedThreadPool(16));
        auth.createContext("/auth", ex -> {
            authCalls.incrementAndGet();
            ex.getRequestHeaders().forEach((k, v) -> seen.put(k.toLowerCase(), v.get(0)));
            String a = ex.getRequestHeaders().getFirst("Authorization");
            byte[] body;
            if ("Bearer good".equals(a)) {
                ex.getResponseHeaders().add("X-User-ID", "u1");
                body = new byte[0];
                ex.sendResponseHeaders(200, -1);
            } else if ("Bearer slow".equals(a)) {
                try {
                    Thread.sleep(1500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ex.sendResponseHeaders(200, -1);
                body = new byte[0];
            } else {
                body = "{\"error\":\"denied\"}".getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("WWW-Authenticate", "Bearer");
                ex.getResponseHeaders().add("X-Reason", "bad token");
                ex.getResponseHeaders().add("X-Secret", "not for clients");
                ex.sendResponseHeaders(401, body.length);
            }
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        auth.start();
        hung = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            try {
                while (!hung.isClosed()) {
                    hungAccepted.add(hung.accept());
                }
            } catch (java.io.IOException ignored) {
                // closed
            }
        }, "hung-auth");
        acceptor.setDaemon(true);
        acceptor.start();
        String authUri = "http://127.0.0.1:" + auth.getAddress().getPort() + "/auth";
        String down = "http://127.0.0.1:" + closedPort() + "/auth";
        String up = "    upstream:\n      nodes:\n        \"127.0.0.1:" + backend.port() + "\": 1\n";
        String fa = "      forward-auth:\n        uri: " + authUri + "\n"
                + "        request_headers: [Authorization]\n        upstream_headers: [X-User-ID]\n"
                + "        client_headers: [WWW-Authenticate, X-Reason]\n        timeout: 500\n";
        String yaml = "routes:\n"
                + "  - id: fa\n    uri: /fa/*\n    plugins:\n" + fa + up
                + "  - id: faecho\n    uri: /faecho\n    plugins:\n" + fa
                + "      proxy-rewrite:\n        uri: /echo\n" + up
                + "  - id: down\n    uri: /down/*\n    plugins:\n      forward-auth:\n        uri: " + down + "\n" + up
                + "  - id: degrade\n    uri: /degrade/*\n    plugins:\n      forward-auth:\n        uri: " + down
                + "\n        allow_degradation: true\n" + up
                + "  - id: hang\n    uri: /hang/*\n    plugins:\n      forward-auth:\n        uri: http://127.0.0.1:"
                + hung.getLocalPort() + "/auth\n        timeout: 300\n" + up
                + "  - id: plain\n    uri: /plain/*\n" + up;
        gw = GatewayFixture.start(dir, yaml, "  event_loops: 1\n");
    }

    @AfterAll
    static void down() throws Exception {
        if (gw != null) {
            gw.close();
        }
        auth.stop(0);
        hung.close();
        for (java.net.Socket sk : hungAccepted) {
            sk.close();
        }
        backend.close();
    }

    static RawHttpClient.Response get(String request) throws Exception {
        try (RawHttpClient c = gw.client()) {
            return c.exchange(request);
        }
    }

    @Test
    void allowedRequestsCarryTheServicesHeadersUpstream() throws Exception {
        backend.captureRaw(true);
        RawHttpClient.Response r = get("GET /fa/x?q=1 HTTP/1.1\r\nHost: shop.example\r\nAuthorization: Bearer good\r\n\r\n");
        backend.captureRaw(false);
        assertEquals(200, r.status(), r.bodyText());
        String upstream = new String(backend.rawCaptured(), StandardCharsets.ISO_8859_1);
        assertTrue(upstream.contains("\r\nX-User-ID: u1\r\n"), upstream);
        assertEquals("GET", seen.get("x-forwarded-method"));
        assertEquals("/fa/x?q=1", seen.get("x-forwarded-uri"));
        assertEquals("shop.example", seen.get("x-forwarded-host"));
        assertEquals("http", seen.get("x-forwarded-proto"));
        assertEquals("127.0.0.1", seen.get("x-forwarded-for"));
        assertEquals("Bearer good", seen.get("authorization"));
    }

    @Test
    void refusalsGoBackToTheClientWithTheChosenHeaders() throws Exception {
        RawHttpClient.Response r = get("GET /fa/x HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer bad\r\n\r\n");
        assertEquals(401, r.status());
        assertEquals("{\"error\":\"denied\"}", r.bodyText());
        assertEquals("Bearer", r.header("www-authenticate"));
        assertEquals("bad token", r.header("x-reason"));
        assertEquals(null, r.header("x-secret"), "only client_headers are relayed");
    }

    @Test
    void aRequestBodyWaitsForTheVerdictThenGoesUpstream() throws Exception {
        String body = "x".repeat(5000);
        try (RawHttpClient c = gw.client()) {
            for (int i = 0; i < 3; i++) {
                RawHttpClient.Response r = c.exchange("POST /faecho HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer good\r\n"
                        + "Content-Length: " + body.length() + "\r\n\r\n" + body);
                assertEquals(200, r.status());
                assertEquals(body, r.bodyText(), "the body buffered during the pause reached the upstream");
            }
        }
    }

    @Test
    void serviceDownIsStatusOnErrorOrDegrades() throws Exception {
        long t0 = System.nanoTime();
        assertEquals(403, get("GET /down/x HTTP/1.1\r\nHost: h\r\n\r\n").status());
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < 3000, "a refused connect answers at once");
        assertEquals(200, get("GET /degrade/x HTTP/1.1\r\nHost: h\r\n\r\n").status());
    }

    @Test
    void aSlowServiceTimesOutWhileTheLoopKeepsServing() throws Exception {
        try (RawHttpClient slow = gw.client()) {
            long t0 = System.nanoTime();
            slow.send("GET /fa/x HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer slow\r\n\r\n");
            Thread.sleep(100);
            // The paused exchange holds nothing of the loop: a plain request on the same (only) loop is served.
            assertEquals(200, get("GET /plain/x HTTP/1.1\r\nHost: h\r\n\r\n").status());
            RawHttpClient.Response r = slow.read(false);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(403, r.status());
            assertTrue(ms >= 450 && ms < 1400, "answered at the 500 ms timeout (+ one sweep), not the service's 1.5 s: "
                    + ms);
            // The connection stays usable.
            assertEquals(200, slow.exchange("GET /fa/y HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer good\r\n\r\n")
                    .status());
        }
    }

    @Test
    void aHungServiceTimesOutAndItsConnectionsAreReaped() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertEquals(403, get("GET /hang/x HTTP/1.1\r\nHost: h\r\n\r\n").status());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (hungAccepted.size() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(hungAccepted.size() >= 3, "a connection per stuck sub-request: " + hungAccepted.size());
        Thread.sleep(1500); // past timeout + 1 s grace: the next sub-request reaps the stuck connections
        assertEquals(403, get("GET /hang/y HTTP/1.1\r\nHost: h\r\n\r\n").status());
        for (java.net.Socket sk : hungAccepted.subList(0, 3)) {
            sk.setSoTimeout(3000);
            assertEquals(-1, sk.getInputStream().read(new byte[4096]) > 0 ? sk.getInputStream().read() : -1,
                    "the gateway closed the connection of a sub-request that never got its answer");
        }
    }

    @Test
    void clientGoingAwayDuringThePauseLeavesNothingBehind() throws Exception {
        for (int i = 0; i < 5; i++) {
            try (RawHttpClient c = gw.client()) {
                c.send("GET /fa/x HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer slow\r\n\r\n");
                Thread.sleep(20);
            }
        }
        Thread.sleep(1700); // the service's slow answers arrive late and are dropped (their exchanges are gone)
        assertEquals(200, get("GET /fa/z HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer good\r\n\r\n").status());
    }
}
