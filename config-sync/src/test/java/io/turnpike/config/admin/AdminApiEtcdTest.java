package io.turnpike.config.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.turnpike.config.admin.AdminClient.Reply;
import io.turnpike.config.etcd.EtcdConfigStore;
import io.turnpike.config.etcd.testing.EtcdServer;
import io.turnpike.config.process.AdminConfig;
import io.turnpike.config.process.AdminKey;
import io.turnpike.config.process.EtcdConfig;
import io.turnpike.config.process.ListenAddress;
import io.turnpike.config.store.ConfigStore;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The Admin API over real sockets against a real etcd ({@link EtcdServer} + {@link EtcdConfigStore}). */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AdminApiEtcdTest {

    static final String ADMIN = "edd1c9f034335f136f87ad84b625c8f1";
    static final String VIEWER = "4054f7cf07e344346cd3f287985e76a2";
    static final AtomicInteger PREFIXES = new AtomicInteger();

    static EtcdServer etcd;
    static EtcdConfigStore store;

    AdminApiServer server;
    AdminClient client;
    String prefix;

    @BeforeAll
    static void startEtcd() {
        assumeTrue(EtcdServer.available(), "etcd binary not installed (apt-get install etcd-server)");
        etcd = EtcdServer.startNew();
        store = new EtcdConfigStore(new EtcdConfig(List.of(etcd.endpoint()), "/apisix", 10, null, null, null));
    }

    @AfterAll
    static void stopEtcd() {
        if (store != null) {
            store.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    @AfterEach
    void stopServer() {
        if (server != null) {
            server.stop();
        }
    }

    static AdminConfig config(List<String> allow) {
        return new AdminConfig(true, List.of(new AdminKey("admin", ADMIN, "admin"),
                new AdminKey("viewer", VIEWER, "viewer")), true, new ListenAddress("127.0.0.1", 0), allow);
    }

    private void start(String prefix, AdminApiServer.Options options, List<String> allow) throws Exception {
        this.prefix = prefix;
        server = new AdminApiServer(config(allow), store, prefix, options);
        InetSocketAddress addr = server.start();
        client = new AdminClient(addr, ADMIN);
    }

    private void start() throws Exception {
        start("/t" + PREFIXES.incrementAndGet() + "-" + System.nanoTime(), AdminApiServer.Options.DEFAULTS,
                List.of("127.0.0.0/24"));
    }

    private static final String UPSTREAM = "{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:1980\":1}}";

    private static String route(String uri, String extra) {
        return "{\"uri\":\"" + uri + "\",\"upstream\":" + UPSTREAM + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    // ---------------------------------------------------------------- CRUD and envelopes

    @Test
    void routeAndUpstreamCrudWithApisixEnvelopes() throws Exception {
        start("/apisix", AdminApiServer.Options.DEFAULTS, List.of("127.0.0.0/24"));
        client.delete("/apisix/admin/routes/1");
        client.delete("/apisix/admin/upstreams/1");

        Reply u = client.put("/apisix/admin/upstreams/1", UPSTREAM);
        assertEquals(201, u.status(), u.toString());
        assertEquals("/apisix/upstreams/1", u.json().get("key").asText());
        assertEquals("1", u.json().at("/value/id").asText());

        Reply created = client.put("/apisix/admin/routes/1",
                "{\"uri\":\"/hello\",\"upstream_id\":\"1\",\"name\":\"r1\"}");
        assertEquals(201, created.status(), created.toString());
        JsonNode env = created.json();
        assertEquals("/apisix/routes/1", env.get("key").asText());
        assertEquals("/hello", env.at("/value/uri").asText());
        assertEquals("1", env.at("/value/id").asText());
        long createTime = env.at("/value/create_time").asLong();
        assertTrue(createTime > 1_600_000_000L && env.at("/value/update_time").asLong() >= createTime);
        assertTrue(env.get("createdIndex").asLong() > 0);
        assertEquals(env.get("createdIndex").asLong(), env.get("modifiedIndex").asLong());

        // stored exactly as APISIX stores it: the bare JSON value under <prefix>/routes/1
        ConfigStore.Entry raw = store.get("/apisix/routes/1");
        JsonNode stored = AdminClient.JSON.readTree(new String(raw.value(), StandardCharsets.UTF_8));
        assertEquals(env.get("value"), stored);

        Reply got = client.get("/apisix/admin/routes/1");
        assertEquals(200, got.status());
        assertEquals(env, got.json());

        Thread.sleep(1100); // a later update_time
        Reply replaced = client.put("/apisix/admin/routes/1", "{\"uri\":\"/hello2\",\"upstream_id\":1,\"id\":1}");
        assertEquals(200, replaced.status(), replaced.toString());
        assertEquals(createTime, replaced.json().at("/value/create_time").asLong(), "create_time preserved");
        assertTrue(replaced.json().at("/value/update_time").asLong() > createTime);
        assertEquals(env.get("createdIndex").asLong(), replaced.json().get("createdIndex").asLong());
        assertTrue(replaced.json().get("modifiedIndex").asLong() > env.get("modifiedIndex").asLong());
        assertFalse(replaced.json().get("value").has("name"), "PUT replaces the whole value");

        Reply list = client.get("/apisix/admin/routes");
        assertEquals(200, list.status());
        assertEquals(1, list.json().get("total").asInt());
        assertEquals("/apisix/routes/1", list.json().at("/list/0/key").asText());
        assertTrue(list.json().at("/list/0/createdIndex").asLong() > 0);

        Reply del = client.delete("/apisix/admin/routes/1");
        assertEquals(200, del.status());
        assertEquals(AdminClient.JSON.readTree("{\"key\":\"/apisix/routes/1\",\"deleted\":\"1\"}"), del.json());
        Reply missing = client.get("/apisix/admin/routes/1");
        assertEquals(404, missing.status());
        assertEquals("Key not found", missing.errorMsg());
        assertEquals(404, client.delete("/apisix/admin/routes/1").status());
        assertEquals(200, client.delete("/apisix/admin/upstreams/1").status());
        assertNull(store.get("/apisix/upstreams/1"));
        Reply empty = client.get("/apisix/admin/routes");
        assertEquals(0, empty.json().get("total").asInt());
        assertEquals(0, empty.json().get("list").size());
    }

    @Test
    void valueWrittenByApisixIsServedAsIs() throws Exception {
        start();
        String apisix = "{\"id\":\"7\",\"uri\":\"/x\",\"upstream\":" + UPSTREAM
                + ",\"create_time\":1700000000,\"update_time\":1700000001,\"priority\":0}";
        store.put(prefix + "/routes/7", apisix.getBytes(StandardCharsets.UTF_8));
        Reply r = client.get("/apisix/admin/routes/7");
        assertEquals(AdminClient.JSON.readTree(apisix), r.json().get("value"));
        Reply p = client.patch("/apisix/admin/routes/7", "{\"desc\":\"d\"}");
        assertEquals(200, p.status(), p.toString());
        assertEquals(1700000000, p.json().at("/value/create_time").asLong());
    }

    @Test
    void servicesConsumersAndCredentials() throws Exception {
        start();
        assertEquals(201, client.put("/apisix/admin/services/s1", "{\"upstream\":" + UPSTREAM + "}").status());
        assertEquals("s1", client.get("/apisix/admin/services/s1").json().at("/value/id").asText());

        Reply c = client.put("/apisix/admin/consumers", "{\"username\":\"jack\",\"plugins\":{}}");
        assertEquals(201, c.status(), c.toString());
        assertEquals(prefix + "/consumers/jack", c.json().get("key").asText());
        assertFalse(c.json().get("value").has("id"), "consumers are keyed by username, no id");
        Reply wrong = client.put("/apisix/admin/consumers/jack", "{\"username\":\"jill\"}");
        assertEquals(400, wrong.status());
        assertEquals("wrong username", wrong.errorMsg());
        assertEquals(200, client.put("/apisix/admin/consumers/jack", "{\"username\":\"jack\",\"desc\":\"d\"}").status());
        assertEquals(405, client.post("/apisix/admin/consumers", "{\"username\":\"x\"}").status());
        assertEquals("not supported `POST` method for consumer",
                client.post("/apisix/admin/consumers", "{\"username\":\"x\"}").errorMsg());

        Reply cred = client.put("/apisix/admin/consumers/jack/credentials/c1",
                "{\"plugins\":{},\"desc\":\"secret\"}");
        assertEquals(201, cred.status(), cred.toString());
        assertEquals(prefix + "/consumers/jack/credentials/c1", cred.json().get("key").asText());
        assertEquals("c1", cred.json().at("/value/id").asText());
        assertEquals("secret", client.get("/apisix/admin/consumers/jack/credentials/c1").json()
                .at("/value/desc").asText());
        Reply creds = client.get("/apisix/admin/consumers/jack/credentials");
        assertEquals(1, creds.json().get("total").asInt());
        Reply consumers = client.get("/apisix/admin/consumers");
        assertEquals(1, consumers.json().get("total").asInt(), "credentials are not listed as consumers: " + consumers);
        assertEquals(404, client.put("/apisix/admin/consumers/nobody/credentials/c1", "{}").status());
        assertEquals(200, client.delete("/apisix/admin/consumers/jack/credentials/c1").status());
        assertEquals(0, client.get("/apisix/admin/consumers/jack/credentials").json().get("total").asInt());
        assertEquals(200, client.delete("/apisix/admin/consumers/jack").status());
        assertEquals(404, client.get("/apisix/admin/consumers/jack").status());

        // the other resources: stored as JSON objects, same envelope
        // (ssls are validated like APISIX's schema plus PEM checks: see sslPrivateKeyIsNeverReturned)
        for (String res : List.of("plugin_configs", "global_rules", "consumer_groups", "protos")) {
            Reply r = client.put("/apisix/admin/" + res + "/a1", res.equals("protos") ? "{\"desc\":\"x\"}"
                    : "{\"plugins\":{}}");
            assertEquals(201, r.status(), res + ": " + r);
            assertEquals(prefix + "/" + res + "/a1", r.json().get("key").asText());
        }
        Reply md = client.put("/apisix/admin/plugin_metadata/http-logger", "{\"log_format\":{\"host\":\"$host\"}}");
        assertEquals(400, md.status(), "http-logger's metadata (log_format) is not implemented");
        assertTrue(md.errorMsg().contains("plugin metadata is not supported for this plugin"), md.errorMsg());
        Reply unknown = client.put("/apisix/admin/plugin_metadata/syslog", "{\"log_format\":{\"host\":\"$host\"}}");
        assertEquals(400, unknown.status());
        assertEquals("invalid plugin name", unknown.errorMsg());
        assertEquals(404, client.get("/apisix/admin/nope").status());
        assertEquals("Unsupported resource type: nope", client.get("/apisix/admin/nope").errorMsg());
    }

    @Test
    void sslPrivateKeyIsNeverReturned() throws Exception {
        start();
        String[] pem = selfSignedPem("a.com");
        com.fasterxml.jackson.databind.node.ObjectNode ssl = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance
                .objectNode();
        ssl.put("cert", pem[0]).put("key", pem[1]).putArray("snis").add("a.com");
        Reply r = client.put("/apisix/admin/ssls/1", ssl.toString());
        assertEquals(201, r.status(), r.toString());
        assertFalse(r.json().get("value").has("key"));
        assertFalse(client.get("/apisix/admin/ssls/1").json().get("value").has("key"));
        assertTrue(new String(store.get(prefix + "/ssls/1").value(), StandardCharsets.UTF_8).contains("PRIVATE KEY"));
        Reply bad = client.put("/apisix/admin/ssls/2", "{\"cert\":\"C\",\"key\":\"K\",\"snis\":[\"a.com\"]}");
        assertEquals(400, bad.status(), "a certificate that does not parse is refused: " + bad);
    }

    /** A fresh ECDSA P-256 certificate and key for {@code name}, generated by the openssl CLI: {cert, key}. */
    static String[] selfSignedPem(String name) throws Exception {
        java.nio.file.Path d = java.nio.file.Files.createTempDirectory("admin-ssl");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d.resolve("k.pem").toString(),
                "-out", d.resolve("c.pem").toString(), "-days", "30", "-subj", "/CN=" + name,
                "-addext", "subjectAltName=DNS:" + name).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return new String[]{java.nio.file.Files.readString(d.resolve("c.pem")),
                java.nio.file.Files.readString(d.resolve("k.pem"))};
    }

    // ---------------------------------------------------------------- POST

    @Test
    void postGeneratesMonotonicTwentyDigitIds() throws Exception {
        start();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Reply r = client.post("/apisix/admin/routes", route("/p" + i, ""));
            assertEquals(201, r.status(), r.toString());
            String id = r.json().at("/value/id").asText();
            assertTrue(id.matches("[0-9]{20}"), id);
            assertEquals(prefix + "/routes/" + id, r.json().get("key").asText());
            assertNotNull(store.get(prefix + "/routes/" + id));
            ids.add(id);
        }
        List<String> sorted = new ArrayList<>(ids);
        sorted.sort(null);
        assertEquals(sorted, ids);
        assertEquals(5, new HashSet<>(ids).size());
        Reply withId = client.post("/apisix/admin/routes", "{\"id\":\"9\",\"uri\":\"/a\",\"upstream\":" + UPSTREAM + "}");
        assertEquals(400, withId.status());
        assertEquals("wrong route id, do not need it", withId.errorMsg());
        assertEquals(400, client.post("/apisix/admin/routes/9", route("/a", "")).status());
        assertEquals(400, client.post("/apisix/admin/routes", "{\"uri\":5}").status());
        assertEquals(5, client.get("/apisix/admin/routes").json().get("total").asInt());
    }

    // ---------------------------------------------------------------- PATCH

    @Test
    void patchMergesAndSubPathReplaces() throws Exception {
        start();
        client.put("/apisix/admin/routes/1", route("/a", "\"methods\":[\"GET\",\"POST\"],\"desc\":\"d\","
                + "\"timeout\":{\"connect\":1,\"send\":1,\"read\":1}"));
        Reply m = client.patch("/apisix/admin/routes/1", "{\"methods\":[\"PUT\"],\"desc\":null,"
                + "\"upstream\":{\"nodes\":{\"127.0.0.1:1980\":null,\"127.0.0.1:1981\":2}},\"labels\":{\"env\":\"prod\"}}");
        assertEquals(200, m.status(), m.toString());
        JsonNode v = m.json().get("value");
        assertEquals("[\"PUT\"]", v.get("methods").toString(), "arrays are replaced");
        assertFalse(v.has("desc"), "null deletes");
        assertEquals("{\"127.0.0.1:1981\":2}", v.at("/upstream/nodes").toString(), "objects merge");
        assertEquals("roundrobin", v.at("/upstream/type").asText());
        assertEquals("prod", v.at("/labels/env").asText());

        Reply sub = client.patch("/apisix/admin/routes/1/methods", "[\"GET\",\"HEAD\"]");
        assertEquals(200, sub.status(), sub.toString());
        assertEquals("[\"GET\",\"HEAD\"]", sub.json().at("/value/methods").toString());
        Reply timeout = client.patch("/apisix/admin/routes/1/timeout", "{\"connect\":5,\"send\":5,\"read\":5}");
        assertEquals(200, timeout.status());
        assertEquals("{\"connect\":5,\"send\":5,\"read\":5}", timeout.json().at("/value/timeout").toString());
        Reply uri = client.patch("/apisix/admin/routes/1/uri", "\"/b\"");
        assertEquals("/b", uri.json().at("/value/uri").asText());
        assertEquals("/b", client.get("/apisix/admin/routes/1").json().at("/value/uri").asText());

        Reply bad = client.patch("/apisix/admin/routes/1", "{\"uri\":5}");
        assertEquals(400, bad.status());
        assertEquals("invalid configuration: property \"uri\" validation failed: wrong type: expected string, got"
                + " number", bad.errorMsg());
        assertEquals(400, client.patch("/apisix/admin/routes/1/uri/x", "1").status(), "cannot walk through a string");
        assertEquals(400, client.patch("/apisix/admin/routes/1", "{\"id\":\"2\"}").status());
        assertEquals("/b", client.get("/apisix/admin/routes/1").json().at("/value/uri").asText(), "unchanged");
        assertEquals(404, client.patch("/apisix/admin/routes/nope", "{\"desc\":\"x\"}").status());
        assertEquals("missing new configuration", client.patch("/apisix/admin/routes/1", null).errorMsg());
    }

    @Test
    void concurrentPatchesAreAllApplied() throws Exception {
        start();
        assertEquals(201, client.put("/apisix/admin/routes/1", route("/c", "\"plugins\":{}")).status());
        int threads = 2;
        int perThread = 50;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<Integer>>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int tid = t;
                futures.add(pool.submit(() -> {
                    AdminClient c = new AdminClient(server.localAddress(), ADMIN);
                    List<Integer> codes = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        // merge patches of distinct keys: a lost update would drop one
                        codes.add(c.patch("/apisix/admin/routes/1",
                                "{\"upstream\":{\"nodes\":{\"10.0." + tid + "." + i + ":80\":1}}}").status());
                    }
                    return codes;
                }));
            }
            for (Future<List<Integer>> f : futures) {
                for (int code : f.get(90, TimeUnit.SECONDS)) {
                    assertEquals(200, code);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        JsonNode nodes = client.get("/apisix/admin/routes/1").json().at("/value/upstream/nodes");
        assertEquals(threads * perThread + 1, nodes.size(), nodes.toString());
    }

    // ---------------------------------------------------------------- lists

    @Test
    void paginationAndFilters() throws Exception {
        start();
        for (int i = 0; i < 25; i++) {
            String labels = i % 5 == 0 ? ",\"labels\":{\"team\":\"a\"}" : "";
            Reply r = client.put("/apisix/admin/routes/r" + (char) ('z' - i),
                    route(i % 2 == 0 ? "/even/" + i : "/odd/" + i, "\"name\":\"route-" + i + "\"" + labels));
            assertEquals(201, r.status(), r.toString());
        }
        Reply all = client.get("/apisix/admin/routes");
        assertEquals(25, all.json().get("total").asInt());
        assertEquals(25, all.json().get("list").size());

        Reply p2 = client.get("/apisix/admin/routes?page=2&page_size=10");
        assertEquals(200, p2.status());
        assertEquals(25, p2.json().get("total").asInt());
        assertEquals(10, p2.json().get("list").size());
        // pages are in creation order (createdIndex), like APISIX
        assertEquals("route-10", p2.json().at("/list/0/value/name").asText());
        long prev = 0;
        for (JsonNode item : p2.json().get("list")) {
            assertTrue(item.get("createdIndex").asLong() > prev);
            prev = item.get("createdIndex").asLong();
        }
        Reply p3 = client.get("/apisix/admin/routes?page=3&page_size=10");
        assertEquals(5, p3.json().get("list").size());
        assertEquals(0, client.get("/apisix/admin/routes?page=9&page_size=10").json().get("list").size());
        Reply badSize = client.get("/apisix/admin/routes?page=1&page_size=5");
        assertEquals(400, badSize.status());
        assertEquals("page_size must be between 10 and 500", badSize.errorMsg());
        assertEquals(400, client.get("/apisix/admin/routes?page=1&page_size=501").status());

        assertEquals(1, client.get("/apisix/admin/routes?name=route-13").json().get("total").asInt());
        assertEquals(11, client.get("/apisix/admin/routes?name=route-1").json().get("total").asInt()); // 1, 10..19
        assertEquals(5, client.get("/apisix/admin/routes?label=team").json().get("total").asInt());
        assertEquals(13, client.get("/apisix/admin/routes?uri=/even/").json().get("total").asInt());
        Reply combined = client.get("/apisix/admin/routes?uri=%5E/even/&label=team&page=1&page_size=10");
        assertEquals(3, combined.json().get("total").asInt()); // 0, 10, 20
        assertEquals(3, combined.json().get("list").size());
    }

    // ---------------------------------------------------------------- auth

    @Test
    void authMissingWrongViewerAndQueryKey() throws Exception {
        start();
        client.key = null;
        Reply missing = client.get("/apisix/admin/routes");
        assertEquals(401, missing.status());
        assertEquals("failed to check token", missing.errorMsg());
        client.key = "wrong";
        assertEquals(401, client.get("/apisix/admin/routes").status());
        client.key = ADMIN + "x";
        assertEquals(401, client.get("/apisix/admin/routes").status());
        client.key = null;
        assertEquals(200, client.get("/apisix/admin/routes?api_key=" + ADMIN).status());
        assertEquals(401, client.get("/apisix/admin/routes?api_key=nope").status());

        client.key = VIEWER;
        assertEquals(200, client.get("/apisix/admin/routes").status());
        Reply viewerWrite = client.put("/apisix/admin/routes/1", route("/v", ""));
        assertEquals(401, viewerWrite.status());
        assertEquals("failed to check token", viewerWrite.errorMsg());
        assertEquals(401, client.delete("/apisix/admin/routes/1").status());
        assertEquals(401, client.patch("/apisix/admin/routes/1", "{}").status());
        assertEquals(401, client.post("/apisix/admin/routes", route("/v", "")).status());
        client.key = ADMIN;
        assertEquals(404, client.get("/apisix/admin/routes/1").status(), "the viewer's write did not happen");
        assertEquals(201, client.put("/apisix/admin/routes/1", route("/v", "")).status());
    }

    @Test
    void allowAdminRefusesOtherClients() throws Exception {
        start("/aa" + System.nanoTime(), AdminApiServer.Options.DEFAULTS, List.of("10.0.0.0/8", "fd00::/8"));
        Reply r = client.get("/apisix/admin/routes");
        assertEquals(403, r.status());
        assertNotNull(r.errorMsg());
        client.key = null;
        assertEquals(403, client.get("/apisix/admin/routes").status(), "the address is checked before the key");
        server.stop();
        start("/ab" + System.nanoTime(), AdminApiServer.Options.DEFAULTS, List.of("::1", "127.0.0.1/32"));
        assertEquals(200, client.get("/apisix/admin/routes").status());
    }

    // ---------------------------------------------------------------- validation and references

    @Test
    void validationErrorsAreApisixStyleAndWriteNothing() throws Exception {
        start();
        Reply uri = client.put("/apisix/admin/routes/1", "{\"uri\":5,\"upstream\":" + UPSTREAM + "}");
        assertEquals(400, uri.status());
        assertEquals("invalid configuration: property \"uri\" validation failed: wrong type: expected string, got"
                + " number", uri.errorMsg());
        Reply extra = client.put("/apisix/admin/upstreams/1", "{\"nodes\":{\"a:1\":1},\"foo\":1}");
        assertEquals(400, extra.status());
        assertTrue(extra.errorMsg().startsWith("invalid configuration: "), extra.errorMsg());
        Reply idMismatch = client.put("/apisix/admin/routes/1", "{\"id\":\"2\",\"uri\":\"/a\",\"upstream\":" + UPSTREAM + "}");
        assertEquals("wrong route id", idMismatch.errorMsg());
        Reply badId = client.put("/apisix/admin/routes/a$b", route("/a", ""));
        assertEquals(400, badId.status());
        Reply json = client.put("/apisix/admin/routes/1", "{\"uri\": ");
        assertEquals(400, json.status());
        assertTrue(json.errorMsg().startsWith("invalid request body: "), json.errorMsg());
        Reply dup = client.put("/apisix/admin/routes/1", "{\"uri\":\"/a\",\"uri\":\"/b\"}");
        assertEquals(400, dup.status());
        assertEquals("missing configurations", client.put("/apisix/admin/routes/1", null).errorMsg());
        assertEquals("missing route id", client.put("/apisix/admin/routes", route("/a", "")).errorMsg());
        assertEquals(400, client.put("/apisix/admin/consumers/jack", "{\"username\":\"jack\",\"plugins\":[]}").status());
        assertEquals(0, store.list(prefix + "/").entries().size(), "nothing was written");
        assertEquals(201, client.put("/apisix/admin/routes", "{\"id\":1,\"uri\":\"/a\",\"upstream\":" + UPSTREAM + "}")
                .status(), "the id may come from the body");
    }

    @Test
    void unknownPluginsAndUnsupportedFieldsAreRefusedWithApisixWording() throws Exception {
        start();
        Reply r = client.put("/apisix/admin/routes/1", route("/a", "\"plugins\":{\"hmac-auth\":{}}"));
        assertEquals(400, r.status());
        assertEquals("{\"error_msg\":\"unknown plugin [hmac-auth]\"}", r.text().trim(), "APISIX's body, no prefix");
        assertEquals("unknown plugin [syslog]", client.put("/apisix/admin/services/s1",
                "{\"plugins\":{\"syslog\":{\"host\":\"h\"}},\"upstream\":" + UPSTREAM + "}").errorMsg());
        assertEquals("unknown plugin [hmac-auth]", client.put("/apisix/admin/consumers",
                "{\"username\":\"jack\",\"plugins\":{\"hmac-auth\":{\"key\":\"k\"}}}").errorMsg());
        for (String res : List.of("plugin_configs", "global_rules", "consumer_groups")) {
            Reply p = client.put("/apisix/admin/" + res + "/1", "{\"plugins\":{\"datadog\":{}}}");
            assertEquals(400, p.status(), res);
            assertEquals("unknown plugin [datadog]", p.errorMsg(), res);
        }
        assertEquals("unknown plugin [hmac-auth]", client.post("/apisix/admin/routes",
                route("/a", "\"plugins\":{\"hmac-auth\":{}}")).errorMsg(), "POST too");
        assertEquals("unknown plugin [hmac-auth]", client.post("/apisix/admin/schema/validate/routes",
                route("/a", "\"plugins\":{\"hmac-auth\":{}}")).errorMsg());
        assertEquals(400, client.put("/apisix/admin/stream_routes/1", "{\"upstream\":" + UPSTREAM + "}").status());
        assertEquals("invalid configuration: property \"service_protocol\" validation failed: \"grpc\" is not"
                + " supported (gRPC is proxied to upstreams with \"scheme\": \"grpc\" or \"grpcs\": docs/http2.md)", client.put("/apisix/admin/routes/1",
                route("/a", "\"service_protocol\":\"grpc\"")).errorMsg());
        assertEquals(0, store.list(prefix + "/").entries().size(), "nothing was written");

        // a PATCH that adds a plugin to a stored route is refused the same way, and the stored route is unchanged
        assertEquals(201, client.put("/apisix/admin/routes/1", route("/a", "\"plugins\":{}")).status());
        assertEquals("unknown plugin [hmac-auth]",
                client.patch("/apisix/admin/routes/1", "{\"plugins\":{\"hmac-auth\":{}}}").errorMsg());
        assertEquals("unknown plugin [hmac-auth]",
                client.patch("/apisix/admin/routes/1/plugins", "{\"hmac-auth\":{}}").errorMsg());
        assertEquals("{}", client.get("/apisix/admin/routes/1").json().at("/value/plugins").toString());
        assertEquals(201, client.put("/apisix/admin/consumers", "{\"username\":\"jack\"}").status());
        assertEquals("unknown plugin [hmac-auth]", client.put("/apisix/admin/consumers/jack/credentials/c1",
                "{\"plugins\":{\"hmac-auth\":{\"key\":\"k\"}}}").errorMsg());
    }

    @Test
    void referencesAreCheckedBothWays() throws Exception {
        start();
        Reply r = client.put("/apisix/admin/routes/1", "{\"uri\":\"/a\",\"upstream_id\":\"u1\"}");
        assertEquals(400, r.status());
        assertEquals("failed to fetch upstream info by upstream id [u1], response code: 404", r.errorMsg());
        assertEquals("failed to fetch service info by service id [s1], response code: 404",
                client.put("/apisix/admin/routes/1", "{\"uri\":\"/a\",\"service_id\":\"s1\"}").errorMsg());
        assertEquals("failed to fetch plugin config info by plugin config id [p1], response code: 404",
                client.put("/apisix/admin/routes/1", "{\"uri\":\"/a\",\"plugin_config_id\":\"p1\",\"upstream\":"
                        + UPSTREAM + "}").errorMsg());
        assertEquals(400, client.put("/apisix/admin/services/s1", "{\"upstream_id\":\"u1\"}").status());
        assertEquals(400, client.post("/apisix/admin/routes", "{\"uri\":\"/a\",\"upstream_id\":\"u1\"}").status());

        assertEquals(201, client.put("/apisix/admin/upstreams/u1", UPSTREAM).status());
        assertEquals(201, client.put("/apisix/admin/services/s1", "{\"upstream_id\":\"u1\"}").status());
        assertEquals(201, client.put("/apisix/admin/routes/1", "{\"uri\":\"/a\",\"upstream_id\":\"u1\"}").status());
        assertEquals(201, client.put("/apisix/admin/routes/2", "{\"uri\":\"/b\",\"service_id\":\"s1\"}").status());
        assertEquals(400, client.patch("/apisix/admin/routes/2", "{\"service_id\":\"s9\"}").status());

        Reply delU = client.delete("/apisix/admin/upstreams/u1");
        assertEquals(400, delU.status());
        assertEquals("can not delete this upstream, route [1] is still using it now", delU.errorMsg());
        Reply delS = client.delete("/apisix/admin/services/s1");
        assertEquals("can not delete this service directly, route [2] is still using it now", delS.errorMsg());
        assertEquals(200, client.delete("/apisix/admin/routes/1").status());
        assertEquals("can not delete this upstream, service [s1] is still using it now",
                client.delete("/apisix/admin/upstreams/u1").errorMsg());
        assertEquals(200, client.delete("/apisix/admin/routes/2").status());
        assertEquals(200, client.delete("/apisix/admin/services/s1").status());
        assertEquals(200, client.delete("/apisix/admin/upstreams/u1").status());

        assertEquals(201, client.put("/apisix/admin/consumer_groups/g1", "{\"plugins\":{}}").status());
        assertEquals(201, client.put("/apisix/admin/consumers", "{\"username\":\"u\",\"group_id\":\"g1\"}").status());
        assertEquals("can not delete this consumer group, consumer [u] is still using it now",
                client.delete("/apisix/admin/consumer_groups/g1").errorMsg());
    }

    @Test
    void schemaValidateWritesNothing() throws Exception {
        start();
        Reply ok = client.post("/apisix/admin/schema/validate/routes", route("/a", ""));
        assertEquals(200, ok.status(), ok.toString());
        Reply bad = client.post("/apisix/admin/schema/validate/routes", "{\"uri\":5,\"upstream\":" + UPSTREAM + "}");
        assertEquals(400, bad.status());
        assertEquals("property \"uri\" validation failed: wrong type: expected string, got number", bad.errorMsg());
        assertEquals(400, client.post("/apisix/admin/schema/validate/upstreams", "{\"type\":\"nope\",\"nodes\":{}}")
                .status());
        assertEquals(200, client.post("/apisix/admin/schema/validate/consumers", "{\"username\":\"a\"}").status());
        assertEquals(404, client.post("/apisix/admin/schema/validate/nope", "{}").status());
        assertEquals(0, store.list(prefix + "/").entries().size());
        client.key = VIEWER;
        assertEquals(401, client.post("/apisix/admin/schema/validate/routes", route("/a", "")).status());
    }

    // ---------------------------------------------------------------- size

    @Test
    void sixMibValueIsStoredAndServedWhenTheLimitsAreRaised() throws Exception {
        int eight = 8 * 1024 * 1024;
        start("/six" + System.nanoTime(), AdminApiServer.Options.DEFAULTS.withMaxBodyBytes(eight)
                .withMaxValueBytes(eight), List.of("127.0.0.1"));
        String big = "x".repeat(6 * 1024 * 1024);
        Reply r = client.put("/apisix/admin/protos/big", "{\"content\":\"" + big + "\"}");
        assertEquals(201, r.status(), r.status() + " " + r.errorMsg());
        Reply got = client.get("/apisix/admin/protos/big");
        assertEquals(200, got.status());
        assertEquals(big.length(), got.json().at("/value/content").asText().length());
        assertTrue(store.get(prefix + "/protos/big").value().length > 6 * 1024 * 1024);
    }

    /** By default a body, and a stored value, is bounded by the value limit the gateway decodes (1.5 MiB). */
    @Test
    void valuesOverTheDefaultLimitAreRefusedAndNothingIsWritten() throws Exception {
        start();
        int limit = io.turnpike.config.ConfigLimits.maxValueBytes();
        assertEquals(1536 * 1024, limit);
        assertEquals(limit, AdminApiServer.Options.DEFAULTS.maxBodyBytes());
        Reply r = client.put("/apisix/admin/protos/big", "{\"content\":\"" + "x".repeat(limit) + "\"}");
        assertEquals(413, r.status(), r.toString());
        assertTrue(r.errorMsg().contains("larger than " + limit + " bytes"), r.toString());
        // Under the body limit, but the stored value (with id and timestamps) would pass it: 413 too.
        r = client.put("/apisix/admin/protos/big", "{\"content\":\"" + "x".repeat(limit - 20) + "\"}");
        assertEquals(413, r.status(), r.toString());
        assertTrue(r.errorMsg().startsWith("invalid configuration: value of "), r.toString());
        assertTrue(r.errorMsg().endsWith(" bytes is larger than the limit of " + limit
                + " bytes (turnpike.max_config_value_bytes)"), r.toString());
        assertNull(store.get(prefix + "/protos/big"));
        // PATCH cannot grow a value past the limit either.
        assertEquals(201, client.put("/apisix/admin/protos/1", "{\"content\":\"" + "x".repeat(limit - 200) + "\"}")
                .status());
        long rev = store.get(prefix + "/protos/1").modRevision();
        r = client.patch("/apisix/admin/protos/1", "{\"desc\":\"" + "y".repeat(250) + "\"}");
        assertEquals(413, r.status(), r.toString());
        assertEquals(rev, store.get(prefix + "/protos/1").modRevision());
    }

    /**
     * A client still sending a body refused from its head (413 over the limit) reads the answer, not a reset: the
     * server discards what still comes after answering (a lingering close) instead of closing with unread bytes.
     */
    @Test
    void aBodyRefusedFromItsHeadStillGetsItsAnswerWhileItIsBeingSent() throws Exception {
        start();
        InetSocketAddress a = server.localAddress();
        int size = 32 << 20; // more than loopback socket buffers hold: without discarding, the client blocks then is reset
        try (java.net.Socket s = new java.net.Socket(a.getAddress(), a.getPort())) {
            s.setSoTimeout(10_000);
            java.io.OutputStream out = s.getOutputStream();
            out.write(("PUT /apisix/admin/protos/huge HTTP/1.1\r\nHost: x\r\nX-API-KEY: " + ADMIN
                    + "\r\nContent-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk = new byte[64 * 1024];
            java.util.Arrays.fill(chunk, (byte) 'x');
            for (int sent = 0; sent < size; sent += chunk.length) {
                out.write(chunk); // the whole body, as a client that does not wait for an interim answer
            }
            out.flush();
            String resp = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(resp.startsWith("HTTP/1.1 413"), resp);
            assertTrue(resp.contains("larger than"), resp);
        }
        assertNull(store.get(prefix + "/protos/huge"));
    }

    /**
     * Address and key are checked on the request head: without a valid key (or a viewer's write) the answer comes at
     * once, before the announced body is read, and nothing is held or written.
     */
    @Test
    void refusedOnTheHeadBeforeTheBodyIsRead() throws Exception {
        start();
        InetSocketAddress a = server.localAddress();
        for (String key : List.of("X-API-KEY: wrong\r\n", "", "X-API-KEY: " + VIEWER + "\r\n")) {
            try (java.net.Socket s = new java.net.Socket(a.getAddress(), a.getPort())) {
                s.setSoTimeout(10_000);
                // 1,000,000 bytes announced (under the body limit), one sent: the server must not wait for the rest
                s.getOutputStream().write(("PUT /apisix/admin/routes/1 HTTP/1.1\r\nHost: x\r\n" + key
                        + "Content-Length: 1000000\r\n\r\n{").getBytes(StandardCharsets.ISO_8859_1));
                String resp = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(resp.startsWith("HTTP/1.1 401"), key + " -> " + resp);
                assertTrue(resp.contains("\"error_msg\":\"failed to check token\""), resp);
            }
        }
        assertNull(store.get(prefix + "/routes/1"));
        // Without a body the connection stays usable after a refusal.
        try (java.net.Socket s = new java.net.Socket(a.getAddress(), a.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /apisix/admin/routes HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /apisix/admin/routes HTTP/1.1\r\nHost: x\r\nX-API-KEY: " + ADMIN
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String resp = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(resp.startsWith("HTTP/1.1 401"), resp);
            assertTrue(resp.contains("HTTP/1.1 200"), resp);
        }
    }

    // ---------------------------------------------------------------- hostile paths

    /** One request on a raw socket: the path goes out byte for byte (no client-side normalisation). */
    private Reply raw(String method, String path, String body) throws Exception {
        InetSocketAddress a = server.localAddress();
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        try (java.net.Socket s = new java.net.Socket(a.getAddress(), a.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write((method + " " + path + " HTTP/1.1\r\nHost: x\r\nX-API-KEY: " + ADMIN
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + b.length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().write(b);
            String resp = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int status = Integer.parseInt(resp.substring(9, 12));
            String text = resp.substring(resp.indexOf("\r\n\r\n") + 4);
            JsonNode n = text.isEmpty() ? null : new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
            return new Reply(status, text, n);
        }
    }

    /** Every key under the prefix with its mod revision: what a write would change. */
    private java.util.Map<String, Long> snapshot() throws Exception {
        java.util.Map<String, Long> m = new java.util.TreeMap<>();
        for (ConfigStore.Entry e : store.list(prefix + "/").entries()) {
            m.put(e.key(), e.modRevision());
        }
        return m;
    }

    /**
     * A path with more segments than the resource takes, {@code .}/{@code ..} or empty segments, or percent-encoded
     * characters is a 400 or 404 with {@code error_msg}, for every method, and nothing is written.
     */
    @Test
    void hostilePathsAreRefusedAndWriteNothing() throws Exception {
        start();
        assertEquals(201, client.put("/apisix/admin/upstreams/x", UPSTREAM).status());
        assertEquals(201, client.put("/apisix/admin/routes/1", route("/a", "")).status());
        assertEquals(201, client.put("/apisix/admin/consumers", "{\"username\":\"u\"}").status());
        java.util.Map<String, Long> before = snapshot();
        List<String> paths = List.of(
                "/apisix/admin/routes/../upstreams/x",
                "/apisix/admin/routes/..",
                "/apisix/admin/routes/.",
                "/apisix/admin/routes/./1",
                "/apisix/admin/routes/1/..",
                "/apisix/admin/../admin/routes/1",
                "/apisix/admin/routes//1",
                "/apisix/admin//routes/1",
                "/apisix/admin/routes/1//",
                "/apisix/admin/routes/a%2Fb",
                "/apisix/admin/routes%2F1",
                "/apisix/admin/routes/%2e%2e",
                "/apisix/admin/routes/1/x",
                "/apisix/admin/routes/1/upstream/nodes",
                "/apisix/admin/upstreams/x/y/z",
                "/apisix/admin/consumers/u/credentials/c/extra",
                "/apisix/admin/consumers/u/x",
                "/apisix/admin/secrets/vault/1/extra");
        List<String> failures = new ArrayList<>();
        for (String path : paths) {
            for (String method : List.of("PUT", "POST", "PATCH", "DELETE", "GET")) {
                String body = method.equals("GET") || method.equals("DELETE") ? null
                        : path.contains("upstreams") ? UPSTREAM : route("/evil", "");
                Reply r = raw(method, path, body);
                // PATCH does take a sub-path (/routes/1/methods); with these bodies each is invalid, so 400 too
                if (!(r.status() == 400 || r.status() == 404 || r.status() == 405) || r.errorMsg() == null) {
                    failures.add(method + " " + path + " -> " + r);
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertEquals(before, snapshot(), "nothing was written");
        assertNull(store.get(prefix + "/routes/.."));
        assertNull(store.get(prefix + "/routes/."));

        Reply r = raw("PUT", "/apisix/admin/routes/../upstreams/x", route("/evil", ""));
        assertEquals(400, r.status());
        assertEquals("invalid path /apisix/admin/routes/../upstreams/x: \"..\" segments are not allowed",
                r.errorMsg());
        r = raw("PUT", "/apisix/admin/routes/1/x", route("/evil", ""));
        assertEquals(400, r.status());
        assertEquals("invalid path /apisix/admin/routes/1/x: a route path takes no segments after the id with PUT",
                r.errorMsg());
        // An id of dots in the body is refused too.
        r = raw("PUT", "/apisix/admin/routes", "{\"id\":\"..\",\"uri\":\"/evil\",\"upstream_id\":\"x\"}");
        assertEquals(400, r.status(), r.toString());
        assertNull(store.get(prefix + "/routes/.."));
        // The directory with one trailing slash is still the directory.
        assertEquals(200, raw("GET", "/apisix/admin/routes/", null).status());
        assertEquals(200, raw("GET", "/apisix/admin/routes/1", null).status());
    }

    @Test
    void bodyOverTheLimitIs413() throws Exception {
        start("/lim" + System.nanoTime(), AdminApiServer.Options.DEFAULTS.withMaxBodyBytes(64 * 1024),
                List.of("127.0.0.1"));
        Reply r = client.put("/apisix/admin/routes/1", route("/a", "\"desc\":\"" + "y".repeat(100_000) + "\""));
        assertEquals(413, r.status());
        assertTrue(r.errorMsg().contains("larger than 65536 bytes"), r.toString());
        assertEquals(201, client.put("/apisix/admin/routes/1", route("/a", "")).status(), "a new connection works");
    }
}
