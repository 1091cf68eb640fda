package io.turnpike.config.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;
import java.util.Set;

import static io.turnpike.config.plugin.BuiltinPluginSchemas.bool;
import static io.turnpike.config.plugin.BuiltinPluginSchemas.enumOf;
import static io.turnpike.config.plugin.BuiltinPluginSchemas.integer;
import static io.turnpike.config.plugin.BuiltinPluginSchemas.meta;
import static io.turnpike.config.plugin.BuiltinPluginSchemas.only;
import static io.turnpike.config.plugin.BuiltinPluginSchemas.string;
import static io.turnpike.config.plugin.BuiltinPluginSchemas.type;

/**
 * The schemas of {@code limit-count}, {@code limit-req} and {@code limit-conn}, with APISIX's fields, defaults and
 * wording, and the policy keys of {@code redis} / {@code redis-cluster} (APISIX's {@code utils/redis-schema}). What
 * Turnpike does not act on is refused with the reason: {@code rules} and values taken from variables
 * ({@code count: "$..."}), {@code sync_interval} other than -1 (Turnpike's leases already keep Redis off the request
 * path), {@code redis-sentinel}.
 */
public final class LimitPluginSchemas {
    private LimitPluginSchemas() {
    }

    static final Set<String> POLICIES = Set.of("local", "redis", "redis-cluster");
    /** The engine's packing bounds (io.turnpike.engine.limit: LocalFixedWindow, LocalSlidingWindow, LocalLeakyBucket). */
    static final long MAX_TIME_WINDOW_S = 315_360_000L;
    static final long MAX_FIXED_COUNT = 0xFFFF_FFFFL - 1;
    static final long MAX_SLIDING_COUNT = (1L << 24) - 1;
    static final long MAX_LOCAL_BURST = 67_000;
    private static final String[] REDIS = {"redis_host", "redis_port", "redis_username", "redis_password",
            "redis_database", "redis_timeout", "redis_ssl", "redis_ssl_verify", "sync_interval"};
    private static final String[] CLUSTER = {"redis_cluster_nodes", "redis_password", "redis_timeout",
            "redis_cluster_name", "redis_cluster_ssl", "redis_cluster_ssl_verify", "sync_interval"};

    /** JSON schema documents served by the Admin API. */
    static final Map<String, String> JSON_SCHEMAS = Map.of(
            "limit-count", """
                    {"type":"object","properties":{"count":{"type":"integer","exclusiveMinimum":0},\
                    "time_window":{"type":"integer","exclusiveMinimum":0},\
                    "window_type":{"type":"string","enum":["fixed","sliding"],"default":"fixed"},\
                    "group":{"type":"string"},"key":{"type":"string","default":"remote_addr"},\
                    "key_type":{"type":"string","enum":["var","var_combination","constant"],"default":"var"},\
                    "rejected_code":{"type":"integer","minimum":200,"maximum":599,"default":503},\
                    "rejected_msg":{"type":"string","minLength":1},\
                    "policy":{"type":"string","enum":["local","redis","redis-cluster"],"default":"local"},\
                    "allow_degradation":{"type":"boolean","default":false},\
                    "show_limit_quota_header":{"type":"boolean","default":true}},\
                    "required":["count","time_window"],"priority":1002}""",
            "limit-req", """
                    {"type":"object","properties":{"rate":{"type":"number","exclusiveMinimum":0},\
                    "burst":{"type":"number","minimum":0},"key":{"type":"string"},\
                    "key_type":{"type":"string","enum":["var","var_combination"],"default":"var"},\
                    "rejected_code":{"type":"integer","minimum":200,"maximum":599,"default":503},\
                    "rejected_msg":{"type":"string","minLength":1},"nodelay":{"type":"boolean","default":false},\
                    "policy":{"type":"string","enum":["local","redis","redis-cluster"],"default":"local"},\
                    "allow_degradation":{"type":"boolean","default":false}},\
                    "required":["rate","burst","key"],"priority":1001}""",
            "limit-conn", """
                    {"type":"object","properties":{"conn":{"type":"integer","exclusiveMinimum":0},\
                    "burst":{"type":"integer","minimum":0},"default_conn_delay":{"type":"number","exclusiveMinimum":0},\
                    "only_use_default_delay":{"type":"boolean","default":false},"key":{"type":"string"},\
                    "key_type":{"type":"string","enum":["var","var_combination"],"default":"var"},\
                    "rejected_code":{"type":"integer","minimum":200,"maximum":599,"default":503},\
                    "rejected_msg":{"type":"string","minLength":1},\
                    "policy":{"type":"string","enum":["local","redis","redis-cluster"],"default":"local"},\
                    "allow_degradation":{"type":"boolean","default":false}},\
                    "required":["conn","burst","default_conn_delay","key"],"priority":1003}""");

