package io.turnpike.engine.trace;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The opentelemetry plugin against a real gateway, a real backend that records the {@code traceparent} it receives,
 * and a real OTLP/HTTP receiver that decodes the protobuf the exporter sends ({@link OtlpReceiver}).
 */
class TracingIT {
    @TempDir
    static Path dir;
    static HttpServer backend;
    /** X-Test-Id of each backend request -> the traceparent it carried ("" when none). */
    static final Map<String, String> seen = new ConcurrentHashMap<>();
    static final AtomicLong ids = new AtomicLong();
    static OtlpReceiver receiver;
    static GatewayFixture gw;

    static String route(String id, String uri, String sampler) {
        return "  - id: " + id + "\n    name: " + id + "-name\n    uri: " + uri + "\n    plugins:\n"
                + "      opentelemetry:\n        sampler:\n" + sampler
                + "    upstream:\n      nodes:\n        \"127.0.0.1:" + backend.getAddress().getPort() + "\": 1\n";
    }

    @BeforeAll
    static void up() throws Exception {
        // The JDK server writes a response's head and body separately: without TCP_NODELAY each exchange waits for
        // the peer's delayed ACK (about 40 ms).
        System.setProperty("sun.net.httpserver.nodelay", "true");
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        backend.createContext("/", ex -> {
            String id = ex.getRequestHeaders().getFirst("X-Test-Id");
            String tp = ex.getRequestHeaders().getFirst("traceparent");
            if (id != null) {
                seen.put(id, tp == null ? "" : tp);
            }
            int status = ex.getRequestURI().getPath().endsWith("/fail") ? 503 : 200;
            byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        backend.start();
        receiver = new OtlpReceiver();
        String routes = "routes:\n"
                + route("on", "/on/*", "          name: always_on\n")
                + route("off", "/off/*", "          name: always_off\n")
                + route("ratio", "/ratio/*", "          name: trace_id_ratio\n          options:\n"
                + "            fraction: 0.5\n")
                + route("pb", "/pb/*", "          name: parent_base\n          options:\n            root:\n"
                + "              name: always_on\n")
                + route("pboff", "/pboff/*", "          name: parent_base\n");
        // plugin_attr is a top-level key: written after the apisix section's lines.
        String pluginAttr = "plugin_attr:\n"
                + "  opentelemetry:\n"
                + "    resource:\n"
                + "      service.name: turnpike-test\n"
                + "      deployment.environment: it\n"
                + "    collector:\n"
                + "      address: 127.0.0.1:" + receiver.port() + "\n"
                + "      request_timeout: 3\n"
                + "      request_headers:\n"
                + "        Authorization: token-1\n"
                + "    batch_span_processor:\n"
                + "      max_export_batch_size: 4\n"
                + "      batch_timeout: 0.05\n"
                + "      inactive_timeout: 0.05\n";
        gw = GatewayFixture.start(dir, routes, pluginAttr, "");
    }

    @AfterAll
    static void down() {
        if (gw != null) {
            gw.close();
        }
        if (receiver != null) {
            receiver.close();
        }
        if (backend != null) {
            backend.stop(0);
        }
    }

    /** Sends one request; returns the traceparent the backend received for it. */
    static String send(RawHttpClient c, String path, String extraHeaders, int expectStatus) throws Exception {
        String id = "t" + ids.incrementAndGet();
        RawHttpClient.Response r = c.exchange("GET " + path + " HTTP/1.1\r\nHost: Gateway.Example:9080\r\n"
                + "User-Agent: tracing-it/1.0\r\nX-Test-Id: " + id + "\r\n" + extraHeaders + "\r\n");
        assertEquals(expectStatus, r.status(), r.statusLine());
        String tp = seen.get(id);
        assertNotNull(tp, "the backend saw request " + id);
        return tp;
    }

    static void assertTraceparent(String tp) {
        assertTrue(tp.matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]"), tp);
        assertNotEquals("00000000000000000000000000000000", tp.substring(3, 35));
        assertNotEquals("0000000000000000", tp.substring(36, 52));
    }

    @Test
    void incomingTraceparentIsContinuedAndTheSpanArrivesWithItsAttributes() throws Exception {
        String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        String parent = "00f067aa0ba902b7";
        try (RawHttpClient c = gw.client()) {
            String tp = send(c, "/on/item?q=1", "traceparent: 00-" + trace + "-" + parent + "-01\r\n", 200);
            assertTraceparent(tp);
            assertEquals(trace, tp.substring(3, 35), "same trace id upstream");
            String span = tp.substring(36, 52);
            assertNotEquals(parent, span, "a new span id upstream");
            assertTrue(tp.endsWith("-01"), tp);

            OtlpReceiver.Received r = receiver.awaitTrace(trace, 10_000);
            assertNotNull(r, "the span reached the receiver");
            assertEquals(span, r.spanId());
            assertEquals(parent, r.parentSpanId());
            Span s = r.span();
            assertEquals(Span.SpanKind.SPAN_KIND_SERVER, s.getKind());
            assertEquals("GET /on/*", s.getName());
            assertEquals("gateway.example", r.attr("net.host.name").getStringValue());
            assertEquals("GET", r.attr("http.method").getStringValue());
            assertEquals("http", r.attr("http.scheme").getStringValue());
            assertEquals("/on/item?q=1", r.attr("http.target").getStringValue());
            assertEquals("tracing-it/1.0", r.attr("http.user_agent").getStringValue());
            assertEquals("on", r.attr("apisix.route_id").getStringValue());
            assertEquals("on-name", r.attr("apisix.route_name").getStringValue());
            assertEquals("/on/*", r.attr("http.route").getStringValue());
            assertEquals(200, r.attr("http.status_code").getIntValue());
            assertTrue(s.getEndTimeUnixNano() >= s.getStartTimeUnixNano());
            long nowNs = System.currentTimeMillis() * 1_000_000L;
            assertTrue(Math.abs(nowNs - s.getStartTimeUnixNano()) < 60_000_000_000L, "start is wall-clock time");
            assertEquals(Status.StatusCode.STATUS_CODE_UNSET, s.getStatus().getCode());
            assertEquals("turnpike-test", r.resourceAttr("service.name").getStringValue());
            assertEquals("it", r.resourceAttr("deployment.environment").getStringValue());
            assertNotNull(r.resourceAttr("hostname"));
            assertEquals("token-1", r.headers().get("Authorization").get(0));
            assertTrue(receiver.contentTypes.contains("application/x-protobuf"), receiver.contentTypes.toString());
        }
    }

    @Test
    void withoutTraceparentANewTraceStartsAsARootSpan() throws Exception {
        try (RawHttpClient c = gw.client()) {
            String a = send(c, "/on/a", "", 200);
            String b = send(c, "/on/b", "", 200);
            assertTraceparent(a);
            assertTraceparent(b);
            assertNotEquals(a.substring(3, 35), b.substring(3, 35), "each request starts its own trace");
            OtlpReceiver.Received r = receiver.awaitTrace(a.substring(3, 35), 10_000);
            assertNotNull(r);
            assertEquals(a.substring(36, 52), r.spanId());
            assertTrue(r.span().getParentSpanId().isEmpty(), "a root span");
        }
    }

    @Test
    void invalidTraceparentsStartANewTrace() throws Exception {
        String trace = "4bf92f3577b34da6a3ce929d0e0e4737";
        try (RawHttpClient c = gw.client()) {
            for (String bad : new String[]{"00-" + trace.toUpperCase() + "-00f067aa0ba902b7-01",
                    "00-" + trace + "-0000000000000000-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                    "ff-" + trace + "-00f067aa0ba902b7-01", "00-" + trace + "-00f067aa0ba902b7-01-extra",
                    "00-" + trace + "-00f067aa0ba902b7"}) {
                String tp = send(c, "/on/bad", "traceparent: " + bad + "\r\n", 200);
                assertTraceparent(tp);
                assertNotEquals(trace, tp.substring(3, 35), bad);
            }
            // A later version may append fields: its ids are used.
            String tp = send(c, "/on/v1", "traceparent: 01-" + trace + "-00f067aa0ba902b7-01-what-ever\r\n", 200);
            assertEquals(trace, tp.substring(3, 35));
        }
    }

    @Test
    void xRequestIdOf32HexIsTheTraceIdOfANewTrace() throws Exception {
        String rid = "0123456789abcdef0123456789abcdef";
        try (RawHttpClient c = gw.client()) {
            String tp = send(c, "/on/rid", "X-Request-Id: " + rid + "\r\n", 200);
            assertEquals(rid, tp.substring(3, 35));
            String other = send(c, "/on/rid", "X-Request-Id: 3a5b-not-hex\r\n", 200);
            assertTraceparent(other);
        }
    }

    @Test
    void alwaysOffForwardsAnUnsampledTraceparentAndExportsNothing() throws Exception {
        String trace = "aaaaaaaaaaaaaaaa0000000000000001";
        try (RawHttpClient c = gw.client()) {
            String tp = send(c, "/off/x", "traceparent: 00-" + trace + "-00f067aa0ba902b7-01\r\n", 200);
            assertEquals(trace, tp.substring(3, 35));
            assertTrue(tp.endsWith("-00"), tp);
            String fresh = send(c, "/off/y", "", 200);
            assertTrue(fresh.endsWith("-00"), fresh);
            // A sampled request after them: once its span arrived (and one more collection passed), nothing of the
            // unsampled ones may have.
            String on = send(c, "/on/after-off", "", 200);
            assertNotNull(receiver.awaitTrace(on.substring(3, 35), 10_000));
            Thread.sleep(300);
            assertTrue(receiver.ofTrace(trace).isEmpty());
            assertTrue(receiver.ofTrace(fresh.substring(3, 35)).isEmpty());
        }
    }

    @Test
    void traceIdRatioSamplesAboutTheFractionDecidedByTheTraceId() throws Exception {
        int n = 400;
        int sampled = 0;
        try (RawHttpClient c = gw.client()) {
            for (int i = 0; i < n; i++) {
                String tp = send(c, "/ratio/" + i, "", 200);
                assertTraceparent(tp);
                boolean s = tp.endsWith("-01");
                sampled += s ? 1 : 0;
                // OpenTelemetry's rule: the trace id's lower 64 bits against fraction * Long.MAX_VALUE.
                long lo = Long.parseUnsignedLong(tp.substring(19, 35), 16);
                assertEquals(Math.abs(lo) < (long) (0.5 * Long.MAX_VALUE), s, tp);
            }
            // Binomial(400, 0.5): sd 10; 0.4..0.6 is 8 sd.
            assertTrue(sampled > n * 0.4 && sampled < n * 0.6, "sampled " + sampled + " of " + n);
            // The same incoming trace id gets the same decision every time.
            String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
            String first = send(c, "/ratio/p", "traceparent: 00-" + trace + "-00f067aa0ba902b7-00\r\n", 200);
            for (int i = 0; i < 5; i++) {
                String again = send(c, "/ratio/p", "traceparent: 00-" + trace + "-00f067aa0ba902b7-00\r\n", 200);
                assertEquals(first.substring(53), again.substring(53));
            }
        }
    }

    @Test
    void parentBaseFollowsTheParentAndAsksTheRootWithoutOne() throws Exception {
        String trace = "bbbbbbbbbbbbbbbb0000000000000002";
        try (RawHttpClient c = gw.client()) {
            assertTrue(send(c, "/pb/x", "traceparent: 00-" + trace + "-00f067aa0ba902b7-01\r\n", 200).endsWith("-01"));
            assertTrue(send(c, "/pb/x", "traceparent: 00-" + trace + "-00f067aa0ba902b7-00\r\n", 200).endsWith("-00"));
            assertTrue(send(c, "/pb/x", "", 200).endsWith("-01"), "root always_on");
            assertTrue(send(c, "/pboff/x", "", 200).endsWith("-00"), "root defaults to always_off");
            assertTrue(send(c, "/pboff/x", "traceparent: 00-" + trace + "-00f067aa0ba902b7-01\r\n", 200)
                    .endsWith("-01"));
        }
    }

    @Test
    void anUpstream5xxMarksTheSpanAsAnError() throws Exception {
        try (RawHttpClient c = gw.client()) {
            String tp = send(c, "/on/fail", "", 503);
            OtlpReceiver.Received r = receiver.awaitTrace(tp.substring(3, 35), 10_000);
            assertNotNull(r);
            assertEquals(503, r.attr("http.status_code").getIntValue());
            assertEquals(Status.StatusCode.STATUS_CODE_ERROR, r.span().getStatus().getCode());
            assertEquals("upstream response status: 503", r.span().getStatus().getMessage());
        }
    }

    @Test
    void theExporterCountsWhatTheCollectorAccepted() throws Exception {
        try (RawHttpClient c = gw.client()) {
            String tp = send(c, "/on/count", "", 200);
            assertNotNull(receiver.awaitTrace(tp.substring(3, 35), 10_000));
        }
        SpanExportAgent a = SpanExportAgent.current();
        assertNotNull(a);
        assertTrue(a.exportedSpans() > 0, a.statusJson());
        assertEquals(0, a.droppedSpans(), a.statusJson());
        assertEquals(0, a.failedSpans(), a.statusJson());
        try (RawHttpClient st = new RawHttpClient(gw.statusPort)) {
            String body = st.exchange("GET /status HTTP/1.1\r\nHost: s\r\n\r\n").bodyText();
            assertTrue(body.contains("\"tracing\":{\"endpoint\":\"http://127.0.0.1:" + receiver.port()
                    + "/v1/traces\",\"exported\":"), body);
            assertTrue(body.contains("\"dropped\":0,"), body);
        }
    }
}
