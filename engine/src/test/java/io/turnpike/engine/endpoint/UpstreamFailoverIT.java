package io.turnpike.engine.endpoint;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.GetLoad;
import io.turnpike.engine.testing.KillableBackend;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retries and priority failover against real backends on loopback: a node that dies under load costs no idempotent
 * request; a pooled connection the node closed is retried elsewhere; a request that may have reached a node is never
 * sent twice unless it is idempotent; a lower priority takes the traffic when the higher one is gone.
 */
class UpstreamFailoverIT {
    @TempDir
    Path dir;

    private static String route(String nodes, String extra) {
        return "routes:\n  - id: r\n    uri: /*\n    upstream:\n      type: roundrobin\n" + extra
                + "      nodes:\n" + nodes;
    }

    /**
     * A raw HTTP/1.1 backend: answers the first request of each connection (keep-alive), then closes the connection
     * when the next request arrives, without answering: the race of a node closing an idle keep-alive connection just
     * as the gateway reuses it. With {@code closeOnPost} it closes at once on a POST instead.
     */
    private static final class ClosingBackend implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicInteger requests = new AtomicInteger();
        final AtomicInteger answered = new AtomicInteger();
        final Thread acceptor;
        final boolean closeOnPost;

        ClosingBackend(boolean closeOnPost) throws IOException {
            this.closeOnPost = closeOnPost;
            acceptor = new Thread(this::accept, "closing-backend");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> serve(s));
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                s.setSoTimeout(10_000);
                int n = 0;
                while (true) {
                    String head = readHead(in);
                    if (head == null) {
                        return;
                    }
                    requests.incrementAndGet();
                    if (n++ > 0 || closeOnPost && head.startsWith("POST")) {
                        return; // closes without answering
                    }
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nclosin".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    answered.incrementAndGet();
                }
            } catch (IOException ignored) {
                // the gateway went away
            }
        }

        private static String readHead(InputStream in) throws IOException {
            StringBuilder b = new StringBuilder();
            int c;
            while ((c = in.read()) != -1) {
                b.append((char) c);
                if (b.length() >= 4 && b.substring(b.length() - 4).equals("\r\n\r\n")) {
                    return b.toString();
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    @Test
    void aPooledConnectionTheNodeClosedIsRetriedOnAnotherNode() throws Exception {
        try (ClosingBackend closing = new ClosingBackend(false); TestBackend good = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route("        \"127.0.0.1:" + closing.port() + "\": 1000\n"
                     + "        \"127.0.0.1:" + good.port() + "\": 1\n", "      retries: 1\n"), "  event_loops: 1\n");
             RawHttpClient c = gw.client()) {
            RawHttpClient.Response r1 = c.exchange("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, r1.status());
            assertEquals("closin", r1.bodyText(), "the first request went to the closing node");
            // The second one reuses that pooled connection; the node closes it instead of answering.
            RawHttpClient.Response r2 = c.exchange("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, r2.status(), r2.bodyText());
            assertEquals("ok:/b", r2.bodyText(), "retried on the other node");
            assertEquals(2, closing.requests.get());
            assertEquals(1, good.requests.get());
        }
    }

    @Test
    void aRequestThatMayHaveReachedANodeIsNotSentAgainUnlessIdempotent() throws Exception {
        try (ClosingBackend closing = new ClosingBackend(true); TestBackend good = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route("        \"127.0.0.1:" + closing.port() + "\": 1000\n"
                     + "        \"127.0.0.1:" + good.port() + "\": 1\n", "      retries: 1\n"), "  event_loops: 1\n")) {
            try (RawHttpClient c = gw.client()) {
                RawHttpClient.Response r = c.exchange("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na");
                assertEquals(502, r.status(), "a POST the node may have seen is not retried");
            }
            try (RawHttpClient c = gw.client()) {
                RawHttpClient.Response r = c.exchange("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
                assertEquals(502, r.status(), "not even without a body: POST is not idempotent");
            }
            assertEquals(0, good.requests.get(), "the other node never saw the POSTs");
            assertEquals(2, closing.requests.get());
            // A PUT with a body is idempotent, but its body was streamed: not resent either.
            try (RawHttpClient c = gw.client()) {
                RawHttpClient.Response r = c.exchange("GET /g HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, r.status());
            }
        }
    }

    private static void awaitOk(GetLoad load, long atLeast, long maxMs) throws InterruptedException {
        load.awaitOk(atLeast, maxMs);
    }

    @Test
    void aNodeKilledUnderLoadCostsNoIdempotentRequest() throws Exception {
        KillableBackend a = new KillableBackend(), b = new KillableBackend(), victim = new KillableBackend();
        GetLoad load;
        try (a; b; victim; GatewayFixture gw = GatewayFixture.start(dir, route(
                "        \"127.0.0.1:" + a.port() + "\": 1\n        \"127.0.0.1:" + b.port() + "\": 1\n"
                        + "        \"127.0.0.1:" + victim.port() + "\": 1\n", ""), "  event_loops: 2\n")) {
            long killedAt;
            try (GetLoad l = new GetLoad(gw.port, 6, 5_000, 20_000)) {
                load = l;
                awaitOk(l, 600, 10_000);
                assertTrue(victim.requests.get() > 0, "the victim served before it died");
                victim.kill(); // its listener and every connection close at once, requests in flight included
                killedAt = l.ok.get();
                awaitOk(l, killedAt + 1_500, 10_000);
            }
            assertEquals(java.util.Map.of(), counts(load.failures), "no failed request");
            // Not a throughput check (a loaded machine serves fewer in the time allowed): requests went on after.
            assertTrue(load.ok.get() > killedAt + 100, "served " + load.ok.get() + ", " + killedAt + " before the kill");
            assertTrue(gw.running.server.loops().stream().mapToLong(
                    x -> x.counters.get(io.turnpike.engine.metrics.LoopCounters.UPSTREAM_RETRIES)).sum() > 0,
                    "some requests were retried");
        }
    }

    @Test
    void aLowerPriorityTakesTheTrafficWhenTheHigherOneIsGone() throws Exception {
        KillableBackend primary = new KillableBackend(), backup = new KillableBackend();
        GetLoad load;
        try (primary; backup; GatewayFixture gw = GatewayFixture.start(dir, "routes:\n  - id: r\n    uri: /*\n    upstream:\n"
                + "      nodes:\n        - {host: 127.0.0.1, port: " + primary.port() + ", weight: 1, priority: 1}\n"
                + "        - {host: 127.0.0.1, port: " + backup.port() + ", weight: 1, priority: 0}\n",
                "  event_loops: 1\n")) {
            try (GetLoad l = new GetLoad(gw.port, 4, 5_000, 20_000)) {
                load = l;
                awaitOk(l, 400, 10_000);
                assertEquals(0, backup.requests.get(), "the backup idles while the primary serves");
                primary.kill();
                long at = l.ok.get();
                awaitOk(l, at + 800, 10_000);
            }
            assertEquals(java.util.Map.of(), counts(load.failures), "no failed request");
            assertTrue(backup.requests.get() >= 800, "the backup took over: " + backup.requests.get());
        }
    }

    @Test
    void aRequestInFlightWhenItsNodeDiesIsAnsweredAtOnce() throws Exception {
        KillableBackend victim = new KillableBackend();
        try (victim; KillableBackend other = new KillableBackend(); GatewayFixture gw = GatewayFixture.start(dir, route("        \"127.0.0.1:" + victim.port()
                + "\": 100000\n        \"127.0.0.1:" + other.port() + "\": 1\n", ""), "  event_loops: 1\n");
             RawHttpClient post = new RawHttpClient(gw.port, 5_000);
             RawHttpClient get = new RawHttpClient(gw.port, 5_000)) {
            post.send("POST /slow?ms=4000 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na");
            get.send("GET /slow?ms=4000 HTTP/1.1\r\nHost: x\r\n\r\n");
            long deadline = System.currentTimeMillis() + 3_000;
            while (victim.requests.get() < 2 && System.currentTimeMillis() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(2, victim.requests.get(), "both requests reached the victim");
            victim.kill();
            // Well before the upstream read timeout (60 s) and the client's 5 s: the node's connections closed.
            assertEquals(502, post.read(false).status(), "the POST is not resent: 502");
            RawHttpClient.Response g = get.read(false);
            assertEquals(200, g.status(), "the GET is resent to the other node");
            assertEquals(other.body(), g.bodyText());
            assertEquals(1, other.requests.get());
        }
    }

    private static java.util.Map<String, Integer> counts(ConcurrentHashMap<String, AtomicInteger> m) {
        return GetLoad.counts(m);
    }
}
