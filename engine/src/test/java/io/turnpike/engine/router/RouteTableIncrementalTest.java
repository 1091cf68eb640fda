package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.RequestHeadParser;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link RouteTable#with}: a table derived by incremental updates matches exactly like one built from scratch from the
 * same routes, leaves the table it came from unchanged, and keeps no garbage structure.
 */
class RouteTableIncrementalTest {
    /** Path segments: few, so that uris share keys, prefixes and trie nodes. */
    private static final String[] SEGMENTS = {"a", "b", "ab", "abc", "x1", "x2", "users", "u"};
    private static final String[] HOSTS = {"h1.com", "h2.com", "a.h1.com", "*.h1.com", "*.com", "*.a.h1.com", "*.x.org"};
    private static final String[] REQUEST_HOSTS = {"h1.com", "h2.com", "a.h1.com", "b.a.h1.com", "x.h1.com",
            "other.com", "q.x.org", "nowhere.net", null};
    private static final String[] METHODS = {"GET", "POST", "DELETE"};

    private final List<Parsed> parsed = new ArrayList<>();

    @AfterEach
    void release() {
        for (Parsed p : parsed) {
            p.buf.release();
        }
        parsed.clear();
    }

    // ---------------------------------------------------------------------------------------------- fixtures

    private static CompiledRoute route(String id, List<String> uris, List<String> hosts, List<String> methods,
                                       int priority, int order) {
        return new CompiledRoute(id, RouteConditions.compile(uris, hosts, methods, List.of(), null), priority, null,
                order);
    }

    private static CompiledRoute route(String id, String uri, int priority, int order) {
        return route(id, List.of(uri), List.of(), List.of(), priority, order);
    }

    private static RouteTable build(Collection<CompiledRoute> routes) {
        RouteTable.Builder b = new RouteTable.Builder();
        for (CompiledRoute r : routes) {
            b.add(r);
        }
        return b.build();
    }

    private static final class Parsed {
        final String text;
        final ByteBuf buf;
        final RequestHead head = new RequestHead(100);

        Parsed(String method, String target, String host) {
            String req = method + " " + target + (host == null ? " HTTP/1.0\r\n" : " HTTP/1.1\r\nHost: " + host + "\r\n")
                    + "\r\n";
            text = req.trim();
            buf = Unpooled.copiedBuffer(req, StandardCharsets.ISO_8859_1);
            assertTrue(new RequestHeadParser(8192, 65536, 100, true).parse(buf, head) > 0, req);
        }
    }

    private Parsed parse(String method, String target, String host) {
        Parsed p = new Parsed(method, target, host);
        parsed.add(p);
        return p;
    }

    private static CompiledRoute match(RouteTable t, Parsed p, MatchScratch s) {
        return t.match(p.buf, p.head, s);
    }

    /** The id of the route matching GET {@code target}, or null. */
    private String match(RouteTable t, String target) {
        CompiledRoute r = match(t, parse("GET", target, "h"), new MatchScratch());
        return r == null ? null : r.id;
    }

    // ---------------------------------------------------------------------------------------------- randomized

    /** A random generator of uris, routes and requests over a small vocabulary. */
    private static final class Gen {
        final Random rnd;
        final List<String> uris = new ArrayList<>();
        int nextId;

        Gen(long seed) {
            rnd = new Random(seed);
            for (int i = 0; i < 60; i++) {
                uris.add(uri());
            }
        }

        String pick(String[] a) {
            return a[rnd.nextInt(a.length)];
        }