    /** Registers the three limit plugins (on routes, services, plugin_configs, global rules and consumers). */
    static PluginRegistry register(PluginRegistry r) {
        return r.with("limit-count", validator(LimitPluginSchemas::limitCount))
                .with("limit-req", validator(LimitPluginSchemas::limitReq))
                .with("limit-conn", validator(LimitPluginSchemas::limitConn));
    }

    private interface Check {
        String check(ObjectNode c);
    }

    private static PluginRegistry.SchemaValidator validator(Check c) {
        return (conf, type) -> type == PluginRegistry.SchemaType.METADATA
                ? "plugin metadata is not supported for this plugin" : c.check(conf);
    }

    static String limitCount(ObjectNode c) {
        if (c.has("rules")) {
            return "property \"rules\" is not supported yet: configure one limit-count per route, service or consumer"
                    + " (or a group)";
        }
        String e = common(c, Set.of("count", "time_window", "window_type", "group", "key", "key_type",
                "rejected_code", "rejected_msg", "policy", "allow_degradation", "show_limit_quota_header", "_meta"),
                Set.of("var", "var_combination", "constant"));
        if (e != null) {
            return e;
        }
        for (String f : new String[]{"count", "time_window"}) {
            JsonNode n = c.get(f);
            if (n == null) {
                return "property \"" + f + "\" is required";
            }
            if (n.isTextual()) {
                return "property \"" + f + "\": values from variables are not supported yet, give an integer";
            }
            e = integer(c, f, 1, 9_007_199_254_740_991L);
            if (e != null) {
                return e;
            }
        }
        if (c.has("window_type")) {
            e = enumOf(c, "window_type", Set.of("fixed", "sliding"));
            if (e != null) {
                return e;
            }
            if (c.get("window_type").asText().equals("sliding") && !c.path("policy").asText("local").equals("local")) {
                return "property \"window_type\": sliding is supported with policy local only (the Redis policies"
                        + " lease quota of fixed windows)";
            }
        }
        // Bounds of the engine's packed per-key state (docs/rate-limits.md), checked here so a write is refused
        // rather than accepted and left out at compile.
        if (c.get("time_window").asLong() > MAX_TIME_WINDOW_S) {
            return "property \"time_window\": at most " + MAX_TIME_WINDOW_S + " seconds (10 years) is supported";
        }
        boolean sliding = c.path("window_type").asText("fixed").equals("sliding");
        long maxCount = sliding ? MAX_SLIDING_COUNT : MAX_FIXED_COUNT;
        if (c.get("count").asLong() > maxCount) {
            return "property \"count\": at most " + maxCount + " is supported"
                    + (sliding ? " with window_type sliding" : "");
        }
        e = string(c, "group", 1, 256);
        if (e != null) {
            return e;
        }
        return bool(c, "show_limit_quota_header");
    }

