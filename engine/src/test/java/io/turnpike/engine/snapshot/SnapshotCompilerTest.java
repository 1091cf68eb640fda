package io.turnpike.engine.snapshot;

import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.testing.Configs;
import io.turnpike.engine.upstream.NodeAddress;
import io.turnpike.engine.upstream.SmoothWeightedRoundRobin;
import io.turnpike.engine.upstream.UpstreamTarget;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SnapshotCompilerTest {
    private final SnapshotCompiler compiler = new SnapshotCompiler(EngineSettings.defaults());

    @Test
    void sharedUpstreamCompilesOnceAndNodesAreDeduplicated() {
        Snapshot s = compiler.compile(Configs.fromYaml(""
                + "upstreams:\n"
                + "  - id: u1\n    nodes:\n      \"127.0.0.1:81\": 1\n      \"127.0.0.1:82\": 2\n"
                + "services:\n"
                + "  - id: s1\n    upstream_id: u1\n    hosts: [svc.example.com]\n"
                + "routes:\n"
                + "  - id: a\n    uri: /a\n    upstream_id: u1\n"
                + "  - id: b\n    uri: /b\n    service_id: s1\n"
                + "  - id: c\n    uri: /c\n    upstream:\n      nodes:\n        \"127.0.0.1:81\": 5\n"
                + "    timeout: {connect: 1, send: 2, read: 3}\n"), new ArrayList<>());
        assertEquals(2, s.targets.length, "u1 shared by route a and (via service) route b, plus c's inline upstream");
        assertEquals(2, s.nodes.length, "127.0.0.1:81 appears twice but has one pool");
        UpstreamTarget inline = s.targets[1];
        // Route c's timeout is its route's (a target is shared by every route of its upstream).
        io.turnpike.engine.router.CompiledRoute c = TrafficSplitTargetsTest.match(s, "/c");
        assertEquals(3_000_000_000L, c.readTimeoutNs(inline));
        assertEquals(1000, c.connectTimeoutMs(inline));
        assertEquals(2_000_000_000L, c.sendTimeoutNs(inline));
        assertEquals(EngineSettings.defaults().upstreamReadTimeoutNs(), inline.readTimeoutNs);
        NodeAddress shared = inline.nodes[0];
        assertEquals(5, shared.weight);
        assertEquals(s.targets[0].nodes[0].index, shared.index, "same pool index for the same host:port");
        assertNotSame(s.targets[0].nodes[0], shared);
    }

    @Test
    void unresolvableNodeIsLeftOutWithWarning() {
        List<String> warnings = new ArrayList<>();
        Snapshot s = compiler.compile(Configs.fromYaml(""
                + "routes:\n"
                + "  - id: a\n    uri: /a\n    upstream:\n      nodes:\n"
                + "        \"no-such-host.invalid:80\": 1\n        \"127.0.0.1:80\": 1\n"), warnings);
        assertEquals(1, s.targets[0].nodes.length);
        assertTrue(warnings.get(0).contains("no-such-host.invalid:80"), warnings.toString());
    }

    @Test
    void smoothWeightedRoundRobinExactProportionsInterleaved() {
        Snapshot s = compiler.compile(Configs.fromYaml(""
                + "routes:\n"
                + "  - id: a\n    uri: /a\n    upstream:\n      nodes:\n"
                + "        \"127.0.0.1:81\": 5\n        \"127.0.0.1:82\": 1\n        \"127.0.0.1:83\": 1\n"
                + "        \"127.0.0.1:84\": 0\n"), new ArrayList<>());
        SmoothWeightedRoundRobin rr = new SmoothWeightedRoundRobin(s.targets[0].nodes);
        Map<String, Integer> counts = new HashMap<>();
        StringBuilder order = new StringBuilder();
        for (int i = 0; i < 7 * 10; i++) {
            NodeAddress n = rr.next();
            counts.merge(n.key, 1, Integer::sum);
            if (i < 7) {
                order.append(n.key.charAt(n.key.length() - 1));
            }
        }
        assertEquals(50, counts.get("127.0.0.1:81"));
        assertEquals(10, counts.get("127.0.0.1:82"));
        assertEquals(10, counts.get("127.0.0.1:83"));
        assertEquals(null, counts.get("127.0.0.1:84"), "weight 0 never picked");
        assertEquals("1121311", order.toString(), "nginx's smooth sequence for weights 5,1,1");
    }
}
