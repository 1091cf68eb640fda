package io.turnpike.config.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.turnpike.config.plugin.BuiltinPluginSchemas;
import io.turnpike.config.plugin.PluginRegistry;
import java.nio.charset.StandardCharsets;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Plugin introspection for dashboards ({@code /apisix/admin/plugins/list}, {@code /apisix/admin/plugins/{name}}) and
 * the implemented plugins' configurations checked with APISIX's wording through the Admin API.
 */
class AdminPluginsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UPSTREAM = "{\"nodes\":{\"127.0.0.1:1980\":1}}";
    private final AdminService s = new AdminService(new MemoryStore(), "/apisix", false);

    private static byte[] b(String v) {
        return v.getBytes(StandardCharsets.UTF_8);
    }

    private AdminResponse putRoute(String id, String plugins) {
        return s.handle("PUT", "/apisix/admin/routes/" + id,
                b("{\"uri\":\"/a\",\"upstream\":" + UPSTREAM + ",\"plugins\":" + plugins + "}"));
    }

    private static String errorMsg(AdminResponse r) throws Exception {
        return JSON.readTree(r.body()).get("error_msg").asText();
    }

    @Test
    void listAndSchemas() throws Exception {
        AdminResponse list = s.handle("GET", "/apisix/admin/plugins/list", new byte[0]);
        assertEquals(200, list.status());
        TreeSet<String> names = new TreeSet<>();
        JSON.readTree(list.body()).forEach(n -> names.add(n.asText()));
        assertEquals(new TreeSet<>(PluginRegistry.builtin().names()), names);
        for (String name : names) {
            AdminResponse schema = s.handle("GET", "/apisix/admin/plugins/" + name, new byte[0]);
            assertEquals(200, schema.status(), name + ": every implemented plugin serves a schema");
            JsonNode doc = JSON.readTree(schema.body());
            assertEquals("object", doc.get("type").asText());
            assertTrue(doc.get("properties").isObject());
        }
        assertTrue(BuiltinPluginSchemas.JSON_SCHEMAS.keySet().containsAll(names));
        assertEquals(404, s.handle("GET", "/apisix/admin/plugins/hmac-auth", new byte[0]).status());
        assertEquals(405, s.handle("PUT", "/apisix/admin/plugins/list", new byte[0]).status());
    }

    @Test
    void pluginConfigurationsCheckedWithApisixWording() throws Exception {
        assertEquals(201, putRoute("1", "{\"key-auth\":{},\"proxy-rewrite\":{\"uri\":\"/x\"}}").status());
        AdminResponse badType = putRoute("2", "{\"key-auth\":{\"header\":5}}");
        assertEquals(400, badType.status());
        assertEquals("failed to check the configuration of plugin key-auth err: property \"header\" validation failed:"
                + " wrong type: expected string, got integer", errorMsg(badType));
        AdminResponse extra = putRoute("3", "{\"cors\":{\"allow_origins_by_regex\":[\".*\"]}}");
        assertEquals(400, extra.status());
        assertTrue(errorMsg(extra).endsWith("property \"allow_origins_by_regex\" is not supported yet"),
                errorMsg(extra));
        AdminResponse both = putRoute("4", "{\"ip-restriction\":{\"whitelist\":[\"1.2.3.4\"],\"blacklist\":[\"1.2.3.5\"]}}");
        assertEquals(400, both.status());
        AdminResponse notIp = putRoute("5", "{\"ip-restriction\":{\"whitelist\":[\"example.com\"]}}");
        assertEquals(400, notIp.status(), "a name is not an address (and never a DNS lookup)");
        AdminResponse cred = putRoute("6", "{\"cors\":{\"allow_credential\":true}}");
        assertEquals("failed to check the configuration of plugin cors err: you can not set '*' for other option when"
                + " 'allow_credential' is true", errorMsg(cred));
        AdminResponse badRegex = putRoute("7", "{\"proxy-rewrite\":{\"regex_uri\":[\"(a)\\\\1\",\"/$1\"]}}");
        assertEquals(400, badRegex.status(), "backreferences need a backtracking engine");
        AdminResponse reserved = putRoute("8", "{\"proxy-rewrite\":{\"headers\":{\"set\":{\"Content-Length\":\"1\"}}}}");
        assertEquals(400, reserved.status(), "framing headers are the gateway's");

        assertEquals(201, putRoute("9", "{\"proxy-rewrite\":{\"uri\":\"/a/$arg_id\",\"headers\":{\"set\":{"
                + "\"X-H\":\"${host}-$http_x_y\"}}}}").status(), "request variables in proxy-rewrite");
        AdminResponse unknownVar = putRoute("10", "{\"proxy-rewrite\":{\"headers\":{\"set\":{\"X-H\":\"$nope\"}}}}");
        assertEquals(400, unknownVar.status());
        assertTrue(errorMsg(unknownVar).endsWith("variable $nope is not supported"), errorMsg(unknownVar));
        assertEquals(400, putRoute("11", "{\"response-rewrite\":{\"headers\":{\"set\":{\"X-H\":\"$host\"}}}}")
                .status(), "response-rewrite does not render variables yet: refused, not sent literally");

        // a consumer carries credentials only
        assertEquals(201, s.handle("PUT", "/apisix/admin/consumers",
                b("{\"username\":\"jack\",\"plugins\":{\"key-auth\":{\"key\":\"k1\"}}}")).status());
        AdminResponse noKey = s.handle("PUT", "/apisix/admin/consumers",
                b("{\"username\":\"jill\",\"plugins\":{\"key-auth\":{}}}"));
        assertEquals("failed to check the configuration of plugin key-auth err: property \"key\" is required",
                errorMsg(noKey));
        AdminResponse merged = s.handle("PUT", "/apisix/admin/consumers",
                b("{\"username\":\"joe\",\"plugins\":{\"proxy-rewrite\":{\"uri\":\"/x\"}}}"));
        assertEquals(201, merged.status(), "a consumer's plugins are merged into its routes: accepted");
        AdminResponse badMerged = s.handle("PUT", "/apisix/admin/consumers",
                b("{\"username\":\"joe2\",\"plugins\":{\"proxy-rewrite\":{\"uri\":5}}}"));
        assertEquals(400, badMerged.status(), "checked with the route schema");
        AdminResponse async = s.handle("PUT", "/apisix/admin/consumers",
                b("{\"username\":\"joe3\",\"plugins\":{\"forward-auth\":{\"uri\":\"http://127.0.0.1:1/a\"}}}"));
        assertEquals(400, async.status(), "an asynchronous plugin cannot run from a consumer");
        AdminResponse group = s.handle("PUT", "/apisix/admin/consumer_groups/g1",
                b("{\"plugins\":{\"proxy-rewrite\":{\"uri\":\"/x\"}}}"));
        assertEquals(201, group.status(), "consumer group plugins are merged into its consumers' plugins");
        AdminResponse groupCred = s.handle("PUT", "/apisix/admin/consumer_groups/g2",
                b("{\"plugins\":{\"key-auth\":{\"key\":\"k\"}}}"));
        assertEquals(400, groupCred.status(), "credentials belong to consumers");
    }
}
