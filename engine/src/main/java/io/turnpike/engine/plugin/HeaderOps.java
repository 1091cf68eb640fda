package io.turnpike.engine.plugin;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A plugin's configured header operations (APISIX's {@code headers}: {@code add}, {@code set}, {@code remove}, or the
 * legacy flat map, where a value sets and an empty value removes), compiled to bytes once and recorded into an
 * exchange's {@link HeaderEdits} without allocation.
 */
public final class HeaderOps {
    public static final HeaderOps NONE = new HeaderOps(new byte[0], new byte[0][], new byte[0][], new byte[0][],
            new ValueTemplate[0]);

    private final byte[] op;
    private final byte[][] lower;
    private final byte[][] name;
    private final byte[][] value;
    /** Per op: the value's template when it has variables (rendered per request), else null. */
    private final ValueTemplate[] templates;

    private HeaderOps(byte[] op, byte[][] lower, byte[][] name, byte[][] value, ValueTemplate[] templates) {
        this.op = op;
        this.lower = lower;
        this.name = name;
        this.value = value;
        this.templates = templates;
    }

    public int size() {
        return op.length;
    }

    public void applyTo(HeaderEdits e) {
        applyTo(e, null);
    }

    /** As {@link #applyTo(HeaderEdits)}, rendering values with variables from {@code x} (request phases only). */
    public void applyTo(HeaderEdits e, PluginContext x) {
        for (int i = 0; i < op.length; i++) {
            ValueTemplate t = templates[i];
            if (t != null && x != null && op[i] != HeaderEdits.OP_REMOVE) {
                long r = t.render(x);
                if (r < 0) {
                    continue;
                }
                int off = (int) (r >>> 32);
                int len = (int) r;
                if (op[i] == HeaderEdits.OP_SET) {
                    e.set(lower[i], name[i], x.scratchBytes(), off, len);
                } else {
                    e.addRange(lower[i], name[i], x.scratchBytes(), off, len);
                }
                continue;
            }
            switch (op[i]) {
                case HeaderEdits.OP_REMOVE -> e.remove(lower[i]);
                case HeaderEdits.OP_SET -> e.set(lower[i], name[i], value[i]);
                default -> e.add(lower[i], name[i], value[i]);
            }
        }
    }

    /**
     * @param addAsLines {@code add} is a list of {@code "Name: value"} strings (response-rewrite) instead of a map
     *                   (proxy-rewrite)
     */
    public static HeaderOps compile(JsonNode headers, boolean addAsLines) {
        return compile(headers, addAsLines, false);
    }

    /** @param allowVariables values may use request variables ({@link ValueTemplate}; request-phase plugins only) */
    public static HeaderOps compile(JsonNode headers, boolean addAsLines, boolean allowVariables) {
        if (headers == null || headers.isNull() || headers.isEmpty()) {
            return NONE;
        }
        List<byte[]> ops = new ArrayList<>();
        List<String[]> nv = new ArrayList<>();
        boolean structured = headers.has("add") || headers.has("set") || headers.has("remove");
        if (!structured) {
            for (Iterator<Map.Entry<String, JsonNode>> it = headers.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String v = text(e.getValue(), "headers." + e.getKey(), allowVariables);
                put(ops, nv, v.isEmpty() ? HeaderEdits.OP_REMOVE : HeaderEdits.OP_SET, e.getKey(), v);
            }
        } else {
            JsonNode set = headers.get("set");
            if (set != null) {
                for (Iterator<Map.Entry<String, JsonNode>> it = set.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    put(ops, nv, HeaderEdits.OP_SET, e.getKey(), text(e.getValue(), "headers.set." + e.getKey(),
                            allowVariables));
                }
            }
            JsonNode add = headers.get("add");
            if (add != null) {
                if (add.isArray()) {
                    for (JsonNode line : add) {
                        String s = line.asText();
                        int colon = s.indexOf(':');
                        if (colon <= 0) {
                            throw new IllegalArgumentException("headers.add: \"" + s + "\" is not \"Name: value\"");
                        }
                        put(ops, nv, HeaderEdits.OP_ADD, s.substring(0, colon).trim(), s.substring(colon + 1).trim());
                    }
                } else {
                    for (Iterator<Map.Entry<String, JsonNode>> it = add.fields(); it.hasNext(); ) {
                        Map.Entry<String, JsonNode> e = it.next();
                        put(ops, nv, HeaderEdits.OP_ADD, e.getKey(), text(e.getValue(), "headers.add." + e.getKey(),
                                allowVariables));
                    }
                }
            }
            JsonNode remove = headers.get("remove");
            if (remove != null) {
                for (JsonNode n : remove) {
                    put(ops, nv, HeaderEdits.OP_REMOVE, n.asText(), "");
                }
            }
        }
        byte[] o = new byte[ops.size()];
        byte[][] lo = new byte[ops.size()][];
        byte[][] na = new byte[ops.size()][];
        byte[][] va = new byte[ops.size()][];
        ValueTemplate[] ts = new ValueTemplate[ops.size()];
        for (int i = 0; i < o.length; i++) {
            o[i] = ops.get(i)[0];
            na[i] = Bytes.ascii(nv.get(i)[0]);
            lo[i] = Bytes.lower(nv.get(i)[0]);
            va[i] = nv.get(i)[1].getBytes(java.nio.charset.StandardCharsets.UTF_8);
            if (allowVariables && o[i] != HeaderEdits.OP_REMOVE) {
                ValueTemplate t = ValueTemplate.compile("headers." + nv.get(i)[0], nv.get(i)[1]);
                ts[i] = t.constant == null ? t : null;
            }
        }
        return new HeaderOps(o, lo, na, va, ts);
    }

    private static String text(JsonNode v, String field, boolean allowVariables) {
        String s = v.isTextual() ? v.asText() : v.toString();
        if (!allowVariables && s.indexOf('$') >= 0) {
            throw new IllegalArgumentException(field + ": variables ($name) in header values are not supported");
        }
        if (s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0) {
            throw new IllegalArgumentException(field + ": CR and LF are not allowed in a header value");
        }
        return s;
    }

    private static void put(List<byte[]> ops, List<String[]> nv, byte op, String name, String value) {
        if (!isToken(name)) {
            throw new IllegalArgumentException("header name \"" + name + "\" is not a valid HTTP field name");
        }
        ops.add(new byte[]{op});
        nv.add(new String[]{name, value});
    }

    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c > 32 && c < 127 && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

}
