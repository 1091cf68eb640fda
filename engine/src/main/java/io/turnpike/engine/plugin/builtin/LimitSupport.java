package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.engine.limit.LimitKey;
import io.turnpike.engine.limit.LimiterRegistry;
import io.turnpike.engine.limit.RemoteLimiters;
import io.turnpike.engine.limit.RemotePolicy;
import io.turnpike.engine.plugin.Bytes;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.ValueTemplate;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What limit-count, limit-req and limit-conn share: the key (APISIX's {@code key_type} {@code var},
 * {@code var_combination} or {@code constant}, rendered per request into the exchange's scratch; a key that renders
 * empty falls back to the client address, as APISIX does), the limiter's identity, the policy, and the replies.
 */
final class LimitSupport {
    /** Field the chain compiler adds to a limit plugin's configuration: the resource that configured it. */
    static final String OWNER = "_owner";

    private LimitSupport() {
    }

    /** The configured key, compiled. */
    static final class KeySpec {
        private final ValueTemplate template;
        private final byte[] constant;

        KeySpec(ValueTemplate template, byte[] constant) {
            this.template = template;
            this.constant = constant;
        }

        static KeySpec compile(String plugin, ObjectNode c) {
            String type = Conf.str(c, "key_type", "var");
            String key = Conf.str(c, "key", "remote_addr");
            if (type.equals("constant")) {
                return new KeySpec(null, key.getBytes(StandardCharsets.UTF_8));
            }
            String text = type.equals("var") ? "$" + (key.startsWith("$") ? key.substring(1) : key) : key;
            return new KeySpec(ValueTemplate.compile(plugin + ".key", text), null);
        }

        /** The request's key, in {@code x}'s reusable flyweight (valid until the exchange ends). Request phases. */
        LimitKey key(PluginContext x) {
            if (constant != null) {
                return x.limitKey.wrap(constant, 0, constant.length);
            }
            long r = template.render(x);
            if (r <= 0 || (int) r == 0) {
                byte[] ip = x.clientIp();
                return x.limitKey.wrap(ip, 0, ip.length);
            }
            return x.limitKey.wrap(x.scratchBytes(), (int) (r >>> 32), (int) r);
        }
    }

    /**
     * Who the limit belongs to: {@code group} when set (one counter for every route naming it), else the resource
     * that configured it; plus the configuration itself, so an edit of the limit starts new counters and an edit
     * elsewhere keeps them (APISIX's resource key and plugin conf version).
     */
    static String identity(String plugin, ObjectNode c) {
        ObjectNode copy = c.deepCopy();
        copy.remove(OWNER);
        copy.remove("_meta");
        String canonical = io.turnpike.config.codec.CanonicalJson.write(copy);
        JsonNode g = c.get("group");
        String owner = g != null ? "group=" + g.asText() : "owner=" + c.path(OWNER).asText("unowned");
        return plugin + "|" + owner + "|" + canonical;
    }

    /** The policy's Redis settings, or null for {@code local}. */
    static RemotePolicy policy(ObjectNode c) {
        String p = Conf.str(c, "policy", "local");
        if (p.equals("local")) {
            return null;
        }
        long timeout = Conf.integer(c, "redis_timeout", 1000);
        if (p.equals("redis")) {
            return new RemotePolicy(false,
                    List.of(Conf.str(c, "redis_host", "127.0.0.1") + ":" + Conf.integer(c, "redis_port", 6379)),
                    Conf.str(c, "redis_username", null), Conf.str(c, "redis_password", null),
                    Conf.integer(c, "redis_database", 0), timeout, Conf.bool(c, "redis_ssl", false),
                    Conf.bool(c, "redis_ssl_verify", false), null);
        }
        List<String> nodes = new ArrayList<>(Conf.strings(c, "redis_cluster_nodes"));
        return new RemotePolicy(true, nodes, null, Conf.str(c, "redis_password", null), 0, timeout,
                Conf.bool(c, "redis_cluster_ssl", false), Conf.bool(c, "redis_cluster_ssl_verify", false),
                Conf.str(c, "redis_cluster_name", null));
    }

    /** The Redis-backed limiters (always available: created on first use). */
    static RemoteLimiters remote() {
        return LimiterRegistry.get().remote();
    }

    /** {@code rejected_code} with {@code {"error_msg": rejected_msg}} when a message is set, else an empty body. */
    static LocalReply rejected(ObjectNode c) {
        int code = Conf.integer(c, "rejected_code", 503);
        String msg = Conf.str(c, "rejected_msg", null);
        if (msg == null) {
            return LocalReply.empty(code);
        }
        return new LocalReply(code, "application/json", "",
                ("{\"error_msg\":\"" + LocalReply.jsonEscape(msg) + "\"}\n").getBytes(StandardCharsets.UTF_8));
    }

    /** APISIX's answer when a limiter cannot decide and degradation is off. */
    static LocalReply failed(String what) {
        return new LocalReply(500, "application/json", "",
                ("{\"error_msg\":\"failed to " + what + "\"}\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Writes {@code v} in decimal into the exchange's scratch; returns {@code offset << 32 | length}, or -1. */
    static long decimal(PluginContext x, long v) {
        int digits = 1;
        for (long t = v; t >= 10; t /= 10) {
            digits++;
        }
        int at = x.scratch(digits);
        if (at < 0) {
            return -1;
        }
        byte[] b = x.scratchBytes();
        for (int i = at + digits - 1; i >= at; i--) {
            b[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        return ((long) at << 32) | digits;
    }

    static void setHeader(PluginContext x, byte[] lower, byte[] name, long v) {
        long r = decimal(x, Math.max(0, v));
        if (r >= 0) {
            x.responseEdits.set(lower, name, x.scratchBytes(), (int) (r >>> 32), (int) r);
        }
    }

    static byte[] lower(String s) {
        return Bytes.lower(s);
    }
}
