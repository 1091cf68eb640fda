package io.turnpike.config.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.codec.ConfigCompiler;
import io.turnpike.config.codec.ConfigEntry;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.process.AdminConfig;
import io.turnpike.config.process.AdminKey;
import io.turnpike.config.process.ListenAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Fault injection and the pieces that need no etcd: CAS exhaustion, store outage, ids, patches, read-only mode. */
class AdminServiceTest {

    private static final String UPSTREAM = "{\"nodes\":{\"127.0.0.1:1980\":1}}";
    private static final String ROUTE = "{\"uri\":\"/a\",\"upstream\":" + UPSTREAM + "}";

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void patchRetriesCompareAndSetAndGivesUpBounded() {
        MemoryStore store = new MemoryStore();
        AdminService s = new AdminService(store, "/apisix", false);
        assertEquals(201, s.handle("PUT", "/apisix/admin/routes/1", b(ROUTE)).status());
        store.casFailures.set(5);
        assertEquals(200, s.handle("PATCH", "/apisix/admin/routes/1", b("{\"desc\":\"x\"}")).status(),
                "a few lost races are retried");
        store.casFailures.set(AdminService.MAX_CAS_ATTEMPTS);
        AdminResponse r = s.handle("PATCH", "/apisix/admin/routes/1", b("{\"desc\":\"y\"}"));
        assertEquals(409, r.status());
        assertTrue(r.bodyText().contains("modified concurrently"), r.bodyText());
        store.casFailures.set(0);
        assertTrue(s.handle("GET", "/apisix/admin/routes/1", new byte[0]).bodyText().contains("\"desc\":\"x\""),
                "the failed PATCH left nothing behind");
    }

    @Test
    void storeCallsRunOnWorkersNeverOnTheAdminIoThread() throws Exception {
        MemoryStore store = new MemoryStore();
        AdminConfig cfg = new AdminConfig(true, List.of(new AdminKey("a", "k", "admin")), true,
                new ListenAddress("127.0.0.1", 0), List.of());
        try (AdminApiServer server = new AdminApiServer(cfg, store, "/apisix", AdminApiServer.Options.DEFAULTS)) {
            AdminClient c = new AdminClient(server.start(), "k");
            assertEquals(201, c.put("/apisix/admin/routes/1", ROUTE).status());
            assertEquals(200, c.get("/apisix/admin/routes/1").status());
            assertEquals(200, c.delete("/apisix/admin/routes/1").status());
        }
        assertTrue(!store.callers.isEmpty() && store.callers.stream().allMatch(n -> n.startsWith("turnpike-admin-worker")),
                store.callers.toString());
    }

    @Test
    void unreachableStoreIs503() {
        MemoryStore store = new MemoryStore();
        store.down = true;
        AdminResponse r = new AdminService(store, "/apisix", false).handle("GET", "/apisix/admin/routes", new byte[0]);
        assertEquals(503, r.status());
        assertTrue(r.bodyText().contains("error_msg"));
    }

    @Test
    void postTakesTheNextIdWhenOneIsTaken() throws Exception {
        MemoryStore store = new MemoryStore();
        AtomicLong clock = new AtomicLong(1_000);
        AdminService s = new AdminService(store, "/apisix", false, () -> 1_700_000_000L,
                new IdGenerator(clock::get));
        // another process already used the first id this one would generate
        store.putIf("/apisix/routes/00000000000001000000", b(ROUTE), 0);
        AdminResponse r = s.handle("POST", "/apisix/admin/routes", b(ROUTE));
        assertEquals(201, r.status());
        assertTrue(r.bodyText().contains("\"key\":\"/apisix/routes/00000000000001000001\""), r.bodyText());
        assertTrue(r.bodyText().contains("\"create_time\":1700000000"));
    }

    @Test
    void idGeneratorNeverRepeatsWhenTheClockStepsBack() {
        AtomicLong clock = new AtomicLong(5_000);
        IdGenerator g = new IdGenerator(clock::get);
        String a = g.next();
        clock.set(4_000);
        String b = g.next();
        assertEquals(20, a.length());
        assertTrue(b.compareTo(a) > 0, a + " " + b);
    }

