package io.turnpike.engine.router;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.turnpike.engine.router.RouterFixture.match;
import static io.turnpike.engine.router.RouterFixture.req;
import static io.turnpike.engine.router.RouterFixture.route;
import static io.turnpike.engine.router.RouterFixture.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** APISIX {@code vars} (lua-resty-expr v1): every operator, negation, logic, the variables, compile errors. */
class VarsConditionTest {
    /** One route "v" on /v with the given vars (JSON), plus a host-less catch-all "other" at lower priority. */
    private static RouteTable withVars(String varsJson) {
        List<String> warnings = new ArrayList<>();
        RouteTable t = table(route("v", "    uri: /v\n    vars: " + varsJson + "\n")
                + route("other", "    uri: /v\n    priority: -1\n"), warnings);
        assertTrue(warnings.isEmpty(), warnings.toString());
        return t;
    }

    private static String m(RouteTable t, RouterFixture.Req r) {
        return match(t, r);
    }

    @Test
    void equalsAndNotEqualsOnHeaderArgCookie() {
        RouteTable t = withVars("[[\"http_x_api_version\", \"==\", \"v2\"], [\"arg_name\", \"==\", \"json\"],"
                + " [\"cookie_device_id\", \"~=\", \"blocked\"]]");
        assertEquals("v", m(t, req("/v?name=json").header("X-Api-Version: v2").header("Cookie: a=1; device_id=ok")));
        assertEquals("v", m(t, req("/v?name=json").header("x-API-version: v2")), "header names case-insensitive; "
                + "an absent cookie is ~= anything");
        assertEquals("other", m(t, req("/v?name=json").header("X-Api-Version: v3")));
        assertEquals("other", m(t, req("/v?name=jsonx").header("X-Api-Version: v2")));
        assertEquals("other", m(t, req("/v?name=json").header("X-Api-Version: v2")
                .header("Cookie: device_id=blocked")));
        assertEquals("other", m(t, req("/v").header("X-Api-Version: v2")), "absent arg is not == json");
    }

    @Test
    void argsAreDecodedAndTheFirstOccurrenceCounts() {
        RouteTable t = withVars("[[\"arg_q\", \"==\", \"a b/c\"]]");
        assertEquals("v", m(t, req("/v?x=1&q=a+b%2Fc")));
        assertEquals("v", m(t, req("/v?q=a%20b%2fc&q=zzz")));
        assertEquals("other", m(t, req("/v?q=zzz&q=a+b%2Fc")));
        assertEquals("other", m(t, req("/v?qq=a+b%2Fc")));
        RouteTable enc = withVars("[[\"arg_a b\", \"==\", \"1\"]]");
        assertEquals("v", m(enc, req("/v?a%20b=1")), "arg names are decoded too");
    }

    @Test
    void numericComparisons() {
        RouteTable gt = withVars("[[\"arg_age\", \">\", \"18\"]]");
        assertEquals("v", m(gt, req("/v?age=19")));
        assertEquals("other", m(gt, req("/v?age=18")));
        assertEquals("v", m(gt, req("/v?age=1e2")));
        assertEquals("v", m(gt, req("/v?age=18.5")));
        assertEquals("other", m(gt, req("/v?age=abc")), "not a number: false");
        assertEquals("other", m(gt, req("/v")));
        assertEquals("v", m(withVars("[[\"arg_n\", \"<\", 10]]"), req("/v?n=-3")));
        assertEquals("other", m(withVars("[[\"arg_n\", \"<\", 10]]"), req("/v?n=10")));
        assertEquals("v", m(withVars("[[\"arg_n\", \">=\", 10]]"), req("/v?n=10")));
        assertEquals("v", m(withVars("[[\"arg_n\", \"<=\", 10]]"), req("/v?n=0x0A")));
        assertEquals("other", m(withVars("[[\"arg_n\", \"<=\", 10]]"), req("/v?n=10.01")));
        RouteTable numEq = withVars("[[\"http_x_n\", \"==\", 5]]");
        assertEquals("v", m(numEq, req("/v").header("X-N: 5.0")), "== with a number compares numerically");
        assertEquals("other", m(numEq, req("/v").header("X-N: five")));
        assertEquals("v", m(withVars("[[\"http_x_n\", \"~=\", 5]]"), req("/v").header("X-N: five")));
    }

