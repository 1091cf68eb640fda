package io.turnpike.engine.plugin;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plugins against a real gateway and backend on loopback sockets: what the client gets (statuses, headers and
 * bodies as APISIX answers them) and what the upstream receives (raw bytes captured by the backend).
 */
class PluginsIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    static GatewayFixture gw;

    static String route(String id, String uri, String plugins) {
        return "  - id: " + id + "\n    uri: " + uri + "\n    plugins:\n" + plugins
                + "    upstream:\n      nodes:\n        \"127.0.0.1:" + backend.port() + "\": 1\n";
    }

    @BeforeAll
    static void up() throws Exception {
        backend = new TestBackend();
        String yaml = "routes:\n"
                + route("ka", "/ka/*", "      key-auth: {}\n")
                + route("kam", "/kam/*", "      key-auth: {}\n      proxy-rewrite:\n        headers:\n          set:\n"
                + "            X-Route: yes\n")
                + route("kah", "/kah/*", "      key-auth:\n        hide_credentials: true\n")
                + route("pr", "/pr/*", "      proxy-rewrite:\n        uri: /rewritten\n        host: upstream.example\n"
                + "        method: PUT\n        headers:\n          set:\n            X-Set: one\n"
                + "          add:\n            X-Add: two\n          remove:\n            - X-Drop\n")
                + route("prx", "/prx/*", "      proxy-rewrite:\n        regex_uri: [\"^/prx/([^/]+)/(.*)$\", \"/new/$2/${1}\","
                + " \"^/prx/(.*)$\", \"/single/$1\"]\n")
                + route("vars", "/vars/*", "      proxy-rewrite:\n        uri: \"/v/$arg_id/${host}\"\n"
                + "        headers:\n          set:\n            X-Client: \"$remote_addr\"\n"
                + "            X-Line: \"$request_method $request_uri via ${scheme}, ua=$http_user_agent, none=[$arg_none]\"\n")
                + route("rr", "/rr/*", "      response-rewrite:\n        status_code: 201\n        body: replaced\n"
                + "        headers:\n          set:\n            X-Resp: yes\n")
                + route("rrh", "/rrh/*", "      response-rewrite:\n        headers:\n          add:\n"
                + "            - \"X-Added: 1\"\n")
                + route("rrv", "/rrv/*", "      response-rewrite:\n        vars:\n          - [\"status\", \"==\", 404]\n"
                + "        headers:\n          set:\n            X-Not-Found: yes\n")
                + route("rrv2", "/rrv2/*", "      response-rewrite:\n        vars:\n          - [\"status\", \"in\", [200, 201]]\n"
                + "          - [\"status\", \"!\", \"==\", 201]\n        headers:\n          set:\n            X-Ok: yes\n")
                + route("cors", "/cors/*", "      cors: {}\n")
                + route("corsl", "/corsl/*", "      cors:\n        allow_origins: \"http://a.example,http://b.example\"\n"
                + "        allow_credential: true\n        allow_methods: GET,POST\n        allow_headers: X-One\n")
                + route("rid", "/rid/*", "      request-id: {}\n")
                + route("redir", "/redir/*", "      redirect:\n        http_to_https: true\n")
                + route("redir2", "/redir2/*", "      redirect:\n        uri: /elsewhere\n        ret_code: 307\n"
                + "        append_query_string: true\n")
                + "  - id: bare\n    uri: /bare/*\n    plugins:\n      redirect:\n        http_to_https: true\n"
                + "  - id: rx\n    uri: /rx/*\n    plugins:\n      redirect:\n        regex_uri: [\"^/rx/(.*)$\", \"/moved/$1\"]\n"
                + "        append_query_string: true\n"
                + "  - id: bare2\n    uri: /bare2/*\n    plugins:\n      request-id: {}\n"
                + route("deny", "/deny/*", "      ip-restriction:\n        blacklist:\n          - 127.0.0.0/8\n")
                + route("allow", "/allow/*", "      ip-restriction:\n        whitelist:\n          - 127.0.0.1\n"
                + "          - \"::1\"\n")
                + "consumer_groups:\n  - id: gold\n    plugins:\n      response-rewrite:\n        headers:\n"
                + "          set:\n            X-Tier: gold\n"
                + "consumers:\n"
                + "  - username: jack\n    plugins:\n      key-auth:\n        key: auth-one\n"
                + "  - username: jill\n    plugins:\n      key-auth:\n        key: auth-two\n"
                + "  - username: carol\n    plugins: {}\n    credentials:\n      c1:\n        plugins:\n"
                + "          key-auth:\n            key: carol-credential\n"
                // dave's own plugins are merged over the route's: his proxy-rewrite replaces the route's, his
                // response-rewrite and ip-restriction add to it.
                + "  - username: dave\n    plugins:\n      key-auth:\n        key: dave-key\n"
                + "      proxy-rewrite:\n        headers:\n          set:\n            X-Who: dave\n"
                + "      response-rewrite:\n        headers:\n          set:\n            X-Consumer: dave\n"
                + "  - username: fay\n    group_id: gold\n    plugins:\n      key-auth:\n        key: fay-key\n"
                + "      response-rewrite:\n        headers:\n          set:\n            X-Tier: fay-own\n"
                + "  - username: gus\n    group_id: gold\n    plugins:\n      key-auth:\n        key: gus-key\n"
                + "  - username: eve\n    plugins:\n      key-auth:\n        key: eve-key\n"
                + "      ip-restriction:\n        blacklist:\n          - 127.0.0.0/8\n";
        gw = GatewayFixture.start(dir, yaml, "  event_loops: 1\n");
    }

    @AfterAll
    static void down() throws Exception {
        if (gw != null) {
            gw.close();
        }
        backend.close();
    }

    static RawHttpClient.Response get(String request) throws Exception {
        try (RawHttpClient c = gw.client()) {
            return c.exchange(request);
        }
    }

    static String upstreamSaw(String request) throws Exception {
        backend.captureRaw(true);
        RawHttpClient.Response r = get(request);
        assertEquals(200, r.status(), r.statusLine() + " " + r.bodyText());
        backend.captureRaw(false);
        return new String(backend.rawCaptured(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void keyAuthRefusesMissingAndUnknownKeysWithApisixAnswers() throws Exception {
        RawHttpClient.Response missing = get("GET /ka/x HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(401, missing.status());
        assertEquals("{\"message\":\"Missing API key in request\"}", missing.bodyText().trim());
        RawHttpClient.Response wrong = get("GET /ka/x HTTP/1.1\r\nHost: h\r\napikey: nope\r\n\r\n");
        assertEquals(401, wrong.status());
        assertEquals("{\"message\":\"Invalid API key in request\"}", wrong.bodyText().trim());
        RawHttpClient.Response wrongQuery = get("GET /ka/x?apikey=nope HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(401, wrongQuery.status());
        // A prefix or extension of a real key is not a key.
        assertEquals(401, get("GET /ka/x HTTP/1.1\r\nHost: h\r\napikey: auth-on\r\n\r\n").status());
        assertEquals(401, get("GET /ka/x HTTP/1.1\r\nHost: h\r\napikey: auth-one1\r\n\r\n").status());
    }

    @Test
    void keyAuthAdmitsKnownKeysFromHeaderOrQuery() throws Exception {
        String up = upstreamSaw("GET /ka/x HTTP/1.1\r\nHost: h\r\nAPIKEY: auth-one\r\n\r\n");
        assertTrue(up.contains("APIKEY: auth-one"), "without hide_credentials the key travels: " + up);
        String q = upstreamSaw("GET /ka/x?a=1&apikey=auth-two HTTP/1.1\r\nHost: h\r\n\r\n");
        assertTrue(q.startsWith("GET /ka/x?a=1&apikey=auth-two HTTP/1.1"), q);
    }

    @Test
    void keyAuthHidesCredentials() throws Exception {
        String up = upstreamSaw("GET /kah/x HTTP/1.1\r\nHost: h\r\napikey: auth-one\r\nX-Keep: 1\r\n\r\n");
        assertFalse(up.toLowerCase().contains("apikey"), up);
        assertTrue(up.contains("X-Keep: 1"), up);
        assertTrue(upstreamSaw("GET /kah/x?apikey=auth-one HTTP/1.1\r\nHost: h\r\n\r\n")
                .startsWith("GET /kah/x HTTP/1.1"));
        assertTrue(upstreamSaw("GET /kah/x?a=1&apikey=auth-one&b=2 HTTP/1.1\r\nHost: h\r\n\r\n")
                .startsWith("GET /kah/x?a=1&b=2 HTTP/1.1"));
        assertTrue(upstreamSaw("GET /kah/x?a=1&apikey=auth-one HTTP/1.1\r\nHost: h\r\n\r\n")
                .startsWith("GET /kah/x?a=1 HTTP/1.1"));
    }

    @Test
    void proxyRewriteChangesUriHostMethodAndHeadersInOnePass() throws Exception {
        String up = upstreamSaw("GET /pr/x?q=1 HTTP/1.1\r\nHost: h\r\nX-Set: client\r\nX-Drop: gone\r\n"
                + "X-Add: client\r\n\r\n");
        assertTrue(up.startsWith("PUT /rewritten?q=1 HTTP/1.1\r\n"), "query kept when the new uri has none: " + up);
        assertTrue(up.contains("\r\nHost: upstream.example\r\n"), up);
        assertTrue(up.contains("\r\nX-Set: one\r\n") && !up.contains("X-Set: client"), up);
        assertTrue(up.contains("\r\nX-Add: client\r\n") && up.contains("\r\nX-Add: two\r\n"), up);
        assertFalse(up.contains("X-Drop"), up);
    }

    @Test
    void proxyRewriteRegexUriUsesTheFirstMatchingPairAndKeepsTheQuery() throws Exception {
        assertTrue(upstreamSaw("GET /prx/a/b/c?q=1 HTTP/1.1\r\nHost: h\r\n\r\n").startsWith("GET /new/b/c/a?q=1 HTTP/1.1"));
        assertTrue(upstreamSaw("GET /prx/only HTTP/1.1\r\nHost: h\r\n\r\n").startsWith("GET /single/only HTTP/1.1"));
    }

    @Test
    void proxyRewriteRendersRequestVariables() throws Exception {
        String up = upstreamSaw("GET /vars/x?id=42&k=v HTTP/1.1\r\nHost: Shop.Example:8080\r\nUser-Agent: t/1\r\n\r\n");
        assertTrue(up.startsWith("GET /v/42/Shop.Example?id=42&k=v HTTP/1.1\r\n"), up);
        assertTrue(up.contains("\r\nX-Client: 127.0.0.1\r\n"), up);
        assertTrue(up.contains("\r\nX-Line: GET /vars/x?id=42&k=v via http, ua=t/1, none=[]\r\n"), up);
    }

    @Test
    void responseRewriteReplacesStatusHeadersAndBody() throws Exception {
        RawHttpClient.Response r = get("GET /rr/x HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(201, r.status());
        assertEquals("yes", r.header("x-resp"));
        assertEquals("replaced", r.bodyText());
        assertEquals("8", r.header("content-length"));
        RawHttpClient.Response h = get("GET /rrh/x HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(200, h.status());
        assertEquals("1", h.header("x-added"));
        // Keep-alive still works after a replaced body (the upstream's body was discarded, not forwarded).
        try (RawHttpClient c = gw.client()) {
            for (int i = 0; i < 3; i++) {
                RawHttpClient.Response k = c.exchange("GET /rr/x HTTP/1.1\r\nHost: h\r\n\r\n");
                assertEquals(201, k.status());
                assertEquals("replaced", k.bodyText());
            }
        }
    }

    @Test
    void responseRewriteAppliesOnlyToResponsesMatchingItsVars() throws Exception {
        assertNull(get("GET /rrv/x HTTP/1.1\r\nHost: h\r\n\r\n").header("x-not-found"), "200 is not 404");
        assertEquals("yes", get("GET /rrv2/x HTTP/1.1\r\nHost: h\r\n\r\n").header("x-ok"));
    }

    @Test
    void corsAnswersPreflightAndDecoratesResponses() throws Exception {
        RawHttpClient.Response pre = get("OPTIONS /cors/x HTTP/1.1\r\nHost: h\r\nOrigin: http://x.example\r\n"
                + "Access-Control-Request-Method: POST\r\n\r\n");
        assertEquals(200, pre.status());
        assertEquals("*", pre.header("access-control-allow-origin"));
        assertEquals("GET,POST,PUT,DELETE,PATCH,HEAD,OPTIONS,CONNECT,TRACE", pre.header("access-control-allow-methods"));
        assertEquals("5", pre.header("access-control-max-age"));
        RawHttpClient.Response r = get("GET /cors/x HTTP/1.1\r\nHost: h\r\nOrigin: http://x.example\r\n\r\n");
        assertEquals(200, r.status());
        assertEquals("*", r.header("access-control-allow-origin"));

        RawHttpClient.Response listed = get("GET /corsl/x HTTP/1.1\r\nHost: h\r\nOrigin: http://b.example\r\n\r\n");
        assertEquals("http://b.example", listed.header("access-control-allow-origin"));
        assertEquals("Origin", listed.header("vary"));
        assertEquals("true", listed.header("access-control-allow-credentials"));
        assertEquals("GET,POST", listed.header("access-control-allow-methods"));
        RawHttpClient.Response other = get("GET /corsl/x HTTP/1.1\r\nHost: h\r\nOrigin: http://evil.example\r\n\r\n");
        assertEquals(200, other.status());
        assertNull(other.header("access-control-allow-origin"), "an unlisted origin gets no CORS headers");
    }

    @Test
    void requestIdGeneratedOrKept() throws Exception {
        backend.captureRaw(true);
        RawHttpClient.Response r = get("GET /rid/x HTTP/1.1\r\nHost: h\r\n\r\n");
        backend.captureRaw(false);
        String id = r.header("x-request-id");
        assertTrue(id != null && id.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
                "uuid v4: " + id);
        assertTrue(new String(backend.rawCaptured(), StandardCharsets.ISO_8859_1).contains("X-Request-Id: " + id));
        RawHttpClient.Response kept = get("GET /rid/x HTTP/1.1\r\nHost: h\r\nX-Request-Id: mine-123\r\n\r\n");
        assertEquals("mine-123", kept.header("x-request-id"));
        assertTrue(!id.equals(get("GET /rid/x HTTP/1.1\r\nHost: h\r\n\r\n").header("x-request-id")));
    }

    @Test
    void redirects() throws Exception {
        RawHttpClient.Response r = get("GET /redir/a?b=1 HTTP/1.1\r\nHost: shop.example:9080\r\n\r\n");
        assertEquals(301, r.status());
        assertEquals("https://shop.example/redir/a?b=1", r.header("location"));
        RawHttpClient.Response u = get("GET /redir2/a?b=1 HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(307, u.status());
        assertEquals("/elsewhere?b=1", u.header("location"));
    }

    @Test
    void routesOfPluginsOnly() throws Exception {
        RawHttpClient.Response r = get("GET /bare/a HTTP/1.1\r\nHost: shop.example\r\n\r\n");
        assertEquals(301, r.status(), "a route without upstream is served when its plugins answer");
        assertEquals("https://shop.example/bare/a", r.header("location"));
        RawHttpClient.Response rx = get("GET /rx/a/b?c=1 HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(302, rx.status());
        assertEquals("/moved/a/b?c=1", rx.header("location"), "redirect regex_uri with append_query_string");
        RawHttpClient.Response none = get("GET /bare2/a HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(503, none.status());
        assertTrue(none.bodyText().contains("missing upstream configuration in Route or Service"), none.bodyText());
    }

    @Test
    void ipRestriction() throws Exception {
        RawHttpClient.Response d = get("GET /deny/x HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(403, d.status());
        assertEquals("{\"message\":\"Your IP address is not allowed\"}", d.bodyText().trim());
        assertEquals(200, get("GET /allow/x HTTP/1.1\r\nHost: h\r\n\r\n").status());
    }

    @Test
    void aConsumersPluginsAreMergedOverTheRoutes() throws Exception {
        String asDave = upstreamSaw("GET /kam/x HTTP/1.1\r\nHost: h\r\napikey: dave-key\r\n\r\n");
        // As in APISIX: the route's rewrite phase ran before the consumer was known (its proxy-rewrite applied), then
        // the consumer's rewrite-phase plugins run ("rewrite_in_consumer"); from the access phase on, a consumer's
        // plugin replaces the route's of the same name.
        assertTrue(asDave.contains("\r\nX-Who: dave\r\n") && asDave.contains("\r\nX-Route: yes\r\n"), asDave);
        String asJack = upstreamSaw("GET /kam/x HTTP/1.1\r\nHost: h\r\napikey: auth-one\r\n\r\n");
        assertTrue(asJack.contains("\r\nX-Route: yes\r\n") && !asJack.contains("X-Who"), asJack);
        RawHttpClient.Response r = get("GET /kam/x HTTP/1.1\r\nHost: h\r\napikey: dave-key\r\n\r\n");
        assertEquals("dave", r.header("x-consumer"), "the consumer's header_filter plugins run too");
        RawHttpClient.Response eve = get("GET /kam/x HTTP/1.1\r\nHost: h\r\napikey: eve-key\r\n\r\n");
        assertEquals(403, eve.status(), "the consumer's access plugins run: " + eve.bodyText());
        assertEquals(null, get("GET /kam/x HTTP/1.1\r\nHost: h\r\napikey: auth-one\r\n\r\n").header("x-consumer"));
    }

    @Test
    void aConsumerGroupsPluginsComeUnderTheConsumersOwn() throws Exception {
        assertEquals("gold", get("GET /kam/x HTTP/1.1\r\nHost: h\r\napikey: gus-key\r\n\r\n").header("x-tier"));
        assertEquals("fay-own", get("GET /kam/x HTTP/1.1\r\nHost: h\r\napikey: fay-key\r\n\r\n").header("x-tier"),
                "consumer > consumer_group");
    }

    @Test
    void credentialsOfAConsumerAuthenticate() throws Exception {
        assertEquals(200, get("GET /ka/x HTTP/1.1\r\nHost: h\r\napikey: carol-credential\r\n\r\n").status());
    }

    @Test
    void keepAliveConnectionServesPluginRepliesAndProxiedRequestsInTurn() throws Exception {
        try (RawHttpClient c = gw.client()) {
            for (int i = 0; i < 5; i++) {
                assertEquals(401, c.exchange("GET /ka/x HTTP/1.1\r\nHost: h\r\n\r\n").status());
                assertEquals(200, c.exchange("GET /ka/x HTTP/1.1\r\nHost: h\r\napikey: auth-two\r\n\r\n").status());
                assertEquals(200, c.exchange("OPTIONS /cors/x HTTP/1.1\r\nHost: h\r\n\r\n").status());
            }
        }
    }
}
