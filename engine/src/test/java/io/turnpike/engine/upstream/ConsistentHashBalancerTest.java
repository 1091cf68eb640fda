package io.turnpike.engine.upstream;

import io.turnpike.engine.upstream.BalancerTestSupport.Parsed;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.turnpike.engine.upstream.BalancerTestSupport.node;
import static io.turnpike.engine.upstream.BalancerTestSupport.nodes;
import static io.turnpike.engine.upstream.BalancerTestSupport.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsistentHashBalancerTest {
    private static final int KEYS = 10_000;

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static long expected(String... parts) {
        long h = KeyHash.start();
        for (String p : parts) {
            h = KeyHash.update(h, ascii(p));
        }
        long f = KeyHash.finish(h);
        return f == ChashKey.MISSING ? 1 : f;
    }

    /** Node keys ("host:port") for KEYS client addresses hashed on remote_addr. */
    private static String[] place(NodeAddress[] n) {
        Balancer b = Balancers.create("chash", n, "vars", "remote_addr");
        BalancerInput in = new BalancerInput();
        String[] out = new String[KEYS];
        for (int i = 0; i < KEYS; i++) {
            in.remoteAddr(ascii("client-" + i));
            out[i] = b.pick(null, null, in).key;
        }
        return out;
    }

    private static NodeAddress[] ring(int count) {
        NodeAddress[] n = new NodeAddress[count];
        for (int i = 0; i < count; i++) {
            n[i] = node("192.168.1." + (i + 10) + ":8080", 1, i);
        }
        return n;
    }

    @Test
    void sameKeySameNode() {
        NodeAddress[] n = nodes(1, 1, 1, 1);
        Balancer b = Balancers.create("chash", n, "header", "X-User-Id");
        for (int u = 0; u < 50; u++) {
            NodeAddress first = null;
            for (int rep = 0; rep < 3; rep++) {
                try (Parsed p = parse("GET /x?r=" + rep + " HTTP/1.1\r\nHost: h\r\nX-User-Id: user" + u + "\r\n\r\n")) {
                    BalancerInput in = new BalancerInput().remoteAddr(ascii("10.1.1." + rep));
                    NodeAddress got = b.pick(p.buf, p.head, in);
                    if (first == null) {
                        first = got;
                    }
                    assertSame(first, got, "user" + u);
                }
            }
        }
        // and a separately compiled ring (another snapshot, another loop) agrees
        Balancer again = Balancers.create("chash", nodes(1, 1, 1, 1), "header", "X-User-Id");
        try (Parsed p = parse("GET / HTTP/1.1\r\nHost: h\r\nX-User-Id: user7\r\n\r\n")) {
            BalancerInput in = new BalancerInput();
            assertEquals(b.pick(p.buf, p.head, in).key, again.pick(p.buf, p.head, in).key);
        }
    }

    @Test
    void addingANodeMovesAboutOneNthOfTheKeysAllToTheNewNode() {
        for (int count : new int[] {3, 5, 10}) {
            String[] before = place(ring(count));
            String[] after = place(ring(count + 1));
            String added = ring(count + 1)[count].key;
            int moved = 0;
            for (int i = 0; i < KEYS; i++) {
                if (!before[i].equals(after[i])) {
                    moved++;
                    assertEquals(added, after[i], "a key only ever moves to the new node");
                }
            }
            double ideal = (double) KEYS / (count + 1);
            assertTrue(moved < 2 * ideal && moved > 0.5 * ideal,
                    count + " -> " + (count + 1) + " nodes moved " + moved + " keys, ideal " + (int) ideal);
        }
    }

    @Test
    void removingANodeMovesOnlyItsKeys() {
        NodeAddress[] full = ring(6);
        String[] before = place(full);
        NodeAddress[] less = new NodeAddress[5];
        int k = 0;
        for (int i = 0; i < 6; i++) {
            if (i != 2) {
                less[k] = node(full[i].key, 1, k);
                k++;
            }
        }
        String[] after = place(less);
        int moved = 0;
        for (int i = 0; i < KEYS; i++) {
            if (!before[i].equals(after[i])) {
                moved++;
                assertEquals(full[2].key, before[i], "only the removed node's keys move");
            } else {
                assertNotEquals(full[2].key, before[i]);
            }
        }
        assertTrue(moved > 0);
    }

    @Test
    void weightsSkewTheShareProportionally() {
        NodeAddress[] n = nodes(1, 2, 3, 4);
        String[] placed = place(n);
        int[] c = new int[n.length];
        for (String key : placed) {
            for (NodeAddress a : n) {
                if (a.key.equals(key)) {
                    c[a.index]++;
                }
            }
        }
        for (int i = 0; i < n.length; i++) {
            double ideal = KEYS * n[i].weight / 10.0;
            assertTrue(Math.abs(c[i] - ideal) < 0.2 * ideal, "node " + i + " got " + Arrays.toString(c));
        }
    }

    @Test
    void commonWeightIsNormalisedSoTheRingStaysSmall() {
        assertEquals(3 * ChashRing.POINTS_PER_WEIGHT, new ChashRing(nodes(100, 100, 100)).size());
        assertEquals(6 * ChashRing.POINTS_PER_WEIGHT, new ChashRing(nodes(100, 200, 300)).size());
        assertTrue(new ChashRing(nodes(1, 1000, 1000, 1000)).size() <= ChashRing.MAX_POINTS + 4);
        assertEquals(0, new ChashRing(nodes(0, 0)).size());
    }

    @Test
    void zeroWeightNeverPickedAndEmptyIsNull() {
        NodeAddress[] n = nodes(0, 1, 0, 1);
        Balancer b = Balancers.create("chash", n, "vars", "remote_addr");
        BalancerInput in = new BalancerInput();
        for (int i = 0; i < 1000; i++) {
            in.remoteAddr(ascii("c" + i));
            assertTrue(b.pick(null, null, in).weight > 0);
        }
        assertNull(Balancers.create("chash", nodes(0), "vars", "uri").pick(null, null, in));
        assertNull(Balancers.create("chash", new NodeAddress[0], "vars", "uri").pick(null, null, in));
    }

    // ---- key extraction from a real parsed request ----

    private static long hash(String hashOn, String key, Parsed p, BalancerInput in) {
        List<String> w = new ArrayList<>();
        ChashKey k = ChashKey.compile(hashOn, key, w);
        assertTrue(w.isEmpty(), w.toString());
        return k.hash(p.buf, p.head, in);
    }

    @Test
    void eachSourceHashesTheRightBytes() {
        String req = "GET /api/v1/users?page=2&Name=bob&empty=&flag HTTP/1.1\r\n"
                + "Host: Example.COM:8080\r\n"
                + "X-User-Id: 42\r\n"
                + "Cookie: a=1; sid=xyz ; b=2\r\n"
                + "Cookie: late=9\r\n"
                + "\r\n";
        BalancerInput in = new BalancerInput().remoteAddr(ascii("198.51.100.7"));
        try (Parsed p = parse(req)) {
            assertEquals(expected("198.51.100.7"), hash("vars", "remote_addr", p, in));
            assertEquals(expected("/api/v1/users"), hash("vars", "uri", p, in));
            assertEquals(expected("/api/v1/users?page=2&Name=bob&empty=&flag"), hash("vars", "request_uri", p, in));
            assertEquals(expected("page=2&Name=bob&empty=&flag"), hash("vars", "args", p, in));
            assertEquals(expected("example.com"), hash("vars", "host", p, in));
            assertEquals(expected("GET"), hash("vars", "request_method", p, in));
            assertEquals(expected("2"), hash("vars", "arg_page", p, in));
            assertEquals(expected("bob"), hash("vars", "arg_name", p, in), "arg names are case-insensitive");
            assertEquals(expected(""), hash("vars", "arg_empty", p, in), "present but empty is the empty string");
            assertEquals(ChashKey.MISSING, hash("vars", "arg_flag", p, in), "no '=': absent, as in nginx");
            assertEquals(ChashKey.MISSING, hash("vars", "arg_nope", p, in));
            assertEquals(expected("42"), hash("vars", "http_x_user_id", p, in));
            assertEquals(expected("42"), hash("header", "X-User-Id", p, in));
            assertEquals(expected("42"), hash("header", "x_user_id", p, in));
            assertEquals(ChashKey.MISSING, hash("header", "X-Other", p, in));
            assertEquals(expected("xyz"), hash("cookie", "sid", p, in));
            assertEquals(expected("1"), hash("vars", "cookie_a", p, in));
            assertEquals(expected("9"), hash("cookie", "late", p, in), "second Cookie header");
            assertEquals(ChashKey.MISSING, hash("cookie", "si", p, in), "prefix of a name is not the name");
            assertEquals(expected("example.com", "-", "2", "/", "42"),
                    hash("vars_combinations", "$host-${arg_page}/$http_x_user_id", p, in));
            assertEquals(expected("x:", "198.51.100.7"), hash("vars_combinations", "x:$arg_nope$remote_addr", p, in),
                    "an absent variable contributes nothing");
            assertEquals(ChashKey.MISSING, hash("vars_combinations", "$arg_nope-$cookie_nope", p, in));
            assertEquals(ChashKey.MISSING, hash("consumer", null, p, in), "no consumer yet");
            in.consumer(ascii("jack"));
            assertEquals(expected("jack"), hash("consumer", null, p, in));
        }
        try (Parsed p = parse("GET / HTTP/1.1\r\nHost: [2001:DB8::1]:9080\r\n\r\n")) {
            assertEquals(expected("[2001:db8::1]"), hash("vars", "host", p, in));
            assertEquals(expected("/"), hash("vars", "uri", p, in));
            assertEquals(ChashKey.MISSING, hash("vars", "args", p, in));
            assertEquals(ChashKey.MISSING, hash("vars", "arg_a", p, in));
        }
    }

    @Test
    void longKeysUseWordReadsAndStillAgreeWithTheByteArrayHash() {
        String path = "/a/very/long/path/that/spans/several/eight/byte/words/x";
        try (Parsed p = parse("GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n")) {
            assertEquals(expected(path), hash("vars", "uri", p, new BalancerInput()));
        }
    }

    @Test
    void missingKeyFallsBackToRemoteAddr() {
        NodeAddress[] n = ring(8);
        Balancer byArg = Balancers.create("chash", n, "vars", "arg_user");
        Balancer byRemote = Balancers.create("chash", n, "vars", "remote_addr");
        try (Parsed p = parse("GET /no-args HTTP/1.1\r\nHost: h\r\n\r\n")) {
            for (int i = 0; i < 200; i++) {
                BalancerInput in = new BalancerInput().remoteAddr(ascii("203.0.113." + i));
                assertSame(byRemote.pick(p.buf, p.head, in), byArg.pick(p.buf, p.head, in));
            }
        }
    }

    @Test
    void unsupportedSettingsFallBackWithAWarningOrFail() {
        List<String> w = new ArrayList<>();
        BalancerSpec spec = Balancers.compile("chash", nodes(1, 1), "vars", "server_name", w);
        assertEquals(1, w.size(), w.toString());
        assertEquals(w, spec.warnings);
        assertEquals("remote_addr", ((ConsistentHashBalancer) spec.newBalancer()).key().toString());
        assertThrows(IllegalArgumentException.class, () -> Balancers.compile("chash", nodes(1), "body", "x", null));
        assertThrows(IllegalArgumentException.class, () -> Balancers.compile("random", nodes(1), null, null, null));
    }

    @Test
    void retriesWalkTheRingFromTheKeysPoint() {
        NodeAddress[] n = ring(5);
        ConsistentHashBalancer b = (ConsistentHashBalancer) Balancers.create("chash", n, "cookie", "sid");
        try (Parsed p = parse("GET / HTTP/1.1\r\nHost: h\r\nCookie: sid=abc\r\n\r\n")) {
            BalancerInput in = new BalancerInput().remoteAddr(ascii("1.2.3.4"));
            NodeAddress first = b.pick(p.buf, p.head, in);
            long tried = b.markTried(0, first);
            // the retry uses the recorded key hash: no request bytes needed any more
            NodeAddress second = b.pickExcluding(null, null, in, tried);
            assertNotEquals(first, second);
            // deterministic: the same request retries onto the same second node
            BalancerInput in2 = new BalancerInput().remoteAddr(ascii("9.9.9.9"));
            assertSame(first, b.pick(p.buf, p.head, in2));
            assertSame(second, b.pickExcluding(p.buf, p.head, in2, tried));
        }
    }
    /**
     * Targets whose nodes have the same keys and weights in the same order share one ring within a compile (their own
     * NodeAddress objects); any difference (a weight, the order, a node) gets its own; a shared ring places keys as a
     * ring of its own would.
     */
    @Test
    void ringCacheSharesRingsOfIdenticalNodeListsOnly() {
        ChashRing.Cache cache = new ChashRing.Cache();
        ConsistentHashBalancer a = (ConsistentHashBalancer) Balancers.compile("chash", nodes(1, 2, 3), "vars",
                "remote_addr", null, cache).newBalancer();
        ConsistentHashBalancer b = (ConsistentHashBalancer) Balancers.compile("chash", nodes(1, 2, 3), "vars",
                "remote_addr", null, cache).newBalancer();
        ConsistentHashBalancer w = (ConsistentHashBalancer) Balancers.compile("chash", nodes(1, 2, 4), "vars",
                "remote_addr", null, cache).newBalancer();
        NodeAddress[] swapped = nodes(1, 2, 3);
        NodeAddress t = swapped[0];
        swapped[0] = swapped[1];
        swapped[1] = t;
        ConsistentHashBalancer o = (ConsistentHashBalancer) Balancers.compile("chash", swapped, "vars",
                "remote_addr", null, cache).newBalancer();
        assertSame(a.ring(), b.ring());
        assertNotEquals(a.ring(), w.ring());
        assertNotEquals(a.ring(), o.ring());
        ChashRing own = new ChashRing(nodes(1, 2, 3));
        assertTrue(Arrays.equals(own.points, a.ring().points));
        cache.clear();
        ConsistentHashBalancer c = (ConsistentHashBalancer) Balancers.compile("chash", nodes(1, 2, 3), "vars",
                "remote_addr", null, cache).newBalancer();
        assertNotEquals(a.ring(), c.ring(), "a new compile builds its own");
    }
}