    @Test
    void regexOperators() {
        RouteTable re = withVars("[[\"arg_address\", \"~~\", \"China.*\"]]");
        assertEquals("v", m(re, req("/v?address=in%20China%20now")), "~~ searches (not anchored)");
        assertEquals("other", m(re, req("/v?address=china")));
        assertEquals("other", m(re, req("/v")));
        RouteTable rei = withVars("[[\"http_user_agent\", \"~*\", \"^curl/\"]]");
        assertEquals("v", m(rei, req("/v").header("User-Agent: CURL/8.0")));
        assertEquals("other", m(rei, req("/v").header("User-Agent: wget")));
    }

    @Test
    void regexSemanticsKept() {
        RouteTable re = withVars("[[\"http_x_v\", \"~~\", \"^v[0-9]+(-beta)?$\"]]");
        assertEquals("v", m(re, req("/v").header("X-V: v12-beta")));
        assertEquals("other", m(re, req("/v").header("X-V: v12-rc")), "anchored by the pattern only");
        RouteTable dot = withVars("[[\"arg_c\", \"~~\", \"^..$\"]]");
        assertEquals("v", m(dot, req("/v?c=%C3%A9")), "'.' is one byte (PCRE without the u flag): é is two");
        RouteTable ci = withVars("[[\"http_x_v\", \"~*\", \"[a-c]+x\"]]");
        assertEquals("v", m(ci, req("/v").header("X-V: --ABcX--")));
        RouteTable empty = withVars("[[\"http_x_v\", \"~~\", \"\"]]");
        assertEquals("v", m(empty, req("/v").header("X-V: ")), "an empty pattern finds the empty value");
        assertEquals("other", m(empty, req("/v")), "an absent var never matches a regex");
    }