        String path(int segments) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < segments; i++) {
                b.append('/').append(pick(SEGMENTS));
            }
            return b.toString();
        }

        String uri() {
            String base = path(1 + rnd.nextInt(3));
            return switch (rnd.nextInt(8)) {
                case 0, 1 -> base;                                   // exact
                case 2 -> base + "/*";                               // prefix /a/*
                case 3 -> base + "*";                                // prefix /a*
                case 4 -> base + "/:id";                             // param
                case 5 -> base + "/:id/" + pick(SEGMENTS);          // param then literal
                case 6 -> base + "/*rest";                           // named rest
                default -> rnd.nextBoolean() ? "/*" : base + "/";    // catch-all, trailing slash exact
            };
        }

        CompiledRoute route() {
            List<String> us = new ArrayList<>();
            int n = rnd.nextInt(10) == 0 ? 2 : 1;
            for (int i = 0; i < n; i++) {
                us.add(uris.get(rnd.nextInt(uris.size())));
            }
            List<String> hs = new ArrayList<>();
            if (rnd.nextInt(5) < 2) {
                int k = 1 + (rnd.nextInt(4) == 0 ? 1 : 0);
                for (int i = 0; i < k; i++) {
                    String h = pick(HOSTS);
                    if (!hs.contains(h)) {
                        hs.add(h);
                    }
                }
            }
            List<String> ms = switch (rnd.nextInt(5)) {
                case 0 -> List.of("GET");
                case 1 -> List.of("POST", "DELETE");
                default -> List.of();
            };
            int priority = rnd.nextInt(4) == 0 ? rnd.nextInt(3) - 1 : 0;
            int order = rnd.nextInt(3) == 0 ? rnd.nextInt(3) : 0; // mostly 0: ties broken by id
            // ids in random order so that the id tie-break does not follow creation order
            String id = String.format("r%04d-%d", rnd.nextInt(10_000), nextId++);
            return RouteTableIncrementalTest.route(id, us, hs, ms, priority, order);
        }

        /** A request target: a route uri with its parameters filled in, or a random path. */
        String target() {
            if (rnd.nextInt(3) == 0) {
                String p = path(rnd.nextInt(5)) + (rnd.nextInt(4) == 0 ? "/" : "");
                return p.isEmpty() ? "/" : p;
            }
            String u = uris.get(rnd.nextInt(uris.size()));
            StringBuilder b = new StringBuilder();
            for (String seg : u.split("/", -1)) {
                if (b.length() > 0 || !seg.isEmpty()) {
                    b.append('/');
                }
                if (seg.startsWith(":")) {
                    b.append(rnd.nextInt(5) == 0 ? "" : "7");
                } else if (seg.startsWith("*")) {
                    b.append(seg.substring(1).isEmpty() || rnd.nextBoolean() ? "" : "z/y");
                } else if (seg.endsWith("*")) {
                    b.append(seg, 0, seg.length() - 1).append(rnd.nextBoolean() ? "" : "q");
                } else {
                    b.append(seg);
                }
            }
            if (b.length() == 0) {
                b.append('/');
            }
            if (rnd.nextInt(6) == 0) {
                b.append("/").append(pick(SEGMENTS));
            }
            return b.charAt(0) == '/' ? b.toString() : "/" + b;
        }
    }

    @Test
    void randomUpdatesMatchLikeAFullBuild() {
        long[] seeds = {1, 7, 42, 20240601};
        for (long seed : seeds) {
            randomRun(seed, 150, 120);
        }
    }

    private void randomRun(long seed, int initial, int batches) {
        Gen g = new Gen(seed);
        List<Parsed> requests = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            requests.add(parse(g.pick(METHODS), g.target(), g.rnd.nextInt(4) == 0 ? null : g.pick(REQUEST_HOSTS)));
        }
        MatchScratch scratch = new MatchScratch();
        Map<CompiledRoute, Boolean> live = new LinkedHashMap<>();
        for (int i = 0; i < initial; i++) {
            live.put(g.route(), Boolean.TRUE);
        }
        RouteTable t = seed % 2 == 0 ? build(live.keySet()) : RouteTable.EMPTY.with(List.of(), live.keySet());
        assertEquivalent(t, build(live.keySet()), requests, scratch, seed, -1);
        int hits = 0;
        for (int batch = 0; batch < batches; batch++) {
            List<CompiledRoute> current = new ArrayList<>(live.keySet());
            List<CompiledRoute> removed = new ArrayList<>();
            List<CompiledRoute> added = new ArrayList<>();
            boolean big = g.rnd.nextInt(20) == 0;
            int nRemove = big ? Math.min(current.size(), 40) : g.rnd.nextInt(4);
            int nAdd = big ? 40 : g.rnd.nextInt(4);
            for (int i = 0; i < nRemove && !current.isEmpty(); i++) {
                CompiledRoute r = current.remove(g.rnd.nextInt(current.size()));
                removed.add(r);
                live.remove(r);
            }
            for (int i = 0; i < nAdd; i++) {
                CompiledRoute r = g.route();
                added.add(r);
                live.put(r, Boolean.TRUE);
            }
            if (!current.isEmpty() && g.rnd.nextInt(5) == 0) {
                // the same object removed and added: stays
                CompiledRoute r = current.get(g.rnd.nextInt(current.size()));
                removed.add(r);
                added.add(r);
            }
            if (g.rnd.nextInt(6) == 0) {
                removed.add(g.route()); // never added: ignored
            }
            // what the old table answers before the update
            CompiledRoute[] before = new CompiledRoute[requests.size()];
            for (int i = 0; i < before.length; i++) {
                before[i] = match(t, requests.get(i), scratch);
            }
            RouteTable next = t.with(removed, added);
            for (int i = 0; i < before.length; i++) {
                assertSame(before[i], match(t, requests.get(i), scratch), "old table changed by with(), seed " + seed
                        + " batch " + batch + ": " + requests.get(i).text);
            }
            t = next;
            hits += assertEquivalent(t, build(live.keySet()), requests, scratch, seed, batch);
        }
        assertTrue(hits > requests.size() * batches / 10, "too few requests match anything: " + hits);
        // everything removed, in two batches
        List<CompiledRoute> all = new ArrayList<>(live.keySet());
        t = t.with(all.subList(0, all.size() / 2), List.of()).with(all.subList(all.size() / 2, all.size()), List.of());
        assertEmpty(t, requests, scratch);
    }

    /** Asserts both tables give the same route object for every request; returns how many matched a route. */
    private static int assertEquivalent(RouteTable incremental, RouteTable fresh, List<Parsed> requests,
                                        MatchScratch scratch, long seed, int batch) {
        assertEquals(fresh.size(), incremental.size(), "size, seed " + seed + " batch " + batch);
        assertEquals(fresh.trieNodes(), incremental.trieNodes(), "trie nodes, seed " + seed + " batch " + batch);
        assertEquals(fresh.exactKeys(), incremental.exactKeys(), "exact keys, seed " + seed + " batch " + batch);
        assertEquals(fresh.hostCount(), incremental.hostCount(), "hosts, seed " + seed + " batch " + batch);
        assertArrayEquals(fresh.wildcardLengths(), incremental.wildcardLengths(), "wildcard lengths, seed " + seed);
        int hits = 0;
        for (Parsed p : requests) {
            CompiledRoute want = match(fresh, p, scratch);
            CompiledRoute got = match(incremental, p, scratch);
            if (want != got) {
                fail("seed " + seed + " batch " + batch + ": " + p.text + ": expected " + want + ", got " + got);
            }
            if (got != null) {
                hits++;
            }
        }
        return hits;
    }

    private static void assertEmpty(RouteTable t, List<Parsed> requests, MatchScratch scratch) {
        assertEquals(0, t.size());
        assertEquals(0, t.trieNodes());
        assertEquals(0, t.exactKeys());
        assertEquals(0, t.hostCount());
        assertEquals(0, t.wildcardLengths().length);
        for (Parsed p : requests) {
            assertNull(match(t, p, scratch), p.text);
        }
    }

    // ---------------------------------------------------------------------------------------------- growth, pruning

    @Test
    void growsFromEmptyPastReshardingAndShrinksToNothing() {
        List<CompiledRoute> routes = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            String uri = switch (i % 4) {
                case 0 -> "/api/v1/resource" + i;
                case 1 -> "/svc" + i + "/*";
                case 2 -> "/users" + i + "/:id/orders";
                default -> "/v/" + i;
            };
            List<String> hosts = i % 8 == 3 ? List.of("h" + i + ".example.com") : i % 8 == 7 ? List.of("*.w" + i + ".org")
                    : List.of();
            routes.add(route("r" + i, List.of(uri), hosts, List.of(), 0, i));
        }
        RouteTable t = new RouteTable.Builder().build();
        for (int from = 0; from < routes.size(); from += 100) {
            t = t.with(List.of(), routes.subList(from, from + 100));
        }
        RouteTable fresh = build(routes);
        assertEquals(3000, t.size());
        assertEquals(fresh.trieNodes(), t.trieNodes());
        assertEquals(fresh.exactKeys(), t.exactKeys());
        assertEquals(fresh.hostCount(), t.hostCount());
        assertTrue(t.anyHostExactShards() > 1, "re-sharded while growing: " + t.anyHostExactShards());
        assertEquals(ByteMap.shardsFor(750), fresh.anyHostExactShards());
        MatchScratch s = new MatchScratch();
        for (int i = 0; i < 3000; i += 37) {
            String target = switch (i % 4) {
                case 0 -> "/api/v1/resource" + i;
                case 1 -> "/svc" + i + "/x";
                case 2 -> "/users" + i + "/9/orders";
                default -> "/v/" + i;
            };
            String host = i % 8 == 3 ? "h" + i + ".example.com" : i % 8 == 7 ? "a.w" + i + ".org" : "any";
            Parsed p = parse("GET", target, host);
            assertEquals("r" + i, match(t, p, s).id, target);
            assertSame(match(fresh, p, s), match(t, p, s));
        }
        // remove one at a time: the structure shrinks back to nothing
        RouteTable full = t;
        for (int i = 0; i < routes.size(); i++) {
            t = t.with(List.of(routes.get(i)), List.of());
            if (i == 1499) {
                RouteTable half = build(routes.subList(1500, routes.size()));
                assertEquals(half.size(), t.size());
                assertEquals(half.trieNodes(), t.trieNodes());
                assertEquals(half.exactKeys(), t.exactKeys());
                assertEquals(half.hostCount(), t.hostCount());
                assertArrayEquals(new int[]{10}, t.wildcardLengths(), "*.w1007.org ... only");
                assertArrayEquals(half.wildcardLengths(), t.wildcardLengths());
            }
        }
        assertEquals(0, t.size());
        assertEquals(0, t.trieNodes(), "pruned");
        assertEquals(0, t.exactKeys());
        assertEquals(0, t.hostCount());
        assertNull(match(t, "/api/v1/resource0"));
        assertNull(match(t, "/svc1/x"));
        assertEquals(3000, full.size(), "the old table is untouched");
        assertEquals(fresh.trieNodes(), full.trieNodes());
        // and all at once
        RouteTable none = fresh.with(routes, List.of());
        assertEquals(0, none.size());
        assertEquals(0, none.trieNodes());
        assertEquals(0, none.hostCount());
        assertEquals("r4", match(fresh, "/api/v1/resource4"));
    }

    @Test
    void churnKeepsTheTrieCanonical() {
        List<CompiledRoute> base = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            base.add(route("b" + i, "/p/" + i + "/*", 0, i));
        }
        RouteTable t = build(base);
        int nodes = t.trieNodes();
        Random rnd = new Random(3);
        for (int i = 0; i < 2000; i++) {
            // a route appears under a new prefix (splitting edges) and goes again (merging them back)
            CompiledRoute r = route("c" + i, "/p/" + rnd.nextInt(600) + (rnd.nextBoolean() ? "x/*" : "/q*"), 0, 0);
            t = t.with(List.of(), List.of(r)).with(List.of(r), List.of());
        }
        assertEquals(nodes, t.trieNodes(), "no nodes left behind by churn");
        assertEquals(500, t.size());
        assertEquals("b42", match(t, "/p/42/z"));
    }

    @Test
    void removingAnAbsentRouteIsIgnored() {
        CompiledRoute a = route("a", "/a", 0, 0);
        CompiledRoute b = route("b", "/a", 0, 1);
        RouteTable t = build(List.of(a));
        RouteTable u = t.with(List.of(b, route("x", "/x/*", 0, 0)), List.of());
        assertEquals(1, u.size());
        assertEquals("a", match(u, "/a"));
        assertSame(t, t.with(List.of(), List.of()));
    }

    @Test
    void routeInBothListsIsRemovedThenAdded() {
        CompiledRoute a = route("a", "/a/*", 0, 0);
        RouteTable t = build(List.of(a)).with(List.of(a), List.of(a));
        assertEquals(1, t.size());
        assertEquals("a", match(t, "/a/b"));
        assertEquals(0, t.with(List.of(a), List.of()).size());
        assertNull(match(t.with(List.of(a), List.of()), "/a/b"));
    }

    @Test
    void sizeCountsRouteUriPairs() {
        CompiledRoute multi = route("m", List.of("/one", "/two/*"), List.of("a.com", "*.b.com"), List.of(), 0, 0);
        RouteTable t = RouteTable.EMPTY.with(List.of(), List.of(multi));
        assertEquals(2, t.size());
        assertEquals(build(List.of(multi)).size(), t.size());
        assertEquals(2, t.hostCount());
        assertEquals(0, t.with(List.of(multi), List.of()).size());
        assertEquals(0, RouteTable.EMPTY.size(), "EMPTY is not modified");
        assertEquals(0, RouteTable.EMPTY.hostCount());
    }

    // ---------------------------------------------------------------------------------------------- tie-break

    @Test
    void equalOrderIsBrokenByIdInBuildAndUpdate() {
        CompiledRoute c = route("c", "/t", 0, 0);
        CompiledRoute a = route("a", "/t", 0, 0);
        CompiledRoute b = route("b", "/t", 0, 0);
        assertEquals("a", match(build(List.of(c, a, b)), "/t"));
        assertEquals("a", match(build(List.of(b, c, a)), "/t"));
        RouteTable t = RouteTable.EMPTY.with(List.of(), List.of(c));
        t = t.with(List.of(), List.of(b));
        assertEquals("b", match(t, "/t"));
        t = t.with(List.of(), List.of(a));
        assertEquals("a", match(t, "/t"));
        assertEquals("b", match(t.with(List.of(a), List.of()), "/t"));

        // prefixes too; order and priority still come first
        CompiledRoute pz = route("z", "/p/*", 0, 0);
        CompiledRoute py = route("y", "/p/*", 0, 0);
        CompiledRoute early = route("zz", "/p/*", 0, -1);
        CompiledRoute high = route("zzz", "/p/*", 5, 3);
        assertEquals("y", match(build(List.of(pz, py)), "/p/q"));
        assertEquals("zz", match(build(List.of(pz, py, early)), "/p/q"));
        assertEquals("zzz", match(build(List.of(pz, py)).with(List.of(), List.of(early, high)), "/p/q"));
    }
}
