package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.config.plugin.AuthPluginSchemas;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.plugin.Bytes;
import io.turnpike.engine.plugin.Consumer;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.util.ArrayList;
import java.util.List;

/**
 * APISIX {@code consumer-restriction} in the access phase (after the auth plugins identified the consumer), for
 * {@code type} {@code consumer_name} (the consumer's username) and {@code consumer_group_id}. APISIX's order: a value
 * that is absent is 401 {@code The request is rejected, please check the <type> for this request}; a blacklisted value
 * is rejected; a value not in the whitelist is rejected; {@code allowed_by_methods} (consulted unless whitelisted)
 * rejects the methods not listed for the first entry whose {@code user} is the value. Rejections are
 * {@code rejected_code} (403) with {@code rejected_msg} or {@code The <type> is forbidden.}. {@code route_id} and
 * {@code service_id} are refused (they restrict a consumer's routes, which needs consumer plugins merged into
 * routes). No allocation: values are compared as strings already held by the consumer.
 */
public final class ConsumerRestrictionPlugin extends PluginSpec {
    static final String NAME = "consumer-restriction";
    static final int PRIORITY = 2400;

    private final boolean group;
    private final String[] blacklist;
    private final String[] whitelist;
    private final String[] methodUsers;
    /** Per entry of {@code allowed_by_methods}: its methods as ASCII bytes. */
    private final byte[][][] methods;
    private final LocalReply absent;
    private final LocalReply rejected;

    ConsumerRestrictionPlugin(boolean group, String[] blacklist, String[] whitelist, String[] methodUsers,
                              byte[][][] methods, LocalReply absent, LocalReply rejected) {
        super(NAME, PRIORITY);
        this.group = group;
        this.blacklist = blacklist;
        this.whitelist = whitelist;
        this.methodUsers = methodUsers;
        this.methods = methods;
        this.absent = absent;
        this.rejected = rejected;
    }

    @Override
    public int phases() {
        return PHASE_ACCESS;
    }

    @Override
    public int access(PluginContext x) {
        Consumer c = x.consumer();
        String value = c == null ? null : group ? c.groupId : c.username;
        if (value == null) {
            return x.reply(absent);
        }
        if (blacklist != null && contains(blacklist, value)) {
            return x.reply(rejected);
        }
        boolean whitelisted = false;
        boolean block = false;
        if (whitelist != null) {
            whitelisted = contains(whitelist, value);
            block = !whitelisted;
        }
        if (methodUsers != null && methodUsers.length > 0 && !whitelisted && !methodAllowed(x, value)) {
            block = true;
        }
        return block ? x.reply(rejected) : CONTINUE;
    }

    private static boolean contains(String[] list, String value) {
        for (String s : list) {
            if (s.equals(value)) {
                return true;
            }
        }
        return false;
    }

    /** APISIX's is_method_allowed: the first entry for this user decides; no entry: allowed. */
    private boolean methodAllowed(PluginContext x, String value) {
        for (int e = 0; e < methodUsers.length; e++) {
            if (value.equals(methodUsers[e])) {
                for (byte[] m : methods[e]) {
                    if (isMethod(x, m)) {
                        return true;
                    }
                }
                return false;
            }
        }
        return true;
    }

    /** The request's method (as rewritten by an earlier plugin, else as received) is {@code m}. */
    private static boolean isMethod(PluginContext x, byte[] m) {
        byte[] rewritten = x.method();
        if (rewritten != null) {
            return java.util.Arrays.equals(rewritten, m);
        }
        RequestHead h = x.head();
        ByteBuf src = x.source();
        return Bytes.equals(src, h.methodStart, h.methodEnd, m);
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return PRIORITY;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            String err = AuthPluginSchemas.consumerRestriction(c);
            if (err != null) {
                throw new IllegalArgumentException(err);
            }
            String type = Conf.str(c, "type", "consumer_name");
            String[] black = c.has("blacklist") ? Conf.strings(c, "blacklist").toArray(String[]::new) : null;
            String[] white = c.has("whitelist") ? Conf.strings(c, "whitelist").toArray(String[]::new) : null;
            String[] users = null;
            byte[][][] methods = null;
            if (c.has("allowed_by_methods")) {
                List<String> u = new ArrayList<>();
                List<byte[][]> m = new ArrayList<>();
                for (JsonNode e : c.get("allowed_by_methods")) {
                    u.add(e.has("user") ? e.get("user").asText() : null);
                    List<byte[]> ms = new ArrayList<>();
                    for (JsonNode mm : e.path("methods")) {
                        ms.add(Bytes.ascii(mm.asText()));
                    }
                    m.add(ms.toArray(byte[][]::new));
                }
                users = u.toArray(String[]::new);
                methods = m.toArray(byte[][][]::new);
            }
            int code = Conf.integer(c, "rejected_code", 403);
            String msg = c.has("rejected_msg") ? c.get("rejected_msg").asText() : "The " + type + " is forbidden.";
            return new ConsumerRestrictionPlugin(type.equals("consumer_group_id"), black, white, users, methods,
                    LocalReply.message(401, "The request is rejected, please check the " + type
                            + " for this request"),
                    LocalReply.message(code, msg));
        }
    }
}
