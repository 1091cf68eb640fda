package io.turnpike.engine.proxy;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.KillableBackend;
import io.turnpike.engine.testing.RawHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A route's {@code timeout} replaces its upstream's for that route's requests only, although every route of an
 * upstream shares one target and one pool: on the same pooled connection, route a's requests time out after 0.5 s
 * while route b's (the upstream's 5 s) are answered.
 */
class RouteTimeoutsIT {
    @TempDir
    Path dir;

    @Test
    void aRouteTimeoutAppliesToThatRouteOnlyOnASharedUpstream() throws Exception {
        try (KillableBackend backend = new KillableBackend();
             GatewayFixture gw = GatewayFixture.start(dir, "upstreams:\n  - id: u\n    timeout: {connect: 2, send: 5, read: 5}\n"
                     + "    nodes:\n      \"127.0.0.1:" + backend.port() + "\": 1\n"
                     + "routes:\n  - id: a\n    uri: /a/*\n    upstream_id: u\n"
                     + "    timeout: {connect: 2, send: 2, read: 0.5}\n"
                     + "  - id: b\n    uri: /b/*\n    upstream_id: u\n", "  event_loops: 1\n");
             RawHttpClient c = gw.client()) {
            assertEquals(200, c.exchange("GET /b/fast HTTP/1.1\r\nHost: x\r\n\r\n").status(), "warms the pool");
            assertEquals(504, c.exchange("GET /a/slow?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n").status(),
                    "route a's own read timeout");
            try (RawHttpClient c2 = gw.client()) {
                assertEquals(200, c2.exchange("GET /b/slow?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n").status(),
                        "route b has the upstream's read timeout, not route a's");
                assertEquals(200, c2.exchange("GET /b/fast HTTP/1.1\r\nHost: x\r\n\r\n").status());
            }
        }
    }
}
