package io.turnpike.config.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * api-breaker and traffic-split configurations through the Admin API: accepted as APISIX accepts them, refused with
 * APISIX's jsonschema wording (or a message naming the field where Turnpike refuses more), schemas served.
 */
class AdminSteeringPluginsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UPSTREAM = "{\"nodes\":{\"127.0.0.1:1980\":1}}";
    private final AdminService s = new AdminService(new MemoryStore(), "/apisix", false);

    private AdminResponse putRoute(String id, String plugins) {
        return s.handle("PUT", "/apisix/admin/routes/" + id, ("{\"uri\":\"/a\",\"upstream\":" + UPSTREAM
                + ",\"plugins\":" + plugins + "}").getBytes(StandardCharsets.UTF_8));
    }

    private String refused(String plugins) throws Exception {
        AdminResponse r = putRoute("bad", plugins);
        assertEquals(400, r.status(), plugins);
        return JSON.readTree(r.body()).get("error_msg").asText();
    }

    private static String ab(String err) {
        return "failed to check the configuration of plugin api-breaker err: " + err;
    }

    private static String ts(String err) {
        return "failed to check the configuration of plugin traffic-split err: " + err;
    }

    @Test
    void apiBreakerAcceptsApisixConfigurationsAndRefusesBadOnes() throws Exception {
        assertEquals(201, putRoute("1", "{\"api-breaker\":{\"break_response_code\":502}}").status());
        assertEquals(201, putRoute("2", "{\"api-breaker\":{\"break_response_code\":599,\"break_response_body\":"
                + "\"down\",\"break_response_headers\":[{\"key\":\"X-Why\",\"value\":\"$host\"}],"
                + "\"max_breaker_sec\":3,\"unhealthy\":{\"http_statuses\":[500,503],\"failures\":1},"
                + "\"healthy\":{\"http_statuses\":[200,206],\"successes\":1}}}").status());
        assertEquals(ab("property \"break_response_code\" is required"), refused("{\"api-breaker\":{}}"));
        assertEquals(ab("property \"break_response_code\" validation failed: expected 199 to be at least 200"),
                refused("{\"api-breaker\":{\"break_response_code\":199}}"));
        assertEquals(ab("property \"break_response_code\" validation failed: expected 600 to be at most 599"),
                refused("{\"api-breaker\":{\"break_response_code\":600}}"));
        assertEquals(ab("property \"max_breaker_sec\" validation failed: expected 2 to be at least 3"),
                refused("{\"api-breaker\":{\"break_response_code\":502,\"max_breaker_sec\":2}}"));
        assertEquals(ab("property \"unhealthy\" validation failed: property \"http_statuses\" validation failed: "
                        + "failed to validate item 1: expected 404 to be at least 500"),
                refused("{\"api-breaker\":{\"break_response_code\":502,\"unhealthy\":{\"http_statuses\":[404]}}}"));
        assertEquals(ab("property \"unhealthy\" validation failed: property \"failures\" validation failed: "
                        + "expected 0 to be at least 1"),
                refused("{\"api-breaker\":{\"break_response_code\":502,\"unhealthy\":{\"failures\":0}}}"));
        assertEquals(ab("property \"healthy\" validation failed: property \"http_statuses\" validation failed: "
                        + "failed to validate item 1: expected 500 to be at most 499"),
                refused("{\"api-breaker\":{\"break_response_code\":502,\"healthy\":{\"http_statuses\":[500]}}}"));
        assertEquals(ab("property \"healthy\" validation failed: property \"http_statuses\" validation failed: "
                        + "expected unique items but items 1 and 2 are equal"),
                refused("{\"api-breaker\":{\"break_response_code\":502,\"healthy\":{\"http_statuses\":[200,200]}}}"));
        assertEquals(ab("property \"break_response_headers\" validation failed: failed to validate item 1: "
                        + "property \"value\" is required"),
                refused("{\"api-breaker\":{\"break_response_code\":502,\"break_response_headers\":[{\"key\":\"X\"}]}}"));
        assertEquals(ab("property \"break_response_headers\": variable $upstream_addr is not supported"),
                refused("{\"api-breaker\":{\"break_response_code\":502,\"break_response_headers\":"
                        + "[{\"key\":\"X\",\"value\":\"$upstream_addr\"}]}}"));
        assertEquals(ab("additional properties forbidden, found break_body"),
                refused("{\"api-breaker\":{\"break_response_code\":502,\"break_body\":\"x\"}}"));
        AdminResponse consumer = s.handle("PUT", "/apisix/admin/consumers", ("{\"username\":\"jack\",\"plugins\":"
                + "{\"api-breaker\":{\"break_response_code\":502}}}").getBytes(StandardCharsets.UTF_8));
        assertEquals(400, consumer.status());
    }

    @Test
    void trafficSplitAcceptsApisixConfigurationsAndRefusesBadOnes() throws Exception {
        assertEquals(201, putRoute("1", "{\"traffic-split\":{\"rules\":[{\"match\":[{\"vars\":[[\"http_release\","
                + "\"==\",\"blue\"]]}],\"weighted_upstreams\":[{\"upstream_id\":\"u1\",\"weight\":1},"
                + "{\"upstream\":{\"nodes\":{\"127.0.0.1:1981\":1},\"scheme\":\"https\",\"pass_host\":\"node\"},"
                + "\"weight\":2},{\"weight\":3}]}]}}").status());
        assertEquals(201, putRoute("2", "{\"traffic-split\":{}}").status());
        assertEquals(ts("property \"rules\" validation failed: wrong type: expected array, got object"),
                refused("{\"traffic-split\":{\"rules\":{}}}"));
        assertEquals(ts("property \"rules\" validation failed: failed to validate item 1: property "
                        + "\"weighted_upstreams\" validation failed: expect array to have at least 1 items"),
                refused("{\"traffic-split\":{\"rules\":[{\"weighted_upstreams\":[]}]}}"));
        assertEquals(ts("property \"rules\" validation failed: failed to validate item 1: property "
                        + "\"weighted_upstreams\" validation failed: failed to validate item 1: property \"weight\" "
                        + "validation failed: expected -1 to be at least 0"),
                refused("{\"traffic-split\":{\"rules\":[{\"weighted_upstreams\":[{\"weight\":-1}]}]}}"));
        String bothIds = refused("{\"traffic-split\":{\"rules\":[{\"weighted_upstreams\":[{\"upstream_id\":\"u1\","
                + "\"upstream\":" + UPSTREAM + "}]}]}}");
        assertEquals(true, bothIds.contains("give one of \"upstream_id\" and \"upstream\""), bothIds);
        String badUpstream = refused("{\"traffic-split\":{\"rules\":[{\"weighted_upstreams\":[{\"upstream\":"
                + "{\"nodes\":{\"127.0.0.1:1981\":1},\"pass_host\":\"sideways\"}}]}]}}");
        assertEquals(true, badUpstream.startsWith(ts("property \"rules\" validation failed: failed to validate item 1:"
                + " property \"weighted_upstreams\" validation failed: failed to validate item 1: property "
                + "\"upstream\" validation failed: pass_host: ")), badUpstream);
        assertEquals(ts("failed to validate the 'vars' expression: missing argument rule"),
                refused("{\"traffic-split\":{\"rules\":[{\"match\":[{}]}]}}"));
        String badVars = refused("{\"traffic-split\":{\"rules\":[{\"match\":[{\"vars\":[[\"http_a\",\"~~\",\"(a\"]]}]}]}}");
        assertEquals(true, badVars.startsWith(ts("failed to validate the 'vars' expression: ")), badVars);
        assertEquals(ts("property \"rules\" validation failed: failed to validate item 1: additional properties "
                + "forbidden, found matches"), refused("{\"traffic-split\":{\"rules\":[{\"matches\":[]}]}}"));
        AdminResponse consumer = s.handle("PUT", "/apisix/admin/consumers", ("{\"username\":\"jack\",\"plugins\":"
                + "{\"traffic-split\":{}}}").getBytes(StandardCharsets.UTF_8));
        assertEquals(400, consumer.status());
    }

    @Test
    void schemasAreServed() throws Exception {
        for (String name : new String[]{"api-breaker", "traffic-split"}) {
            AdminResponse r = s.handle("GET", "/apisix/admin/plugins/" + name, new byte[0]);
            assertEquals(200, r.status());
            JsonNode doc = JSON.readTree(r.body());
            assertEquals("object", doc.get("type").asText());
        }
        assertEquals(1005, JSON.readTree(s.handle("GET", "/apisix/admin/plugins/api-breaker", new byte[0]).body())
                .get("priority").asInt());
        assertEquals(966, JSON.readTree(s.handle("GET", "/apisix/admin/plugins/traffic-split", new byte[0]).body())
                .get("priority").asInt());
    }

    @Test
    void trafficSplitInAGlobalRuleIsRefused() throws Exception {
        String split = "{\"traffic-split\":{\"rules\":[{\"weighted_upstreams\":[{\"weight\":1}]}]}}";
        AdminResponse r = s.handle("PUT", "/apisix/admin/global_rules/1", ("{\"plugins\":" + split + "}")
                .getBytes(StandardCharsets.UTF_8));
        assertEquals(400, r.status(), new String(r.body(), StandardCharsets.UTF_8));
        assertTrue(JSON.readTree(r.body()).get("error_msg").asText().contains("not supported in a global rule"),
                new String(r.body(), StandardCharsets.UTF_8));
        assertEquals(201, s.handle("PUT", "/apisix/admin/global_rules/2", "{\"plugins\":{\"api-breaker\":{\"break_response_code\":502}}}"
                .getBytes(StandardCharsets.UTF_8)).status(), "api-breaker is fine there");
        assertEquals(201, putRoute("split", split).status(), "and traffic-split on a route");
    }
}
