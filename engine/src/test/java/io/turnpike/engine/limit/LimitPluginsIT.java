package io.turnpike.engine.limit;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The limit plugins (policy local) against a real gateway with two event loops and a real backend: exactness under
 * concurrent clients spread over both loops, the quota headers, rejection replies, keys, groups, per-route and
 * per-consumer counters, leaky-bucket rates and delays, and concurrency limits. Every load loop is bounded in count
 * and time.
 */
class LimitPluginsIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    static GatewayFixture gw;

    static String route(String id, String uri, String plugins) {
        return "  - id: " + id + "\n    uri: " + uri + "\n    plugins:\n" + plugins
                + "    upstream:\n      nodes:\n        \"127.0.0.1:" + backend.port() + "\": 1\n";
    }

    @BeforeAll
    static void up() throws Exception {
        backend = new TestBackend();
        String yaml = "routes:\n"
                + route("exact", "/exact", "      limit-count:\n        count: 40\n        time_window: 60\n"
                + "        key_type: constant\n        key: all\n")
                + route("hdr", "/hdr", "      limit-count:\n        count: 3\n        time_window: 60\n"
                + "        rejected_code: 429\n        rejected_msg: slow down\n")
                + route("user", "/user", "      limit-count:\n        count: 2\n        time_window: 60\n"
                + "        key: http_x_user\n        show_limit_quota_header: false\n")
                + route("g1", "/g1", "      limit-count:\n        count: 4\n        time_window: 60\n"
                + "        group: shared\n        key_type: constant\n        key: k\n")
                + route("g2", "/g2", "      limit-count:\n        count: 4\n        time_window: 60\n"
                + "        group: shared\n        key_type: constant\n        key: k\n")
                + route("same1", "/same1", "      limit-count:\n        count: 2\n        time_window: 60\n")
                + route("same2", "/same2", "      limit-count:\n        count: 2\n        time_window: 60\n")
                + route("win", "/win", "      limit-count:\n        count: 5\n        time_window: 1\n"
                + "        key_type: constant\n        key: w\n")
                + route("slide", "/slide", "      limit-count:\n        count: 10\n        time_window: 1\n"
                + "        window_type: sliding\n        key_type: constant\n        key: s\n")
                + route("ka1", "/ka1", "      key-auth: {}\n")
                + route("ka2", "/ka2", "      key-auth: {}\n")
                + route("req", "/req", "      limit-req:\n        rate: 20\n        burst: 5\n        nodelay: true\n"
                + "        key_type: var_combination\n        key: \"$remote_addr $route_id\"\n")
                + route("reqd", "/reqd", "      limit-req:\n        rate: 10\n        burst: 10\n"
                + "        key: remote_addr\n")
                + route("conn", "/slow", "      limit-conn:\n        conn: 2\n        burst: 1\n"
                + "        default_conn_delay: 0.05\n        only_use_default_delay: true\n"
                + "        key: remote_addr\n")
                + "consumers:\n  - username: jack\n    plugins:\n      key-auth:\n        key: jack-key\n"
                + "      limit-count:\n        count: 3\n        time_window: 60\n        key: consumer_name\n";
        gw = GatewayFixture.start(dir, yaml, "  event_loops: 2\n");
    }

    @AfterAll
    static void down() {
        gw.close();
        backend.close();
    }

    /** Sends {@code total} GETs over {@code clients} keep-alive connections (spread over the loops) and counts statuses. */
    static ConcurrentHashMap<Integer, AtomicInteger> hammer(String path, int clients, int total, String extraHeaders)
            throws Exception {
        ConcurrentHashMap<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        AtomicInteger left = new AtomicInteger(total);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> fs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            fs.add(pool.submit(() -> {
                go.await();
                RawHttpClient cl = gw.client();
                try {
                    while (left.getAndDecrement() > 0) {
                        RawHttpClient.Response r = cl.exchange("GET " + path + " HTTP/1.1\r\nHost: a\r\n"
                                + extraHeaders + "\r\n");
                        statuses.computeIfAbsent(r.status(), k -> new AtomicInteger()).incrementAndGet();
                        if ("close".equalsIgnoreCase(r.header("connection"))) {
                            cl.close();
                            cl = gw.client();
                        }
                    }
                } finally {
                    cl.close();
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : fs) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdownNow();
        return statuses;
    }

    static int count(ConcurrentHashMap<Integer, AtomicInteger> m, int status) {
        AtomicInteger a = m.get(status);
        return a == null ? 0 : a.get();
    }

    @Test
    void exactUnderConcurrencyAcrossLoops() throws Exception {
        var s = hammer("/exact", 16, 400, "");
        assertEquals(40, count(s, 200), s.toString());
        assertEquals(360, count(s, 503), s.toString());
    }

    @Test
    void quotaHeadersAndRejection() throws Exception {
        try (RawHttpClient c = gw.client()) {
            for (int i = 0; i < 3; i++) {
                RawHttpClient.Response r = c.exchange("GET /hdr HTTP/1.1\r\nHost: a\r\n\r\n");
                assertEquals(200, r.status());
                assertEquals("3", r.header("x-ratelimit-limit"));
                assertEquals(String.valueOf(2 - i), r.header("x-ratelimit-remaining"));
                long reset = Long.parseLong(r.header("x-ratelimit-reset"));
                assertTrue(reset >= 59 && reset <= 60, "reset " + reset);
            }
            RawHttpClient.Response r = c.exchange("GET /hdr HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(429, r.status());
            assertEquals("{\"error_msg\":\"slow down\"}\n", r.bodyText());
            assertEquals("0", r.header("x-ratelimit-remaining"));
            assertEquals("3", r.header("x-ratelimit-limit"));
        }
    }

    @Test
    void keyByHeaderAndFallbackToClientAddress() throws Exception {
        try (RawHttpClient c = gw.client()) {
            for (String user : new String[]{"ann", "bob"}) {
                for (int i = 0; i < 2; i++) {
                    RawHttpClient.Response r = c.exchange("GET /user HTTP/1.1\r\nHost: a\r\nX-User: " + user + "\r\n\r\n");
                    assertEquals(200, r.status());
                    assertEquals(null, r.header("x-ratelimit-limit"), "show_limit_quota_header false");
                }
                assertEquals(503, c.exchange("GET /user HTTP/1.1\r\nHost: a\r\nX-User: " + user + "\r\n\r\n").status());
            }
            // No X-User: the key is the client address (APISIX's fallback), a counter of its own.
            assertEquals(200, c.exchange("GET /user HTTP/1.1\r\nHost: a\r\n\r\n").status());
        }
    }

    @Test
    void aKeyTooLongToStoreIsNotDecidedAndAnsweredAsAFailure() throws Exception {
        try (RawHttpClient c = gw.client()) {
            RawHttpClient.Response r = c.exchange("GET /user HTTP/1.1\r\nHost: a\r\nX-User: "
                    + "u".repeat(LimitTable.MAX_KEY_BYTES + 1) + "\r\n\r\n");
            assertEquals(500, r.status(), "allow_degradation false: APISIX's failure answer");
            assertEquals("{\"error_msg\":\"failed to limit count\"}\n", r.bodyText());
        }
    }

    @Test
    void groupSharesOneCounterWhileEqualConfigsOnTwoRoutesDoNot() throws Exception {
        try (RawHttpClient c = gw.client()) {
            int ok = 0;
            for (int i = 0; i < 6; i++) {
                ok += c.exchange("GET /g" + (1 + i % 2) + " HTTP/1.1\r\nHost: a\r\n\r\n").status() == 200 ? 1 : 0;
            }
            assertEquals(4, ok, "one counter for both routes of the group");
            for (String p : new String[]{"/same1", "/same2"}) {
                assertEquals(200, c.exchange("GET " + p + " HTTP/1.1\r\nHost: a\r\n\r\n").status());
                assertEquals(200, c.exchange("GET " + p + " HTTP/1.1\r\nHost: a\r\n\r\n").status());
                assertEquals(503, c.exchange("GET " + p + " HTTP/1.1\r\nHost: a\r\n\r\n").status(), p);
            }
        }
    }

    @Test
    void consumerLimitAppliesAcrossRoutes() throws Exception {
        try (RawHttpClient c = gw.client()) {
            String h = "Host: a\r\napikey: jack-key\r\n\r\n";
            assertEquals(200, c.exchange("GET /ka1 HTTP/1.1\r\n" + h).status());
            assertEquals(200, c.exchange("GET /ka2 HTTP/1.1\r\n" + h).status());
            RawHttpClient.Response r = c.exchange("GET /ka1 HTTP/1.1\r\n" + h);
            assertEquals(200, r.status());
            assertEquals("0", r.header("x-ratelimit-remaining"));
            assertEquals(503, c.exchange("GET /ka2 HTTP/1.1\r\n" + h).status());
        }
    }

    @Test
    void fixedWindowReopensAfterItsTime() throws Exception {
        try (RawHttpClient c = gw.client()) {
            for (int round = 0; round < 2; round++) {
                int ok = 0;
                for (int i = 0; i < 8; i++) {
                    ok += c.exchange("GET /win HTTP/1.1\r\nHost: a\r\n\r\n").status() == 200 ? 1 : 0;
                }
                assertEquals(5, ok, "round " + round);
                Thread.sleep(1200);
            }
        }
    }

    @Test
    void slidingWindowRateWithinTolerance() throws Exception {
        // 10 per second, sliding: over ~3 s of continuous demand, admitted stays within [10 * 3 - 10, 10 * 3 + 10].
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3000);
        int ok = 0;
        int sent = 0;
        try (RawHttpClient c = gw.client()) {
            while (System.nanoTime() < end && sent < 20_000) {
                sent++;
                ok += c.exchange("GET /slide HTTP/1.1\r\nHost: a\r\n\r\n").status() == 200 ? 1 : 0;
                Thread.sleep(2);
            }
        }
        assertTrue(ok >= 20 && ok <= 40, "admitted " + ok + " of " + sent);
    }

    @Test
    void leakyBucketNodelayAdmitsBurstThenRate() throws Exception {
        // rate 20/s, burst 5, nodelay: a sudden 30 requests -> 1 + 5 admitted at once (plus what leaked meanwhile).
        var s = hammer("/req", 6, 30, "");
        int ok = count(s, 200);
        assertTrue(ok >= 6 && ok <= 9, s.toString());
        assertEquals(30 - ok, count(s, 503), s.toString());
    }

    @Test
    void leakyBucketDelaysWithinBurst() throws Exception {
        // rate 10/s, burst 10, delayed: 8 requests at once are all admitted, the last ~0.7 s after the first.
        long t0 = System.nanoTime();
        var s = hammer("/reqd", 8, 8, "");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(8, count(s, 200), s.toString());
        assertTrue(ms >= 500, "delayed by the bucket: " + ms + " ms");
    }

    @Test
    void concurrencyLimitRejectsBeyondConnPlusBurstAndReleasesSlots() throws Exception {
        // conn 2 + burst 1: of 8 concurrent slow requests, 3 are admitted (the third delayed 50 ms), 5 rejected.
        var s = hammerSlow(8);
        assertEquals(3, count(s, 200), s.toString());
        assertEquals(5, count(s, 503), s.toString());
        // The slots came back: the next requests pass.
        try (RawHttpClient c = gw.client()) {
            assertEquals(200, c.exchange("GET /slow?ms=1 HTTP/1.1\r\nHost: a\r\n\r\n").status());
        }
    }

    @Test
    void statusReportsLimitersAndKeys() throws Exception {
        try (RawHttpClient c = gw.client()) {
            assertEquals(200, c.exchange("GET /user HTTP/1.1\r\nHost: a\r\nX-User: status-probe\r\n\r\n").status());
        }
        try (RawHttpClient s = new RawHttpClient(gw.statusPort)) {
            String body = s.exchange("GET /status HTTP/1.1\r\nHost: a\r\n\r\n").bodyText();
            var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
            // 13 limits on routes, two of them one group, and one on a consumer (other test classes in this JVM may
            // add theirs).
            assertTrue(json.path("limits").path("limiters").asLong() >= 12, body);
            assertTrue(json.path("limits").path("keys").asLong() >= 1, body);
        }
    }

    static ConcurrentHashMap<Integer, AtomicInteger> hammerSlow(int n) throws Exception {
        // All heads go out first (the backend holds each admitted request 800 ms), then all responses are read.
        ConcurrentHashMap<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        List<RawHttpClient> cs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            cs.add(gw.client());
        }
        try {
            for (RawHttpClient c : cs) {
                c.send("GET /slow?ms=800 HTTP/1.1\r\nHost: a\r\n\r\n");
            }
            for (RawHttpClient c : cs) {
                RawHttpClient.Response r = c.read(false);
                assertNotNull(r);
                statuses.computeIfAbsent(r.status(), k -> new AtomicInteger()).incrementAndGet();
            }
        } finally {
            for (RawHttpClient c : cs) {
                c.close();
            }
        }
        return statuses;
    }
}