    @Test
    void mergeAndSubPath() throws Exception {
        ObjectNode base = (ObjectNode) AdminResponse.JSON.readTree("{\"a\":{\"b\":1,\"c\":[1,2]},\"d\":\"x\"}");
        ObjectNode m = JsonPatch.merge(base, (ObjectNode) AdminResponse.JSON.readTree(
                "{\"a\":{\"c\":[3],\"e\":null,\"f\":{\"g\":null,\"h\":1}},\"d\":null}"));
        assertEquals("{\"a\":{\"b\":1,\"c\":[3],\"f\":{\"h\":1}}}", m.toString());
        assertEquals("{\"a\":{\"b\":1,\"c\":[1,2]},\"d\":\"x\"}", base.toString(), "the input is not modified");
        JsonNode v = AdminResponse.JSON.readTree("5");
        assertEquals("{\"a\":{\"b\":1,\"c\":[1,2]},\"d\":\"x\",\"p\":{\"q\":5}}",
                JsonPatch.subPath(base, List.of("p", "q"), v).toString());
        assertEquals(400, assertAdmin(() -> JsonPatch.subPath(base, List.of("d", "q"), v)));
    }

    private static int assertAdmin(Runnable r) {
        try {
            r.run();
        } catch (AdminException e) {
            return e.status;
        }
        throw new AssertionError("no AdminException");
    }

    @Test
    void readOnlyModeServesTheFileAndRefusesWrites() throws Exception {
        ConfigCompiler compiler = new ConfigCompiler();
        ConfigSet set = compiler.compile(3, List.of(
                ConfigEntry.of("upstreams", "u1", AdminResponse.JSON.readTree(UPSTREAM)),
                ConfigEntry.of("routes", "r1", AdminResponse.JSON.readTree("{\"id\":\"r1\",\"uri\":\"/a\",\"upstream_id\":\"u1\"}")),
                ConfigEntry.of("consumers", "jack", AdminResponse.JSON.readTree("{\"username\":\"jack\"}")))).config();
        AtomicReference<ConfigSet> current = new AtomicReference<>(set);
        AdminConfig cfg = new AdminConfig(true, List.of(new AdminKey("a", "k", "admin")), true,
                new ListenAddress("127.0.0.1", 0), List.of("127.0.0.1"));
        try (AdminApiServer server = AdminApiServer.readOnly(cfg, current::get, "/apisix",
                AdminApiServer.Options.DEFAULTS)) {
            AdminClient c = new AdminClient(server.start(), "k");
            AdminClient.Reply r = c.get("/apisix/admin/routes/r1");
            assertEquals(200, r.status(), r.toString());
            assertEquals("/apisix/routes/r1", r.json().get("key").asText());
            assertEquals("/a", r.json().at("/value/uri").asText());
            assertEquals(3, r.json().get("modifiedIndex").asLong());
            assertEquals(1, c.get("/apisix/admin/routes").json().get("total").asInt());
            assertEquals(1, c.get("/apisix/admin/upstreams").json().get("total").asInt());
            assertEquals("jack", c.get("/apisix/admin/consumers/jack").json().at("/value/username").asText());
            assertEquals(404, c.get("/apisix/admin/routes/r2").status());
            for (String m : List.of("PUT", "PATCH", "DELETE", "POST")) {
                AdminClient.Reply w = c.send(m, m.equals("POST") ? "/apisix/admin/routes" : "/apisix/admin/routes/r1",
                        m.equals("DELETE") ? null : ROUTE);
                assertEquals(405, w.status(), m);
                assertEquals(AdminService.READ_ONLY_MESSAGE, w.errorMsg());
            }
            assertEquals(200, c.post("/apisix/admin/schema/validate/routes", ROUTE).status(),
                    "validation still works read-only");
            current.set(ConfigSet.empty());
            assertEquals(404, c.get("/apisix/admin/routes/r1").status(), "reads follow the file's current state");
        }
    }
}
