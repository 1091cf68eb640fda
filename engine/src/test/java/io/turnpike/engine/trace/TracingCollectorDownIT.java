package io.turnpike.engine.trace;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A collector that accepts connections and never answers: requests are served as usual, each export fails after
 * {@code request_timeout}, the loops' rings fill and further spans are dropped and counted; nothing grows. When the
 * gateway closes, every sampled span is accounted for as dropped or failed.
 */
class TracingCollectorDownIT {
    @TempDir
    Path dir;

    @Test
    void aHungCollectorCostsDroppedSpansNotMemoryOrLatency() throws Exception {
        List<Socket> held = new CopyOnWriteArrayList<>();
        try (ServerSocket hung = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             TestBackend backend = new TestBackend()) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(hung.accept()); // accepted, never read or answered
                    }
                } catch (Exception e) {
                    // closed
                }
            }, "hung-collector");
            acceptor.setDaemon(true);
            acceptor.start();
            String routes = "routes:\n  - id: on\n    uri: /*\n    plugins:\n      opentelemetry:\n        sampler:\n"
                    + "          name: always_on\n    upstream:\n      nodes:\n        \"127.0.0.1:" + backend.port()
                    + "\": 1\n";
            String pluginAttr = "plugin_attr:\n  opentelemetry:\n    collector:\n      address: 127.0.0.1:"
                    + hung.getLocalPort() + "\n      request_timeout: 1\n    batch_span_processor:\n"
                    + "      drop_on_queue_full: true\n      max_queue_size: 8\n      max_export_batch_size: 4\n"
                    + "      batch_timeout: 0.05\n      inactive_timeout: 0.05\n";
            int n = 300;
            SpanExportAgent agent;
            try (GatewayFixture gw = GatewayFixture.start(dir, routes, pluginAttr, "")) {
                try (RawHttpClient c = gw.client()) {
                    for (int i = 0; i < n; i++) {
                        RawHttpClient.Response r = c.exchange("GET /x" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
                        assertEquals(200, r.status());
                    }
                }
                agent = SpanExportAgent.current();
                assertNotNull(agent);
                long end = System.nanoTime() + 15_000_000_000L;
                while (agent.failedSpans() == 0 && System.nanoTime() < end) {
                    Thread.sleep(20);
                }
                assertTrue(agent.failedSpans() > 0, agent.statusJson());
                assertTrue(agent.droppedSpans() > 0, agent.statusJson());
                assertEquals(0, agent.exportedSpans(), agent.statusJson());
            }
            System.err.println("collector hung: " + agent.statusJson());
            // Closed with the gateway: what was collected failed once more, nothing is left over.
            assertEquals(n, agent.droppedSpans() + agent.failedSpans(), agent.statusJson());
            assertTrue(agent.droppedSpans() >= n - 200, "the rings (8 per loop) and the exporter's queue (8) and"
                    + " batches held the rest: " + agent.statusJson());
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }
}
