package io.turnpike.config.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.InetAddress;
import java.util.Map;
import java.util.Set;

/**
 * The configuration schemas of the plugins the engine implements, with APISIX's field names, defaults and error
 * wording (its jsonschema messages: {@code property "key" is required}, {@code property "x" validation failed: ...}).
 * Fields APISIX accepts that Turnpike does not act on yet are refused with a message saying so (fail closed), never
 * ignored. The engine's {@code io.turnpike.engine.plugin.Plugins} holds the matching implementations; a test keeps the
 * two lists equal.
 */
public final class BuiltinPluginSchemas {
    /** Plugins that may appear in a consumer (or credential): they carry the consumer's credentials. */
    public static final Set<String> AUTH_PLUGINS = Set.of("key-auth", "basic-auth", "jwt-auth");

    private BuiltinPluginSchemas() {
    }

    /**
     * The JSON schema documents the Admin API serves at {@code /apisix/admin/plugins/{name}} (what dashboards render
     * forms from): APISIX's properties, types and defaults for the fields Turnpike acts on. {@code consumer_schema}
     * where a consumer carries the plugin's credentials.
     */
    public static final Map<String, String> JSON_SCHEMAS;

    private static final Map<String, String> JSON_SCHEMAS_FIRST = Map.of(
            "key-auth", """
                    {"type":"object","properties":{"header":{"type":"string","default":"apikey"},\
                    "query":{"type":"string","default":"apikey"},"hide_credentials":{"type":"boolean","default":false}},\
                    "consumer_schema":{"type":"object","properties":{"key":{"type":"string"}},"required":["key"]},\
                    "priority":2500}""",
            "proxy-rewrite", """
                    {"type":"object","properties":{"uri":{"type":"string","minLength":1,"maxLength":4096,\
                    "pattern":"^\\\\/.*"},"regex_uri":{"type":"array","minItems":2,"items":{"type":"string"}},\
                    "method":{"type":"string","enum":["GET","POST","PUT","HEAD","DELETE","OPTIONS","MKCOL","COPY",\
                    "MOVE","PROPFIND","LOCK","UNLOCK","PATCH","TRACE"]},"host":{"type":"string"},\
                    "headers":{"type":"object","properties":{"add":{"type":"object"},"set":{"type":"object"},\
                    "remove":{"type":"array","items":{"type":"string"}}}}},"priority":1008}""",
            "response-rewrite", """
                    {"type":"object","properties":{"status_code":{"type":"integer","minimum":200,"maximum":598},\
                    "body":{"type":"string"},"body_base64":{"type":"boolean","default":false},\
                    "headers":{"type":"object","properties":{"add":{"type":"array","items":{"type":"string"}},\
                    "set":{"type":"object"},"remove":{"type":"array","items":{"type":"string"}}}}},"priority":899}""",
            "cors", """
                    {"type":"object","properties":{"allow_origins":{"type":"string","default":"*"},\
                    "allow_methods":{"type":"string","default":"*"},"allow_headers":{"type":"string","default":"*"},\
                    "expose_headers":{"type":"string"},"max_age":{"type":"integer","default":5},\
                    "allow_credential":{"type":"boolean","default":false}},"priority":4000}""",
            "request-id", """
                    {"type":"object","properties":{"header_name":{"type":"string","default":"X-Request-Id"},\
                    "include_in_response":{"type":"boolean","default":true},\
                    "algorithm":{"type":"string","enum":["uuid"],"default":"uuid"}},"priority":12015}""",
            "redirect", """
                    {"type":"object","properties":{"http_to_https":{"type":"boolean"},\
                    "uri":{"type":"string","minLength":2},"ret_code":{"type":"integer","minimum":200,"default":302},\
                    "append_query_string":{"type":"boolean","default":false}},"priority":900}""",
            "ip-restriction", """
                    {"type":"object","properties":{"whitelist":{"type":"array","minItems":1,\
                    "items":{"type":"string"}},"blacklist":{"type":"array","minItems":1,"items":{"type":"string"}},\
                    "message":{"type":"string","minLength":1,"maxLength":1024,\
                    "default":"Your IP address is not allowed"},\
                    "response_code":{"type":"integer","minimum":403,"maximum":404,"default":403}},\
                    "oneOf":[{"required":["whitelist"]},{"required":["blacklist"]}],"priority":3000}""",
            "basic-auth", """
                    {"type":"object","properties":{"hide_credentials":{"type":"boolean","default":false},\
                    "realm":{"type":"string","default":"basic","minLength":1,"maxLength":128}},\
                    "consumer_schema":{"type":"object","properties":{"username":{"type":"string"},\
                    "password":{"type":"string"}},"required":["username","password"]},"priority":2520}""",
            "jwt-auth", """
                    {"type":"object","properties":{"header":{"type":"string","default":"authorization"},\
                    "query":{"type":"string","default":"jwt"},"cookie":{"type":"string","default":"jwt"},\
                    "hide_credentials":{"type":"boolean","default":false},\
                    "key_claim_name":{"type":"string","default":"key","minLength":1},\
                    "realm":{"type":"string","default":"jwt","minLength":1,"maxLength":128},\
                    "claims_to_verify":{"type":"array","items":{"type":"string","enum":["exp","nbf"]},\
                    "uniqueItems":true}},\
                    "consumer_schema":{"type":"object","properties":{"key":{"type":"string","minLength":1},\
                    "secret":{"type":"string","minLength":1},"algorithm":{"type":"string","enum":["HS256","HS384",\
                    "HS512","RS256","RS384","RS512","ES256","ES384","ES512"],"default":"HS256"},\
                    "public_key":{"type":"string","minLength":1},"exp":{"type":"integer","minimum":1,\
                    "default":86400},"base64_secret":{"type":"boolean","default":false},\
                    "lifetime_grace_period":{"type":"integer","minimum":0,"default":0}},"required":["key"]},\
                    "priority":2510}""",
            "consumer-restriction", """
                    {"type":"object","properties":{"type":{"type":"string","enum":["consumer_name",\
                    "consumer_group_id"],"default":"consumer_name"},"blacklist":{"type":"array","minItems":1,\
                    "items":{"type":"string"}},"whitelist":{"type":"array","minItems":1,"items":{"type":"string"}},\
                    "allowed_by_methods":{"type":"array","items":{"type":"object","properties":{\
                    "user":{"type":"string"},"methods":{"type":"array","minItems":1,"items":{"type":"string",\
                    "enum":["GET","POST","PUT","DELETE","PATCH","HEAD","OPTIONS","CONNECT","TRACE","PURGE"]}}}}},\
                    "rejected_code":{"type":"integer","minimum":200,"default":403},"rejected_msg":{"type":"string"}},\
                    "anyOf":[{"required":["blacklist"]},{"required":["whitelist"]},\
                    {"required":["allowed_by_methods"]}],"priority":2400}""");