    /** The probes of issue 16: patterns that backtrack without bound in java.util.regex, answered in linear time. */
    @Test
    void hostilePatternsAreLinear() {
        RouteTable cubic = withVars("[[\"http_x_foo\", \"~~\", \"a.*a.*a.*b\"]]");
        RouteTable exp = withVars("[[\"http_x_foo\", \"~~\", \"^(a|a)*?$\"]]");
        String[][] probes = {{"3000", "other"}, {"60000", "other"}};
        for (String[] p : probes) {
            long t0 = System.nanoTime();
            assertEquals(p[1], m(cubic, req("/v").header("X-Foo: " + "a".repeat(Integer.parseInt(p[0])))));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 5_000, "a.*a.*a.*b on " + p[0] + " a's: " + ms + " ms");
        }
        for (int n : new int[] {30, 60_000}) {
            long t0 = System.nanoTime();
            assertEquals("v", m(exp, req("/v").header("X-Foo: " + "a".repeat(n))));
            assertEquals("other", m(exp, req("/v").header("X-Foo: " + "a".repeat(n) + "b")));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 5_000, "^(a|a)*?$ on " + n + " a's: " + ms + " ms");
        }
    }

    @Test
    void inAndHas() {
        RouteTable in = withVars("[[\"request_method\", \"in\", [\"GET\", \"HEAD\"]]]");
        assertEquals("v", m(in, req("/v")));
        assertEquals("other", m(in, req("/v").method("POST")));
        RouteTable numbers = withVars("[[\"arg_n\", \"in\", [1, 2]]]");
        assertEquals("other", m(numbers, req("/v?n=1")), "Lua equality: a number never equals a string var");
        RouteTable has = withVars("[[\"http_x_role\", \"has\", \"admin\"]]");
        assertEquals("v", m(has, req("/v").header("X-Role: user").header("X-Role: admin")));
        assertEquals("v", m(has, req("/v").header("X-Role: admin")));
        assertEquals("other", m(has, req("/v").header("X-Role: user")));
        RouteTable hasArg = withVars("[[\"arg_tag\", \"has\", \"b\"]]");
        assertEquals("v", m(hasArg, req("/v?tag=a&tag=b")));
        assertEquals("other", m(withVars("[[\"uri\", \"has\", \"/v\"]]"), req("/v")), "single-valued vars never have");
    }

    @Test
    void negationAndShortForm() {
        RouteTable not = withVars("[[\"arg_k\", \"!\", \"==\", \"x\"]]");
        assertEquals("other", m(not, req("/v?k=x")));
        assertEquals("v", m(not, req("/v?k=y")));
        assertEquals("v", m(not, req("/v")));
        RouteTable notIn = withVars("[[\"arg_k\", \"!\", \"in\", [\"a\", \"b\"]]]");
        assertEquals("other", m(notIn, req("/v?k=a")));
        assertEquals("v", m(notIn, req("/v?k=c")));
        RouteTable notRe = withVars("[[\"arg_k\", \"!\", \"~~\", \"^[0-9]+$\"]]");
        assertEquals("v", m(notRe, req("/v?k=abc")));
        assertEquals("other", m(notRe, req("/v?k=123")));
        RouteTable shortForm = withVars("[[\"arg_k\", \"x\"]]");
        assertEquals("v", m(shortForm, req("/v?k=x")), "[var, value] is ==");
        RouteTable absent = withVars("[[\"http_x_debug\", \"==\", null]]");
        assertEquals("v", m(absent, req("/v")), "== null: the var is absent");
        assertEquals("other", m(absent, req("/v").header("X-Debug: 1")));
    }

    @Test
    void logicalOperators() {
        RouteTable or = withVars("[\"OR\", [\"arg_a\", \"==\", \"1\"], [\"arg_b\", \"==\", \"1\"]]");
        assertEquals("v", m(or, req("/v?b=1")));
        assertEquals("other", m(or, req("/v?c=1")));
        RouteTable nested = withVars("[[\"arg_a\", \"==\", \"1\"], [\"!OR\", [\"arg_b\", \"==\", \"1\"],"
                + " [\"arg_c\", \"==\", \"1\"]]]");
        assertEquals("v", m(nested, req("/v?a=1")));
        assertEquals("other", m(nested, req("/v?a=1&c=1")));
        RouteTable notAnd = withVars("[\"!AND\", [\"arg_a\", \"==\", \"1\"], [\"arg_b\", \"==\", \"1\"]]");
        assertEquals("v", m(notAnd, req("/v?a=1")));
        assertEquals("other", m(notAnd, req("/v?a=1&b=1")));
    }

    @Test
    void builtInVariables() {
        RouteTable uri = withVars("[[\"uri\", \"==\", \"/v\"], [\"host\", \"==\", \"api.example.com\"],"
                + " [\"remote_addr\", \"==\", \"10.1.1.1\"], [\"request_method\", \"==\", \"GET\"]]");
        assertEquals("v", m(uri, req("/./v").host("API.example.com:80").from("10.1.1.1")),
                "uri is the normalised path, host lower-case without port");
        assertEquals("other", m(uri, req("/v").host("api.example.com").from("10.1.1.2")));
        RouteTable v6 = withVars("[[\"remote_addr\", \"==\", \"2001:db8::1\"]]");
        assertEquals("v", m(v6, req("/v").from("2001:db8::1")));
        RouteTable ru = withVars("[[\"request_uri\", \"==\", \"/v?a=%41\"], [\"args\", \"==\", \"a=%41\"]]");
        assertEquals("v", m(ru, req("/v?a=%41")), "request_uri and args are raw");
        RouteTable cookie = withVars("[[\"cookie_sid\", \"==\", \"abc\"]]");
        assertEquals("v", m(cookie, req("/v").header("Cookie: x=1;sid=abc ; y=2")));
        assertEquals("v", m(cookie, req("/v").header("Cookie: x=1").header("Cookie: sid=abc")));
        assertEquals("other", m(cookie, req("/v").header("Cookie: xsid=abc")));
    }

    @Test
    void invalidExpressionsLeaveOnlyThatRouteOut() {
        List<String> warnings = new ArrayList<>();
        RouteTable t = table(route("badOp", "    uri: /b\n    vars: [[\"arg_a\", \"=~\", \"x\"]]\n")
                + route("badVar", "    uri: /b\n    vars: [[\"upstream_addr\", \"==\", \"x\"]]\n")
                + route("badNot", "    uri: /b\n    vars: [[\"arg_a\", \"not\", \"==\", \"x\"]]\n")
                + route("good", "    uri: /b\n    priority: -1\n"), warnings);
        assertEquals(3, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).startsWith("route badOp: vars: invalid operator '=~'"), warnings.get(0));
        assertTrue(warnings.get(1).contains("unsupported variable 'upstream_addr'"), warnings.get(1));
        assertTrue(warnings.get(2).contains("bad 'not' expression"), warnings.get(2));
        assertEquals("good", match(t, "/b?a=x"));
        assertEquals(1, t.size());
    }

    /**
     * A pattern the linear engine cannot run is refused where the configuration is read (here the standalone file,
     * with file:line), and the engine's own compile refuses the same patterns for the same reason: one compile call.
     */
    @Test
    void regexesTheEngineCannotRunAreRefusedAtConfigTime() throws Exception {
        String[][] cases = {{"(a)\\\\1", "backreferences (\\1) are not supported"},
                {"foo(?<!bar)", "lookaround ((?<!...)) is not supported"},
                {"a*+", "possessive quantifiers (*+) are not supported"},
                {"(unclosed", "missing closing )"},
                {"((a{1000}){1000}){1000}", "regex too large"}};
        for (String[] c : cases) {
            String yaml = "routes:\n" + route("r", "    uri: /b\n    vars: [[\"http_x_foo\", \"~*\", \"" + c[0] + "\"]]\n");
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> io.turnpike.engine.testing.Configs.fromYaml(yaml));
            assertTrue(e.getMessage().contains("test.yaml:4: routes[0] (id \"r\"): property \"vars\" validation failed:"
                    + " failed to validate item 1: invalid regex"), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            com.fasterxml.jackson.databind.JsonNode vars = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree("[[\"http_x_foo\", \"~*\", \"" + c[0] + "\"]]");
            IllegalArgumentException engine = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class, () -> VarsExpr.compile(vars));
            assertTrue(engine.getMessage().contains(c[1]), engine.getMessage());
        }
    }

    @Test
    void numberParsing() {
        byte[] b = " -1.5e2 ".getBytes();
        assertEquals(-150.0, VarsExpr.parseNumber(b, 0, b.length));
        byte[] h = "0x1F".getBytes();
        assertEquals(31.0, VarsExpr.parseNumber(h, 0, h.length));
        for (String bad : new String[] {"", "1.2.3", "e5", "12a", "-", "0x"}) {
            byte[] x = bad.getBytes();
            assertTrue(Double.isNaN(VarsExpr.parseNumber(x, 0, x.length)), bad);
        }
        assertEquals("2001:db8::1", MatchScratch.v6Text(0x20010db800000000L, 1L));
        assertEquals("::1", MatchScratch.v6Text(0, 1L));
        assertEquals("::", MatchScratch.v6Text(0, 0));
        assertEquals("1:0:2::", MatchScratch.v6Text(0x0001000000020000L, 0));
        assertEquals("fe80::1:0:0:1", MatchScratch.v6Text(0xfe80000000000000L, 0x0001000000000001L));
    }

    /**
     * No route has hosts, so the host is read only when the `host` var asks for it, once per match: with one scratch
     * reused across requests (as a connection's is), every match sees its own request's host, never the one read for
     * the request before.
     */
    @Test
    void aReusedScratchReadsEachRequestsOwnHost() {
        RouteTable t = withVars("[[\"host\", \"==\", \"api.example.com\"]]");
        MatchScratch s = new MatchScratch();
        assertEquals("v", matchWith(t, s, "api.example.com"));
        assertEquals("other", matchWith(t, s, "other.example.com"));
        assertEquals("v", matchWith(t, s, "API.example.com:8080"));
        assertEquals("other", matchWith(t, s, null), "no host: the var is absent");
        assertEquals("v", matchWith(t, s, "api.example.com."));
    }

    private static String matchWith(RouteTable t, MatchScratch s, String host) {
        String text = "GET /v HTTP/1." + (host == null ? "0\r\n" : "1\r\nHost: " + host + "\r\n") + "\r\n";
        io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.copiedBuffer(text,
                java.nio.charset.StandardCharsets.ISO_8859_1);
        try {
            io.turnpike.engine.codec.RequestHead head = new io.turnpike.engine.codec.RequestHead(100);
            assertTrue(new io.turnpike.engine.codec.RequestHeadParser(8192, 65536, 100, true).parse(buf, head) > 0);
            CompiledRoute r = t.match(buf, head, s);
            return r == null ? null : r.id;
        } finally {
            buf.release();
        }
    }
}
