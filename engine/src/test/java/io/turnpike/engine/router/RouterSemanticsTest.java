package io.turnpike.engine.router;

import org.junit.jupiter.api.Test;

import static io.turnpike.engine.router.RouterFixture.match;
import static io.turnpike.engine.router.RouterFixture.req;
import static io.turnpike.engine.router.RouterFixture.route;
import static io.turnpike.engine.router.RouterFixture.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** uri / host / method / priority / remote_addrs rules of APISIX's radixtree_host_uri router. */
class RouterSemanticsTest {

    @Test
    void paramMatchesExactlyOneNonEmptySegment() {
        RouteTable t = table(route("p", "    uri: /user/:id\n")
                + route("pp", "    uri: /user/:id/profile\n")
                + route("t", "    uri: /t/:id/\n"));
        assertEquals("p", match(t, "/user/42"));
        assertEquals("pp", match(t, "/user/42/profile"));
        assertNull(match(t, "/user/"), ":id needs a non-empty segment");
        assertNull(match(t, "/user/42/x"));
        assertNull(match(t, "/user"));
        assertEquals("t", match(t, "/t/1/"));
        assertNull(match(t, "/t/1"), "the trailing slash of /t/:id/ is literal");
    }

    @Test
    void starNameMatchesTheRestIncludingSlashes() {
        RouteTable t = table(route("f", "    uri: /files/*path\n")
                + route("mid", "    uri: /m/*any/end\n"));
        assertEquals("f", match(t, "/files/a/b/c.txt"));
        assertEquals("f", match(t, "/files/"));
        assertNull(match(t, "/files"));
        assertEquals("mid", match(t, "/m/x/y/end"));
        assertEquals("mid", match(t, "/m/x/end"));
        assertNull(match(t, "/m/x/y/other"));
    }

    @Test
    void paramAndPrefixShareTheirLiteralPrefixOrderedByPriorityThenUriLength() {
        RouteTable t = table(route("prefix", "    uri: /user/*\n")
                + route("param", "    uri: /user/:id\n")
                + route("exact", "    uri: /user/admin\n")
                + route("longer", "    uri: /user/a*\n"));
        assertEquals("exact", match(t, "/user/admin"));
        assertEquals("longer", match(t, "/user/abc"), "a longer literal prefix beats the parameter");
        assertEquals("param", match(t, "/user/42"), "same key /user/: the longer uri first (radixtree sort_route)");
        assertEquals("prefix", match(t, "/user/42/x"), "the parameter does not match: next candidate");

        RouteTable p = table(route("prefix", "    uri: /user/*\n    priority: 1\n")
                + route("param", "    uri: /user/:id\n"));
        assertEquals("prefix", match(p, "/user/42"), "priority before uri length");
    }

    @Test
    void failedParamFallsBackToShorterPrefix() {
        RouteTable t = table(route("items", "    uri: /api/:v/items\n")
                + route("api", "    uri: /api/*\n    priority: -5\n")
                + route("deep", "    uri: /api/v1/x/*\n"));
        assertEquals("items", match(t, "/api/v1/items"));
        assertEquals("api", match(t, "/api/v1/other"));
        assertEquals("deep", match(t, "/api/v1/x/items"), "longer literal prefix first, even over a param match");
    }

    @Test
    void prefixWithoutSlashAndRootPrefix() {
        RouteTable t = table(route("bar", "    uri: /blog/bar*\n") + route("root", "    uri: /*\n"));
        assertEquals("bar", match(t, "/blog/bar"));
        assertEquals("bar", match(t, "/blog/barn"));
        assertEquals("bar", match(t, "/blog/bar/c/d"));
        assertEquals("root", match(t, "/blog/ba"));
        assertEquals("root", match(t, "/"));
    }

    @Test
    void trailingSlashIsSignificant() {
        RouteTable t = table(route("a", "    uri: /a\n") + route("a-slash", "    uri: /a/\n"));
        assertEquals("a", match(t, "/a"));
        assertEquals("a-slash", match(t, "/a/"));
        assertNull(match(t, "/a/x"));
    }

    @Test
    void sameUriDifferentHostsAndHostlessFallback() {
        RouteTable t = table(route("local", "    uri: /hello\n    hosts: [localhost.com]\n")
                + route("test", "    uri: /hello\n    hosts: [test.com]\n")
                + route("any", "    uri: /hello\n    priority: -1\n"));
        assertEquals("local", match(t, "/hello", "localhost.com"));
        assertEquals("test", match(t, "/hello", "TEST.com:9080"));
        assertEquals("any", match(t, "/hello", "other.com"));
        assertEquals("any", match(t, req("/hello").host(null)));
    }

    @Test
    void hostBoundRoutesWinOverHostlessOnesEvenWithAShorterPath() {
        // radixtree_host_uri: the host tree is consulted first; the host-less tree only when it matches nothing
        RouteTable t = table(route("hostPrefix", "    uri: /*\n    host: api.example.com\n")
                + route("exact", "    uri: /orders/1\n    priority: 100\n"));
        assertEquals("hostPrefix", match(t, "/orders/1", "api.example.com"));
        assertEquals("exact", match(t, "/orders/1", "www.example.com"));
    }

