package io.turnpike.engine.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The native transports named in {@code turnpike.transport}, epoll and io_uring: the listeners (SO_REUSEPORT, one
 * per loop), the downstream connections and the pooled upstream connections all run on the transport named, with
 * real sockets on 127.0.0.1. The rest of the suite runs on {@code auto} (epoll), so this is io_uring's coverage
 * (docs/transport.md says what it does not pass yet: the allocation and TLS-engine leak tests).
 */
class NativeTransportsIT {
    @TempDir
    Path dir;

    static void assumeAvailable(String transport) {
        // CI's kernel has both; a kernel without io_uring (or with kernel.io_uring_disabled=2) skips with the cause.
        if (transport.equals("io_uring")) {
            Assumptions.assumeTrue(IoUring.isAvailable(), () -> "io_uring unavailable: " + IoUring.unavailabilityCause());
        } else {
            Assumptions.assumeTrue(Epoll.isAvailable(), () -> "epoll unavailable: " + Epoll.unavailabilityCause());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring"})
    void proxiesKeepAliveRequestsAndBodiesOverPooledUpstreamConnections(String transport) throws Exception {
        assumeAvailable(transport);
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port()),
                     "  event_loops: 2\n  transport: " + transport + "\n")) {
            assertEquals(transport, gw.running.server.transport().configName());
            try (RawHttpClient st = new RawHttpClient(gw.statusPort)) {
                String status = st.exchange("GET /status HTTP/1.1\r\nHost: s\r\n\r\n").bodyText();
                assertTrue(status.contains("\"transport\":\"" + transport + "\""), status);
            }
            // keep-alive: 200 requests on one client connection
            try (RawHttpClient c = gw.client()) {
                for (int i = 0; i < 200; i++) {
                    RawHttpClient.Response r = c.exchange("GET /k" + i + " HTTP/1.1\r\nHost: x\r\n\r\n");
                    assertEquals(200, r.status(), "request " + i);
                    assertEquals("ok:/k" + i, r.bodyText());
                }
            }
            // bodies both ways, on fresh client connections (spread over both loops by SO_REUSEPORT)
            byte[] body = new byte[300_000];
            for (int i = 0; i < body.length; i++) body[i] = (byte) ('a' + i % 26);
            for (int n = 0; n < 8; n++) {
                try (RawHttpClient c = gw.client()) {
                    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n");
                    c.send(body);
                    RawHttpClient.Response r = c.read(false);
                    assertEquals(200, r.status());
                    assertEquals(new String(body, StandardCharsets.US_ASCII), r.bodyText(), "echo " + n);
                }
            }
            assertEquals(208, backend.requests.get());
            // 208 requests went over at most one pooled connection per loop, plus one for any overlap
            assertTrue(backend.connections.get() <= 4, "upstream connections: " + backend.connections.get());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring"})
    void aDeadUpstreamIsA502AndTheLoopKeepsServing(String transport) throws Exception {
        assumeAvailable(transport);
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, ""
                     + "routes:\n"
                     + "  - id: dead\n    uri: /dead\n    upstream:\n      nodes:\n        \"127.0.0.1:1\": 1\n"
                     + "  - id: live\n    uri: /*\n    upstream:\n      nodes:\n"
                     + "        \"127.0.0.1:" + backend.port() + "\": 1\n",
                     "  event_loops: 1\n  transport: " + transport + "\n")) {
            try (RawHttpClient c = gw.client()) {
                assertEquals(502, c.exchange("GET /dead HTTP/1.1\r\nHost: x\r\n\r\n").status());
                assertEquals(200, c.exchange("GET /after HTTP/1.1\r\nHost: x\r\n\r\n").status());
            }
        }
    }

    @Test
    void autoIsEpollNeverIoUring() {
        // io_uring allocates on the loop per request and is opt-in (docs/transport.md); auto must not pick it.
        Transport expected = Epoll.isAvailable() ? Transport.EPOLL : Transport.NIO;
        assertEquals(expected, Transport.select("auto"));
        assertEquals(expected, Transport.select(null));
        assertEquals(Transport.NIO, Transport.select("nio"));
    }
}
