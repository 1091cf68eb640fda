package io.turnpike.engine.snapshot;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The standalone file is watched: changes are compiled off the loops and published; bad files never replace good. */
class HotReloadIT {
    @TempDir
    Path dir;

    static String routes(int backendPort, String extraRoute) {
        return "routes:\n"
                + "  - id: a\n    uri: /a\n    upstream:\n      nodes:\n        \"127.0.0.1:" + backendPort + "\": 1\n"
                + extraRoute;
    }

    void writeAtomically(String yaml) throws Exception {
        Path tmp = dir.resolve("apisix.yaml.tmp");
        Files.writeString(tmp, yaml + "\n#END\n");
        Files.move(tmp, dir.resolve("apisix.yaml"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static int status(GatewayFixture gw, String path) throws Exception {
        try (RawHttpClient c = gw.client()) {
            return c.exchange("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").status();
        }
    }

    static void awaitStatus(GatewayFixture gw, String path, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int last = -1;
        while (System.nanoTime() < deadline) {
            last = status(gw, path);
            if (last == expected) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(path + ": expected " + expected + ", still " + last);
    }

    @Test
    void addedRouteServedAndInvalidFileRefused() throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, routes(backend.port(), ""), "")) {
            assertEquals(200, status(gw, "/a"));
            assertEquals(404, status(gw, "/b"));
            writeAtomically(routes(backend.port(),
                    "  - id: b\n    uri: /b\n    upstream:\n      nodes:\n        \"127.0.0.1:" + backend.port() + "\": 1\n"));
            awaitStatus(gw, "/b", 200);

            long rejectedBefore = gw.running.updater.rejectedCount();
            // In place and invalid: route "c" has a number for a uri. The whole file is refused.
            Files.writeString(dir.resolve("apisix.yaml"), routes(backend.port(),
                    "  - id: c\n    uri: 42\n    upstream:\n      nodes:\n        \"127.0.0.1:1\": 1\n") + "#END\n");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (gw.running.updater.rejectedCount() == rejectedBefore && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(gw.running.updater.rejectedCount() > rejectedBefore, "the invalid file was seen and refused");
            assertEquals(200, status(gw, "/a"));
            assertEquals(200, status(gw, "/b"), "the last good snapshot keeps serving");
        }
    }

    @Test
    void removedNodeGetsNoNewRequests() throws Exception {
        try (TestBackend a = new TestBackend(); TestBackend b = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, "routes:\n  - id: r\n    uri: /*\n    upstream:\n"
                     + "      nodes:\n        \"127.0.0.1:" + a.port() + "\": 1\n        \"127.0.0.1:" + b.port() + "\": 1\n", "")) {
            for (int i = 0; i < 10; i++) {
                assertEquals(200, status(gw, "/x"));
            }
            assertTrue(a.requests.get() > 0 && b.requests.get() > 0);
            writeAtomically("routes:\n  - id: r\n    uri: /*\n    upstream:\n"
                    + "      nodes:\n        \"127.0.0.1:" + b.port() + "\": 1\n");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (gw.running.server.publisher().latest().nodes.length != 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(100); // let every loop apply it (the barrier completes right after latest() changes)
            int aBefore = a.requests.get();
            for (int i = 0; i < 20; i++) {
                assertEquals(200, status(gw, "/x"));
            }
            assertEquals(aBefore, a.requests.get(), "the removed node got new requests");
        }
    }

    @Test
    void hundredRewritesUnderTrafficLoseNoRequest() throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, routes(backend.port(), ""), "")) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            AtomicReference<String> firstFailure = new AtomicReference<>();
            Thread[] clients = new Thread[2];
            for (int t = 0; t < clients.length; t++) {
                clients[t] = new Thread(() -> {
                    try (RawHttpClient c = gw.client()) {
                        // Bounded: stops when the writer is done, or after 200,000 requests.
                        for (int i = 0; i < 200_000 && !stop.get(); i++) {
                            RawHttpClient.Response r = c.exchange("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
                            if (r.status() == 200) {
                                ok.incrementAndGet();
                            } else {
                                failed.incrementAndGet();
                                firstFailure.compareAndSet(null, r.statusLine() + " " + r.bodyText());
                            }
                        }
                    } catch (Exception e) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, e.toString());
                    }
                });
                clients[t].start();
            }
            for (int i = 0; i < 100; i++) {
                String extra = i % 2 == 0
                        ? "  - id: z" + i + "\n    uri: /z" + i + "\n    upstream:\n      nodes:\n        \"127.0.0.1:"
                        + backend.port() + "\": " + (1 + i % 5) + "\n"
                        : "";
                writeAtomically(routes(backend.port(), extra));
                Thread.sleep(30);
            }
            Thread.sleep(300);
            stop.set(true);
            for (Thread t : clients) {
                t.join(30_000);
            }
            System.out.printf("hot reload under traffic: %d ok, %d failed, %d snapshots applied%n",
                    ok.get(), failed.get(), gw.running.updater.appliedCount());
            assertEquals(0, failed.get(), "first failure: " + firstFailure.get());
            assertTrue(ok.get() > 100, "traffic ran: " + ok.get());
            assertTrue(gw.running.updater.appliedCount() > 10, "rewrites were applied: " + gw.running.updater.appliedCount());
        }
    }
}