    static {
        Map<String, String> all = new java.util.LinkedHashMap<>(JSON_SCHEMAS_FIRST);
        all.put("forward-auth", """
                {"type":"object","properties":{"uri":{"type":"string"},"ssl_verify":{"type":"boolean","default":true},\
                "request_method":{"type":"string","enum":["GET"],"default":"GET"},\
                "request_headers":{"type":"array","items":{"type":"string"}},\
                "upstream_headers":{"type":"array","items":{"type":"string"}},\
                "client_headers":{"type":"array","items":{"type":"string"}},\
                "timeout":{"type":"integer","minimum":1,"maximum":60000,"default":3000},\
                "keepalive":{"type":"boolean","default":true},\
                "keepalive_timeout":{"type":"integer","minimum":1000,"default":60000},\
                "keepalive_pool":{"type":"integer","minimum":1,"default":5},\
                "allow_degradation":{"type":"boolean","default":false},\
                "status_on_error":{"type":"integer","minimum":200,"maximum":599,"default":403}},\
                "required":["uri"],"priority":2002}""");
        all.putAll(LimitPluginSchemas.JSON_SCHEMAS);
        all.putAll(SteeringPluginSchemas.JSON_SCHEMAS);
        all.put("opentelemetry", TracingPluginSchemas.JSON_SCHEMA);
        all.put("file-logger", """
                {"type":"object","properties":{"path":{"type":"string"},\
                "include_req_body":{"type":"boolean","default":false},\
                "include_resp_body":{"type":"boolean","default":false}},"required":["path"],"priority":399}""");
        all.put("http-logger", """
                {"type":"object","properties":{"uri":{"type":"string"},"auth_header":{"type":"string"},\
                "timeout":{"type":"integer","minimum":1,"default":3},\
                "concat_method":{"type":"string","enum":["json","new_line"],"default":"json"},\
                "ssl_verify":{"type":"boolean","default":false},\
                "include_req_body":{"type":"boolean","default":false},\
                "include_resp_body":{"type":"boolean","default":false},\
                "name":{"type":"string","default":"http logger"},\
                "batch_max_size":{"type":"integer","minimum":1,"default":1000},\
                "inactive_timeout":{"type":"integer","minimum":1,"default":5},\
                "buffer_duration":{"type":"integer","minimum":1,"default":60},\
                "max_retry_count":{"type":"integer","minimum":0,"default":0},\
                "retry_delay":{"type":"integer","minimum":0,"default":1}},"required":["uri"],"priority":410}""");
        all.put("prometheus", """
                {"type":"object","properties":{"prefer_name":{"type":"boolean","default":false}},"priority":500}""");
        JSON_SCHEMAS = java.util.Collections.unmodifiableMap(all);
    }

