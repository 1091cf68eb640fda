package io.turnpike.config.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.Service;
import io.turnpike.config.model.Timeout;
import io.turnpike.config.model.Upstream;
import io.turnpike.config.model.UpstreamNode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ResourceCodecTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private final ResourceCodec codec = new ResourceCodec();

    static JsonNode json(String s) {
        try {
            return MAPPER.readTree(s.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private List<FieldError> routeErrors(String json) {
        Decoded<Route> d = codec.decodeRoute("1", json(json));
        assertFalse(d.ok(), "expected errors for " + json);
        return d.errors();
    }

    private void assertRouteError(String json, String field, String message) {
        List<FieldError> errors = routeErrors(json);
        assertTrue(errors.contains(new FieldError(field, message)), () -> "got " + errors);
    }

    private void assertUpstreamError(String json, String field, String message) {
        Decoded<Upstream> d = codec.decodeUpstream("u1", json(json));
        assertFalse(d.ok(), "expected errors for " + json);
        assertTrue(d.errors().contains(new FieldError(field, message)), () -> "got " + d.errors());
    }

    @Test
    void decodesFullRoute() {
        Decoded<Route> d = codec.decodeRoute("r1", json("{'uri':'/a/*','name':'n','hosts':['Foo.COM','*.bar.com'],"
                + "'methods':['GET','POST'],'priority':5,'remote_addrs':['10.0.0.0/8','::1'],"
                + "'vars':[['arg_a','==','1']],'plugins':{},'timeout':{'connect':1,'send':2.5,'read':3},"
                + "'enable_websocket':false,'status':0,'upstream':{'nodes':{'127.0.0.1:80':1}},'labels':{'a':'b'}}"));
        assertTrue(d.ok(), () -> d.errors().toString());
        Route r = d.value();
        assertEquals("r1", r.id());
        assertEquals(List.of("/a/*"), r.uris());
        assertEquals(List.of("foo.com", "*.bar.com"), r.hosts());
        assertEquals(List.of("GET", "POST"), r.methods());
        assertEquals(5, r.priority());
        assertEquals(List.of("10.0.0.0/8", "::1"), r.remoteAddrs());
        assertEquals(new Timeout(1, 2.5, 3), r.timeout());
        assertFalse(r.enableWebsocket());
        assertEquals(0, r.status());
        assertEquals("roundrobin", r.upstream().type());
        assertNull(r.upstream().id());
        assertEquals(List.of(new UpstreamNode("127.0.0.1", 80, 1, 0)), r.upstream().nodes());
        assertEquals(1, r.vars().size());
    }

    @Test
    void routeDefaults() {
        Route r = codec.decodeRoute("1", json("{'uris':['/a','/b'],'upstream_id':'u'}")).value();
        assertEquals(List.of("/a", "/b"), r.uris());
        assertEquals(List.of(), r.hosts());
        assertEquals(List.of(), r.methods());
        assertEquals(0, r.priority());
        assertEquals(1, r.status());
        assertFalse(r.enableWebsocket());
        assertNull(r.upstream());
        assertEquals("u", r.upstreamId());
    }

    @Test
    void integerIdsAreAccepted() {
        Route r = codec.decodeRoute(null, json("{'id':7,'uri':'/a','upstream_id':12}")).value();
        assertEquals("7", r.id());
        assertEquals("12", r.upstreamId());
    }

    @Test
    void uriWrongType() {
        assertRouteError("{'uri':1,'upstream_id':'u'}", "uri",
                "property \"uri\" validation failed: wrong type: expected string, got number");
    }

    @Test
    void uriMustStartWithSlash() {
        assertRouteError("{'uri':'abc','upstream_id':'u'}", "uri",
                "property \"uri\" validation failed: must start with \"/\", got \"abc\"");
    }

    @Test
    void uriEmpty() {
        assertRouteError("{'uri':'','upstream_id':'u'}", "uri",
                "property \"uri\" validation failed: string too short, expected at least 1, got 0");
    }

    @Test
    void urisItems() {
        assertRouteError("{'uris':['/a',3],'upstream_id':'u'}", "uris[1]",
                "property \"uris\" validation failed: failed to validate item 2: wrong type: expected string, got number");
        assertRouteError("{'uris':[],'upstream_id':'u'}", "uris",
                "property \"uris\" validation failed: expect array to have at least 1 items");
        assertRouteError("{'uris':['/a','/a'],'upstream_id':'u'}", "uris",
                "property \"uris\" validation failed: expected unique items but items 1 and 2 are equal");
    }

    @Test
    void uriAndUris() {
        assertRouteError("{'uri':'/a','uris':['/b'],'upstream_id':'u'}", "",
                "allOf 1 failed: value should match only one schema, but matches both schemas 1 and 2");
        assertRouteError("{'upstream_id':'u'}", "",
                "allOf 1 failed: value should match only one schema, but matches none");
    }

    @Test
    void hosts() {
        assertRouteError("{'uri':'/a','host':'a b','upstream_id':'u'}", "host",
                "property \"host\" validation failed: failed to match pattern \"^\\\\*?[0-9a-zA-Z-._]+$\" with \"a b\"");
        assertRouteError("{'uri':'/a','hosts':['ok.com','*bad.com'],'upstream_id':'u'}", "hosts[1]",
                "property \"hosts\" validation failed: failed to validate item 2: a wildcard host must look like"
                        + " \"*.example.com\", got \"*bad.com\"");
        assertRouteError("{'uri':'/a','host':'a.com','hosts':['b.com'],'upstream_id':'u'}", "",
                "allOf 2 failed: value should match only one schema, but matches both schemas 2 and 3");
        assertEquals(List.of("a.example.com"),
                codec.decodeRoute("1", json("{'uri':'/a','host':'A.Example.com','upstream_id':'u'}")).value().hosts());
    }

    @Test
    void methods() {
        assertRouteError("{'uri':'/a','methods':['GET','FETCH'],'upstream_id':'u'}", "methods[1]",
                "property \"methods\" validation failed: failed to validate item 2: matches none of the enum values");
        assertRouteError("{'uri':'/a','methods':'GET','upstream_id':'u'}", "methods",
                "property \"methods\" validation failed: wrong type: expected array, got string");
        assertTrue(codec.decodeRoute("1", json("{'uri':'/a','methods':['PURGE','TRACE','CONNECT','OPTIONS','HEAD',"
                + "'PATCH','DELETE','PUT','POST','GET'],'upstream_id':'u'}")).ok());
    }

    @Test
    void priorityAndStatus() {
        assertRouteError("{'uri':'/a','priority':1.5,'upstream_id':'u'}", "priority",
                "property \"priority\" validation failed: wrong type: expected integer, got number");
        assertRouteError("{'uri':'/a','priority':'1','upstream_id':'u'}", "priority",
                "property \"priority\" validation failed: wrong type: expected integer, got string");
        assertRouteError("{'uri':'/a','status':2,'upstream_id':'u'}", "status",
                "property \"status\" validation failed: matches none of the enum values");
        assertEquals(-3, codec.decodeRoute("1", json("{'uri':'/a','priority':-3,'upstream_id':'u'}")).value().priority());
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "::1", "fe80::/10", "2001:db8::1/128"})
    void remoteAddrAccepted(String addr) {
        assertTrue(codec.decodeRoute("1", json("{'uri':'/a','remote_addr':'" + addr + "','upstream_id':'u'}")).ok());
    }

    @ParameterizedTest
    @ValueSource(strings = {"256.0.0.1", "10.0.0.0/33", "example.com", "::1/129", "1.2.3"})
    void remoteAddrRejected(String addr) {
        assertRouteError("{'uri':'/a','remote_addrs':['" + addr + "'],'upstream_id':'u'}", "remote_addrs[0]",
                "property \"remote_addrs\" validation failed: failed to validate item 1: object matches none of the"
                        + " required: IPv4, IPv4/CIDR, IPv6 or IPv6/CIDR, got \"" + addr + "\"");
    }

    @Test
    void ids() {
        assertRouteError("{'uri':'/a','upstream_id':'a b'}", "upstream_id",
                "property \"upstream_id\" validation failed: failed to match pattern \"^[a-zA-Z0-9-_.]+$\" with \"a b\"");
        assertRouteError("{'uri':'/a','service_id':'" + "x".repeat(65) + "'}", "service_id",
                "property \"service_id\" validation failed: string too long, expected at most 64, got 65");
        Decoded<Route> d = codec.decodeRoute("bad/id", json("{'uri':'/a','upstream_id':'u'}"));
        assertEquals("id", d.errors().get(0).field());
        assertTrue(codec.decodeRoute("A-z_0.9", json("{'uri':'/a','upstream_id':'u'}")).ok());
        Decoded<Route> mismatch = codec.decodeRoute("1", json("{'id':'2','uri':'/a','upstream_id':'u'}"));
        assertEquals(List.of(new FieldError("id", "property \"id\" validation failed: wrong route id: \"2\" does not"
                + " match \"1\"")), mismatch.errors());
    }

    @Test
    void additionalPropertiesForbidden() {
        assertRouteError("{'uri':'/a','upstream_id':'u','foo':1}", "foo", "additional properties forbidden, found foo");
        assertUpstreamError("{'nodes':{'a:1':1},'status':1}", "status", "additional properties forbidden, found status");
        Decoded<Service> s = codec.decodeService("s", json("{'upstream_id':'u','uri':'/a'}"));
        assertEquals(List.of(new FieldError("uri", "additional properties forbidden, found uri")), s.errors());
        assertRouteError("{'uri':'/a','upstream':{'nodes':{'a:1':1},'bogus':1}}", "upstream.bogus",
                "property \"upstream\" validation failed: additional properties forbidden, found bogus");
    }

    @Test
    void routeNeedsATarget() {
        List<FieldError> errors = routeErrors("{'uri':'/a'}");
        assertEquals(1, errors.size());
        assertTrue(errors.get(0).message().startsWith("object matches none of the required: [\"plugins\",\"uri\"]"));
        assertTrue(codec.decodeRoute("1", json("{'uri':'/a','plugins':{}}")).ok(), "plugins-only routes are APISIX-valid");
        assertTrue(codec.decodeRoute("1", json("{'uri':'/a','service_id':'s'}")).ok());
        assertRouteError("{'uri':'/a','upstream_id':'u','upstream':{'nodes':{'a:1':1}}}", "",
                "only one of \"upstream\" and \"upstream_id\" may be set");
    }

    @Test
    void unsupportedFields() {
        assertRouteError("{'uri':'/a','upstream_id':'u','filter_func':'function(vars) return true end'}",
                "filter_func", "property \"filter_func\" validation failed: not supported by Turnpike");
    }

    @Test
    void timeout() {
        assertRouteError("{'uri':'/a','upstream_id':'u','timeout':{'connect':0,'send':1,'read':1}}", "timeout.connect",
                "property \"timeout\" validation failed: property \"connect\" validation failed: expected 0 to be"
                        + " greater than 0");
        assertRouteError("{'uri':'/a','upstream_id':'u','timeout':{'connect':1,'send':1}}", "timeout",
                "property \"timeout\" validation failed: property \"read\" is required");
        assertRouteError("{'uri':'/a','upstream_id':'u','timeout':{'connect':'1','send':1,'read':1}}", "timeout.connect",
                "property \"timeout\" validation failed: property \"connect\" validation failed: wrong type: expected"
                        + " number, got string");
    }

    @Test
    void nodesMapForm() {
        Upstream u = codec.decodeUpstream("u1", json("{'type':'roundrobin','nodes':{'10.0.0.1:8080':3,'[::1]:81':0,"
                + "'example.com':1,'[fe80::1]':2}}")).value();
        assertEquals(List.of(new UpstreamNode("10.0.0.1", 8080, 3, 0), new UpstreamNode("::1", 81, 0, 0),
                new UpstreamNode("example.com", 80, 1, 0), new UpstreamNode("fe80::1", 80, 2, 0)), u.nodes());
        assertEquals("u1", u.id());
        Upstream tls = codec.decodeUpstream("u2", json("{'scheme':'https','nodes':{'a.com':1}}")).value();
        assertEquals(443, tls.nodes().get(0).port());
        assertEquals(0, codec.decodeUpstream("u", json("{'nodes':{}}")).value().nodes().size());
    }

    @Test
    void nodesMapFormErrors() {
        assertUpstreamError("{'nodes':{'a.com:99999':1}}", "nodes.a.com:99999",
                "property \"nodes\" validation failed: invalid node address \"a.com:99999\": port must be 1..65535");
        assertUpstreamError("{'nodes':{'a.com:0':1}}", "nodes.a.com:0",
                "property \"nodes\" validation failed: invalid node address \"a.com:0\": port must be 1..65535");
        assertUpstreamError("{'nodes':{':80':1}}", "nodes.:80",
                "property \"nodes\" validation failed: invalid node address \":80\": empty host");
        assertUpstreamError("{'nodes':{'::1:80':1}}", "nodes.::1:80",
                "property \"nodes\" validation failed: invalid node address \"::1:80\": IPv6 addresses must be written"
                        + " in brackets, e.g. [::1]:80");
        assertUpstreamError("{'nodes':{'a.com:80':-1}}", "nodes.a.com:80",
                "property \"nodes\" validation failed: failed to validate a.com:80 (matching \".*\"): expected -1 to"
                        + " be at least 0");
        assertUpstreamError("{'nodes':{'a.com:80':'1'}}", "nodes.a.com:80",
                "property \"nodes\" validation failed: failed to validate a.com:80 (matching \".*\"): wrong type:"
                        + " expected integer, got string");
    }

    @Test
    void nodesListForm() {
        Upstream u = codec.decodeUpstream("u1", json("{'nodes':[{'host':'10.0.0.1','port':80,'weight':1},"
                + "{'host':'b.com','port':8080,'weight':0,'priority':0},{'host':'::1','port':9,'weight':2}]}")).value();
        assertEquals(List.of(new UpstreamNode("10.0.0.1", 80, 1, 0), new UpstreamNode("b.com", 8080, 0, 0),
                new UpstreamNode("::1", 9, 2, 0)), u.nodes());
    }

    @Test
    void nodesListFormErrors() {
        assertUpstreamError("{'nodes':[{'host':'a','port':70000,'weight':1}]}", "nodes[0].port",
                "property \"nodes\" validation failed: failed to validate item 1: property \"port\" validation failed:"
                        + " expected 70000 to be at most 65535");
        assertUpstreamError("{'nodes':[{'host':'a','port':80}]}", "nodes[0]",
                "property \"nodes\" validation failed: failed to validate item 1: property \"weight\" is required");
        assertUpstreamError("{'nodes':[{'host':'','port':80,'weight':1}]}", "nodes[0].host",
                "property \"nodes\" validation failed: failed to validate item 1: property \"host\" validation failed:"
                        + " string too short, expected at least 1, got 0");
        assertUpstreamError("{'nodes':[{'host':'a','port':80,'weight':-2}]}", "nodes[0].weight",
                "property \"nodes\" validation failed: failed to validate item 1: property \"weight\" validation"
                        + " failed: expected -2 to be at least 0");
        assertUpstreamError("{'nodes':'a:80'}", "nodes",
                "property \"nodes\" validation failed: object matches none of the required");
    }

    @Test
    void upstreamRules() {
        assertUpstreamError("{}", "", "value should match only one schema, but matches none");
        assertUpstreamError("{'type':'random','nodes':{}}", "type",
                "property \"type\" validation failed: matches none of the enum values");
        assertUpstreamError("{'type':'chash','nodes':{}}", "", "missing key");
        assertTrue(codec.decodeUpstream("u", json("{'type':'chash','hash_on':'consumer','nodes':{}}")).ok());
        assertTrue(codec.decodeUpstream("u", json("{'type':'chash','key':'remote_addr','nodes':{}}")).ok());
        assertTrue(codec.decodeUpstream("u", json("{'type':'chash','hash_on':'header','key':'X-User','nodes':{}}")).ok());
        assertUpstreamError("{'type':'chash','key':'bogus','nodes':{}}", "key",
                "property \"key\" validation failed: failed to match pattern \"^((uri|server_name|server_addr|request_uri"
                        + "|remote_port|remote_addr|query_string|host|hostname)|arg_[0-9a-zA-z_-]+)$\" with \"bogus\"");
        assertUpstreamError("{'hash_on':'ip','nodes':{}}", "hash_on",
                "property \"hash_on\" validation failed: matches none of the enum values");
        assertUpstreamError("{'retries':-1,'nodes':{}}", "retries",
                "property \"retries\" validation failed: expected -1 to be at least 0");
        assertUpstreamError("{'pass_host':'rewrite','nodes':{}}", "",
                "property \"upstream_host\" is required when \"pass_host\" is \"rewrite\"");
        assertUpstreamError("{'pass_host':'keep','nodes':{}}", "pass_host",
                "property \"pass_host\" validation failed: matches none of the enum values");
        assertUpstreamError("{'scheme':'ftp','nodes':{}}", "scheme",
                "property \"scheme\" validation failed: matches none of the enum values");
        assertUpstreamError("{'service_name':'a','discovery_type':'consul'}", "discovery_type",
                "property \"discovery_type\" validation failed: discovery type \"consul\" is not supported by Turnpike"
                        + " (only \"dns\": consul, nacos, eureka, kubernetes and the other registries are not"
                        + " implemented)");
        assertUpstreamError("{'nodes':{},'checks':{'passive':{}}}", "checks",
                "property \"checks\" validation failed: object matches none of the required: [\"active\"] or"
                        + " [\"active\",\"passive\"]");
        assertUpstreamError("{'nodes':{},'keepalive_pool':{'size':0}}", "keepalive_pool.size",
                "property \"keepalive_pool\" validation failed: property \"size\" validation failed: expected 0 to be"
                        + " at least 1");
    }

    @Test
    void dnsDiscoveryUpstreams() {
        Upstream u = codec.decodeUpstream("u", json("{'service_name':'web.svc:8080','discovery_type':'dns'}")).value();
        assertEquals("web.svc:8080", u.serviceName());
        assertEquals("dns", u.discoveryType());
        assertEquals(List.of(), u.nodes());
        Upstream srv = codec.decodeUpstream("u", json("{'service_name':'_http._tcp.web','discovery_type':'dns'}"))
                .value();
        assertEquals("_http._tcp.web", srv.serviceName());
        Upstream plain = codec.decodeUpstream("u", json("{'nodes':{'a:1':1}}")).value();
        assertNull(plain.serviceName());
        assertNull(plain.discoveryType());

        assertUpstreamError("{'service_name':'a','discovery_type':'dns','nodes':{'a:1':1}}", "",
                "value should match only one schema, but matches both schemas 1 and 2");
        assertUpstreamError("{'service_name':'a'}", "", "value should match only one schema, but matches none");
        assertUpstreamError("{'discovery_type':'dns','nodes':{'a:1':1}}", "discovery_type",
                "property \"discovery_type\" validation failed: only used with \"service_name\"");
        assertUpstreamError("{'service_name':'a','discovery_type':'dns','discovery_args':{}}", "discovery_args",
                "property \"discovery_args\" validation failed: not supported by Turnpike (the dns discovery takes no"
                        + " arguments)");
        assertUpstreamError("{'service_name':'a:0','discovery_type':'dns'}", "service_name",
                "property \"service_name\" validation failed: expected a DNS name, or name:port with a port 1..65535,"
                        + " got \"a:0\"");
        assertUpstreamError("{'service_name':'a b','discovery_type':'dns'}", "service_name",
                "property \"service_name\" validation failed: expected a DNS name, or name:port with a port 1..65535,"
                        + " got \"a b\"");
        assertUpstreamError("{'service_name':'','discovery_type':'dns'}", "service_name",
                "property \"service_name\" validation failed: string too short, expected at least 1, got 0");
        for (String type : List.of("nacos", "eureka", "kubernetes", "consul_kv")) {
            assertFalse(codec.decodeUpstream("u", json("{'service_name':'a','discovery_type':'" + type + "'}")).ok(),
                    type);
        }
    }

    @Test
    void upstreamDefaultsAndFields() {
        Upstream u = codec.decodeUpstream("u", json("{'nodes':{'a:1':1,'b:2':1}}")).value();
        assertEquals("roundrobin", u.type());
        assertEquals("vars", u.hashOn());
        assertEquals(-1, u.retries());
        assertEquals(1, u.effectiveRetries());
        assertEquals("pass", u.passHost());
        assertEquals("http", u.scheme());
        assertNull(u.keepalivePool());
        assertNull(u.timeout());
        Upstream v = codec.decodeUpstream("u", json("{'type':'least_conn','nodes':{'a:1':1},'retries':0,"
                + "'retry_timeout':0,'pass_host':'rewrite','upstream_host':'x.com','scheme':'https',"
                + "'keepalive_pool':{'size':10,'idle_timeout':5,'requests':7},'timeout':{'connect':1,'send':2,'read':3}}"))
                .value();
        assertEquals("least_conn", v.type());
        assertEquals(0, v.effectiveRetries());
        assertEquals(0.0, v.retryTimeout());
        assertEquals("x.com", v.upstreamHost());
        assertEquals("https", v.scheme());
        assertEquals(10, v.keepalivePool().size());
        assertEquals(7, v.keepalivePool().requests());
        assertEquals(new Timeout(1, 2, 3), v.timeout());
    }

    @Test
    void nestedUpstreamErrorCarriesPath() {
        assertRouteError("{'uri':'/a','upstream':{'nodes':[{'host':'a','port':'x','weight':1}]}}",
                "upstream.nodes[0].port", "property \"upstream\" validation failed: property \"nodes\" validation"
                        + " failed: failed to validate item 1: property \"port\" validation failed: wrong type:"
                        + " expected integer, got string");
    }

    @Test
    void service() {
        Service s = codec.decodeService("s1", json("{'name':'svc','hosts':['A.com'],'upstream':{'nodes':{'a:1':1}},"
                + "'plugins':{},'enable_websocket':false}")).value();
        assertEquals("s1", s.id());
        assertEquals(List.of("a.com"), s.hosts());
        assertFalse(s.enableWebsocket());
        assertTrue(codec.decodeService("s2", json("{'plugins':{}}")).ok());
        assertEquals(List.of(new FieldError("", "only one of \"upstream\" and \"upstream_id\" may be set")),
                codec.decodeService("s", json("{'upstream_id':'u','upstream':{'nodes':{}}}")).errors());
    }

    @Test
    void notAnObject() {
        assertEquals(List.of(new FieldError("", "wrong type: expected object, got array")),
                codec.decodeRoute("1", json("[]")).errors());
    }

    @ParameterizedTest
    @ValueSource(strings = {"name", "desc"})
    void encodeRoundTrips(String field) {
        JsonNode in = json("{'uri':'/a','upstream':{'nodes':{'a:1':1}},'" + field + "':'x'}");
        Route r = codec.decodeRoute("1", in).value();
        assertEquals(in, codec.encode(r));
        Route rebuilt = new Route(r.id(), r.name(), r.uris(), r.hosts(), r.methods(), r.priority(), r.remoteAddrs(),
                r.vars(), r.upstream(), r.upstreamId(), r.serviceId(), r.pluginConfigId(), r.plugins(), r.timeout(),
                r.enableWebsocket(), r.status(), null);
        Route again = codec.decodeRoute("1", codec.encode(rebuilt)).value();
        assertEquals(r.uris(), again.uris());
        assertEquals(r.upstream().nodes(), again.upstream().nodes());
    }
}
