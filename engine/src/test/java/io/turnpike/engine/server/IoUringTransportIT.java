package io.turnpike.engine.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.uring.IoUring;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code turnpike.transport: io_uring}: the listeners (SO_REUSEPORT, one per loop), the downstream connections and
 * the pooled upstream connections all run on Netty's io_uring transport, with real sockets on 127.0.0.1.
 */
class IoUringTransportIT {
    @TempDir
    Path dir;

    @BeforeAll
    static void ioUringAvailable() {
        // CI's kernel has io_uring; a kernel without it (or with kernel.io_uring_disabled=2) skips with the cause.
        Assumptions.assumeTrue(IoUring.isAvailable(), () -> "io_uring unavailable: " + IoUring.unavailabilityCause());
    }

    @Test
    void proxiesKeepAliveRequestsAndBodiesOverPooledUpstreamConnections() throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port()),
                     "  event_loops: 2\n  transport: io_uring\n")) {
            assertEquals(Transport.IO_URING, gw.running.server.transport());
            try (RawHttpClient st = new RawHttpClient(gw.statusPort)) {
                String status = st.exchange("GET /status HTTP/1.1\r\nHost: s\r\n\r\n").bodyText();
                assertTrue(status.contains("\"transport\":\"io_uring\""), status);
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

    @Test
    void aDeadUpstreamIsA502AndTheLoopKeepsServing() throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, ""
                     + "routes:\n"
                     + "  - id: dead\n    uri: /dead\n    upstream:\n      nodes:\n        \"127.0.0.1:1\": 1\n"
                     + "  - id: live\n    uri: /*\n    upstream:\n      nodes:\n"
                     + "        \"127.0.0.1:" + backend.port() + "\": 1\n",
                     "  event_loops: 1\n  transport: io_uring\n")) {
            try (RawHttpClient c = gw.client()) {
                assertEquals(502, c.exchange("GET /dead HTTP/1.1\r\nHost: x\r\n\r\n").status());
                assertEquals(200, c.exchange("GET /after HTTP/1.1\r\nHost: x\r\n\r\n").status());
            }
        }
    }
}
