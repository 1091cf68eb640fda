package io.turnpike.config.codec;

import static io.turnpike.config.codec.ResourceCodecTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.turnpike.config.ConfigProblem;
import io.turnpike.config.model.ConfigSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigCompilerTest {

    @Test
    void memoizingCompilerReusesDecodedValuesOfUnchangedNodesOnly() {
        ConfigCompiler c = new ConfigCompiler(new ResourceCodec(), true);
        com.fasterxml.jackson.databind.JsonNode a = json("{\"uri\":\"/a\",\"upstream\":{\"nodes\":{\"127.0.0.1:80\":1}}}");
        com.fasterxml.jackson.databind.JsonNode b = json("{\"uri\":\"/b\",\"upstream\":{\"nodes\":{\"127.0.0.1:80\":1}}}");
        ConfigSet first = c.compile(1, List.of(ConfigEntry.of("routes", "a", a), ConfigEntry.of("routes", "b", b))).config();
        com.fasterxml.jackson.databind.JsonNode b2 = json("{\"uri\":\"/b2\",\"upstream\":{\"nodes\":{\"127.0.0.1:80\":1}}}");
        ConfigSet second = c.compile(2, List.of(ConfigEntry.of("routes", "a", a), ConfigEntry.of("routes", "b", b2))).config();
        assertSame(first.routes().get("a"), second.routes().get("a"), "unchanged node: decoded once");
        assertEquals(List.of("/b2"), second.routes().get("b").uris(), "changed node: decoded again");
        // The same node under another id is decoded for that id, never served from the other id's memo.
        ConfigSet third = c.compile(3, List.of(ConfigEntry.of("routes", "z", a))).config();
        assertEquals("z", third.routes().get("z").id());
    }

    /**
     * The etcd agent's start-up path: values decoded ahead (predecode, as pages arrive) by a codec that keeps its input
     * as raw give the same configuration and the same problems as a plain compile with deep copies; the predecoded
     * results are the ones compile delivers, and an entry compile never reaches (a duplicate id) is not served.
     */
    @Test
    void predecodedEntriesCompileAsAPlainCompileDoes() {
        List<ConfigEntry> entries = List.of(
                ConfigEntry.of("routes", "r1", json("{'uri':'/a','upstream_id':'u1','methods':['GET']}")),
                ConfigEntry.of("routes", "r2", json("{'uri':'/b','service_id':'s1'}")),
                ConfigEntry.of("routes", "bad", json("{'uri':'no-slash','upstream_id':'u1'}")),
                ConfigEntry.of("routes", "extra", json("{'uri':'/x','upstream_id':'u1','nope':1}")),
                ConfigEntry.of("routes", "dangling", json("{'uri':'/d','upstream_id':'u9'}")),
                ConfigEntry.of("routes", "r3", json("{'uri':'/c','upstream':{'type':'chash','key':'uri',"
                        + "'nodes':{'127.0.0.1:80':1,'127.0.0.1:81':2}}}")),
                ConfigEntry.of("routes", "r1", json("{'uri':'/dup','upstream_id':'u1'}")),
                ConfigEntry.of("services", "s1", json("{'upstream_id':'u1'}")),
                ConfigEntry.of("upstreams", "u1", json("{'nodes':{'127.0.0.1:80':1}}")),
                ConfigEntry.of("upstreams", "u2", json("{'nodes':{'127.0.0.1:80':1},'type':'nope'}")));
        CompileResult plain = new ConfigCompiler(new ResourceCodec(), true).compile(7, entries);
        ConfigCompiler ahead = new ConfigCompiler(
                ResourceCodec.sharingInput(io.turnpike.config.plugin.PluginRegistry.builtin()), true);
        for (ConfigEntry e : entries) {
            ahead.predecode(e.resource(), e.id(), e.value());
        }
        CompileResult r = ahead.compile(7, entries);
        assertEquals(render(plain.problems()), render(r.problems()));
        assertTrue(r.problems().size() >= 5, r.problems().toString());
        assertEquals(List.copyOf(plain.config().routes().keySet()), List.copyOf(r.config().routes().keySet()));
        assertEquals(List.copyOf(plain.config().upstreams().keySet()), List.copyOf(r.config().upstreams().keySet()));
        assertEquals("/a", r.config().routes().get("r1").uris().get(0), "the first r1, not the duplicate");
        for (String id : r.config().routes().keySet()) {
            assertEquals(plain.config().routes().get(id).raw(), r.config().routes().get(id).raw(), id);
        }
        // raw is the input itself with sharing, a copy without
        assertSame(entries.get(0).value(), r.config().routes().get("r1").raw());
        assertTrue(entries.get(0).value() != plain.config().routes().get("r1").raw());
    }

    private static List<String> render(List<ConfigProblem> problems) {
        return problems.stream().map(ConfigProblem::render).toList();
    }

    private final ConfigCompiler compiler = new ConfigCompiler();

    @Test
    void resolvesReferencesAndKeepsOrder() {
        CompileResult r = compiler.compile(42, List.of(
                ConfigEntry.of("routes", "r2", json("{'uri':'/b','service_id':'s1'}")),
                ConfigEntry.of("routes", "r1", json("{'uri':'/a','upstream_id':'u1'}")),
                ConfigEntry.of("services", "s1", json("{'upstream_id':'u1'}")),
                ConfigEntry.of("upstreams", "u1", json("{'nodes':{'127.0.0.1:80':1}}")),
                ConfigEntry.of("plugin_configs", "pc", json("{'plugins':{}}")),
                ConfigEntry.of("routes", "r3", json("{'uri':'/c','plugin_config_id':'pc','plugins':{}}"))));
        assertEquals(List.of(), r.problems());
        ConfigSet c = r.config();
        assertEquals(42, c.version());
        assertEquals(List.of("r2", "r1", "r3"), List.copyOf(c.routes().keySet()));
        assertSame(c.upstreams().get("u1"), c.upstreamOf(c.routes().get("r2")));
        assertSame(c.upstreams().get("u1"), c.upstreamOf(c.routes().get("r1")));
        assertEquals(1, c.others("plugin_configs").size());
        assertEquals(0, c.others("ssls").size());
    }

    @Test
    void danglingReferencesRejectOnlyTheirEntry() {
        CompileResult r = compiler.compile(1, List.of(
                ConfigEntry.of("upstreams", "1", json("{'nodes':{'a:1':1}}")),
                ConfigEntry.of("routes", "ok", json("{'uri':'/ok','upstream_id':'1'}")),
                ConfigEntry.of("routes", "bad", json("{'uri':'/bad','upstream_id':'7'}")),
                ConfigEntry.of("routes", "bad2", json("{'uri':'/bad','service_id':'9'}")),
                ConfigEntry.of("routes", "bad3", json("{'uri':'/bad','plugin_config_id':'3','plugins':{}}")),
                ConfigEntry.of("services", "s", json("{'upstream_id':'8'}"))));
        assertEquals(List.of("ok"), List.copyOf(r.config().routes().keySet()));
        assertTrue(r.config().services().isEmpty());
        assertEquals(List.of(
                new ConfigProblem("services", "s", -1, "upstream_id", "failed to fetch upstream info by upstream id [8]",
                        null, 0),
                new ConfigProblem("routes", "bad", -1, "upstream_id", "failed to fetch upstream info by upstream id [7]",
                        null, 0),
                new ConfigProblem("routes", "bad2", -1, "service_id", "failed to fetch service info by service id [9]",
                        null, 0),
                new ConfigProblem("routes", "bad3", -1, "plugin_config_id",
                        "failed to fetch plugin config info by plugin config id [3]", null, 0)), r.problems());
        assertEquals("routes (id \"bad\"): failed to fetch upstream info by upstream id [7]",
                r.problems().get(1).render());
    }

    @Test
    void rejectedUpstreamCascades() {
        CompileResult r = compiler.compile(1, List.of(
                ConfigEntry.of("upstreams", "u", json("{'nodes':{'a:99999':1}}")),
                ConfigEntry.of("routes", "r", json("{'uri':'/','upstream_id':'u'}"))));
        assertTrue(r.config().routes().isEmpty());
        assertEquals(2, r.problems().size());
        assertEquals("upstream_id", r.problems().get(1).field());
    }

    @Test
    void duplicatesAndMissingIds() {
        CompileResult r = compiler.compile(1, List.of(
                new ConfigEntry("routes", "a", 0, json("{'uri':'/a','plugins':{}}"), "f.yaml", 3, null),
                new ConfigEntry("routes", "a", 1, json("{'uri':'/b','plugins':{}}"), "f.yaml", 6, null),
                new ConfigEntry("routes", null, 2, json("{'uri':'/c','plugins':{}}"), "f.yaml", 9, null),
                new ConfigEntry("consumers", "bad name", 0, json("{'username':'bad name'}"), "f.yaml", 12, null),
                new ConfigEntry("consumers", "jack", 1, json("{'username':'jack'}"), "f.yaml", 14, null)));
        assertEquals("/a", r.config().routes().get("a").uris().get(0));
        assertEquals(List.of("jack"), List.copyOf(r.config().others("consumers").keySet()));
        assertEquals("f.yaml:6: routes[1] (id \"a\"): duplicate id \"a\" (first defined at routes[0], line 3)",
                r.problems().get(0).render());
        assertEquals("f.yaml:9: routes[2]: property \"id\" is required", r.problems().get(1).render());
        assertEquals("f.yaml:12: consumers[0] (id \"bad name\"): property \"username\" validation failed: failed to"
                + " match pattern \"^[a-zA-Z0-9_-]+$\" with \"bad name\"", r.problems().get(2).render());
    }

    @Test
    void fieldLinesAreUsedWithFallbackToParents() {
        FieldLines lines = path -> switch (path) {
            case "upstream" -> 20;
            case "upstream.nodes" -> 21;
            default -> 0;
        };
        CompileResult r = compiler.compile(1, List.of(new ConfigEntry("routes", "1", 0,
                json("{'uri':'/','upstream':{'nodes':[{'host':'a','port':0,'weight':1}]}}"), "x.yaml", 19, lines)));
        assertEquals(21, r.problems().get(0).line());
        assertEquals("upstream.nodes[0].port", r.problems().get(0).field());
    }

    @Test
    void validateForAdminApi() {
        assertEquals(List.of(), compiler.validate("routes", "1", json("{'uri':'/','plugins':{}}")));
        assertEquals(1, compiler.validate("upstreams", "1", json("{'nodes':1}")).size());
        assertEquals(1, compiler.validate("nope", "1", json("{}")).size());
    }

    @Test
    void emptyConfigSet() {
        assertEquals(0, ConfigSet.empty().version());
        assertTrue(ConfigSet.empty().routes().isEmpty());
        assertTrue(compiler.compile(3, List.of()).config().routes().isEmpty());
    }
}
