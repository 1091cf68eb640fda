package io.turnpike.engine.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.turnpike.config.codec.CompileResult;
import io.turnpike.config.codec.ConfigCompiler;
import io.turnpike.config.codec.ConfigEntry;
import io.turnpike.config.codec.ResourceCodec;
import io.turnpike.config.model.ConfigDelta;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.RequestHeadParser;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.router.MatchScratch;
import io.turnpike.engine.upstream.NodeAddress;
import io.turnpike.engine.upstream.UpstreamTarget;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The incremental path of {@link SnapshotCompiler}: a key-ordered configuration (as the etcd source delivers it)
 * changed by random route deltas, compiled incrementally, must route every probe exactly as a fresh full compile of
 * the same configuration does, and its target and node tables must hold exactly what the routes use (no leaked slot,
 * no dangling index).
 */
class IncrementalSnapshotTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int IDS = 120;

    private final Random rnd = new Random(7);

    private String routeJson(int id) {
        int kind = rnd.nextInt(7);
        String uri = switch (kind) {
            case 0, 1 -> "/e/" + rnd.nextInt(40);
            case 2 -> "/p/" + rnd.nextInt(10) + "/*";
            case 3 -> "/q/" + rnd.nextInt(10) + "/:id";
            default -> "/e/" + rnd.nextInt(15);
        };
        StringBuilder b = new StringBuilder("{\"uri\":\"").append(uri).append('"');
        if (rnd.nextInt(4) == 0) {
            b.append(",\"hosts\":[\"").append(rnd.nextBoolean() ? "*.w.test" : "h" + rnd.nextInt(3) + ".test")
                    .append("\"]");
        }
        if (rnd.nextInt(3) == 0) {
            b.append(",\"priority\":").append(rnd.nextInt(3));
        }
        if (rnd.nextInt(5) == 0) {
            b.append(",\"methods\":[\"POST\"]");
        }
        if (rnd.nextInt(12) == 0) {
            b.append(",\"status\":0");
        }
        if (rnd.nextInt(15) == 0) {
            b.append(",\"vars\":[[\"arg_x\",\"~~\",\"(\"]]"); // invalid regex: compiled out with a warning
        }
        int up = rnd.nextInt(8);
        if (up < 2) {
            b.append(",\"upstream_id\":\"u1\"");
        } else if (up == 2) {
            b.append(",\"service_id\":\"s1\""); // s1 names u1: the route resolves to u1 through the service
        } else {
            b.append(",\"upstream\":{\"nodes\":{\"127.0.0.1:").append(1980 + rnd.nextInt(3)).append("\":")
                    .append(1 + rnd.nextInt(2));
            if (rnd.nextBoolean()) {
                b.append(",\"127.0.0.1:").append(1990 + rnd.nextInt(2)).append("\":1");
            }
            b.append("}}");
        }
        return b.append('}').toString();
    }

    private static ConfigEntry entry(String resource, String id, String json) throws Exception {
        JsonNode v = JSON.readTree(json);
        return new ConfigEntry(resource, id, -1, v, "/apisix/" + resource + "/" + id, 0, null);
    }

    @Test
    void randomRouteDeltasMatchAFullCompile() throws Exception {
        ConfigCompiler configCompiler = new ConfigCompiler(new ResourceCodec(), true);
        TreeMap<String, String> routes = new TreeMap<>();
        for (int i = 0; i < IDS; i++) {
            routes.put(String.format("r%03d", i), routeJson(i));
        }
        List<ConfigEntry> entries = new ArrayList<>();
        entries.add(entry("upstreams", "u1", "{\"nodes\":{\"127.0.0.1:1980\":1,\"127.0.0.1:1985\":1}}"));
        entries.add(entry("services", "s1", "{\"upstream_id\":\"u1\"}"));
        for (Map.Entry<String, String> e : routes.entrySet()) {
            entries.add(entry("routes", e.getKey(), e.getValue()));
        }
        long version = 1;
        CompileResult result = configCompiler.compile(version, entries);
        SnapshotCompiler incremental = new SnapshotCompiler(EngineSettings.defaults());
        Snapshot inc = incremental.compile(result.config(), null, new ArrayList<>());
        assertEquals(-1, inc.baseVersion);
        for (int step = 0; step < 60; step++) {
            Map<String, ConfigEntry> changes = new LinkedHashMap<>();
            int n = 1 + rnd.nextInt(6);
            for (int k = 0; k < n; k++) {
                String id = String.format("r%03d", rnd.nextInt(IDS + 20));
                if (rnd.nextInt(4) == 0) {
                    routes.remove(id);
                    changes.put(id, null);
                } else {
                    String json = routeJson(step);
                    routes.put(id, json);
                    changes.put(id, entry("routes", id, json));
                }
            }
            // Now and then the shared upstream u1 changes its nodes: every route that uses it (by upstream_id or
            // through service s1) must move to the new nodes.
            Map<String, ConfigEntry> upstreamChanges = new LinkedHashMap<>();
            if (rnd.nextInt(3) == 0) {
                upstreamChanges.put("u1", entry("upstreams", "u1", "{\"nodes\":{\"127.0.0.1:" + (1980 + rnd.nextInt(3))
                        + "\":1,\"127.0.0.1:" + (1986 + step) + "\":" + (1 + rnd.nextInt(3)) + "}}"));
            }
            version++;
            result = configCompiler.applyChanges(result, version, changes, upstreamChanges);
            assertNotNull(result, "step " + step + ": an upstream that stays valid applies incrementally");
            Snapshot base = inc;
            inc = incremental.compile(result.config(), new ConfigDelta(base.version, changes.keySet(),
                    upstreamChanges.keySet()), new ArrayList<>());
            assertEquals(base.version, inc.baseVersion, "step " + step + " took the incremental path");
            // What SnapshotPublisher does once every loop applied the snapshot: node-only upstream edits reach the
            // targets' endpoints (the routes were not recompiled).
            inc.endpointUpdates.forEach(u -> u.get().join());
            Snapshot full = new SnapshotCompiler(EngineSettings.defaults()).compile(result.config(), new ArrayList<>());
            assertEquals(full.routes.size(), inc.routes.size(), "step " + step);
            assertSameRouting(full, inc, "step " + step);
            assertEquals(full.targets.length, live(inc.targets), "step " + step + ": live targets (no leaked slot)");
            assertEquals(full.nodes.length, live(inc.nodes), "step " + step + ": live nodes (no leaked index)");
            assertTablesConsistent(inc, "step " + step);
            // The base snapshot is untouched (loops may still serve it); a node-only edit changed the endpoints its
            // targets share with the new one (committed only once every loop applied the new snapshot).
            if (upstreamChanges.isEmpty()) {
                assertTablesConsistent(base, "base of step " + step);
            }
        }
        assertTrue(incremental.incrementalCompiles() >= 60);
        assertTrue(incremental.nodeOnlyUpdates() > 0, "u1's node edits kept their routes");
    }

    private void assertSameRouting(Snapshot full, Snapshot inc, String what) {
        List<String> targets = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            targets.add("/e/" + i);
        }
        for (int i = 0; i < 10; i++) {
            targets.add("/p/" + i + "/x");
            targets.add("/q/" + i + "/7");
        }
        String[] hosts = {"h0.test", "h1.test", "h2.test", "a.w.test", "other.test"};
        for (String t : targets) {
            for (String h : hosts) {
                for (String m : new String[]{"GET", "POST"}) {
                    CompiledRoute a = match(full, m, t, h);
                    CompiledRoute b = match(inc, m, t, h);
                    String where = what + ": " + m + " " + t + " host " + h;
                    assertEquals(a == null ? null : a.id, b == null ? null : b.id, where);
                    if (a != null) {
                        assertEquals(nodeKeys(a.upstream), nodeKeys(b.upstream), where);
                        assertSame(inc.targets[b.upstream.slot], b.upstream, where + ": target at its slot");
                    }
                }
            }
        }
    }

    private static int live(Object[] table) {
        int n = 0;
        for (Object o : table) {
            if (o != null) {
                n++;
            }
        }
        return n;
    }

    private static List<String> nodeKeys(UpstreamTarget t) {
        List<String> keys = new ArrayList<>();
        for (NodeAddress n : t.endpoints.current().nodes) {
            keys.add(n.key + "*" + n.weight);
        }
        return keys;
    }

    /** Every node a target uses sits at its index (same pool key); every live index is used by some target. */
    private static void assertTablesConsistent(Snapshot s, String what) {
        Set<Integer> usedIndexes = new HashSet<>();
        IdentityHashMap<UpstreamTarget, Boolean> seen = new IdentityHashMap<>();
        for (int slot = 0; slot < s.targets.length; slot++) {
            UpstreamTarget t = s.targets[slot];
            if (t == null) {
                continue;
            }
            assertEquals(slot, t.slot, what);
            seen.put(t, Boolean.TRUE);
            for (NodeAddress n : t.endpoints.current().nodes) {
                NodeAddress at = s.nodes[n.index];
                assertNotNull(at, what + ": node " + n.key + " index " + n.index);
                assertEquals(n.poolKey, at.poolKey, what);
                usedIndexes.add(n.index);
            }
        }
        for (int i = 0; i < s.nodes.length; i++) {
            if (s.nodes[i] != null) {
                assertTrue(usedIndexes.contains(i), what + ": node index " + i + " is used by no target");
            }
        }
    }

    private static CompiledRoute match(Snapshot s, String method, String target, String host) {
        String text = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
        ByteBuf buf = Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1);
        try {
            RequestHead head = new RequestHead(100);
            assertTrue(new RequestHeadParser(8192, 65536, 100, true).parse(buf, head) > 0, text);
            return s.routes.match(buf, head, new MatchScratch());
        } finally {
            buf.release();
        }
    }
}
