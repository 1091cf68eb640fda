package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.RequestHeadParser;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.snapshot.SnapshotCompiler;
import io.turnpike.engine.testing.Configs;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Matching rules of the milestone-1 router, through the real loader, compiler and request parser. */
class RouteTableTest {
    private static String route(String id, String extra) {
        return "  - id: \"" + id + "\"\n" + extra
                + "    upstream:\n      nodes:\n        \"127.0.0.1:80\": 1\n";
    }

    private static RouteTable table(String routes) {
        Snapshot s = new SnapshotCompiler(EngineSettings.defaults())
                .compile(Configs.fromYaml("routes:\n" + routes), new ArrayList<>());
        return s.routes;
    }

    /** Returns the matched route id, or null. */
    private static String match(RouteTable t, String method, String target, String host) {
        String req = method + " " + target + " HTTP/1.1\r\n" + (host == null ? "" : "Host: " + host + "\r\n") + "\r\n";
        ByteBuf buf = Unpooled.copiedBuffer(req, StandardCharsets.US_ASCII);
        try {
            RequestHead head = new RequestHead(100);
            int n = new RequestHeadParser(8192, 65536, 100, false).parse(buf, head);
            assertTrue(n > 0, "parse " + req);
            CompiledRoute r = t.match(buf, head);
            return r == null ? null : r.id;
        } finally {
            buf.release();
        }
    }

    @Test
    void exactBeatsPrefixAndLongerPrefixBeatsShorter() {
        RouteTable t = table(route("root", "    uri: /*\n")
                + route("a", "    uri: /a/*\n")
                + route("ab", "    uri: /a/b/*\n")
                + route("exact", "    uri: /a/b/c\n"));
        assertEquals("exact", match(t, "GET", "/a/b/c", "h"));
        assertEquals("ab", match(t, "GET", "/a/b/c/d", "h"));
        assertEquals("ab", match(t, "GET", "/a/b/", "h"));
        assertEquals("a", match(t, "GET", "/a/x", "h"));
        assertEquals("root", match(t, "GET", "/a", "h"), "/a/* does not match /a");
        assertEquals("root", match(t, "GET", "/zzz", "h"));
    }

    @Test
    void queryStringIsNotPartOfThePath() {
        RouteTable t = table(route("exact", "    uri: /search\n"));
        assertEquals("exact", match(t, "GET", "/search?q=/other", "h"));
        assertNull(match(t, "GET", "/search/more", "h"));
    }

    @Test
    void absoluteFormTargetMatchesOnItsPath() {
        RouteTable t = table(route("exact", "    uri: /p\n"));
        assertEquals("exact", match(t, "GET", "http://example.com/p", "example.com"));
    }

    @Test
    void hostsExactAndWildcardCaseInsensitiveIgnoringPort() {
        RouteTable t = table(route("exact", "    uri: /x\n    host: api.example.com\n")
                + route("wild", "    uri: /x\n    hosts: [\"*.example.com\"]\n")
                + route("any", "    uri: /x\n    priority: -1\n"));
        assertEquals("exact", match(t, "GET", "/x", "API.Example.com:8080"));
        assertEquals("wild", match(t, "GET", "/x", "www.example.com"));
        assertEquals("any", match(t, "GET", "/x", "example.com"), "*.example.com needs a label before the suffix");
        assertEquals("any", match(t, "GET", "/x", "other.org"));
        assertEquals("any", match(t, "GET", "/x", null));
    }

    @Test
    void methodsFilterAndFallThroughToPrefix() {
        RouteTable t = table(route("get", "    uri: /m\n    methods: [GET, HEAD]\n")
                + route("post", "    uri: /m\n    methods: [POST]\n")
                + route("prefix", "    uri: /*\n"));
        assertEquals("get", match(t, "GET", "/m", "h"));
        assertEquals("get", match(t, "HEAD", "/m", "h"));
        assertEquals("post", match(t, "POST", "/m", "h"));
        assertEquals("prefix", match(t, "DELETE", "/m", "h"), "no exact candidate accepts: fall back to prefixes");
    }

    @Test
    void priorityOrdersCandidatesThenFileOrder() {
        RouteTable t = table(route("low", "    uri: /p\n    priority: 1\n")
                + route("high", "    uri: /p\n    priority: 10\n")
                + route("first", "    uri: /q\n")
                + route("second", "    uri: /q\n"));
        assertEquals("high", match(t, "GET", "/p", "h"));
        assertEquals("first", match(t, "GET", "/q", "h"));
    }

    @Test
    void urisListAndDisabledRoutes() {
        RouteTable t = table(route("multi", "    uris: [/one, /two/*]\n")
                + route("off", "    uri: /off\n    status: 0\n"));
        assertEquals("multi", match(t, "GET", "/one", "h"));
        assertEquals("multi", match(t, "GET", "/two/x", "h"));
        assertNull(match(t, "GET", "/off", "h"));
        assertEquals(2, t.size());
    }

    @Test
    void routeInheritsServiceHostsUnlessItHasItsOwn() {
        Snapshot s = new SnapshotCompiler(EngineSettings.defaults()).compile(Configs.fromYaml(""
                + "services:\n"
                + "  - id: s1\n    hosts: [svc.example.com]\n    upstream:\n      nodes:\n        \"127.0.0.1:81\": 1\n"
                + "routes:\n"
                + "  - id: inherits\n    uri: /b\n    service_id: s1\n"
                + "  - id: own\n    uri: /c\n    service_id: s1\n    host: own.example.com\n"), new ArrayList<>());
        assertEquals("inherits", match(s.routes, "GET", "/b", "svc.example.com"));
        assertNull(match(s.routes, "GET", "/b", "other.example.com"));
        assertEquals("own", match(s.routes, "GET", "/c", "own.example.com"));
        assertNull(match(s.routes, "GET", "/c", "svc.example.com"));
    }

    @Test
    void manyExactRoutesAllFound() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            b.append(route("r" + i, "    uri: /api/v1/resource" + i + "\n"));
        }
        RouteTable t = table(b.toString());
        for (int i = 0; i < 2000; i += 7) {
            assertEquals("r" + i, match(t, "GET", "/api/v1/resource" + i, "h"));
        }
        assertNull(match(t, "GET", "/api/v1/resource2000", "h"));
    }
}