    static String limitReq(ObjectNode c) {
        String e = common(c, Set.of("rate", "burst", "key", "key_type", "rejected_code", "rejected_msg", "nodelay",
                "policy", "allow_degradation", "_meta"), Set.of("var", "var_combination"));
        if (e != null) {
            return e;
        }
        for (String f : new String[]{"rate", "burst", "key"}) {
            if (!c.has(f)) {
                return "property \"" + f + "\" is required";
            }
        }
        e = number(c, "rate", true);
        if (e == null) {
            e = number(c, "burst", false);
        }
        if (e == null && c.path("policy").asText("local").equals("local") && c.get("burst").asDouble() > MAX_LOCAL_BURST) {
            e = "property \"burst\": at most " + MAX_LOCAL_BURST + " is supported with policy local";
        }
        if (e == null) {
            e = bool(c, "nodelay");
        }
        return e;
    }

    static String limitConn(ObjectNode c) {
        String e = common(c, Set.of("conn", "burst", "default_conn_delay", "only_use_default_delay", "key",
                "key_type", "rejected_code", "rejected_msg", "policy", "allow_degradation", "_meta"),
                Set.of("var", "var_combination"));
        if (e != null) {
            return e;
        }
        for (String f : new String[]{"conn", "burst", "default_conn_delay", "key"}) {
            if (!c.has(f)) {
                return "property \"" + f + "\" is required";
            }
        }
        e = integer(c, "conn", 1, Integer.MAX_VALUE);
        if (e == null) {
            e = integer(c, "burst", 0, Integer.MAX_VALUE);
        }
        if (e == null) {
            e = number(c, "default_conn_delay", true);
        }
        if (e == null) {
            e = bool(c, "only_use_default_delay");
        }
        return e;
    }

    /** Fields every limit plugin has: key, key_type, rejected_*, allow_degradation, policy and its redis keys. */
    private static String common(ObjectNode c, Set<String> own, Set<String> keyTypes) {
        String policy = c.path("policy").asText("local");
        if (c.has("policy") && (!c.get("policy").isTextual() || !POLICIES.contains(policy))) {
            return policy.equals("redis-sentinel")
                    ? "property \"policy\": redis-sentinel is not supported yet (use redis or redis-cluster)"
                    : "property \"policy\" validation failed: matches none of the enum values";
        }
        java.util.Set<String> allowed = new java.util.HashSet<>(own);
        if (policy.equals("redis")) {
            allowed.addAll(java.util.List.of(REDIS));
        } else if (policy.equals("redis-cluster")) {
            allowed.addAll(java.util.List.of(CLUSTER));
        }
        String e = only(c, allowed.toArray(new String[0]));
        if (e != null) {
            return e;
        }
        if (c.has("key_type")) {
            e = enumOf(c, "key_type", keyTypes);
            if (e != null) {
                return e;
            }
        }
        e = string(c, "key", 1, 4096);
        if (e == null && c.has("key")) {
            e = keyVariables(c.get("key").asText(), c.path("key_type").asText("var"));
        }
        if (e == null) {
            e = integer(c, "rejected_code", 200, 599);
        }
        if (e == null) {
            e = string(c, "rejected_msg", 1, 4096);
        }
        if (e == null) {
            e = bool(c, "allow_degradation");
        }
        if (e == null) {
            e = meta(c);
        }
        if (e == null && policy.equals("redis")) {
            e = redis(c);
        }
        if (e == null && policy.equals("redis-cluster")) {
            e = cluster(c);
        }
        return e;
    }

    private static String redis(ObjectNode c) {
        if (!c.has("redis_host")) {
            return "then clause did not match: property \"redis_host\" is required";
        }
        String e = string(c, "redis_host", 2, 255);
        if (e == null) {
            e = integer(c, "redis_port", 1, 65535);
        }
        if (e == null) {
            e = string(c, "redis_username", 1, 256);
        }
        if (e == null) {
            e = string(c, "redis_password", 0, 4096);
        }
        if (e == null) {
            e = integer(c, "redis_database", 0, 1 << 20);
        }
        if (e == null) {
            e = integer(c, "redis_timeout", 1, 600_000);
        }
        if (e == null) {
            e = bool(c, "redis_ssl");
        }
        if (e == null) {
            e = bool(c, "redis_ssl_verify");
        }
        return e == null ? syncInterval(c) : e;
    }

