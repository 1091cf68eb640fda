package io.turnpike.engine.health;

import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.GetLoad;
import io.turnpike.engine.testing.KillableBackend;
import io.turnpike.engine.testing.RawHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Health checks through a real gateway: the checker's verdicts reach every loop's balancer (a node held down gets no
 * request, not even a first try), a whole priority group down fails over to the next without a failed request, passive
 * failures take a node out and active checks bring it back (a node coming back is also covered by HealthCheckerIT).
 */
class HealthGatewayIT {
    @TempDir
    Path dir;

    private static void await(BooleanSupplier c, long maxMs, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + maxMs;
        while (!c.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static String scrape(GatewayFixture gw) throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                        + gw.running.prometheusAddress.getPort() + "/apisix/prometheus/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    private static long retries(GatewayFixture gw) {
        return gw.running.server.loops().stream().mapToLong(l -> l.counters.get(LoopCounters.UPSTREAM_RETRIES)).sum();
    }

    private static boolean healthy(GatewayFixture gw, String key, KillableBackend b) {
        return gw.running.watchers.health.checker().isHealthy(key,
                new HealthTarget(new InetSocketAddress("127.0.0.1", b.port()), "127.0.0.1"));
    }

    @Test
    void aWholePriorityGroupDownFailsOverWithoutAFailedRequest() throws Exception {
        KillableBackend primary = new KillableBackend(), backup = new KillableBackend();
        try (backup; GatewayFixture gw = GatewayFixture.start(dir, "upstreams:\n  - id: dc\n    nodes:\n"
                + "      - {host: 127.0.0.1, port: " + primary.port() + ", weight: 1, priority: 1}\n"
                + "      - {host: 127.0.0.1, port: " + backup.port() + ", weight: 1, priority: 0}\n"
                + "    checks:\n      active:\n        type: tcp\n        timeout: 1\n"
                + "        healthy: {interval: 1, successes: 1}\n        unhealthy: {interval: 1, tcp_failures: 1}\n"
                + "routes:\n  - id: r\n    uri: /*\n    upstream_id: dc\n", "  event_loops: 2\n")) {
            GetLoad load;
            long killedAt;
            long downAfterMs;
            try (GetLoad l = new GetLoad(gw.port, 4, 20_000, 25_000)) {
                load = l;
                l.awaitOk(200, 10_000);
                assertEquals(0, backup.requests.get(), "the backup idles");
                killedAt = System.nanoTime();
                primary.kill();
                await(() -> !healthy(gw, "upstreams/dc", primary), 10_000, "the primary held down");
                downAfterMs = (System.nanoTime() - killedAt) / 1_000_000;
                // The checker's verdict reaches the loops a moment later (its thread tells the endpoint slot, which
                // publishes to every loop): a request picked in between may still try the primary once. Wait until
                // 100 requests in a row went without a retry, then hold the loops to none at all.
                long[] seen = {retries(gw), l.ok.get()};
                await(() -> {
                    long r = retries(gw);
                    long ok = l.ok.get();
                    if (r != seen[0]) {
                        seen[0] = r;
                        seen[1] = ok;
                    }
                    return ok - seen[1] >= 100;
                }, 10_000, "the loops applied the verdict");
                long retriesThen = retries(gw);
                long okThen = l.ok.get();
                l.awaitOk(okThen + 500, 10_000);
                assertEquals(retriesThen, retries(gw), "a node held down gets no first try any more");
            }
            assertEquals(Map.of(), GetLoad.counts(load.failures), "no failed request");
            System.out.println("HealthGatewayIT: primary held down " + downAfterMs + " ms after it was killed");
            String metrics = scrape(gw);
            assertTrue(metrics.contains("apisix_upstream_status{name=\"/apisix/upstreams/dc\",ip=\"127.0.0.1\",port=\""
                    + primary.port() + "\"} 0"), metrics);
            assertTrue(metrics.contains("apisix_upstream_status{name=\"/apisix/upstreams/dc\",ip=\"127.0.0.1\",port=\""
                    + backup.port() + "\"} 1"), metrics);
        }
    }

    @Test
    void passiveFailuresTakeANodeOutAndActiveChecksBringItBack() throws Exception {
        try (KillableBackend sick = new KillableBackend(); KillableBackend fine = new KillableBackend();
             GatewayFixture gw = GatewayFixture.start(dir, "routes:\n  - id: r\n    uri: /*\n    upstream:\n"
                     + "      nodes:\n        \"127.0.0.1:" + sick.port() + "\": 1\n        \"127.0.0.1:" + fine.port()
                     + "\": 1\n      checks:\n        active:\n          http_path: /health\n"
                     + "          healthy: {interval: 1, successes: 1}\n"
                     + "          unhealthy: {interval: 1, http_failures: 2}\n"
                     + "        passive:\n          unhealthy: {http_statuses: [500], http_failures: 3}\n",
                     "  event_loops: 1\n");
             RawHttpClient c = gw.client()) {
            await(() -> sick.requests.get() > 0, 5_000, "active probes reach the node");
            sick.status = 500;
            int answered500 = 0;
            for (int i = 0; i < 40; i++) {
                if (c.exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n").status() == 500) {
                    answered500++;
                }
            }
            // Passive and active results share the node's counters (lua-resty-healthcheck): an active probe of
            // /health that also got a 500 may count toward the 3; and the verdict travels from the checker thread to
            // the loops asynchronously, so a request or two more may reach the node meanwhile. Round-robin alone
            // would have sent it 20 of the 40.
            assertTrue(answered500 >= 1 && answered500 <= 8, "passive checks took the node out after 3 failures: "
                    + answered500 + " 500s of 40");
            assertFalse(healthy(gw, "routes/r", sick));
            sick.status = 200;
            await(() -> healthy(gw, "routes/r", sick), 10_000, "active checks bring it back");
            int before = sick.requests.get();
            for (int i = 0; i < 10; i++) {
                assertEquals(200, c.exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n").status());
            }
            assertTrue(sick.requests.get() > before, "the node serves again");
        }
    }
}
