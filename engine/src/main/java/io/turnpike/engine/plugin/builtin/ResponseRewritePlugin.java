package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.plugin.HeaderOps;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Set;

/**
 * APISIX {@code response-rewrite}: {@code status_code}, {@code body} (with {@code body_base64}) and {@code headers}
 * ({@code add} as "Name: value" lines, {@code set}, {@code remove}, or the legacy map) applied to the upstream's
 * response in the header_filter phase. A replaced body discards the upstream's body bytes and is sent with its own
 * Content-Length.
 */
public final class ResponseRewritePlugin extends PluginSpec {
    static final String NAME = "response-rewrite";
    private final int status;
    private final HeaderOps headers;
    private final byte[] body;
    /** {@code vars} on the response status: each [op, operand...] must hold (all of them); null: always. */
    private final StatusCondition[] when;

    /** One {@code ["status", op, value]} condition (APISIX's lua-resty-expr on the response's {@code $status}). */
    record StatusCondition(String op, int[] values, boolean negate) {
        boolean test(int status) {
            boolean r = switch (op) {
                case "==" -> status == values[0];
                case "~=" -> status != values[0];
                case ">" -> status > values[0];
                case ">=" -> status >= values[0];
                case "<" -> status < values[0];
                case "<=" -> status <= values[0];
                default -> { // "in"
                    boolean found = false;
                    for (int v : values) {
                        found |= v == status;
                    }
                    yield found;
                }
            };
            return r != negate;
        }
    }

    ResponseRewritePlugin(int status, HeaderOps headers, byte[] body, StatusCondition[] when) {
        super(NAME, 899);
        this.when = when;
        this.status = status;
        this.headers = headers;
        this.body = body;
    }

    @Override
    public int phases() {
        return PHASE_HEADER_FILTER;
    }

    @Override
    public int maxHeaderEdits() {
        return headers.size();
    }

    @Override
    public void headerFilter(PluginContext x, ByteBuf src, ResponseHead rh) {
        if (when != null) {
            for (StatusCondition c : when) {
                if (!c.test(rh.status)) {
                    return; // the rewrite applies to matching responses only
                }
            }
        }
        if (status > 0) {
            x.statusOverride(status);
        }
        headers.applyTo(x.responseEdits);
        if (body != null) {
            x.responseBody(body);
        }
    }

    /** {@code ["status", op, value]}, {@code ["status", "!", op, value]}, {@code ["status", "in", [v...]]}. */
    static StatusCondition condition(com.fasterxml.jackson.databind.JsonNode e) {
        if (!e.isArray() || e.size() < 3 || !"status".equals(e.get(0).asText())) {
            throw new IllegalArgumentException(NAME + ".vars: only conditions on the response status are supported"
                    + " ([\"status\", op, value]): " + e);
        }
        int k = 1;
        boolean negate = false;
        if ("!".equals(e.get(1).asText())) {
            negate = true;
            k = 2;
        }
        if (e.size() != k + 2) {
            throw new IllegalArgumentException(NAME + ".vars: expected [\"status\", op, value]: " + e);
        }
        String op = e.get(k).asText();
        com.fasterxml.jackson.databind.JsonNode v = e.get(k + 1);
        int[] values;
        if (op.equals("in")) {
            if (!v.isArray() || v.isEmpty()) {
                throw new IllegalArgumentException(NAME + ".vars: \"in\" takes a list of statuses: " + e);
            }
            values = new int[v.size()];
            for (int i = 0; i < v.size(); i++) {
                values[i] = v.get(i).asInt();
            }
        } else if (Set.of("==", "~=", ">", ">=", "<", "<=").contains(op)) {
            if (!v.canConvertToInt() && !(v.isTextual() && v.asText().matches("\\d{3}"))) {
                throw new IllegalArgumentException(NAME + ".vars: a status must be a number: " + e);
            }
            values = new int[]{v.isTextual() ? Integer.parseInt(v.asText()) : v.asInt()};
        } else {
            throw new IllegalArgumentException(NAME + ".vars: operator \"" + op + "\" is not supported on the status");
        }
        return new StatusCondition(op, values, negate);
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 899;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("status_code", "body", "body_base64", "headers", "vars", "_meta"));
            StatusCondition[] when = null;
            if (c.get("vars") instanceof com.fasterxml.jackson.databind.node.ArrayNode vars && !vars.isEmpty()) {
                when = new StatusCondition[vars.size()];
                for (int i = 0; i < vars.size(); i++) {
                    when[i] = condition(vars.get(i));
                }
            }
            String b = Conf.str(c, "body", null);
            byte[] body = null;
            if (b != null) {
                body = Conf.bool(c, "body_base64", false) ? Base64.getDecoder().decode(b)
                        : b.getBytes(StandardCharsets.UTF_8);
            }
            return new ResponseRewritePlugin(Conf.integer(c, "status_code", 0),
                    HeaderOps.compile(c.get("headers"), true), body, when);
        }
    }
}
