package io.turnpike.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.HttpMethod;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.Upstream;
import io.turnpike.engine.health.HealthChecker;
import io.turnpike.engine.health.HealthTarget;
import io.turnpike.engine.testing.Configs;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code /v1/healthcheck} from the checker, in APISIX's shapes and messages. */
class ControlApiHealthcheckTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode body(ControlApiServer.Reply r) throws Exception {
        return JSON.readTree(r.body());
    }

    @Test
    void answersFromTheChecker() throws Exception {
        ConfigSet set = Configs.fromYaml("""
                upstreams:
                  - id: u1
                    nodes:
                      "127.0.0.1:1": 1
                    checks:
                      active:
                        type: tcp
                        healthy: {interval: 100}
                        unhealthy: {interval: 100}
                  - id: u2
                    nodes:
                      "127.0.0.1:2": 1
                routes:
                  - id: r1
                    uri: /a
                    upstream_id: u2
                """);
        ControlApiServer s = new ControlApiServer(() -> set, "/apisix", null);
        try (HealthChecker hc = new HealthChecker((k, t, h) -> { }); ServerSocket ss = new ServerSocket(0, 5,
                InetAddress.getLoopbackAddress())) {
            assertEquals("{}", s.handle(HttpMethod.GET, "/v1/healthcheck").body(), "no checker: APISIX's {}");
            s.healthChecker(hc);
            assertEquals("{}", s.handle(HttpMethod.GET, "/v1/healthcheck").body(), "nothing checked yet");

            Upstream u1 = set.upstreams().get("u1");
            HealthTarget t = new HealthTarget(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    ss.getLocalPort()), "127.0.0.1");
            hc.watch("upstreams/u1", u1.checks(), List.of(t));

            ControlApiServer.Reply all = s.handle(HttpMethod.GET, "/v1/healthcheck");
            assertEquals(200, all.status());
            JsonNode list = body(all);
            assertTrue(list.isArray(), list.toString());
            assertEquals("{\"name\":\"/apisix/upstreams/u1\",\"type\":\"tcp\",\"nodes\":[{\"ip\":\"127.0.0.1\","
                    + "\"port\":" + ss.getLocalPort() + ",\"hostname\":\"127.0.0.1\",\"status\":\"healthy\","
                    + "\"counter\":{\"success\":0,\"http_failure\":0,\"tcp_failure\":0,\"timeout_failure\":0}}]}",
                    list.get(0).toString());

            ControlApiServer.Reply one = s.handle(HttpMethod.GET, "/v1/healthcheck/upstreams/u1");
            assertEquals(200, one.status());
            assertEquals(list.get(0), body(one));

            ControlApiServer.Reply none = s.handle(HttpMethod.GET, "/v1/healthcheck/upstreams/u2");
            assertEquals(404, none.status());
            assertEquals("no checker for upstreams[u2]", body(none).get("error_msg").asText());
            assertEquals("upstreams[u9] not found",
                    body(s.handle(HttpMethod.GET, "/v1/healthcheck/upstreams/u9")).get("error_msg").asText());
            assertEquals("no checker for routes[r1]",
                    body(s.handle(HttpMethod.GET, "/v1/healthcheck/routes/r1")).get("error_msg").asText());
            ControlApiServer.Reply bad = s.handle(HttpMethod.GET, "/v1/healthcheck/consumers/c1");
            assertEquals(400, bad.status());
            assertEquals("invalid src type consumers", body(bad).get("error_msg").asText());
            assertEquals("missing src id for src type upstreams",
                    body(s.handle(HttpMethod.GET, "/v1/healthcheck/upstreams")).get("error_msg").asText());
        } finally {
            s.close();
        }
    }
}
