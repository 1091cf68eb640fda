package io.turnpike.config.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.turnpike.config.ConfigProblem;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.UpstreamNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StandaloneFileLoaderTest {

    @TempDir
    Path dir;

    private Path write(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private LoadResult load(String text) throws Exception {
        return StandaloneFileLoader.load(write("apisix.yaml", text));
    }

    private static String single(LoadResult r) {
        assertNull(r.config());
        assertEquals(1, r.problems().size(), r::render);
        return r.problems().get(0).render();
    }

    @Test
    void loadsAllResources() throws Exception {
        LoadResult r = load("""
                routes:
                  - id: 1
                    uri: /a
                    upstream_id: u1
                  - id: r2
                    uris: [/b, /c]
                    service_id: s1
                services:
                  - id: s1
                    upstream:
                      nodes:
                        - {host: 10.0.0.1, port: 8080, weight: 2}
                upstreams:
                  - id: u1
                    type: chash
                    key: remote_addr
                    nodes:
                      "127.0.0.1:1980": 1
                      "[::1]:1981": 0
                consumers:
                  - username: jack
                    desc: secret
                    plugins: {}
                ssls: []
                global_rules:
                #END
                """);
        assertTrue(r.ok(), r::render);
        ConfigSet c = r.config();
        assertTrue(c.version() > 0);
        assertEquals(List.of("1", "r2"), List.copyOf(c.routes().keySet()));
        assertEquals(List.of(new UpstreamNode("127.0.0.1", 1980, 1, 0), new UpstreamNode("::1", 1981, 0, 0)),
                c.upstreams().get("u1").nodes());
        Route r2 = c.routes().get("r2");
        assertEquals(8080, c.upstreamOf(r2).nodes().get(0).port());
        assertEquals("secret", c.others("consumers").get("jack").value().get("desc").asText());
    }

    @Test
    void unknownPluginsAndUnsupportedFieldsAreRefusedWithTheirLine() throws Exception {
        Path p = write("apisix.yaml", """
                routes:
                  - id: open
                    uri: /open
                    upstream_id: u1
                  - id: "1"
                    uri: /a
                    plugins:
                      hmac-auth: {}
                    upstream_id: u1
                upstreams:
                  - id: u1
                    nodes:
                      "127.0.0.1:80": 1
                  - id: u2
                    nodes:
                      "127.0.0.1:80": 1
                    scheme: gopher
                global_rules:
                  - id: g
                    plugins:
                      datadog: {}
                consumers:
                  - username: jack
                    plugins:
                      hmac-auth:
                        key: k
                stream_routes:
                  - id: s
                    upstream_id: u1
                #END
                """);
        LoadResult r = StandaloneFileLoader.load(p);
        assertNull(r.config(), "the whole file is refused: nothing of it serves with its authentication missing");
        assertEquals(p + ":8: routes[1] (id \"1\"): unknown plugin [hmac-auth]\n"
                + p + ":17: upstreams[1] (id \"u2\"): property \"scheme\" validation failed: matches none of the enum"
                + " values\n"
                + p + ":21: global_rules[0] (id \"g\"): unknown plugin [datadog]\n"
                + p + ":25: consumers[0] (id \"jack\"): unknown plugin [hmac-auth]\n"
                + p + ":28: stream_routes[0] (id \"s\"): stream_routes are not supported yet (TCP/UDP proxying is not"
                + " implemented)", r.render().trim());
    }

    @Test
    void versionsGrow() throws Exception {
        Path p = write("apisix.yaml", "routes: []\n#END\n");
        long v1 = StandaloneFileLoader.load(p).config().version();
        long v2 = StandaloneFileLoader.load(p).config().version();
        assertTrue(v2 > v1);
    }

    @Test
    void emptyFileWithEndMarkerIsAnEmptyConfig() throws Exception {
        LoadResult r = load("#END\n");
        assertTrue(r.ok(), r::render);
        assertTrue(r.config().routes().isEmpty());
    }

    @Test
    void missingEndMarkerRefused() throws Exception {
        Path p = write("apisix.yaml", "routes:\n  - id: 1\n    uri: /a\n    plugins: {}\n");
        LoadResult r = StandaloneFileLoader.load(p);
        assertEquals(p + ":4: file is incomplete: its last line must be \"#END\" (APISIX standalone convention);"
                + " not loaded", single(r));
        assertEquals(dir.resolve("empty.yaml") + ": file is incomplete: its last line must be \"#END\" (APISIX"
                + " standalone convention); not loaded", single(StandaloneFileLoader.load(write("empty.yaml", ""))));
        assertTrue(load("routes: []\n#END   \n\n\n").ok(), "trailing whitespace after #END is fine");
        assertNull(load("routes: []\n#END\nupstreams: []\n").config(), "#END must be last");
    }

    @Test
    void missingFile() {
        Path p = dir.resolve("nope.yaml");
        assertEquals(p + ": file not found", single(StandaloneFileLoader.load(p)));
    }

    @Test
    void badFieldDeepInTheFileHasItsLine() throws Exception {
        Path p = write("apisix.yaml", """
                upstreams:
                  - id: u1
                    nodes:
                      "127.0.0.1:80": 1
                routes:
                  - id: ok
                    uri: /ok
                    upstream_id: u1
                  - id: "7"
                    uri: /seven
                    upstream:
                      type: roundrobin
                      nodes:
                        - host: 127.0.0.1
                          port: 80
                          weight: 1
                        - host: 127.0.0.2
                          port: 99999
                          weight: 1
                #END
                """);
        LoadResult r = StandaloneFileLoader.load(p);
        assertEquals(p + ":18: routes[1] (id \"7\"): property \"upstream\" validation failed: property \"nodes\""
                + " validation failed: failed to validate item 2: property \"port\" validation failed: expected 99999"
                + " to be at most 65535", single(r));
        ConfigProblem problem = r.problems().get(0);
        assertEquals("routes", problem.resource());
        assertEquals(1, problem.index());
        assertEquals("upstream.nodes[1].port", problem.field());
    }

    @Test
    void wrongTypeAndMissingFieldLines() throws Exception {
        LoadResult r = load("""
                routes:
                  - id: a
                    upstream_id: x
                    uri: 5
                  - id: b
                    uri: /b
                    upstream_id: nope
                  - uri: /c
                    plugins: {}
                  - id: d
                    uri: /d
                    plugins: {}
                    unknown_field: 1
                #END
                """);
        assertNull(r.config());
        List<String> lines = r.problems().stream().map(ConfigProblem::render).toList();
        String f = dir.resolve("apisix.yaml").toString();
        assertEquals(List.of(
                f + ":4: routes[0] (id \"a\"): property \"uri\" validation failed: wrong type: expected string, got number",
                f + ":7: routes[1] (id \"b\"): failed to fetch upstream info by upstream id [nope]",
                f + ":8: routes[2]: property \"id\" is required",
                f + ":13: routes[3] (id \"d\"): additional properties forbidden, found unknown_field"), lines);
    }

    @Test
    void duplicateIds() throws Exception {
        Path p = write("apisix.yaml", """
                routes:
                  - id: 1
                    uri: /a
                    plugins: {}
                  - id: 1
                    uri: /b
                    plugins: {}
                #END
                """);
        assertEquals(p + ":5: routes[1] (id \"1\"): duplicate id \"1\" (first defined at routes[0], line 2)",
                single(StandaloneFileLoader.load(p)));
    }

    @Test
    void duplicateKeysInAnEntry() throws Exception {
        Path p = write("apisix.yaml", "routes:\n  - id: 1\n    uri: /a\n    uri: /b\n    plugins: {}\n#END\n");
        assertEquals(p + ":4: routes[0]: duplicate key \"uri\"", single(StandaloneFileLoader.load(p)));
    }

    @Test
    void yamlSyntaxErrorHasLine() throws Exception {
        Path p = write("apisix.yaml", "routes:\n  - id: 1\n    uri: [/a\n    plugins: {}\n  - id: 2\n#END\n");
        String msg = single(StandaloneFileLoader.load(p));
        assertTrue(msg.startsWith(p + ":"), msg);
        assertTrue(msg.contains("YAML syntax error"), msg);
        int line = StandaloneFileLoader.load(p).problems().get(0).line();
        assertTrue(line >= 3 && line <= 6, "line " + line);

        Path tabs = write("tabs.yaml", "routes:\n  - id: 1\n\turi: /a\n#END\n");
        assertEquals(3, StandaloneFileLoader.load(tabs).problems().get(0).line());
    }

    @Test
    void unknownTopLevelKeysAndShapes() throws Exception {
        Path p = write("apisix.yaml", "routes:\n  - id: 1\n    uri: /a\n    plugins: {}\nroutez: []\n"
                + "upstreams: {id: 1}\n#END\n");
        LoadResult r = StandaloneFileLoader.load(p);
        assertNull(r.config());
        assertEquals(2, r.problems().size(), r::render);
        assertTrue(r.problems().get(0).render().startsWith(p + ":5: unknown top-level key \"routez\""));
        assertEquals(p + ":6: upstreams: must be a list of objects", r.problems().get(1).render());
        assertEquals(dir.resolve("list.yaml") + ":1: the top level must be a mapping of resource name to list",
                single(StandaloneFileLoader.load(write("list.yaml", "- a\n#END\n"))));
    }

    @Test
    void jsonForm() throws Exception {
        Path p = write("apisix.json", "{\"routes\": [{\"id\": \"1\", \"uri\": \"/a\",\n"
                + " \"upstream\": {\"nodes\": {\"127.0.0.1:80\": 1}}}],\n \"upstreams\": [{\"id\": \"u\", \"nodes\": 5}]}");
        LoadResult r = StandaloneFileLoader.load(p);
        assertEquals(p + ":3: upstreams[0] (id \"u\"): property \"nodes\" validation failed: object matches none of"
                + " the required", single(r));
        Path ok = write("ok.json", "{\"routes\": [{\"id\": \"1\", \"uri\": \"/a\", \"plugins\": {}}]}");
        assertTrue(StandaloneFileLoader.load(ok).ok());
    }

    @Test
    void shippedApisixYamlLoads() {
        Path conf = Path.of(System.getProperty("user.dir")).getParent().resolve("conf/apisix.yaml");
        LoadResult r = StandaloneFileLoader.load(conf);
        assertTrue(r.ok(), r::render);
        ConfigSet c = r.config();
        Route demo = c.routes().values().stream().filter(x -> x.uris().contains("/demo/*")).findFirst().orElseThrow();
        assertNotNull(c.upstreamOf(demo));
        assertEquals(new UpstreamNode("127.0.0.1", 9081, 1, 0), c.upstreamOf(demo).nodes().get(0));
        assertEquals("roundrobin", c.upstreamOf(demo).type());
    }
}
