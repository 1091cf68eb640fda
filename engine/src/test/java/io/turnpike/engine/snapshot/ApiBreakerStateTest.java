package io.turnpike.engine.snapshot;

import io.turnpike.config.model.ConfigSet;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.plugin.PluginSpec;
import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.testing.Configs;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * api-breaker's state belongs to a route: two routes with the same breaker (here from their service) get their own,
 * and a recompile that leaves a route's plugin configuration as it was keeps its breaker (and so its counts).
 */
class ApiBreakerStateTest {
    private static final String YAML = "services:\n"
            + "  - id: s1\n    plugins:\n      api-breaker:\n        break_response_code: 502\n"
            + "    upstream:\n      nodes:\n        \"127.0.0.1:1980\": 1\n"
            + "routes:\n"
            + "  - id: r1\n    uri: /one\n    service_id: s1\n"
            + "  - id: r2\n    uri: /two\n    service_id: s1\n";

    private static PluginSpec breaker(Snapshot s, String id) {
        CompiledRoute r = TrafficSplitTargetsTest.match(s, id.equals("r1") ? "/one" : "/two");
        for (PluginSpec p : r.plugins.plugins()) {
            if (p.name.equals("api-breaker")) {
                return p;
            }
        }
        throw new AssertionError("no api-breaker on " + id);
    }

    @Test
    void oneBreakerPerRouteKeptAcrossRecompiles() {
        SnapshotCompiler compiler = new SnapshotCompiler(EngineSettings.defaults());
        Snapshot s = compiler.compile(Configs.fromYaml(YAML), new ArrayList<>());
        assertNotSame(breaker(s, "r1"), breaker(s, "r2"), "routes sharing a service's breaker count apart");
        ConfigSet again = Configs.fromYaml(YAML + "  - id: r3\n    uri: /three\n    service_id: s1\n");
        Snapshot s2 = compiler.compile(again, new ArrayList<>());
        assertSame(breaker(s, "r1"), breaker(s2, "r1"), "unchanged configuration: the same breaker state");
        Snapshot s3 = compiler.compile(Configs.fromYaml(YAML.replace("502", "503")), new ArrayList<>());
        assertNotSame(breaker(s, "r1"), breaker(s3, "r1"), "an edited breaker starts afresh");
    }
}
