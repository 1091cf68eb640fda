package io.turnpike.engine.proxy;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.RawHttpClient.Response;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** End-to-end proxying over loopback: real backend, real gateway, raw client. */
class ProxyBasicsIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    static GatewayFixture gw;

    @BeforeAll
    static void start() throws Exception {
        backend = new TestBackend();
        gw = GatewayFixture.start(dir, ""
                + "routes:\n"
                + "  - id: \"exact\"\n"
                + "    uri: /exact\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + backend.port() + "\": 1\n"
                + "  - id: \"all\"\n"
                + "    uri: /*\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + backend.port() + "\": 1\n"
                + "  - id: \"dead\"\n"
                + "    uri: /dead/*\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:1\": 1\n", "");
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void proxiesAndSetsForwardingHeaders() throws Exception {
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange("GET /headers?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 10.0.0.1\r\n"
                    + "Connection: keep-alive, X-Drop\r\nX-Drop: secret\r\nX-Keep: yes\r\nX-Forwarded-Proto: https\r\n\r\n");
            assertEquals(200, r.status());
            String seen = r.bodyText();
            assertTrue(seen.startsWith("GET /headers?x=1 HTTP/1.1\n"), seen);
            assertTrue(seen.contains("Host: example.com\n"), seen);
            assertTrue(seen.contains("X-Forwarded-For: 10.0.0.1, 127.0.0.1\n"), seen);
            assertTrue(seen.contains("X-Real-IP: 127.0.0.1\n"), seen);
            assertTrue(seen.contains("X-Forwarded-Proto: http\n"), seen);
            assertFalse(seen.contains("X-Forwarded-Proto: https"), seen);
            assertTrue(seen.contains("X-Forwarded-Host: example.com\n"), seen);
            assertTrue(seen.contains("X-Forwarded-Port: " + gw.port + "\n"), seen);
            assertTrue(seen.contains("X-Keep: yes\n"), seen);
            assertFalse(seen.contains("X-Drop"), "header named by Connection must be dropped: " + seen);
            assertFalse(seen.toLowerCase().contains("connection:"), seen);
        }
    }

    /**
     * The head is forwarded as runs of lines copied byte for byte (HeadWriter): lines with trailing whitespace, lines
     * dropped (hop-by-hop, named by Connection, replaced X-Forwarded-*) and rewritten ones break the runs; what reaches
     * the upstream is exact, in order, with nothing lost or doubled at a run's edges.
     */
    @Test
    void forwardedHeadIsExactAcrossCopiedRuns() throws Exception {
        backend.captureRaw(true);
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange("GET /raw HTTP/1.1\r\nA: 1\r\nB:2\r\nHost: h.example\r\nC: 3 \t \r\nD: 4\r\n"
                    + "Connection: keep-alive, X-Drop\r\nE: 5\r\nX-Drop: z\r\nX-Real-IP: 9.9.9.9\r\nF: 6\r\n"
                    + "X-Forwarded-For: 10.0.0.1\r\nG: 7\r\nH:\r\n\r\n");
            assertEquals(200, r.status());
        } finally {
            backend.captureRaw(false);
        }
        String raw = new String(backend.rawCaptured(), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertEquals("GET /raw HTTP/1.1\r\nA: 1\r\nB:2\r\nHost: h.example\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n"
                + "X-Forwarded-For: 10.0.0.1, 127.0.0.1\r\nG: 7\r\nH:\r\n"
                + "X-Real-IP: 127.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h.example\r\n"
                + "X-Forwarded-Port: " + gw.port + "\r\n\r\n", raw);
    }

    @Test
    void exactRouteAndNotFound() throws Exception {
        try (RawHttpClient c = gw.client()) {
            assertEquals("ok:/exact", c.exchange("GET /exact HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
            assertEquals("ok:/exactly", c.exchange("GET /exactly HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
    }

    @Test
    void keepAliveReusesUpstreamConnection() throws Exception {
        int before = backend.connections.get();
        try (RawHttpClient c = gw.client()) {
            for (int i = 0; i < 50; i++) {
                Response r = c.exchange("GET /k" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
                assertEquals("ok:/k" + i, r.bodyText());
            }
        }
        assertTrue(backend.connections.get() - before <= 1,
                "50 sequential requests should share one upstream connection, opened " + (backend.connections.get() - before));
    }

    @Test
    void pipelinedRequestsAnsweredInOrder() throws Exception {
        try (RawHttpClient c = gw.client()) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < 20; i++) {
                b.append("GET /p").append(i).append(" HTTP/1.1\r\nHost: a\r\n\r\n");
            }
            c.send(b.toString());
            for (int i = 0; i < 20; i++) {
                assertEquals("ok:/p" + i, c.read(false).bodyText());
            }
        }
    }

    @Test
    void http10ClientGetsCloseAndHttp11Upstream() throws Exception {
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange("GET /headers HTTP/1.0\r\n\r\n");
            assertEquals(200, r.status());
            assertTrue(r.bodyText().startsWith("GET /headers HTTP/1.1\n"), r.bodyText());
            assertTrue(c.isClosedByPeer(2000));
        }
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertEquals("keep-alive", r.header("connection"));
            assertEquals("ok:/b", c.exchange("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").bodyText());
        }
    }

    @Test
    void connectionCloseIsHonoured() throws Exception {
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange("GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            assertEquals(200, r.status());
            assertEquals("close", r.header("connection"));
            assertTrue(c.isClosedByPeer(2000));
        }
    }

    @Test
    void headRequestHasNoBody() throws Exception {
        try (RawHttpClient c = gw.client()) {
            c.send("HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n");
            Response r = c.read(true);
            assertEquals(200, r.status());
            assertEquals("5", r.header("content-length"));
            assertEquals("ok:/y", c.exchange("GET /y HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
    }

    @Test
    void upstreamRefusedIs502WithJsonBody() throws Exception {
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange("GET /dead/x HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(502, r.status());
            assertEquals("application/json", r.header("content-type"));
            assertTrue(r.bodyText().contains("\"error_msg\""), r.bodyText());
            // The client connection survives a failed exchange without a body.
            assertEquals("ok:/after", c.exchange("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
    }

    @Test
    void upstreamCloseWithoutResponseIs502() throws Exception {
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange("GET /close HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(502, r.status());
        }
    }

    @Test
    void connectIsRefusedWith405() throws Exception {
        int before = backend.requests.get();
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
            assertEquals(405, r.status());
            assertTrue(r.bodyText().contains("CONNECT"), r.bodyText());
            assertTrue(c.isClosedByPeer(2000));
        }
        assertEquals(before, backend.requests.get());
    }

    @Test
    void closeDelimitedUpstreamResponse() throws Exception {
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange("GET /eof?n=1000 HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(200, r.status());
            assertEquals(1000, r.body().length);
            assertEquals("close", r.header("connection"));
            assertNull(r.header("content-length"));
        }
    }
}