    /** {@code registry} with every implemented plugin registered. */
    public static PluginRegistry register(PluginRegistry registry) {
        PluginRegistry r = registry;
        for (Map.Entry<String, PluginRegistry.SchemaValidator> e : Map.<String, PluginRegistry.SchemaValidator>of(
                "key-auth", BuiltinPluginSchemas::keyAuth,
                "proxy-rewrite", route(BuiltinPluginSchemas::proxyRewrite),
                "response-rewrite", route(BuiltinPluginSchemas::responseRewrite),
                "cors", route(BuiltinPluginSchemas::cors),
                "request-id", route(BuiltinPluginSchemas::requestId),
                "redirect", route(BuiltinPluginSchemas::redirect),
                "ip-restriction", route(BuiltinPluginSchemas::ipRestriction),
                "basic-auth", auth(AuthPluginSchemas::basicAuth),
                "jwt-auth", auth(AuthPluginSchemas::jwtAuth),
                "consumer-restriction", route(AuthPluginSchemas::consumerRestriction)).entrySet()) {
            r = r.with(e.getKey(), e.getValue());
        }
        r = LimitPluginSchemas.register(r);
        r = SteeringPluginSchemas.register(r);
        r = r.with("opentelemetry", route(TracingPluginSchemas::openTelemetry));
        r = r.with("file-logger", route(BuiltinPluginSchemas::fileLogger))
                .with("http-logger", route(BuiltinPluginSchemas::httpLogger));
        r = r.with("prometheus", route(BuiltinPluginSchemas::prometheus));
        return r.with("forward-auth", (conf, type) -> type == PluginRegistry.SchemaType.ROUTE ? forwardAuth(conf)
                : type == PluginRegistry.SchemaType.CONSUMER
                ? "forward-auth is not supported on a consumer (an asynchronous plugin runs only from a route)"
                : "plugin metadata is not supported for this plugin");
    }

    private interface RouteSchema {
        String check(ObjectNode c);
    }

    /** A plugin that acts on requests only where a route runs it: refused in consumers and metadata. */
    private static PluginRegistry.SchemaValidator route(RouteSchema s) {
        // On a consumer a plugin is merged into the routes the consumer calls (APISIX: consumer > route), so it is
        // checked with the route schema.
        return (conf, type) -> type != PluginRegistry.SchemaType.METADATA ? s.check(conf)
                : "plugin metadata is not supported for this plugin";
    }

    private interface AuthSchema {
        String check(ObjectNode c, boolean consumer);
    }

    /** An auth plugin: a route schema and a consumer (credential) schema; no metadata. */
    private static PluginRegistry.SchemaValidator auth(AuthSchema s) {
        return (conf, type) -> type == PluginRegistry.SchemaType.METADATA
                ? "plugin metadata is not supported for this plugin"
                : s.check(conf, type == PluginRegistry.SchemaType.CONSUMER);
    }

    // ---------------------------------------------------------------- schemas

    static String keyAuth(ObjectNode c, PluginRegistry.SchemaType type) {
        if (type == PluginRegistry.SchemaType.CONSUMER) {
            String e = only(c, "key", "_meta");
            if (e != null) {
                return e;
            }
            if (!c.has("key")) {
                return "property \"key\" is required";
            }
            return string(c, "key", 1, 4096);
        }
        if (type == PluginRegistry.SchemaType.METADATA) {
            return "plugin metadata is not supported for this plugin";
        }
        String e = only(c, "header", "query", "hide_credentials", "_meta");
        if (e == null) {
            e = string(c, "header", 1, 256);
        }
        if (e == null) {
            e = string(c, "query", 1, 256);
        }
        if (e == null) {
            e = bool(c, "hide_credentials");
        }
        if (e == null) {
            e = headerName(c, "header");
        }
        return e != null ? e : meta(c);
    }

    static String proxyRewrite(ObjectNode c) {
        String e = only(c, "uri", "host", "method", "headers", "use_real_request_uri_unsafe", "regex_uri", "_meta");
        if (e != null) {
            return e;
        }
        e = regexUri(c);
        if (e != null) {
            return e;
        }
        e = string(c, "uri", 1, 4096);
        if (e == null && c.has("uri")) {
            String u = c.get("uri").asText();
            if (!u.startsWith("/")) {
                return "property \"uri\" validation failed: failed to match pattern \"^\\\\/.*\" with \"" + u + "\"";
            }
            e = checkVars("uri", u);
        }
        if (e == null) {
            e = string(c, "host", 1, 255);
        }
        if (e == null && c.has("host") && !c.get("host").asText().matches("^[0-9a-zA-Z\\-.]+(:\\d{1,5})?$")) {
            e = "property \"host\" validation failed: failed to match pattern \"^[0-9a-zA-Z-.]+(:\\\\d{1,5})?$\" with \""
                    + c.get("host").asText() + "\"";
        }
        if (e == null && c.has("method")) {
            e = enumOf(c, "method", Set.of("GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "MKCOL", "COPY", "MOVE",
                    "PROPFIND", "LOCK", "UNLOCK", "PATCH", "TRACE"));
        }
        if (e == null) {
            e = bool(c, "use_real_request_uri_unsafe");
        }
        if (e == null && c.path("use_real_request_uri_unsafe").asBoolean(false)) {
            e = "property \"use_real_request_uri_unsafe\" is not supported (true)";
        }
        if (e == null) {
            e = headers(c, false, true);
        }
        return e != null ? e : meta(c);
    }

