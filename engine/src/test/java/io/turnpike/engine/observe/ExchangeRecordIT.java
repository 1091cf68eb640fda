package io.turnpike.engine.observe;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The record every observer sees, against a real gateway and backend: proxied, 404, plugin reply, malformed request,
 * and a client that goes away mid-exchange each complete exactly one record with the right status, route, node,
 * consumer and byte counts.
 */
class ExchangeRecordIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    static GatewayFixture gw;

    /** What a record said when it completed (copied on the loop). */
    record Seen(int status, String routeId, String node, String consumer, GatewayError error, long requestBytes,
                long responseBytes, boolean aborted, boolean upstreamTimed, String requestLine, long requestNs) {
    }

    static final LinkedBlockingQueue<Seen> seen = new LinkedBlockingQueue<>();

    static final class Recorder implements ExchangeObserver {
        private String line;

        @Override
        public void onRequest(ExchangeRecord record, ByteBuf src, RequestHead head) {
            line = head == null ? null
                    : src.toString(head.methodStart, head.targetEnd - head.methodStart, StandardCharsets.US_ASCII);
        }

        @Override
        public void onComplete(ExchangeRecord r) {
            seen.add(new Seen(r.status, r.route == null ? null : r.route.id, r.node == null ? null : r.node.key,
                    r.consumer == null ? null : r.consumer.username, r.error, r.requestBytes, r.responseBytes, r.aborted,
                    r.upstreamTimeNs() >= 0, line, r.requestTimeNs()));
        }
    }

    @BeforeAll
    static void up() throws Exception {
        backend = new TestBackend();
        String up = "    upstream:\n      nodes:\n        \"127.0.0.1:" + backend.port() + "\": 1\n";
        gw = GatewayFixture.start(dir, "routes:\n"
                + "  - id: plain\n    uri: /plain\n" + up
                + "  - id: auth\n    uri: /auth\n    plugins:\n      key-auth: {}\n" + up
                + "  - id: slow\n    uri: /slow\n" + up
                + "consumers:\n  - username: jack\n    plugins:\n      key-auth:\n        key: k1\n",
                "  event_loops: 1\n");
        for (LoopContext l : gw.running.server.loops()) {
            l.observers(new Recorder());
        }
    }

    @AfterAll
    static void down() {
        gw.close();
        backend.close();
    }

    static Seen next() throws InterruptedException {
        Seen s = seen.poll(5, TimeUnit.SECONDS);
        assertNotNull(s, "no record completed");
        return s;
    }

    @Test
    void everyOutcomeCompletesOneRecord() throws Exception {
        seen.clear();
        try (RawHttpClient c = gw.client()) {
            String req = "POST /plain HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
            RawHttpClient.Response r = c.exchange(req);
            assertEquals(200, r.status());
            Seen s = next();
            assertEquals(200, s.status());
            assertEquals("plain", s.routeId());
            assertEquals("127.0.0.1:" + backend.port(), s.node());
            assertEquals(req.length(), s.requestBytes());
            assertTrue(s.responseBytes() > r.body().length, "head and body counted: " + s);
            assertTrue(s.upstreamTimed());
            assertEquals("POST /plain", s.requestLine());
            assertTrue(s.requestNs() > 0);

            assertEquals(404, c.exchange("GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n").status());
            s = next();
            assertEquals(404, s.status());
            assertNull(s.routeId());
            assertEquals(GatewayError.ROUTE_NOT_FOUND, s.error());
            assertTrue(!s.upstreamTimed());

            assertEquals(401, c.exchange("GET /auth HTTP/1.1\r\nHost: a\r\n\r\n").status());
            s = next();
            assertEquals(401, s.status());
            assertEquals("auth", s.routeId());
            assertNull(s.node());

            assertEquals(200, c.exchange("GET /auth HTTP/1.1\r\nHost: a\r\napikey: k1\r\n\r\n").status());
            s = next();
            assertEquals(200, s.status());
            assertEquals("jack", s.consumer());
        }
        try (RawHttpClient c = gw.client()) {
            c.send("GET /bad path HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(400, c.readHead().status());
            Seen s = next();
            assertEquals(400, s.status());
            assertNull(s.requestLine());
        }
        // The client leaves while the backend holds the response: the record completes as aborted.
        try (RawHttpClient c = gw.client()) {
            c.send("GET /slow?ms=1500 HTTP/1.1\r\nHost: a\r\n\r\n");
            Thread.sleep(300);
        }
        Seen s = next();
        assertTrue(s.aborted(), s.toString());
        assertEquals("slow", s.routeId());
        assertEquals(0, s.status());
        assertNull(seen.poll(300, TimeUnit.MILLISECONDS), "one record per exchange");
    }
}