    @Test
    void wildcardHostsLongestSuffixFirstAndExactHostFirst() {
        RouteTable t = table(route("wild", "    uri: /x\n    hosts: [\"*.example.com\"]\n    priority: 100\n")
                + route("deepWild", "    uri: /x\n    hosts: [\"*.api.example.com\"]\n")
                + route("exact", "    uri: /x\n    hosts: [a.api.example.com]\n    methods: [GET]\n"));
        assertEquals("exact", match(t, "/x", "a.api.example.com"), "the exact host's tree first, whatever priority");
        assertEquals("deepWild", match(t, req("/x").method("POST").host("a.api.example.com")),
                "exact host's routes reject: the longest wildcard next");
        assertEquals("deepWild", match(t, "/x", "b.api.example.com"));
        assertEquals("wild", match(t, "/x", "a.b.c.example.com"), "a wildcard covers several labels");
        assertNull(match(t, "/x", "example.com"));
        assertNull(match(t, "/x", "badexample.com"));
    }

    @Test
    void hostNormalisation() {
        RouteTable t = table(route("e", "    uri: /x\n    host: example.com\n"));
        assertEquals("e", match(t, "/x", "Example.COM."), "trailing dot and case ignored (nginx $host)");
        assertEquals("e", match(t, "/x", "example.com:8443"));
        assertNull(match(t, "/x", "[::1]:8080"));
        assertEquals("e", match(t, req("http://EXAMPLE.com:80/x").host("other.org")),
                "absolute-form: the target's authority is the host (RFC 9112 3.2.2)");
    }

    @Test
    void serviceHostsAreInheritedIntoTheHostTree() {
        RouteTable t = new io.turnpike.engine.snapshot.SnapshotCompiler(
                io.turnpike.engine.loop.EngineSettings.defaults()).compile(io.turnpike.engine.testing.Configs.fromYaml(""
                + "services:\n"
                + "  - id: s1\n    hosts: [\"*.svc.example.com\"]\n    upstream:\n      nodes:\n        \"127.0.0.1:81\": 1\n"
                + "routes:\n"
                + "  - id: inherits\n    uri: /b/*\n    service_id: s1\n"
                + "  - id: any\n    uri: /b/c\n    upstream:\n      nodes:\n        \"127.0.0.1:81\": 1\n"),
                new java.util.ArrayList<>()).routes;
        assertEquals("inherits", match(t, "/b/c", "x.svc.example.com"));
        assertEquals("any", match(t, "/b/c", "x.other.com"));
    }

    @Test
    void methodsIncludingPurge() {
        RouteTable t = table(route("purge", "    uri: /c\n    methods: [PURGE]\n")
                + route("get", "    uri: /c\n    methods: [GET]\n"));
        assertEquals("purge", match(t, req("/c").method("PURGE")));
        assertEquals("get", match(t, req("/c").method("GET")));
        assertNull(match(t, req("/c").method("PROPFIND")), "PURGE's bit does not admit other extension methods");
    }

    @Test
    void samePathPriorityThenFileOrderThenConditions() {
        RouteTable t = table(route("low", "    uri: /p\n    priority: 1\n")
                + route("highPost", "    uri: /p\n    priority: 10\n    methods: [POST]\n")
                + route("mid", "    uri: /p\n    priority: 5\n    vars: [[\"arg_v\", \"==\", \"1\"]]\n"));
        assertEquals("highPost", match(t, req("/p").method("POST")));
        assertEquals("mid", match(t, "/p?v=1"));
        assertEquals("low", match(t, "/p?v=2"));
    }

    @Test
    void remoteAddrsV4AndV6Cidrs() {
        RouteTable t = table(route("lan", "    uri: /r\n    remote_addrs: [\"10.0.0.0/8\", \"192.168.1.7\"]\n")
                + route("v6", "    uri: /r\n    remote_addrs: [\"2001:db8::/32\", \"::1\"]\n")
                + route("all4", "    uri: /r\n    remote_addr: \"0.0.0.0/0\"\n    priority: -1\n")
                + route("any", "    uri: /r\n    priority: -2\n"));
        assertEquals("lan", match(t, req("/r").from("10.20.30.40")));
        assertEquals("lan", match(t, req("/r").from("192.168.1.7")));
        assertEquals("all4", match(t, req("/r").from("192.168.1.8")));
        assertEquals("lan", match(t, req("/r").from("::ffff:10.1.2.3")), "an IPv4-mapped client is IPv4");
        assertEquals("v6", match(t, req("/r").from("2001:db8:1::5")));
        assertEquals("v6", match(t, req("/r").from("::1")));
        assertEquals("any", match(t, req("/r").from("2001:db9::1")));
        assertEquals("any", match(t, req("/r")), "no client address known: remote_addrs routes do not match");
    }

    @Test
    void legacyMatchWithoutScratchStillWorks() {
        RouteTable t = table(route("a", "    uri: /a/:id\n"));
        io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.copiedBuffer("GET /a/1 HTTP/1.1\r\nHost: h\r\n\r\n",
                java.nio.charset.StandardCharsets.US_ASCII);
        io.turnpike.engine.codec.RequestHead head = new io.turnpike.engine.codec.RequestHead(10);
        new io.turnpike.engine.codec.RequestHeadParser(8192, 65536, 10, true).parse(buf, head);
        assertEquals("a", t.match(buf, head).id);
        buf.release();
    }
}