    static String responseRewrite(ObjectNode c) {
        String e = only(c, "status_code", "body", "body_base64", "headers", "vars", "filters", "_meta");
        if (e != null) {
            return e;
        }
        if (c.has("vars")) {
            JsonNode vars = c.get("vars");
            if (!vars.isArray()) {
                return "property \"vars\" validation failed: wrong type: expected array, got " + type(vars);
            }
            for (JsonNode v : vars) {
                boolean ok = v.isArray() && v.size() >= 3 && "status".equals(v.get(0).asText());
                int k = ok && "!".equals(v.get(1).asText()) ? 2 : 1;
                ok = ok && v.size() == k + 2;
                if (ok) {
                    String op = v.get(k).asText();
                    JsonNode val = v.get(k + 1);
                    ok = op.equals("in") ? val.isArray() && !val.isEmpty()
                            : Set.of("==", "~=", ">", ">=", "<", "<=").contains(op)
                            && (val.canConvertToInt() || val.isTextual() && val.asText().matches("\\d{3}"));
                }
                if (!ok) {
                    return "property \"vars\": only conditions on the response status are supported yet"
                            + " ([\"status\", op, value], ops == ~= > >= < <= in, optionally negated with \"!\"): " + v;
                }
            }
        }
        if (c.has("filters")) {
            return "property \"filters\" is not supported yet";
        }
        e = integer(c, "status_code", 200, 598);
        if (e == null) {
            e = string(c, "body", 0, Integer.MAX_VALUE);
        }
        if (e == null) {
            e = bool(c, "body_base64");
        }
        if (e == null && c.path("body_base64").asBoolean(false)) {
            if (!c.has("body")) {
                return "property \"body\" is required when \"body_base64\" is true";
            }
            try {
                java.util.Base64.getDecoder().decode(c.get("body").asText());
            } catch (IllegalArgumentException ex) {
                return "invalid base64 content";
            }
        }
        if (e == null) {
            e = headers(c, true, false);
        }
        return e != null ? e : meta(c);
    }

    static String cors(ObjectNode c) {
        String e = only(c, "allow_origins", "allow_methods", "allow_headers", "expose_headers", "max_age",
                "allow_credential", "allow_origins_by_regex", "allow_origins_by_metadata", "timing_allow_origins",
                "timing_allow_origins_by_regex", "_meta");
        if (e != null) {
            return e;
        }
        for (String f : new String[]{"allow_origins_by_regex", "allow_origins_by_metadata", "timing_allow_origins",
                "timing_allow_origins_by_regex"}) {
            if (c.has(f)) {
                return "property \"" + f + "\" is not supported yet";
            }
        }
        for (String f : new String[]{"allow_origins", "allow_methods", "allow_headers", "expose_headers"}) {
            e = string(c, f, 1, 4096);
            if (e != null) {
                return e;
            }
        }
        e = integer(c, "max_age", Long.MIN_VALUE, Long.MAX_VALUE);
        if (e == null) {
            e = bool(c, "allow_credential");
        }
        if (e != null) {
            return e;
        }
        if (c.path("allow_credential").asBoolean(false)) {
            for (String f : new String[]{"allow_origins", "allow_methods", "allow_headers", "expose_headers"}) {
                JsonNode v = c.get(f);
                if (v == null && !f.equals("expose_headers") || v != null && v.asText().equals("*")) {
                    return "you can not set '*' for other option when 'allow_credential' is true";
                }
            }
        }
        return meta(c);
    }

    /** Fields of APISIX's loggers that Turnpike does not act on: refused by name with the reason. */
    private static String loggerUnsupported(ObjectNode c) {
        for (String f : new String[]{"log_format", "include_req_body_expr", "include_resp_body_expr", "match",
                "max_pending_entries"}) {
            if (c.has(f)) {
                return "property \"" + f + "\" is not supported yet"
                        + (f.equals("log_format") ? " (entries use APISIX's default log format)" : "");
            }
        }
        for (String f : new String[]{"include_req_body", "include_resp_body"}) {
            String e = bool(c, f);
            if (e != null) {
                return e;
            }
            if (c.has(f) && c.get(f).booleanValue()) {
                return "property \"" + f + "\" is not supported yet: true (bodies are not logged)";
            }
        }
        return null;
    }

    static String fileLogger(ObjectNode c) {
        String e = loggerUnsupported(c);
        if (e == null) {
            e = only(c, "path", "include_req_body", "include_resp_body", "_meta");
        }
        if (e == null && !c.has("path")) {
            e = "property \"path\" is required";
        }
        if (e == null) {
            e = string(c, "path", 1, 4096);
        }
        return e == null ? meta(c) : e;
    }

