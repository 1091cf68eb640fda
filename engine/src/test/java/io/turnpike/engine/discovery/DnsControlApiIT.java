package io.turnpike.engine.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.turnpike.config.process.DiscoveryConfig;
import io.turnpike.engine.ops.ControlApiServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller's flow over the control API: {@code POST /v1/discovery/dns/refresh} answers only once the listener
 * (the loops) applied the new node set; {@code GET /v1/discovery/dns/dump}; errors.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DnsControlApiIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Dnsmasq dnsmasq;
    private DnsDiscovery dns;
    private ControlApiServer control;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String base;

    @AfterEach
    void stop() throws Exception {
        if (control != null) {
            control.close();
        }
        if (dns != null) {
            dns.close();
        }
        if (dnsmasq != null) {
            dnsmasq.close();
        }
    }

    private void start(boolean withDns) throws Exception {
        control = new ControlApiServer(null, "/apisix", null);
        if (withDns) {
            dnsmasq = Dnsmasq.start(dir, 3600, "127.0.0.11 web.test\n127.0.0.12 web.test\n");
            dns = new DnsDiscovery(DiscoveryConfig.Dns.servers(List.of(dnsmasq.address()))
                    .withTuning(600_000, 600_000, 300, 500), new PrintStream(new ByteArrayOutputStream()));
            control.dnsDiscovery(dns);
        }
        InetSocketAddress a = control.start(new InetSocketAddress("127.0.0.1", 0));
        base = "http://127.0.0.1:" + a.getPort();
    }

    private CompletableFuture<HttpResponse<String>> post(String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20));
        b.POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void refreshAnswersAfterEveryLoopAppliedTheNewSet() throws Exception {
        start(true);
        DnsDiscoveryIT.Recorder loops = new DnsDiscoveryIT.Recorder();
        dns.watch("upstreams/1", "web.test", 8080, 1, 0, loops);
        loops.next();

        // the controller is about to stop 127.0.0.11: the registry drops it, the controller asks for a refresh
        dnsmasq.hosts("127.0.0.12 web.test\n");
        CompletableFuture<Void> appliedOnEveryLoop = new CompletableFuture<>();
        loops.answer = () -> appliedOnEveryLoop;
        CompletableFuture<HttpResponse<String>> answer = post("/v1/discovery/dns/refresh", "{\"name\":\"web.test\"}");
        assertEquals(List.of("127.0.0.12:8080"), loops.next().stream().map(ResolvedNode::key).toList());
        Thread.sleep(500);
        assertFalse(answer.isDone(), "no answer before the loops applied the new set");
        appliedOnEveryLoop.complete(null);
        HttpResponse<String> r = answer.get(10, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
        JsonNode body = JSON.readTree(r.body());
        assertEquals("web.test", body.get("changed").get(0).get("name").asText());
        assertEquals(0, body.get("changed").get(0).get("added").size());
        assertEquals("127.0.0.11", body.get("changed").get(0).get("removed").get(0).get("host").asText());
        assertEquals(8080, body.get("changed").get(0).get("removed").get(0).get("port").asInt());
        assertEquals(0, body.get("errors").size());

        // no body: every name; nothing changed
        loops.answer = () -> CompletableFuture.completedFuture(null);
        HttpResponse<String> all = post("/v1/discovery/dns/refresh", null).get(10, TimeUnit.SECONDS);
        assertEquals(200, all.statusCode(), all.body());
        assertEquals("{\"changed\":[],\"errors\":[]}", all.body().trim());

        HttpResponse<String> dump = get("/v1/discovery/dns/dump");
        assertEquals(200, dump.statusCode());
        JsonNode d = JSON.readTree(dump.body());
        assertEquals("web.test", d.get("names").get(0).get("name").asText());
        assertEquals("127.0.0.12", d.get("names").get(0).get("nodes").get(0).get("host").asText());
        assertEquals("upstreams/1", d.get("names").get(0).get("watchers").get(0).asText());
        assertTrue(d.get("resolutions").asLong() >= 3, d.toString());

        // DNS down: 200 with the error, the last good set kept
        dnsmasq.kill();
        HttpResponse<String> down = post("/v1/discovery/dns/refresh", "{\"name\":\"web.test\"}")
                .get(20, TimeUnit.SECONDS);
        assertEquals(200, down.statusCode(), down.body());
        JsonNode downBody = JSON.readTree(down.body());
        assertEquals("web.test", downBody.get("errors").get(0).get("name").asText());
        assertEquals(0, downBody.get("changed").size());
    }

    @Test
    void badRequests() throws Exception {
        start(true);
        dns.watch("upstreams/1", "web.test", 80, 1, 0, new DnsDiscoveryIT.Recorder());
        assertAnswer(post("/v1/discovery/dns/refresh", "{\"name\":\"nobody.test\"}").get(10, TimeUnit.SECONDS), 404,
                "name nobody.test is not watched (no dns upstream or node host uses it)");
        assertAnswer(post("/v1/discovery/dns/refresh", "{\"name\":").get(10, TimeUnit.SECONDS), 400, null);
        assertAnswer(post("/v1/discovery/dns/refresh", "[]").get(10, TimeUnit.SECONDS), 400,
                "expected a JSON object {\"name\": \"...\"} or no body");
        assertAnswer(post("/v1/discovery/dns/refresh", "{\"names\":[]}").get(10, TimeUnit.SECONDS), 400,
                "unknown field \"names\" (known: name)");
        assertAnswer(post("/v1/discovery/dns/refresh", "{\"name\":5}").get(10, TimeUnit.SECONDS), 400,
                "\"name\" must be a non-empty string");
        assertAnswer(get("/v1/discovery/dns/refresh"), 405, "method not allowed: use POST");
        assertAnswer(get("/v1/discovery/consul/dump"), 404,
                "discovery consul is not configured (Turnpike implements only dns)");
    }

    @Test
    void notConfigured() throws Exception {
        start(false);
        assertAnswer(post("/v1/discovery/dns/refresh", null).get(10, TimeUnit.SECONDS), 404,
                "dns discovery is not configured");
        assertAnswer(get("/v1/discovery/dns/dump"), 404, "dns discovery is not configured");
        assertEquals(200, get("/v1/schema").statusCode(), "the other endpoints still answer");
    }

    private static void assertAnswer(HttpResponse<String> r, int status, String message) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode b = JSON.readTree(r.body());
        if (message != null) {
            assertEquals(message, b.get("error_msg").asText());
        } else {
            assertTrue(b.get("error_msg").asText().startsWith("invalid JSON body"), r.body());
        }
    }
}
