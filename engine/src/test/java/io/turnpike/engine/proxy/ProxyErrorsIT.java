package io.turnpike.engine.proxy;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.RawHttpClient.Response;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static io.turnpike.engine.proxy.ProxyTestSupport.assertJsonError;
import static io.turnpike.engine.proxy.ProxyTestSupport.awaitCounter;
import static io.turnpike.engine.proxy.ProxyTestSupport.counter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every error the gateway answers itself, over real sockets: the status, the JSON {@code error_msg} body, whether the
 * connection closes, the /status counter, and (for malformed requests) that the backend never got a complete request.
 */
class ProxyErrorsIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    /** Default limits. */
    static GatewayFixture gw;
    /** Small limits: max_body_bytes 1024, header_timeout_ms 500, upstream_read_timeout_ms 300. */
    static GatewayFixture small;

    static String routes(int port) {
        return ""
                + "routes:\n"
                + "  - id: \"dead\"\n"
                + "    uri: /dead/*\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:1\": 1\n"
                + "  - id: \"zero\"\n"
                + "    uri: /zero/*\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + port + "\": 0\n"
                + "  - id: \"all\"\n"
                + "    uri: /*\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + port + "\": 1\n";
    }

    @BeforeAll
    static void start() throws Exception {
        backend = new TestBackend();
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        gw = GatewayFixture.start(a, routes(backend.port()), "");
        small = GatewayFixture.start(b, routes(backend.port()), ""
                + "  max_body_bytes: 1024\n"
                + "  header_timeout_ms: 500\n"
                + "  upstream_read_timeout_ms: 300\n");
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
        if (small != null) {
            small.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    static Stream<Arguments> malformed() {
        StringBuilder manyHeaders = new StringBuilder();
        for (int i = 0; i < 101; i++) {
            manyHeaders.append("X-H").append(i).append(": v\r\n");
        }
        StringBuilder bigHeaders = new StringBuilder();
        String kb = "v".repeat(1000);
        for (int i = 0; i < 70; i++) {
            bigHeaders.append("X-Big").append(i).append(": ").append(kb).append("\r\n");
        }
        return Stream.of(
                Arguments.of("CL and TE", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                        400, "content_length_and_transfer_encoding"),
                Arguments.of("repeated CL", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
                        400, "duplicate_content_length"),
                Arguments.of("invalid CL", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\nhello",
                        400, "invalid_content_length"),
                Arguments.of("TE not ending in chunked", "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                        400, "transfer_encoding_not_chunked"),
                Arguments.of("obs-fold", "GET /x HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  folded\r\n\r\n", 400, "obs_fold"),
                Arguments.of("bare LF", "GET /x HTTP/1.1\nHost: a\r\n\r\n", 400, "bare_cr_or_lf"),
                Arguments.of("bare CR", "GET /x HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", 400, "bare_cr_or_lf"),
                Arguments.of("whitespace before colon", "GET /x HTTP/1.1\r\nHost : a\r\n\r\n", 400, "whitespace_before_colon"),
                Arguments.of("invalid header name byte", "GET /x HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n", 400, "invalid_header_name"),
                Arguments.of("missing Host", "GET /x HTTP/1.1\r\nX: y\r\n\r\n", 400, "missing_host"),
                Arguments.of("repeated Host", "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "duplicate_host"),
                Arguments.of("unknown coding", "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n0\r\n\r\n",
                        501, "unknown_transfer_coding"),
                Arguments.of("request line over 8 KiB", "GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: a\r\n\r\n",
                        414, "uri_too_long"),
                Arguments.of("header section over 64 KiB", "GET /x HTTP/1.1\r\nHost: a\r\n" + bigHeaders + "\r\n",
                        431, "header_section_too_large"),
                Arguments.of("over 100 headers", "GET /x HTTP/1.1\r\nHost: a\r\n" + manyHeaders + "\r\n",
                        431, "too_many_headers"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedHeadIsRejectedClosedCountedAndNotForwarded(String name, String request, int status, String counter)
            throws Exception {
        long before = counter(gw, counter);
        int requestsBefore = backend.requests.get();
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange(request);
            assertJsonError(r, status);
            assertEquals("close", r.header("connection"));
            assertTrue(c.isClosedByPeer(3000), "connection must close after " + name);
        }
        awaitCounter(gw, counter, before + 1);
        assertEquals(requestsBefore, backend.requests.get(), "backend must not see a malformed request");
    }

    @Test
    void badChunkSizeIs400AndTheBackendNeverGetsAWholeRequest() throws Exception {
        long before = counter(gw, "invalid_chunk_size");
        int completed = backend.completedRequests.get();
        try (RawHttpClient c = gw.client()) {
            Response r = c.exchange("POST /digest HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n");
            assertJsonError(r, 400);
            assertTrue(c.isClosedByPeer(3000));
        }
        awaitCounter(gw, "invalid_chunk_size", before + 1);
        Thread.sleep(100);
        assertEquals(completed, backend.completedRequests.get(), "the aborted request must not complete upstream");
        // The aborted upstream connection is not reused: the next request is answered normally.
        try (RawHttpClient c = gw.client()) {
            assertEquals("ok:/next", c.exchange("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
    }

    @Test
    void bodyOverLimitIs413() throws Exception {
        long before = counter(small, "body_too_large");
        try (RawHttpClient c = small.client()) {
            Response r = c.exchange("POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: 2048\r\n\r\n");
            assertJsonError(r, 413);
            assertTrue(c.isClosedByPeer(3000));
        }
        int completed = backend.completedRequests.get();
        try (RawHttpClient c = small.client()) {
            // Chunked: the limit is enforced at the chunk-size line, after the head went upstream.
            Response r = c.exchange("POST /sink HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n");
            assertJsonError(r, 413);
            assertTrue(c.isClosedByPeer(3000));
        }
        awaitCounter(small, "body_too_large", before + 2);
        Thread.sleep(100);
        assertEquals(completed, backend.completedRequests.get());
        try (RawHttpClient c = small.client()) {
            assertEquals("5", c.exchange("POST /sink HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").bodyText());
        }
    }

    @Test
    void expectContinueGets100ThenTheResponse() throws Exception {
        try (RawHttpClient c = small.client()) {
            c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            Response interim = c.read(false);
            assertEquals(100, interim.status());
            assertEquals("HTTP/1.1 100 Continue", interim.statusLine());
            c.send("hello");
            Response r = c.read(false);
            assertEquals(200, r.status());
            assertEquals("hello", r.bodyText());
            // Still usable.
            assertEquals("ok:/again", c.exchange("GET /again HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
    }

    @Test
    void expectContinueOverTheLimitGets413AndNo100() throws Exception {
        try (RawHttpClient c = small.client()) {
            c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2048\r\nExpect: 100-continue\r\n\r\n");
            Response r = c.read(false);
            assertJsonError(r, 413);
            assertTrue(c.isClosedByPeer(3000), "no 100 and nothing else may follow");
        }
    }

    @Test
    void slowlorisHeadGets408AndCloseWhileBytesKeepTrickling() throws Exception {
        long before = counter(small, "request_head_timeout");
        try (RawHttpClient c = small.client()) {
            c.send("GET /x HTTP/1.1\r\nHost: a\r\n");
            AtomicBoolean stop = new AtomicBoolean();
            Thread trickler = new Thread(() -> {
                try {
                    for (int i = 0; i < 50 && !stop.get(); i++) {
                        c.send("X-" + i + ": v\r\n");
                        Thread.sleep(100);
                    }
                } catch (Exception e) {
                    // the gateway closed: expected
                }
            }, "slowloris");
            long t0 = System.nanoTime();
            trickler.start();
            try {
                Response r = c.read(false);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertJsonError(r, 408);
                assertTrue(ms < 3000, "408 must come after ~500 ms even though bytes keep arriving, took " + ms);
                assertTrue(c.isClosedByPeer(3000));
            } finally {
                stop.set(true);
                trickler.join(10_000);
            }
        }
        awaitCounter(small, "request_head_timeout", before + 1);
    }

    @Test
    void connectRefusedIs502AndTheConnectionSurvives() throws Exception {
        long before = counter(gw, "upstream_connect_failed");
        try (RawHttpClient c = gw.client()) {
            assertJsonError(c.exchange("GET /dead/x HTTP/1.1\r\nHost: a\r\n\r\n"), 502);
            assertEquals("ok:/after", c.exchange("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
        awaitCounter(gw, "upstream_connect_failed", before + 1);
    }

    @Test
    void upstreamCloseBeforeResponseIs502() throws Exception {
        long before = counter(gw, "upstream_reset");
        try (RawHttpClient c = gw.client()) {
            assertJsonError(c.exchange("GET /close HTTP/1.1\r\nHost: a\r\n\r\n"), 502);
            assertEquals("ok:/after", c.exchange("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
        awaitCounter(gw, "upstream_reset", before + 1);
    }

    @Test
    void upstreamResetMidResponseClosesTheClient() throws Exception {
        long before = counter(gw, "upstream_reset");
        try (RawHttpClient c = gw.client()) {
            c.send("GET /truncate?n=100000&send=1000 HTTP/1.1\r\nHost: a\r\n\r\n");
            Response head = c.readHead();
            assertEquals(200, head.status());
            assertEquals("100000", head.header("content-length"));
            byte[] rest = c.readUntilClose(200_000);
            assertEquals(1000, rest.length, "the client sees the truncation as a close before Content-Length");
        }
        awaitCounter(gw, "upstream_reset", before + 1);
    }

    @Test
    void invalidUpstreamResponseIs502() throws Exception {
        long before = counter(gw, "upstream_invalid_response");
        try (RawHttpClient c = gw.client()) {
            assertJsonError(c.exchange("GET /garbage HTTP/1.1\r\nHost: a\r\n\r\n"), 502);
            assertEquals("ok:/after", c.exchange("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
        awaitCounter(gw, "upstream_invalid_response", before + 1);
    }

    @Test
    void upstreamTimeoutIs504() throws Exception {
        long before = counter(small, "upstream_timeout");
        try (RawHttpClient c = small.client()) {
            long t0 = System.nanoTime();
            assertJsonError(c.exchange("GET /slow?ms=3000 HTTP/1.1\r\nHost: a\r\n\r\n"), 504);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 2500, "504 after ~300 ms, took " + ms);
            assertEquals("ok:/after", c.exchange("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
        awaitCounter(small, "upstream_timeout", before + 1);
    }

    @Test
    void noAvailableNodeIs503() throws Exception {
        long before = counter(gw, "no_available_node");
        try (RawHttpClient c = gw.client()) {
            assertJsonError(c.exchange("GET /zero/x HTTP/1.1\r\nHost: a\r\n\r\n"), 503);
            assertEquals("ok:/after", c.exchange("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").bodyText());
        }
        awaitCounter(gw, "no_available_node", before + 1);
    }

    @Test
    void pipelinedRequestsAfterErrorsAreStillAnsweredInOrder() throws Exception {
        try (RawHttpClient c = gw.client()) {
            c.send("GET /dead/x HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /zero/x HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /garbage HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
            assertJsonError(c.read(false), 502);
            assertEquals("ok:/a", c.read(false).bodyText());
            assertJsonError(c.read(false), 503);
            assertJsonError(c.read(false), 502);
            assertEquals("ok:/b", c.read(false).bodyText());
        }
    }

    @Test
    void thousandsOfPipelinedLocalErrorsDoNotRecurse() throws Exception {
        int n = 3000;
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append("GET /zero/").append(i).append(" HTTP/1.1\r\nHost: a\r\n\r\n");
        }
        b.append("GET /last HTTP/1.1\r\nHost: a\r\n\r\n");
        try (RawHttpClient c = gw.client()) {
            Thread writer = new Thread(() -> {
                try {
                    c.send(b.toString());
                } catch (IOException e) {
                    // reported by the reads below
                }
            });
            writer.start();
            for (int i = 0; i < n; i++) {
                assertEquals(503, c.read(false).status(), "response " + i);
            }
            assertEquals("ok:/last", c.read(false).bodyText());
            writer.join(10_000);
            assertFalse(writer.isAlive());
        }
    }
}
