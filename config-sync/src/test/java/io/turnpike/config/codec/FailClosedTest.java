package io.turnpike.config.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.turnpike.config.model.Resource;
import io.turnpike.config.plugin.PluginRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What Turnpike does not act on is refused, never ignored: unknown plugins and the unsupported fields. */
class FailClosedTest {

    private static final ObjectMapper M = new ObjectMapper();
    private final ResourceCodec codec = new ResourceCodec();
    private final PluginResourceCodec others = new PluginResourceCodec(PluginRegistry.builtin());

    static JsonNode json(String s) {
        try {
            return M.readTree(s.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static FieldError plugin(String path, String name) {
        return new FieldError(path, "unknown plugin [" + name + "]", true);
    }

    @Test
    void unknownPluginRefusedInRoutesAndServices() {
        assertEquals(List.of(plugin("plugins.hmac-auth", "hmac-auth")),
                codec.decodeRoute("1", json("{'uri':'/a','plugins':{'hmac-auth':{}},'upstream_id':'u'}")).errors());
        assertEquals(List.of(plugin("plugins.syslog", "syslog")),
                codec.decodeService("s", json("{'plugins':{'syslog':{'host':'h'}}}")).errors());
        // inline in the route's plugins only: a route with plugins and no upstream is the same refusal
        assertEquals(List.of(plugin("plugins.echo", "echo")),
                codec.decodeRoute("1", json("{'uri':'/a','plugins':{'echo':{}}}")).errors());
        assertTrue(codec.decodeRoute("1", json("{'uri':'/a','plugins':{},'upstream_id':'u'}")).ok(),
                "an empty plugins object is fine");
    }

    @Test
    void schemaErrorsComeFirstAsInApisix() {
        List<FieldError> e = codec.decodeRoute("1", json("{'uri':5,'plugins':{'hmac-auth':{}},'upstream_id':'u'}"))
                .errors();
        assertFalse(e.get(0).afterSchema(), e::toString);
        assertEquals(plugin("plugins.hmac-auth", "hmac-auth"), e.get(e.size() - 1));
    }

    @Test
    void pluginConfNotAnObject() {
        assertEquals(List.of(new FieldError("plugins.key-auth", "invalid plugin conf 1 for plugin [key-auth]", true)),
                codec.decodeRoute("1", json("{'uri':'/a','plugins':{'key-auth':1},'upstream_id':'u'}")).errors());
    }

    @Test
    void registeredPluginIsCheckedByItsValidator() {
        PluginRegistry reg = PluginRegistry.empty().with("key-auth",
                (conf, type) -> type == PluginRegistry.SchemaType.CONSUMER && !conf.has("key")
                        ? "property \"key\" is required" : null);
        ResourceCodec withKeyAuth = new ResourceCodec(reg);
        assertTrue(withKeyAuth.decodeRoute("1", json("{'uri':'/a','plugins':{'key-auth':{}},'upstream_id':'u'}"))
                .ok());
        PluginResourceCodec pc = new PluginResourceCodec(reg);
        assertEquals(List.of(new FieldError("plugins.key-auth", "failed to check the configuration of plugin key-auth"
                        + " err: property \"key\" is required", true)),
                pc.decode(Resource.CONSUMERS, "jack", json("{'username':'jack','plugins':{'key-auth':{}}}"))
                        .errors());
        assertTrue(pc.decode(Resource.CONSUMERS, "jack", json("{'username':'jack','plugins':{'key-auth':{'key':"
                + "'k'}}}")).ok());
        assertTrue(pc.decode(Resource.PLUGIN_METADATA, "key-auth", json("{}")).ok());
    }

    @Test
    void unknownPluginRefusedInEveryPluginHolder() {
        assertEquals(List.of(plugin("plugins.a", "a")),
                others.decode(Resource.PLUGIN_CONFIGS, "1", json("{'plugins':{'a':{}}}")).errors());
        assertEquals(List.of(plugin("plugins.b", "b")),
                others.decode(Resource.GLOBAL_RULES, "1", json("{'plugins':{'b':{}}}")).errors());
        assertEquals(List.of(plugin("plugins.c", "c")),
                others.decode(Resource.CONSUMER_GROUPS, "1", json("{'plugins':{'c':{}}}")).errors());
        assertEquals(List.of(plugin("plugins.hmac-auth", "hmac-auth")),
                others.decode(Resource.CONSUMERS, "jack", json("{'username':'jack','plugins':{'hmac-auth':{'key':"
                        + "'k'}}}")).errors());
        assertEquals(List.of(new FieldError("credentials.c1.plugins.hmac-auth",
                        "property \"credentials\" validation failed: credential \"c1\": unknown plugin [hmac-auth]", true)),
                others.decode(Resource.CONSUMERS, "jack", json("{'username':'jack','credentials':{'c1':{'plugins':"
                        + "{'hmac-auth':{'key':'k'}}}}}")).errors());
        assertTrue(others.decode(Resource.CONSUMERS, "jack", json("{'username':'jack','plugins':{}}")).ok());
        assertEquals(List.of(plugin("plugins.hmac-auth", "hmac-auth")),
                others.decodeCredential(json("{'plugins':{'hmac-auth':{}}}")).errors());
        assertEquals(List.of(new FieldError("", "invalid plugin name", true)),
                others.decode(Resource.PLUGIN_METADATA, "syslog", json("{'log_format':{}}")).errors());
        // A known plugin's metadata goes through its metadata schema: refused where Turnpike does not act on it.
        assertEquals(List.of(new FieldError("", "failed to check the configuration of plugin http-logger err: plugin"
                        + " metadata is not supported for this plugin", true)),
                others.decode(Resource.PLUGIN_METADATA, "http-logger", json("{'log_format':{}}")).errors());
        // the APISIX schema of these resources: plugins required, nothing unknown
        assertEquals(List.of(new FieldError("", "property \"plugins\" is required")),
                others.decode(Resource.GLOBAL_RULES, "1", json("{}")).errors());
        assertEquals(List.of(new FieldError("hosts", "additional properties forbidden, found hosts")),
                others.decode(Resource.PLUGIN_CONFIGS, "1", json("{'plugins':{},'hosts':['a']}")).errors());
        assertTrue(others.decode(Resource.PLUGIN_CONFIGS, "1", json("{'plugins':{},'desc':'d'}")).ok());
        assertTrue(others.decode(Resource.SECRETS, "vault/1", json("{'uri':'x'}")).ok());
    }

    @Test
    void streamRoutesRefused() {
        assertEquals(List.of(new FieldError("", PluginResourceCodec.STREAM_ROUTES_REFUSED)),
                others.decode(Resource.STREAM_ROUTES, "1", json("{'upstream_id':'u'}")).errors());
    }

    private void routeRefused(String route, String field, String message) {
        List<FieldError> e = codec.decodeRoute("1", json(route)).errors();
        assertEquals(List.of(new FieldError(field, message)), e);
    }

    private void upstreamRefused(String upstream, String field, String message) {
        List<FieldError> e = codec.decodeUpstream("u", json(upstream)).errors();
        assertEquals(List.of(new FieldError(field, message)), e);
    }

    @Test
    void unsupportedRouteAndServiceFieldsRefused() {
        // enable_websocket is acted on (docs/websocket.md): accepted on routes and services, true or false.
        assertTrue(codec.decodeRoute("1", json("{'uri':'/a','upstream_id':'u','enable_websocket':true}")).ok());
        assertTrue(codec.decodeService("s", json("{'upstream_id':'u','enable_websocket':true}")).ok());
        assertEquals("enable_websocket", codec.decodeRoute("1",
                json("{'uri':'/a','upstream_id':'u','enable_websocket':'yes'}")).errors().get(0).field());
        assertTrue(codec.decodeRoute("1", json("{'uri':'/a','upstream_id':'u','enable_websocket':false}")).ok());
        routeRefused("{'uri':'/a','upstream_id':'u','service_protocol':'grpc'}", "service_protocol",
                "property \"service_protocol\" validation failed: \"grpc\" is not"
                        + " supported (gRPC is proxied to upstreams with \"scheme\": \"grpc\" or \"grpcs\": docs/http2.md)");
        // gRPC upstreams: what the HTTP/2 pools do not act on is refused
        upstreamRefused("{'nodes':{'a:1':1},'scheme':'grpc','retries':2}", "retries",
                "property \"retries\" validation failed: not supported with \"scheme\": \"grpc\" (a gRPC call is not"
                        + " resent to another node: its messages are streamed up, not kept)");
        upstreamRefused("{'nodes':{'a:1':1},'scheme':'grpcs','retry_timeout':5}", "retry_timeout",
                "property \"retry_timeout\" validation failed: not supported with \"scheme\": \"grpcs\" (a gRPC call"
                        + " is not resent to another node)");
        upstreamRefused("{'nodes':{'a:1':1},'scheme':'grpc','keepalive_pool':{'requests':10}}",
                "keepalive_pool.requests", "property \"keepalive_pool\" validation failed: property \"requests\""
                        + " validation failed: not supported with \"scheme\": \"grpc\" (HTTP/2 connections to gRPC nodes are"
                        + " not recycled by request count)");
        assertTrue(codec.decodeUpstream("u", json("{'nodes':{'a:1':1},'scheme':'grpc','retries':0,"
                + "'keepalive_pool':{'size':8,'requests':1000}}")).ok());
        assertTrue(codec.decodeRoute("1", json("{'uri':'/a','upstream_id':'u','service_protocol':'http'}")).ok());
        routeRefused("{'uri':'/a','upstream_id':'u','filter_func':'function() return true end'}", "filter_func",
                "property \"filter_func\" validation failed: not supported by Turnpike");
        routeRefused("{'uri':'/a','upstream_id':'u','timeout':{'connect':1,'send':1,'read':1,'write':1}}",
                "timeout.write", "property \"timeout\" validation failed: additional properties forbidden, found write");
    }

    @Test
    void unsupportedUpstreamFieldsRefused() {
        // scheme grpc and grpcs are proxied (docs/http2.md)
        upstreamRefused("{'nodes':{'a:1':1},'checks':{'active':{'https_sni':'a.com'}}}", "checks.active.https_sni",
                "property \"checks\" validation failed: property \"active\" validation failed: additional properties"
                        + " forbidden, found https_sni");
        // retry_timeout and node priorities are acted on (Exchange retries, PriorityBalancer)
        assertTrue(codec.decodeUpstream("u", json("{'nodes':{'a:1':1},'retry_timeout':5}")).ok());
        assertTrue(codec.decodeUpstream("u", json("{'nodes':[{'host':'a','port':1,'weight':1},"
                + "{'host':'b','port':1,'weight':1,'priority':-1}]}")).ok());
        upstreamRefused("{'nodes':[{'host':'a','port':1,'weight':1,'backup':true}]}", "nodes[0].backup",
                "property \"nodes\" validation failed: failed to validate item 1: additional properties forbidden,"
                        + " found backup");
        upstreamRefused("{'nodes':{'a:1':1},'keepalive_pool':{'size':1,'max':2}}", "keepalive_pool.max",
                "property \"keepalive_pool\" validation failed: additional properties forbidden, found max");
        upstreamRefused("{'nodes':{'a:1':1},'scheme':'https','tls':{'verify':true,'sni':'x'}}", "tls.sni",
                "property \"tls\" validation failed: additional properties forbidden, found sni");
        upstreamRefused("{'nodes':{'a:1':1},'tls':{'client_cert_id':'c'}}", "tls",
                "property \"tls\" validation failed: only used with \"scheme\": \"https\" or \"grpcs\", got \"http\"");
        assertTrue(codec.decodeUpstream("u", json("{'nodes':{'a:1':1},'tls':{}}")).ok());
        assertTrue(codec.decodeUpstream("u", json("{'nodes':[{'host':'a','port':1,'weight':1,'priority':2},"
                + "{'host':'b','port':1,'weight':1,'priority':2,'metadata':{}}],'retry_timeout':0}")).ok());
    }
}