    static String httpLogger(ObjectNode c) {
        String e = loggerUnsupported(c);
        if (e == null) {
            e = only(c, "uri", "auth_header", "timeout", "concat_method", "ssl_verify", "include_req_body",
                    "include_resp_body", "name", "batch_max_size", "inactive_timeout", "buffer_duration",
                    "max_retry_count", "retry_delay", "_meta");
        }
        if (e == null && !c.has("uri")) {
            e = "property \"uri\" is required";
        }
        if (e == null) {
            e = string(c, "uri", 1, 4096);
        }
        if (e == null) {
            String u = c.get("uri").asText();
            java.net.URI uri = null;
            try {
                uri = new java.net.URI(u);
            } catch (java.net.URISyntaxException x) {
                e = "property \"uri\" validation failed: invalid uri \"" + u + "\"";
            }
            if (e == null && (uri.getHost() == null || uri.getScheme() == null
                    || !(uri.getScheme().equals("http") || uri.getScheme().equals("https")))) {
                e = "property \"uri\" validation failed: expected an http:// or https:// uri with a host, got \""
                        + u + "\"";
            }
            if (e == null && uri.getScheme().equals("https")
                    && !(c.has("ssl_verify") && c.get("ssl_verify").isBoolean() && c.get("ssl_verify").booleanValue())) {
                e = "property \"ssl_verify\": false with an https:// uri is not supported (set ssl_verify: true;"
                        + " the receiver's certificate is then verified against the JDK's trust store)";
            }
        }
        for (String f : new String[]{"auth_header", "name"}) {
            if (e == null) {
                e = string(c, f, 0, 4096);
            }
        }
        if (e == null) {
            e = bool(c, "ssl_verify");
        }
        if (e == null && c.has("concat_method")) {
            e = enumOf(c, "concat_method", Set.of("json", "new_line"));
        }
        if (e == null) {
            e = integer(c, "timeout", 1, 3600);
        }
        if (e == null) {
            e = integer(c, "batch_max_size", 1, 100_000);
        }
        if (e == null) {
            e = integer(c, "inactive_timeout", 1, 86_400);
        }
        if (e == null) {
            e = integer(c, "buffer_duration", 1, 86_400);
        }
        if (e == null) {
            e = integer(c, "max_retry_count", 0, 100);
        }
        if (e == null) {
            e = integer(c, "retry_delay", 0, 3600);
        }
        return e == null ? meta(c) : e;
    }

    /** APISIX's prometheus: {@code prefer_name} only (plugin_attr.prometheus holds the exporter's settings). */
    static String prometheus(ObjectNode c) {
        String e = only(c, "prefer_name", "_meta");
        if (e == null) {
            e = bool(c, "prefer_name");
        }
        return e != null ? e : meta(c);
    }

    static String requestId(ObjectNode c) {
        String e = only(c, "header_name", "include_in_response", "algorithm", "range_id", "_meta");
        if (e == null) {
            e = string(c, "header_name", 1, 256);
        }
        if (e == null) {
            e = headerName(c, "header_name");
        }
        if (e == null) {
            e = bool(c, "include_in_response");
        }
        if (e == null && c.has("algorithm")) {
            e = enumOf(c, "algorithm", Set.of("uuid", "nanoid", "range_id"));
            if (e == null && !c.get("algorithm").asText().equals("uuid")) {
                e = "property \"algorithm\" is not supported yet: \"" + c.get("algorithm").asText()
                        + "\" (uuid only)";
            }
        }
        if (e == null && c.has("range_id")) {
            e = "property \"range_id\" is not supported yet";
        }
        return e != null ? e : meta(c);
    }

    static String redirect(ObjectNode c) {
        String e = only(c, "http_to_https", "uri", "regex_uri", "ret_code", "encode_uri", "append_query_string",
                "_meta");
        if (e != null) {
            return e;
        }
        e = regexUri(c);
        if (e != null) {
            return e;
        }
        e = bool(c, "http_to_https");
        if (e == null) {
            e = string(c, "uri", 2, 4096);
        }
        if (e == null && c.has("uri")) {
            e = noVars("uri", c.get("uri").asText());
        }
        if (e == null) {
            e = integer(c, "ret_code", 200, Long.MAX_VALUE);
        }
        if (e == null) {
            e = bool(c, "encode_uri");
        }
        if (e == null && c.path("encode_uri").asBoolean(false)) {
            e = "property \"encode_uri\" is not supported yet (true)";
        }
        if (e == null) {
            e = bool(c, "append_query_string");
        }
        if (e != null) {
            return e;
        }
        boolean toHttps = c.path("http_to_https").asBoolean(false);
        if ((toHttps ? 1 : 0) + (c.has("uri") ? 1 : 0) + (c.has("regex_uri") ? 1 : 0) > 1) {
            return "only one of `http_to_https`, `uri` and `regex_uri` can be configured.";
        }
        if (toHttps && c.path("append_query_string").asBoolean(false)) {
            return "only one of `http_to_https` and `append_query_string` can be configured.";
        }
        if (!toHttps && !c.has("uri") && !c.has("regex_uri")) {
            return "value should match only one schema, but matches none";
        }
        return meta(c);
    }

