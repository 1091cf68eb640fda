package io.turnpike.config.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.codec.Decoded;
import io.turnpike.config.codec.FieldError;
import io.turnpike.config.codec.ResourceCodec;

import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static io.turnpike.config.plugin.BuiltinPluginSchemas.integer;
import static io.turnpike.config.plugin.BuiltinPluginSchemas.meta;
import static io.turnpike.config.plugin.BuiltinPluginSchemas.only;
import static io.turnpike.config.plugin.BuiltinPluginSchemas.string;
import static io.turnpike.config.plugin.BuiltinPluginSchemas.type;

/**
 * The schemas of {@code api-breaker} and {@code traffic-split} (APISIX 3.x fields, defaults and jsonschema wording).
 * Turnpike refuses what APISIX would accept and ignore: unknown fields, a weighted upstream with both
 * {@code upstream_id} and {@code upstream} (APISIX silently prefers the id), header values with variables the engine
 * does not render. Inline upstreams of traffic-split are checked by the same decoder as a route's upstream
 * ({@link ResourceCodec#decodeUpstream}), match {@code vars} by the same checks as a route's {@code vars}. Both
 * plugins are refused on consumers (APISIX's api-breaker keys its state by host and URI, traffic-split replaces the
 * route's upstream: neither means anything merged from a consumer in Turnpike's consumer chain).
 */
public final class SteeringPluginSchemas {
    private SteeringPluginSchemas() {
    }

    /** JSON schema documents served by the Admin API. */
    static final Map<String, String> JSON_SCHEMAS = Map.of(
            "api-breaker", """
                    {"type":"object","properties":{"break_response_code":{"type":"integer","minimum":200,\
                    "maximum":599},"break_response_body":{"type":"string"},\
                    "break_response_headers":{"type":"array","items":{"type":"object","properties":{\
                    "key":{"type":"string","minLength":1},"value":{"type":"string","minLength":1}},\
                    "required":["key","value"]}},"max_breaker_sec":{"type":"integer","minimum":3,"default":300},\
                    "unhealthy":{"type":"object","properties":{"http_statuses":{"type":"array","minItems":1,\
                    "items":{"type":"integer","minimum":500,"maximum":599},"uniqueItems":true,"default":[500]},\
                    "failures":{"type":"integer","minimum":1,"default":3}},\
                    "default":{"http_statuses":[500],"failures":3}},\
                    "healthy":{"type":"object","properties":{"http_statuses":{"type":"array","minItems":1,\
                    "items":{"type":"integer","minimum":200,"maximum":499},"uniqueItems":true,"default":[200]},\
                    "successes":{"type":"integer","minimum":1,"default":3}},\
                    "default":{"http_statuses":[200],"successes":3}}},\
                    "required":["break_response_code"],"priority":1005}""",
            "traffic-split", """
                    {"type":"object","properties":{"rules":{"type":"array","items":{"type":"object","properties":{\
                    "match":{"type":"array","items":{"type":"object","properties":{"vars":{"type":"array"}}}},\
                    "weighted_upstreams":{"type":"array","items":{"type":"object","properties":{\
                    "upstream_id":{"anyOf":[{"type":"string","minLength":1,"maxLength":64,\
                    "pattern":"^[a-zA-Z0-9-_.]+$"},{"type":"integer","minimum":1}]},\
                    "upstream":{"type":"object"},\
                    "weight":{"type":"integer","default":1,"minimum":0}}},\
                    "default":[{"weight":1}],"minItems":1,"maxItems":20}}}}},"priority":966}""");

    /** Registers both plugins: on routes, services, plugin_configs and global rules; refused on consumers. */
    static PluginRegistry register(PluginRegistry r) {
        return r.with("api-breaker", validator("api-breaker", SteeringPluginSchemas::apiBreaker))
                .with("traffic-split", validator("traffic-split", SteeringPluginSchemas::trafficSplit));
    }

    private interface Check {
        String check(ObjectNode c);
    }

    private static PluginRegistry.SchemaValidator validator(String name, Check c) {
        return (conf, type) -> switch (type) {
            case ROUTE -> c.check(conf);
            case CONSUMER -> name + " is not supported on a consumer";
            case METADATA -> "plugin metadata is not supported for this plugin";
        };
    }

    // ---------------------------------------------------------------- api-breaker

    /** Header names the gateway owns (framing, hop-by-hop): a local reply's are written by the gateway. */
    private static final Set<String> RESERVED = Set.of("content-length", "transfer-encoding", "connection",
            "keep-alive", "upgrade", "te", "trailer", "proxy-connection");

