package io.turnpike.engine.proxy;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A connect retry must not depend on the snapshot the loop serves now: the exchange pinned its snapshot, whose node
 * indexes a later snapshot may renumber. Here the first node's connect hangs (a listener whose accept queue is full
 * drops the SYN), a new configuration that renumbers the nodes is applied meanwhile, and the retry must still reach
 * the second node through that node's own pool.
 */
class ConnectRetryAcrossSnapshotsIT {
    @TempDir
    Path dir;

    private void writeAtomically(String yaml) throws Exception {
        Path tmp = dir.resolve("apisix.yaml.tmp");
        Files.writeString(tmp, yaml + "\n#END\n");
        Files.move(tmp, dir.resolve("apisix.yaml"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private static int status(GatewayFixture gw, String path) throws Exception {
        try (RawHttpClient c = gw.client()) {
            return c.exchange("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").status();
        }
    }

    @Test
    void retryAfterARenumberingSnapshotUsesTheRetriedNodesPool() throws Exception {
        List<Socket> fillers = new ArrayList<>();
        try (ServerSocket blackHole = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             TestBackend backend = new TestBackend()) {
            int hole = blackHole.getLocalPort();
            // Fill the accept queue (never accepted): further SYNs to this port are dropped, so connects hang.
            boolean full = false;
            for (int i = 0; i < 16 && !full; i++) {
                Socket s = new Socket();
                try {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), hole), 300);
                    fillers.add(s);
                } catch (SocketTimeoutException e) {
                    s.close();
                    full = true;
                }
            }
            assertTrue(full, "the black-hole listener's accept queue filled up");

            // v1: the black hole (weight 100: picked first) and the backend; one retry; a 2 s connect timeout.
            String v1 = "routes:\n"
                    + "  - id: all\n    uri: /a\n    upstream:\n      type: roundrobin\n      retries: 1\n"
                    + "      timeout:\n        connect: 2\n        send: 5\n        read: 5\n"
                    + "      nodes:\n        \"127.0.0.1:" + hole + "\": 100\n"
                    + "        \"127.0.0.1:" + backend.port() + "\": 1\n";
            // v2: both nodes of v1 are gone and two new ones (nothing listens there) take their node indexes, so an
            // index pinned from v1 now names another node's pool.
            String v2 = "routes:\n"
                    + "  - id: all\n    uri: /a\n    upstream:\n      nodes:\n        \"127.0.0.1:1\": 1\n"
                    + "  - id: probe\n    uri: /probe\n    upstream:\n      nodes:\n        \"127.0.0.1:2\": 1\n";
            Files.createDirectories(dir);
            try (GatewayFixture gw = GatewayFixture.start(dir, v1, "  event_loops: 1\n")) {
                try (RawHttpClient c = new RawHttpClient(gw.port, 15_000)) {
                    long t0 = System.nanoTime();
                    c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
                    Thread.sleep(200); // the exchange is now CONNECTING to the black hole
                    writeAtomically(v2);
                    // v2 serves /probe (502: nothing listens on port 2) well before the 2 s connect timeout.
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (status(gw, "/probe") == 404 && System.nanoTime() < deadline) {
                        Thread.sleep(20);
                    }
                    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < 2000,
                            "v2 must be applied while the first connect still hangs (else the test proves nothing)");
                    RawHttpClient.Response r = c.read(false);
                    assertEquals(200, r.status(), "the retry on the second node answered: " + r.statusLine());
                }
                // The retried connection to the backend must not have been pooled under a v2 node: both routes now
                // lead to closed ports, so anything but 502 means a request went to the backend over a stray pool.
                assertEquals(502, status(gw, "/a"), "/a (v2: 127.0.0.1:1) reused the backend's connection");
                assertEquals(502, status(gw, "/probe"), "/probe (v2: 127.0.0.1:2) reused the backend's connection");
            }
        } finally {
            for (Socket s : fillers) {
                s.close();
            }
        }
    }
}