    static String forwardAuth(ObjectNode c) {
        String e = only(c, "uri", "ssl_verify", "request_method", "request_headers", "upstream_headers",
                "client_headers", "timeout", "keepalive", "keepalive_timeout", "keepalive_pool", "allow_degradation",
                "status_on_error", "extra_headers", "_meta");
        if (e != null) {
            return e;
        }
        if (c.has("extra_headers")) {
            return "property \"extra_headers\" is not supported yet";
        }
        if (!c.has("uri")) {
            return "property \"uri\" is required";
        }
        e = string(c, "uri", 1, 4096);
        if (e != null) {
            return e;
        }
        try {
            java.net.URI u = java.net.URI.create(c.get("uri").asText());
            if ("https".equals(u.getScheme())) {
                return "property \"uri\": https auth services are not supported yet";
            }
            if (!"http".equals(u.getScheme()) || u.getHost() == null) {
                return "property \"uri\" validation failed: expected an http:// URL";
            }
        } catch (IllegalArgumentException ex) {
            return "property \"uri\" validation failed: " + ex.getMessage();
        }
        if (c.has("request_method")) {
            e = enumOf(c, "request_method", Set.of("GET", "POST"));
            if (e == null && !c.get("request_method").asText().equals("GET")) {
                e = "property \"request_method\" is not supported yet: POST (the request body is not sent)";
            }
        }
        for (String f : new String[]{"request_headers", "upstream_headers", "client_headers"}) {
            JsonNode a = c.get(f);
            if (e == null && a != null) {
                if (!a.isArray()) {
                    e = "property \"" + f + "\" validation failed: wrong type: expected array, got " + type(a);
                } else {
                    for (JsonNode n : a) {
                        if (!n.isTextual() || !isToken(n.asText())) {
                            e = "property \"" + f + "\" validation failed: " + n + " is not a header name";
                            break;
                        }
                    }
                }
            }
        }
        if (e == null) {
            e = integer(c, "timeout", 1, 60000);
        }
        if (e == null) {
            e = integer(c, "keepalive_timeout", 1000, Long.MAX_VALUE);
        }
        if (e == null) {
            e = integer(c, "keepalive_pool", 1, Long.MAX_VALUE);
        }
        if (e == null) {
            e = integer(c, "status_on_error", 200, 599);
        }
        for (String f : new String[]{"ssl_verify", "keepalive", "allow_degradation"}) {
            if (e == null) {
                e = bool(c, f);
            }
        }
        return e != null ? e : meta(c);
    }

    static String ipRestriction(ObjectNode c) {
        String e = only(c, "whitelist", "blacklist", "message", "response_code", "_meta");
        if (e != null) {
            return e;
        }
        boolean w = c.has("whitelist");
        boolean b = c.has("blacklist");
        if (w == b) {
            return w ? "value should match only one schema, but matches both schemas 1 and 2"
                    : "value should match only one schema, but matches none";
        }
        String list = w ? "whitelist" : "blacklist";
        JsonNode a = c.get(list);
        if (!a.isArray()) {
            return "property \"" + list + "\" validation failed: wrong type: expected array, got " + type(a);
        }
        if (a.isEmpty()) {
            return "property \"" + list + "\" validation failed: expect array to have at least 1 items";
        }
        for (JsonNode n : a) {
            if (!n.isTextual() || !isIpOrCidr(n.asText())) {
                return "property \"" + list + "\" validation failed: failed to validate item " + "as an IP address"
                        + " or CIDR: " + n;
            }
        }
        e = string(c, "message", 1, 1024);
        if (e == null) {
            e = integer(c, "response_code", 403, 404);
        }
        return e != null ? e : meta(c);
    }

    // ---------------------------------------------------------------- helpers (APISIX jsonschema wording)

    /** APISIX's regex_uri: [pattern, template, ...] pairs; patterns must run on the linear-time engine. */
    private static String regexUri(ObjectNode c) {
        JsonNode r = c.get("regex_uri");
        if (r == null) {
            return null;
        }
        if (!r.isArray()) {
            return "property \"regex_uri\" validation failed: wrong type: expected array, got " + type(r);
        }
        if (r.size() < 2 || r.size() % 2 != 0) {
            return "property \"regex_uri\" validation failed: expect array to have pairs of pattern and template";
        }
        for (int i = 0; i < r.size(); i++) {
            if (!r.get(i).isTextual()) {
                return "property \"regex_uri\" validation failed: failed to validate item " + (i + 1)
                        + ": wrong type: expected string, got " + type(r.get(i));
            }
            if (i % 2 == 0) {
                try {
                    io.turnpike.config.regex.LinearRegex.compile(r.get(i).asText(), false);
                } catch (IllegalArgumentException ex) {
                    return "property \"regex_uri\" validation failed: failed to validate item " + (i + 1) + ": "
                            + ex.getMessage();
                }
            } else if (r.get(i).asText().matches(".*\\$[A-Za-z_].*")) {
                return "property \"regex_uri\": variables in templates are not supported yet, only group references";
            }
        }
        return null;
    }