    private static String cluster(ObjectNode c) {
        for (String f : new String[]{"redis_cluster_nodes", "redis_cluster_name"}) {
            if (!c.has(f)) {
                return "else clause did not match: property \"" + f + "\" is required";
            }
        }
        JsonNode nodes = c.get("redis_cluster_nodes");
        if (!nodes.isArray() || nodes.isEmpty()) {
            return "property \"redis_cluster_nodes\" validation failed: expect array to have at least 1 items";
        }
        for (JsonNode n : nodes) {
            if (!n.isTextual() || n.asText().length() < 2 || n.asText().length() > 100) {
                return "property \"redis_cluster_nodes\" validation failed: failed to validate item: " + n;
            }
            String s = n.asText();
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || !s.substring(colon + 1).matches("[0-9]{1,5}")) {
                return "property \"redis_cluster_nodes\": \"" + s + "\" is not host:port";
            }
        }
        String e = string(c, "redis_cluster_name", 1, 256);
        if (e == null) {
            e = string(c, "redis_password", 0, 4096);
        }
        if (e == null) {
            e = integer(c, "redis_timeout", 1, 600_000);
        }
        if (e == null) {
            e = bool(c, "redis_cluster_ssl");
        }
        if (e == null) {
            e = bool(c, "redis_cluster_ssl_verify");
        }
        return e == null ? syncInterval(c) : e;
    }

    /** The request variables a limit key may use (what the engine renders without allocating). */
    static final Set<String> KEY_VARIABLES = Set.of("remote_addr", "consumer_name", "route_id", "uri", "request_uri",
            "args", "query_string", "host", "scheme", "request_method");

    private static boolean knownVariable(String v) {
        return KEY_VARIABLES.contains(v) || (v.startsWith("http_") && v.length() > 5)
                || (v.startsWith("arg_") && v.length() > 4);
    }

    /** {@code var}: the key names one variable; {@code var_combination}: every {@code $name} is one. */
    static String keyVariables(String key, String keyType) {
        if (keyType.equals("constant")) {
            return null;
        }
        if (keyType.equals("var")) {
            String v = key.startsWith("$") ? key.substring(1) : key;
            return knownVariable(v) ? null : "property \"key\": variable \"" + v + "\" is not supported (supported: "
                    + String.join(", ", new java.util.TreeSet<>(KEY_VARIABLES)) + ", http_*, arg_*)";
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\$\\{?([A-Za-z0-9_]+)").matcher(key);
        boolean any = false;
        while (m.find()) {
            any = true;
            if (!knownVariable(m.group(1))) {
                return "property \"key\": variable \"" + m.group(1) + "\" is not supported";
            }
        }
        return any ? null : "property \"key\": key_type var_combination needs at least one $variable";
    }

    private static String syncInterval(ObjectNode c) {
        JsonNode n = c.get("sync_interval");
        if (n != null && (!n.isIntegralNumber() || n.asLong() != -1)) {
            return "property \"sync_interval\": delayed synchronisation is not supported (Turnpike's Redis leases"
                    + " already keep Redis off the request path: leave it out or -1)";
        }
        return null;
    }

    private static String number(ObjectNode c, String f, boolean exclusiveZero) {
        JsonNode n = c.get(f);
        if (n == null) {
            return null;
        }
        if (!n.isNumber()) {
            return "property \"" + f + "\" validation failed: wrong type: expected number, got " + type(n);
        }
        double v = n.asDouble();
        if (exclusiveZero ? v <= 0 : v < 0) {
            return "property \"" + f + "\" validation failed: expected " + n.asText() + " to be "
                    + (exclusiveZero ? "greater than 0" : "at least 0");
        }
        return null;
    }
}