    static String apiBreaker(ObjectNode c) {
        String e = only(c, "break_response_code", "break_response_body", "break_response_headers",
                "max_breaker_sec", "unhealthy", "healthy", "_meta");
        if (e == null) {
            e = meta(c);
        }
        if (e != null) {
            return e;
        }
        if (!c.has("break_response_code")) {
            return "property \"break_response_code\" is required";
        }
        e = integer(c, "break_response_code", 200, 599);
        if (e == null) {
            e = string(c, "break_response_body", 0, 1 << 20);
        }
        if (e == null) {
            e = breakHeaders(c.get("break_response_headers"));
        }
        if (e == null) {
            e = integer(c, "max_breaker_sec", 3, Integer.MAX_VALUE);
        }
        if (e == null) {
            e = thresholds(c, "unhealthy", "failures", 500, 599);
        }
        if (e == null) {
            e = thresholds(c, "healthy", "successes", 200, 499);
        }
        return e;
    }

    private static String breakHeaders(JsonNode h) {
        if (h == null) {
            return null;
        }
        String p = "property \"break_response_headers\" validation failed: ";
        if (!h.isArray()) {
            return p + "wrong type: expected array, got " + type(h);
        }
        for (int i = 0; i < h.size(); i++) {
            JsonNode item = h.get(i);
            String ip = p + "failed to validate item " + (i + 1) + ": ";
            if (!item.isObject()) {
                return ip + "wrong type: expected object, got " + type(item);
            }
            ObjectNode o = (ObjectNode) item;
            String e = only(o, "key", "value");
            if (e != null) {
                return ip + e;
            }
            for (String f : new String[]{"key", "value"}) {
                if (!o.has(f)) {
                    return ip + "property \"" + f + "\" is required";
                }
                e = string(o, f, 1, 8192);
                if (e != null) {
                    return ip + e;
                }
            }
            String key = o.get("key").asText();
            if (!isToken(key)) {
                return ip + "\"" + key + "\" is not a valid header name";
            }
            if (RESERVED.contains(key.toLowerCase(Locale.ROOT))) {
                return ip + "header \"" + key + "\" is managed by the gateway";
            }
            String v = o.get("value").asText();
            if (v.indexOf('\r') >= 0 || v.indexOf('\n') >= 0) {
                return ip + "CR or LF in a header value";
            }
            e = BuiltinPluginSchemas.checkVars("break_response_headers", v);
            if (e != null) {
                return e;
            }
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

    private static String thresholds(ObjectNode c, String f, String count, int min, int max) {
        JsonNode n = c.get(f);
        if (n == null) {
            return null;
        }
        String p = "property \"" + f + "\" validation failed: ";
        if (!n.isObject()) {
            return p + "wrong type: expected object, got " + type(n);
        }
        ObjectNode o = (ObjectNode) n;
        String e = only(o, "http_statuses", count);
        if (e == null) {
            e = integer(o, count, 1, Integer.MAX_VALUE);
        }
        if (e == null) {
            e = statuses(o.get("http_statuses"), min, max);
        }
        return e == null ? null : p + e;
    }

    private static String statuses(JsonNode s, int min, int max) {
        if (s == null) {
            return null;
        }
        String p = "property \"http_statuses\" validation failed: ";
        if (!s.isArray()) {
            return p + "wrong type: expected array, got " + type(s);
        }
        if (s.size() < 1) {
            return p + "expect array to have at least 1 items";
        }
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < s.size(); i++) {
            JsonNode v = s.get(i);
            String ip = p + "failed to validate item " + (i + 1) + ": ";
            if (!v.isIntegralNumber()) {
                return ip + "wrong type: expected integer, got " + type(v);
            }
            long x = v.asLong();
            if (x < min) {
                return ip + "expected " + x + " to be at least " + min;
            }
            if (x > max) {
                return ip + "expected " + x + " to be at most " + max;
            }
            if (!seen.add(x)) {
                return p + "expected unique items but items " + (indexOf(s, x) + 1) + " and " + (i + 1)
                        + " are equal";
            }
        }
        return null;
    }

    private static int indexOf(JsonNode a, long x) {
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i).asLong() == x) {
                return i;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------- traffic-split

    /** At most this many rules in one traffic-split (each rule runs per request). */
    public static final int MAX_RULES = 64;

    static String trafficSplit(ObjectNode c) {
        String e = only(c, "rules", "_meta");
        if (e == null) {
            e = meta(c);
        }
        if (e != null) {
            return e;
        }
        JsonNode rules = c.get("rules");
        if (rules == null) {
            return null;
        }
        String p = "property \"rules\" validation failed: ";
        if (!rules.isArray()) {
            return p + "wrong type: expected array, got " + type(rules);
        }
        if (rules.size() > MAX_RULES) {
            return p + "at most " + MAX_RULES + " rules are supported";
        }
        ResourceCodec codec = new ResourceCodec(PluginRegistry.empty());
        for (int i = 0; i < rules.size(); i++) {
            JsonNode rule = rules.get(i);
            String rp = p + "failed to validate item " + (i + 1) + ": ";
            if (!rule.isObject()) {
                return rp + "wrong type: expected object, got " + type(rule);
            }
            e = only((ObjectNode) rule, "match", "weighted_upstreams");
            if (e == null) {
                e = match(codec, rule.get("match"));
            }
            if (e == null) {
                e = weightedUpstreams(codec, rule.get("weighted_upstreams"));
            }
            if (e != null) {
                return e.startsWith("failed to validate the 'vars' expression") ? e : rp + e;
            }
        }
        return null;
    }

    private static String match(ResourceCodec codec, JsonNode m) {
        if (m == null) {
            return null;
        }
        String p = "property \"match\" validation failed: ";
        if (!m.isArray()) {
            return p + "wrong type: expected array, got " + type(m);
        }
        for (int j = 0; j < m.size(); j++) {
            JsonNode entry = m.get(j);
            String ip = p + "failed to validate item " + (j + 1) + ": ";
            if (!entry.isObject()) {
                return ip + "wrong type: expected object, got " + type(entry);
            }
            String e = only((ObjectNode) entry, "vars");
            if (e != null) {
                return ip + e;
            }
            JsonNode vars = entry.get("vars");
            if (vars == null || vars.isNull()) {
                // lua-resty-expr's new(nil), as APISIX's check_schema calls it
                return "failed to validate the 'vars' expression: missing argument rule";
            }
            if (!vars.isArray()) {
                return ip + "property \"vars\" validation failed: wrong type: expected array, got " + type(vars);
            }
            // The same checks as a route's vars (structure, bounds, regexes compiled by the data plane's engine).
            ObjectNode probe = JsonNodeFactory.instance.objectNode();
            probe.put("uri", "/");
            probe.put("upstream_id", "probe");
            probe.set("vars", vars);
            Decoded<?> d = codec.decodeRoute("traffic-split-probe", probe);
            if (!d.ok()) {
                FieldError fe = d.errors().get(0);
                return "failed to validate the 'vars' expression: "
                        + (fe.field().startsWith("vars[") ? fe.field().substring(4) + ": " : "") + fe.message();
            }
        }
        return null;
    }

    private static String weightedUpstreams(ResourceCodec codec, JsonNode w) {
        if (w == null) {
            return null;
        }
        String p = "property \"weighted_upstreams\" validation failed: ";
        if (!w.isArray()) {
            return p + "wrong type: expected array, got " + type(w);
        }
        if (w.size() < 1) {
            return p + "expect array to have at least 1 items";
        }
        if (w.size() > 20) {
            return p + "expect array to have at most 20 items";
        }
        for (int k = 0; k < w.size(); k++) {
            JsonNode wu = w.get(k);
            String ip = p + "failed to validate item " + (k + 1) + ": ";
            if (!wu.isObject()) {
                return ip + "wrong type: expected object, got " + type(wu);
            }
            ObjectNode o = (ObjectNode) wu;
            String e = only(o, "upstream_id", "upstream", "weight");
            if (e == null) {
                e = integer(o, "weight", 0, Integer.MAX_VALUE);
            }
            if (e != null) {
                return ip + e;
            }
            if (o.has("upstream_id") && o.has("upstream")) {
                return ip + "give one of \"upstream_id\" and \"upstream\" (APISIX would use upstream_id and ignore"
                        + " upstream)";
            }
            JsonNode id = o.get("upstream_id");
            if (id != null) {
                String idErr;
                if (id.isIntegralNumber()) {
                    idErr = id.asLong() >= 1 ? null : "expected " + id.asLong() + " to be at least 1";
                } else if (id.isTextual()) {
                    idErr = ResourceCodec.checkId(id.asText());
                } else {
                    idErr = "wrong type: expected string, got " + type(id);
                }
                if (idErr != null) {
                    return ip + "property \"upstream_id\" validation failed: " + idErr;
                }
            }
            JsonNode up = o.get("upstream");
            if (up != null) {
                if (!up.isObject()) {
                    return ip + "property \"upstream\" validation failed: wrong type: expected object, got "
                            + type(up);
                }
                Decoded<?> d = codec.decodeUpstream(null, up);
                if (!d.ok()) {
                    FieldError fe = d.errors().get(0);
                    return ip + "property \"upstream\" validation failed: "
                            + (fe.field().isEmpty() ? "" : fe.field() + ": ") + fe.message();
                }
            }
        }
        return null;
    }
}