    static String meta(ObjectNode c) {
        JsonNode m = c.get("_meta");
        if (m == null) {
            return null;
        }
        if (!m.isObject()) {
            return "property \"_meta\" validation failed: wrong type: expected object, got " + type(m);
        }
        for (java.util.Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("disable")) {
                return "property \"_meta\" validation failed: \"" + f + "\" is not supported yet";
            }
        }
        JsonNode d = m.get("disable");
        return d != null && !d.isBoolean()
                ? "property \"_meta\" validation failed: property \"disable\" validation failed: wrong type: expected"
                + " boolean, got " + type(d) : null;
    }

    static String only(ObjectNode c, String... allowed) {
        Set<String> a = Set.of(allowed);
        for (java.util.Iterator<String> it = c.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!a.contains(f)) {
                return "additional properties forbidden, found " + f;
            }
        }
        return null;
    }

    static String type(JsonNode n) {
        if (n.isTextual()) {
            return "string";
        }
        if (n.isIntegralNumber()) {
            return "integer";
        }
        if (n.isNumber()) {
            return "number";
        }
        if (n.isBoolean()) {
            return "boolean";
        }
        if (n.isArray()) {
            return "array";
        }
        if (n.isObject()) {
            return "object";
        }
        return "null";
    }

    static String string(ObjectNode c, String f, int min, int max) {
        JsonNode n = c.get(f);
        if (n == null) {
            return null;
        }
        if (!n.isTextual()) {
            return "property \"" + f + "\" validation failed: wrong type: expected string, got " + type(n);
        }
        int len = n.asText().length();
        if (len < min) {
            return "property \"" + f + "\" validation failed: string too short, expected at least " + min + ", got "
                    + len;
        }
        if (len > max) {
            return "property \"" + f + "\" validation failed: string too long, expected at most " + max + ", got "
                    + len;
        }
        return null;
    }

    static String bool(ObjectNode c, String f) {
        JsonNode n = c.get(f);
        return n == null || n.isBoolean() ? null
                : "property \"" + f + "\" validation failed: wrong type: expected boolean, got " + type(n);
    }

    static String integer(ObjectNode c, String f, long min, long max) {
        JsonNode n = c.get(f);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber()) {
            return "property \"" + f + "\" validation failed: wrong type: expected integer, got " + type(n);
        }
        long v = n.asLong();
        if (v < min) {
            return "property \"" + f + "\" validation failed: expected " + v + " to be at least " + min;
        }
        if (v > max) {
            return "property \"" + f + "\" validation failed: expected " + v + " to be at most " + max;
        }
        return null;
    }

    static String enumOf(ObjectNode c, String f, Set<String> values) {
        JsonNode n = c.get(f);
        if (!n.isTextual() || !values.contains(n.asText())) {
            return "property \"" + f + "\" validation failed: matches none of the enum values";
        }
        return null;
    }

    private static String noVars(String f, String v) {
        return v.indexOf('$') >= 0 ? "property \"" + f + "\": variables ($name) are not supported yet" : null;
    }

    private static String headerName(ObjectNode c, String f) {
        JsonNode n = c.get(f);
        if (n != null && !isToken(n.asText())) {
            return "property \"" + f + "\" validation failed: \"" + n.asText() + "\" is not a valid header name";
        }
        return null;
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch <= 32 || ch >= 127 || "()<>@,;:\\\"/[]?={}".indexOf(ch) >= 0) {
                return false;
            }
        }
        return true;
    }

    /** Framing and hop-by-hop headers a plugin may not set or remove (the gateway owns them). */
    private static final Set<String> RESERVED = Set.of("content-length", "transfer-encoding", "connection",
            "keep-alive", "upgrade", "te", "trailer", "proxy-connection", "host");

    private static String headerValue(String path, String name, JsonNode v) {
        return headerValue(path, name, v, false);
    }

    /** The request variables proxy-rewrite renders (engine: ValueTemplate). */
    private static final Set<String> VARIABLES = Set.of("uri", "request_uri", "args", "query_string", "host",
            "remote_addr", "scheme", "request_method", "consumer_name");

    /** Null when every {@code $name}/{@code ${name}} in {@code v} is a variable the engine renders. */
    static String checkVars(String f, String v) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\$(?:\\{([^}]*)}|([A-Za-z0-9_]+))").matcher(v);
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            if (!VARIABLES.contains(name) && !(name.startsWith("arg_") && name.length() > 4)
                    && !(name.startsWith("http_") && name.length() > 5)) {
                return "property \"" + f + "\": variable $" + name + " is not supported";
            }
        }
        if (v.contains("${") && !v.matches(".*\\$\\{[^}]*}.*")) {
            return "property \"" + f + "\": unterminated ${";
        }
        return null;
    }

    private static String headerValue(String path, String name, JsonNode v, boolean allowVars) {
        if (!isToken(name)) {
            return "property \"headers\" validation failed: \"" + name + "\" is not a valid header name";
        }
        if (RESERVED.contains(name.toLowerCase(java.util.Locale.ROOT))) {
            return "property \"headers\" validation failed: header \"" + name + "\" is managed by the gateway"
                    + (name.equalsIgnoreCase("host") ? " (use \"host\")" : "");
        }
        if (v != null) {
            if (!v.isTextual() && !v.isNumber()) {
                return "property \"" + path + "\" validation failed: wrong type: expected string, got " + type(v);
            }
            String s = v.asText();
            if (s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0) {
                return "property \"" + path + "\" validation failed: CR or LF in a header value";
            }
            if (s.indexOf('$') >= 0) {
                if (!allowVars) {
                    return "property \"" + path + "\": variables ($name) are not supported in these header values"
                            + " yet (only proxy-rewrite renders them)";
                }
                String err = checkVars(path, s);
                if (err != null) {
                    return err;
                }
            }
        }
        return null;
    }

    /** APISIX's {@code headers}: {@code add}/{@code set}/{@code remove}, or a flat map (set; "" removes). */
    private static String headers(ObjectNode c, boolean addAsLines, boolean allowVars) {
        JsonNode h = c.get("headers");
        if (h == null) {
            return null;
        }
        if (!h.isObject()) {
            return "property \"headers\" validation failed: wrong type: expected object, got " + type(h);
        }
        boolean structured = h.has("add") || h.has("set") || h.has("remove");
        if (!structured) {
            for (java.util.Iterator<Map.Entry<String, JsonNode>> it = h.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String err = headerValue("headers." + e.getKey(), e.getKey(), e.getValue(), allowVars);
                if (err != null) {
                    return err;
                }
            }
            return null;
        }
        for (java.util.Iterator<String> it = h.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("add") && !f.equals("set") && !f.equals("remove")) {
                return "property \"headers\" validation failed: additional properties forbidden, found " + f;
            }
        }
        JsonNode set = h.get("set");
        if (set != null) {
            if (!set.isObject()) {
                return "property \"headers\" validation failed: property \"set\" validation failed: wrong type:"
                        + " expected object, got " + type(set);
            }
            for (java.util.Iterator<Map.Entry<String, JsonNode>> it = set.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String err = headerValue("headers.set." + e.getKey(), e.getKey(), e.getValue(), allowVars);
                if (err != null) {
                    return err;
                }
            }
        }
        JsonNode add = h.get("add");
        if (add != null) {
            if (addAsLines) {
                if (!add.isArray()) {
                    return "property \"headers\" validation failed: property \"add\" validation failed: wrong type:"
                            + " expected array, got " + type(add);
                }
                for (JsonNode line : add) {
                    String s = line.asText();
                    int colon = s.indexOf(':');
                    if (!line.isTextual() || colon <= 0) {
                        return "property \"headers\" validation failed: property \"add\" validation failed: failed to"
                                + " match pattern \"^[^:]+:[^:]*[^/]$\" with \"" + s + "\"";
                    }
                    String err = headerValue("headers.add", s.substring(0, colon).trim(),
                            com.fasterxml.jackson.databind.node.TextNode.valueOf(s.substring(colon + 1).trim()));
                    if (err != null) {
                        return err;
                    }
                }
            } else {
                if (!add.isObject()) {
                    return "property \"headers\" validation failed: property \"add\" validation failed: wrong type:"
                            + " expected object, got " + type(add);
                }
                for (java.util.Iterator<Map.Entry<String, JsonNode>> it = add.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    String err = headerValue("headers.add." + e.getKey(), e.getKey(), e.getValue(), allowVars);
                    if (err != null) {
                        return err;
                    }
                }
            }
        }
        JsonNode remove = h.get("remove");
        if (remove != null) {
            if (!remove.isArray()) {
                return "property \"headers\" validation failed: property \"remove\" validation failed: wrong type:"
                        + " expected array, got " + type(remove);
            }
            for (JsonNode n : remove) {
                String err = n.isTextual() ? headerValue("headers.remove", n.asText(), null)
                        : "property \"headers\" validation failed: property \"remove\" validation failed: wrong type:"
                        + " expected string, got " + type(n);
                if (err != null) {
                    return err;
                }
            }
        }
        return null;
    }

    private static boolean isIpOrCidr(String s) {
        int slash = s.indexOf('/');
        String ip = slash >= 0 ? s.substring(0, slash) : s;
        if (!ip.matches("[0-9.]+") && !(ip.contains(":") && ip.matches("[0-9a-fA-F:.]+"))) {
            return false; // a literal only: never a DNS lookup
        }
        try {
            InetAddress a = InetAddress.getByName(ip);
            if (slash >= 0) {
                int bits = Integer.parseInt(s.substring(slash + 1));
                return bits >= 0 && bits <= (a.getAddress().length * 8);
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
