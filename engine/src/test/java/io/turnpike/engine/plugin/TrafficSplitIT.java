package io.turnpike.engine.plugin;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * traffic-split against a real gateway and three real backends on loopback: canary by weight (smooth weighted
 * round-robin, exact over every window of sum(weights) requests on a loop), blue-green by header and by cookie,
 * AND'ed vars within a match entry, fallback to the route's upstream, a split upstream's own pass_host, and an
 * upstream referenced by id changed by a config reload reaching the split.
 */
class TrafficSplitIT {
    @TempDir
    static Path dir;
    static TestBackend a;
    static TestBackend b;
    static TestBackend c;
    static GatewayFixture gw;

    static String yaml(int canaryPort) {
        return "upstreams:\n"
                + "  - id: canary\n    nodes:\n      \"127.0.0.1:" + canaryPort + "\": 1\n"
                + "routes:\n"
                + "  - id: canary\n    uri: /canary/*\n    plugins:\n      traffic-split:\n        rules:\n"
                + "          - weighted_upstreams:\n"
                + "              - upstream_id: canary\n                weight: 1\n"
                + "              - weight: 9\n"
                + "    upstream:\n      nodes:\n        \"127.0.0.1:" + a.port() + "\": 1\n"
                + "  - id: bg\n    uris: [/bg/*, /headers]\n    plugins:\n      traffic-split:\n        rules:\n"
                + "          - match:\n"
                + "              - vars: [[\"http_release\", \"==\", \"blue\"]]\n"
                + "              - vars: [[\"cookie_release\", \"==\", \"blue\"]]\n"
                + "            weighted_upstreams:\n"
                + "              - upstream:\n                  nodes:\n                    \"127.0.0.1:" + c.port()
                + "\": 1\n                  pass_host: rewrite\n                  upstream_host: blue.example\n"
                + "          - match:\n"
                + "              - vars: [[\"arg_release\", \"==\", \"green\"], [\"http_x_two\", \"==\", \"yes\"]]\n"
                + "            weighted_upstreams:\n              - upstream_id: canary\n"
                + "    upstream:\n      nodes:\n        \"127.0.0.1:" + a.port() + "\": 1\n";
    }

    @BeforeAll
    static void up() throws Exception {
        a = new TestBackend();
        b = new TestBackend();
        c = new TestBackend();
        gw = GatewayFixture.start(dir, yaml(b.port()), "  event_loops: 1\n");
    }

    @AfterAll
    static void down() throws Exception {
        if (gw != null) {
            gw.close();
        }
        a.close();
        b.close();
        c.close();
    }

    /** Which backend served one request: "a", "b" or "c". */
    static String served(String request) throws Exception {
        int ha = a.requests.get();
        int hb = b.requests.get();
        int hc = c.requests.get();
        try (RawHttpClient cl = gw.client()) {
            RawHttpClient.Response r = cl.exchange(request);
            assertEquals(200, r.status(), r.statusLine() + " " + r.bodyText());
        }
        String who = (a.requests.get() - ha) + "" + (b.requests.get() - hb) + (c.requests.get() - hc);
        return switch (who) {
            case "100" -> "a";
            case "010" -> "b";
            case "001" -> "c";
            default -> "requests a/b/c: " + who;
        };
    }

    @Test
    void canaryWeightsAreExactOverEveryWindowOfTheirSum() throws Exception {
        int n = 10_000;
        int a0 = a.requests.get();
        int b0 = b.requests.get();
        byte[] request = "GET /canary/x HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (RawHttpClient cl = gw.client()) {
            for (int i = 1; i <= n; i++) {
                RawHttpClient.Response r = cl.exchange(new String(request, java.nio.charset.StandardCharsets.US_ASCII));
                assertEquals(200, r.status());
                if (i % 10 == 0) {
                    assertEquals(i / 10, b.requests.get() - b0, "canary after " + i + " requests");
                    assertEquals(i / 10 * 9, a.requests.get() - a0, "route upstream after " + i + " requests");
                }
            }
        }
        int canary = b.requests.get() - b0;
        System.out.printf("traffic-split 1:9 over %d requests: canary %d (%.2f %%), route upstream %d%n", n, canary,
                100.0 * canary / n, a.requests.get() - a0);
        assertTrue(Math.abs(canary - n / 10) <= n / 100, "within 1 %");
    }

    @Test
    void blueGreenByHeaderOrCookieWithTheSplitUpstreamsOwnPassHost() throws Exception {
        assertEquals("c", served("GET /bg/x HTTP/1.1\r\nHost: h\r\nRelease: blue\r\n\r\n"));
        assertEquals("c", served("GET /bg/x HTTP/1.1\r\nHost: h\r\nCookie: a=1; release=blue\r\n\r\n"));
        assertEquals("a", served("GET /bg/x HTTP/1.1\r\nHost: h\r\nRelease: green\r\n\r\n"), "no rule: the route's");
        assertEquals("a", served("GET /bg/x HTTP/1.1\r\nHost: h\r\n\r\n"));
        try (RawHttpClient cl = gw.client()) {
            RawHttpClient.Response r = cl.exchange("GET /headers HTTP/1.1\r\nHost: client.example\r\nRelease: blue\r\n\r\n");
            assertTrue(r.bodyText().toLowerCase().contains("host: blue.example"), "pass_host rewrite: " + r.bodyText());
            r = cl.exchange("GET /headers HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertTrue(r.bodyText().toLowerCase().contains("host: client.example"), "the route's pass: " + r.bodyText());
        }
    }

    @Test
    void varsOfOneMatchEntryAreAndedAndEntriesOred() throws Exception {
        assertEquals("a", served("GET /bg/x?release=green HTTP/1.1\r\nHost: h\r\n\r\n"), "one of two vars");
        assertEquals("a", served("GET /bg/x HTTP/1.1\r\nHost: h\r\nX-Two: yes\r\n\r\n"), "the other one");
        assertEquals("b", served("GET /bg/x?release=green HTTP/1.1\r\nHost: h\r\nX-Two: yes\r\n\r\n"), "both");
    }

    @Test
    void anUpstreamChangedByAReloadReachesTheSplit() throws Exception {
        Path d = Files.createTempDirectory(dir, "reload");
        try (GatewayFixture g = GatewayFixture.start(d, yaml(b.port()), "  event_loops: 1\n")) {
            int b0 = b.requests.get();
            for (int i = 0; i < 10; i++) {
                get(g);
            }
            assertEquals(1, b.requests.get() - b0);
            long version = g.running.server.publisher().latest().version;
            Path tmp = d.resolve("apisix.yaml.tmp");
            Files.writeString(tmp, yaml(c.port()) + "\n#END\n");
            Files.move(tmp, d.resolve("apisix.yaml"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (g.running.server.publisher().latest().version <= version) {
                assertTrue(System.nanoTime() < deadline, "reload published");
                Thread.sleep(20);
            }
            Thread.sleep(100); // every loop applied it
            b0 = b.requests.get();
            int c0 = c.requests.get();
            for (int i = 0; i < 10; i++) {
                get(g);
            }
            assertEquals(0, b.requests.get() - b0, "the old canary node gets nothing");
            assertEquals(1, c.requests.get() - c0, "the changed upstream's node gets the canary's share");
        }
    }

    private static void get(GatewayFixture g) throws Exception {
        try (RawHttpClient cl = g.client()) {
            assertEquals(200, cl.exchange("GET /canary/x HTTP/1.1\r\nHost: h\r\n\r\n").status());
        }
    }
}
