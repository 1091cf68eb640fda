package io.turnpike.engine.snapshot;

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
import io.turnpike.engine.plugin.PluginSpec;
import io.turnpike.engine.plugin.builtin.TrafficSplitPlugin;
import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.router.MatchScratch;
import io.turnpike.engine.upstream.UpstreamTarget;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The upstreams of traffic-split are snapshot targets like a route's: shared with routes using the same upstream_id,
 * reference-counted (freed when the last route or split using them goes), moved to an upstream's new version by an
 * incremental compile, and a route waiting for an upstream id that does not exist yet is compiled when it appears.
 */
class TrafficSplitTargetsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ConfigEntry entry(String resource, String id, String json) throws Exception {
        return new ConfigEntry(resource, id, -1, JSON.readTree(json), "/apisix/" + resource + "/" + id, 0, null);
    }

    private static String split(String uri, String upstreamId) {
        return "{\"uri\":\"" + uri + "\",\"upstream\":{\"nodes\":{\"127.0.0.1:2000\":1}},\"plugins\":{\"traffic-split\":"
                + "{\"rules\":[{\"weighted_upstreams\":[{\"upstream_id\":\"" + upstreamId + "\",\"weight\":1},"
                + "{\"weight\":1},{\"upstream\":{\"nodes\":{\"127.0.0.1:2009\":1},\"pass_host\":\"rewrite\","
                + "\"upstream_host\":\"inline.example\"}}]}]}}}";
    }

    private static UpstreamTarget[][] targets(CompiledRoute r) {
        for (PluginSpec p : r.plugins.plugins()) {
            if (p instanceof TrafficSplitPlugin ts) {
                return ts.targets();
            }
        }
        throw new AssertionError("no traffic-split on " + r.id);
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

    @Test
    void splitTargetsAreSharedCountedAndFollowUpstreamChanges() throws Exception {
        ConfigCompiler cc = new ConfigCompiler(new ResourceCodec(), true);
        List<ConfigEntry> entries = new ArrayList<>();
        entries.add(entry("upstreams", "canary", "{\"nodes\":{\"127.0.0.1:2001\":1}}"));
        entries.add(entry("routes", "r1", split("/one", "canary")));
        entries.add(entry("routes", "r2", "{\"uri\":\"/two\",\"upstream_id\":\"canary\"}"));
        entries.add(entry("routes", "r3", split("/three", "later")));
        CompileResult result = cc.compile(1, entries);
        SnapshotCompiler compiler = new SnapshotCompiler(EngineSettings.defaults());
        List<String> warnings = new ArrayList<>();
        Snapshot s = compiler.compile(result.config(), null, warnings);
        assertTrue(warnings.stream().anyMatch(w -> w.contains("route r3")
                && w.contains("failed to fetch upstream info by upstream id: later")), warnings.toString());
        assertNull(match(s, "/three"), "a split naming a missing upstream leaves its route out (fail closed)");
        CompiledRoute r1 = match(s, "/one");
        CompiledRoute r2 = match(s, "/two");
        UpstreamTarget[][] t = targets(r1);
        assertSame(r2.upstream, t[0][0], "the split's upstream_id target is the route's target (deduplicated)");
        assertNull(t[0][1], "no upstream: the route's own");
        assertEquals("127.0.0.1:2009", t[0][2].nodes[0].key);
        assertEquals(UpstreamTarget.PASS_HOST_REWRITE, t[0][2].passHost);
        assertSame(s.targets[t[0][2].slot], t[0][2], "inline split upstreams are snapshot targets");
        assertEquals(3, live(s.targets), "r1's own, canary, r1's inline split upstream");

        // canary changes: both the route using it and the split move to the new nodes, incrementally.
        Map<String, ConfigEntry> up = new LinkedHashMap<>();
        up.put("canary", entry("upstreams", "canary", "{\"nodes\":{\"127.0.0.1:2002\":1}}"));
        CompileResult r = cc.applyChanges(result, 2, Map.of(), up);
        assertNotNull(r);
        Snapshot s2 = compiler.compile(r.config(), new ConfigDelta(s.version, Map.<String, ConfigEntry>of().keySet(),
                up.keySet()), new ArrayList<>());
        assertEquals(s.version, s2.baseVersion, "incremental");
        // A node-only edit: the routes keep their targets, whose endpoints change once the loops applied s2.
        s2.endpointUpdates.forEach(u -> u.get().join());
        UpstreamTarget moved = targets(match(s2, "/one"))[0][0];
        assertSame(t[0][0], moved, "the target is kept");
        assertEquals("127.0.0.1:2002", moved.endpoints.current().nodes[0].key);
        assertSame(match(s2, "/two").upstream, moved);
        assertEquals(3, live(s2.targets), "the old canary target was freed");

        // r2 goes: the split still holds canary. Then r1 goes: canary and the inline split upstream are freed.
        Map<String, ConfigEntry> gone = new LinkedHashMap<>();
        gone.put("r2", null);
        r = cc.applyChanges(r, 3, gone, Map.of());
        Snapshot s3 = compiler.compile(r.config(), new ConfigDelta(s2.version, gone.keySet(), java.util.Set.of()),
                new ArrayList<>());
        assertEquals(s2.version, s3.baseVersion);
        assertEquals(3, live(s3.targets));
        assertSame(moved, s3.targets[moved.slot]);
        gone = new LinkedHashMap<>();
        gone.put("r1", null);
        r = cc.applyChanges(r, 4, gone, Map.of());
        Snapshot s4 = compiler.compile(r.config(), new ConfigDelta(s3.version, gone.keySet(), java.util.Set.of()),
                new ArrayList<>());
        assertEquals(s3.version, s4.baseVersion);
        assertEquals(0, live(s4.targets), "nothing uses any upstream now");
        assertEquals(0, live(s4.nodes));

        // The missing upstream appears: the route waiting for it is compiled.
        up = new LinkedHashMap<>();
        up.put("later", entry("upstreams", "later", "{\"nodes\":{\"127.0.0.1:2003\":1}}"));
        r = cc.applyChanges(r, 5, Map.of(), up);
        assertNotNull(r);
        Snapshot s5 = compiler.compile(r.config(), new ConfigDelta(s4.version, java.util.Set.of(), up.keySet()),
                new ArrayList<>());
        assertEquals(s4.version, s5.baseVersion);
        CompiledRoute r3 = match(s5, "/three");
        assertNotNull(r3, "compiled once its split's upstream exists");
        assertEquals("127.0.0.1:2003", targets(r3)[0][0].nodes[0].key);
        Snapshot full = new SnapshotCompiler(EngineSettings.defaults()).compile(r.config(), new ArrayList<>());
        assertEquals(live(full.targets), live(s5.targets));
        assertEquals(live(full.nodes), live(s5.nodes));
    }

    /**
     * A split to an https upstream needs the TLS compiler's full cycle: an incremental compile that would create its
     * target compiles everything instead (and gets the same result).
     */
    @Test
    void aSplitToANewHttpsUpstreamCompilesEverything() throws Exception {
        ConfigCompiler cc = new ConfigCompiler(new ResourceCodec(), true);
        CompileResult result = cc.compile(1, List.of(entry("routes", "r0", "{\"uri\":\"/zero\",\"upstream\":"
                + "{\"nodes\":{\"127.0.0.1:2000\":1}}}")));
        SnapshotCompiler compiler = new SnapshotCompiler(EngineSettings.defaults());
        Snapshot s = compiler.compile(result.config(), null, new ArrayList<>());
        Map<String, ConfigEntry> changes = new LinkedHashMap<>();
        changes.put("r1", entry("routes", "r1", "{\"uri\":\"/one\",\"upstream\":{\"nodes\":{\"127.0.0.1:2000\":1}},"
                + "\"plugins\":{\"traffic-split\":{\"rules\":[{\"weighted_upstreams\":[{\"upstream\":{\"scheme\":"
                + "\"https\",\"nodes\":{\"127.0.0.1:2443\":1}}}]}]}}}"));
        CompileResult r = cc.applyChanges(result, 2, changes, Map.of());
        List<String> warnings = new ArrayList<>();
        long before = compiler.incrementalCompiles();
        Snapshot s2 = compiler.compile(r.config(), new ConfigDelta(s.version, changes.keySet()), warnings);
        assertEquals(-1, s2.baseVersion, "compiled whole: " + warnings);
        assertEquals(before, compiler.incrementalCompiles());
        UpstreamTarget tls = targets(match(s2, "/one"))[0][0];
        assertNotNull(tls.tls, "the split's https upstream has its client TLS context");
        assertNotNull(match(s2, "/zero"));
        // What the publisher does once no loop uses them: the client contexts are reference counted.
        s2.upstreamTls.release();
        s.upstreamTls.release();
    }

    static CompiledRoute match(Snapshot s, String path) {
        String text = "GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n";
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
