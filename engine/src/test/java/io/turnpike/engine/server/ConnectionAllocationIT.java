package io.turnpike.engine.server;

import io.netty.util.ResourceLeakDetector;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bytes allocated on the event-loop thread per short-lived client connection: connect, one proxied request with
 * {@code Connection: close}, the gateway answers and closes. Read from {@code ThreadMXBean#getThreadAllocatedBytes}
 * over {@value #MEASURED} connections after {@value #WARMUP}. Unlike a keep-alive request this cannot be 0: Netty
 * builds a channel, its pipeline and its config per accepted socket (about 2 KB), and the connection's own state
 * (parser, head, exchange) is created once per connection. The bound keeps that state sized for a typical request:
 * arrays that hold the most a request may use (100 headers, 64 header edits, long paths and hosts) start small and grow
 * on the first request that needs more (docs/proxy.md, "Per-connection state").
 */
class ConnectionAllocationIT {
    static final int WARMUP = 1_000;
    static final int MEASURED = 2_000;
    /**
     * Measured 10,227 B/connection before the per-connection state was sized for a typical request, 4,681-4,888 after
     * (the spread is the JIT's escape analysis); the bound leaves ~10 % for that and fails well before the old size.
     */
    static final double MAX_BYTES_PER_CONNECTION = 5_200;

    @TempDir
    Path dir;

    @Test
    void aShortLivedConnectionAllocatesLittleOnTheLoop() throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED); // its records are not the gateway's
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port()),
                     "  event_loops: 1\n  upstream_max_requests: 1000000\n")) {
            LoopContext loop = gw.running.server.loops().get(0);
            long loopThreadId = loop.eventLoop.submit(() -> Thread.currentThread().getId()).get(5, TimeUnit.SECONDS);
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            byte[] request = ("GET /short HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

            run(gw.port, request, WARMUP);
            long before = threads.getThreadAllocatedBytes(loopThreadId);
            run(gw.port, request, MEASURED);
            // the last close is handled on the loop after the client saw EOF: let it finish before reading the counter
            loop.eventLoop.submit(() -> { }).get(5, TimeUnit.SECONDS);
            long after = threads.getThreadAllocatedBytes(loopThreadId);
            double perConnection = (after - before) / (double) MEASURED;
            System.out.printf("event-loop allocation: %.0f bytes/connection over %d connections (%d bytes total)%n",
                    perConnection, MEASURED, after - before);
            assertTrue(perConnection <= MAX_BYTES_PER_CONNECTION,
                    "event loop allocated " + perConnection + " bytes per connection");
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    /** One connection per request; each must be answered 200 with the backend's body, then closed by the gateway. */
    private static void run(int port, byte[] request, int connections) throws Exception {
        byte[] buf = new byte[4096];
        for (int i = 0; i < connections; i++) {
            try (Socket s = new Socket()) {
                s.setSoTimeout(10_000);
                s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
                s.getOutputStream().write(request);
                InputStream in = s.getInputStream();
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                for (int n; (n = in.read(buf)) >= 0; ) {
                    got.write(buf, 0, n);
                }
                String text = got.toString(StandardCharsets.US_ASCII);
                if (!text.startsWith("HTTP/1.1 200 ") || !text.endsWith("ok:/short")) {
                    throw new AssertionError("connection " + i + " got: " + text);
                }
            }
        }
    }
}
