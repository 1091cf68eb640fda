package io.turnpike.engine.h2;

import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.H2ConformanceRunner;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The floods of the conformance suite ({@code dos/*}: rapid reset, CONTINUATION, empty DATA, SETTINGS, PING, empty
 * header blocks and names) against a gateway, checking what the client cannot see: the work they cost behind it. The
 * rapid reset flood (10,000 HEADERS+RST_STREAM pairs) reaches the upstream at most about the codec's RST budget of
 * requests, every exchange it started has ended (no stream, upstream connection or busy count left behind), and the
 * connections were closed by the gateway with a connection error.
 */
class Http2FloodIT {
    @TempDir
    Path dir;

    @Test
    void floodsCostBoundedWorkAndLeaveNothingBehind() throws Exception {
        assertNull(H2ConformanceRunner.missingPrerequisite());
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port()), "", "",
                     new PrintStream(new ByteArrayOutputStream()), true)) {
            H2ConformanceRunner.Result r = new H2ConformanceRunner("127.0.0.1", gw.port).path("/flood")
                    .cases("dos/").run();
            assertEquals(7, r.cases().size(), r.output());
            assertTrue(r.unexpectedFailures().isEmpty(), r.describeUnexpectedFailures());
            // 10,000 streams opened and reset: each started an exchange, and those still connecting opened an upstream
            // connection. At most the RST budget (200) plus the streams in flight get that far, not one per stream.
            int upstreamConnections = backend.connections.get();
            int upstreamRequests = backend.requests.get();
            System.out.println("during the floods: " + upstreamConnections + " upstream connections, "
                    + upstreamRequests + " upstream requests");
            assertTrue(upstreamConnections <= 200 + 128 + 16, "upstream connections: " + upstreamConnections);
            assertTrue(upstreamRequests <= 200 + 128 + 16, "upstream requests: " + upstreamRequests);
            long errors = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int busy = -1;
            while (System.nanoTime() < deadline) {
                busy = gw.running.server.busyExchanges();
                if (busy == 0 && gw.running.server.openConnections() == 0) {
                    break;
                }
                Thread.sleep(50);
            }
            assertEquals(0, busy, "exchanges still in flight after the floods");
            assertEquals(0, gw.running.server.openConnections(), "client connections left open");
            for (LoopContext l : gw.running.server.loops()) {
                errors += l.counters.get(LoopCounters.HTTP2_CONNECTION_ERRORS);
            }
            assertTrue(errors >= 2, "connection errors counted (rapid reset, CONTINUATION, empty DATA): " + errors);
        }
    }
}
