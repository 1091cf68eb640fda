package io.turnpike.engine.upstream;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Where chash takes its key from (APISIX {@code hash_on} + {@code key}), compiled once per snapshot, immutable and
 * shared by all loops. {@link #hash} reads the key's bytes straight from the parsed request (absolute spans into the
 * head's buffer) and hashes them with {@link KeyHash}: no String, no copy, no allocation.
 *
 * <p>Variables (nginx / APISIX names): {@code remote_addr}, {@code uri} (raw path bytes, not decoded or normalised),
 * {@code request_uri} (the whole request-target), {@code host} (Host header, lower-cased, port stripped),
 * {@code request_method}, {@code args} / {@code query_string}, {@code arg_<name>} (first {@code name=} query parameter,
 * name case-insensitive, raw value), {@code http_<name>} (first header whose lower-cased name with '-' as '_' equals
 * {@code name}), {@code cookie_<name>} (first cookie of that name across Cookie headers, name case-insensitive),
 * {@code consumer_name}. A variable that is absent resolves to "missing" (present but empty is the empty string, as in
 * nginx); chash then falls back to {@code remote_addr}, as APISIX does.
 */
public final class ChashKey {
    static final int K_REMOTE_ADDR = 0, K_URI = 1, K_REQUEST_URI = 2, K_HOST = 3, K_ARG = 4, K_HTTP = 5, K_COOKIE = 6,
            K_CONSUMER = 7, K_METHOD = 8, K_QUERY = 9, K_COMBINATION = 10, K_LITERAL = 11;

    /** {@link #hash} result when the key is absent; a real hash of 0 is reported as 1. */
    public static final long MISSING = 0;

    /** Span codes {@link #resolve} returns besides {@code (start << 32) | end}. */
    static final long R_MISSING = -1, R_REMOTE = -2, R_CONSUMER = -3;

    private static final byte[] NONE = new byte[0];
    private static final byte[] COOKIE = "cookie".getBytes(StandardCharsets.US_ASCII);

    public static final ChashKey REMOTE_ADDR = new ChashKey(K_REMOTE_ADDR, null, null, "remote_addr");

    final int kind;
    /** K_ARG, K_HTTP (normalised lower-case, '_' for '-'), K_COOKIE: the name; K_LITERAL: the bytes. */
    final byte[] name;
    /** K_COMBINATION: the parts, variables and literals in order. */
    final ChashKey[] parts;
    private final String description;

    private ChashKey(int kind, byte[] name, ChashKey[] parts, String description) {
        this.kind = kind;
        this.name = name;
        this.parts = parts;
        this.description = description;
    }

    @Override
    public String toString() {
        return description;
    }

    /**
     * Compiles {@code hash_on}/{@code key}. Returns the key and, through {@code warnings} (may be null), why it fell
     * back to remote_addr (unsupported variable, missing key).
     *
     * @throws IllegalArgumentException for an unknown {@code hash_on}
     */
    public static ChashKey compile(String hashOn, String key, List<String> warnings) {
        String on = hashOn == null ? "vars" : hashOn;
        switch (on) {
            case "consumer":
                return new ChashKey(K_CONSUMER, null, null, "consumer");
            case "header":
                if (key == null || key.isEmpty()) {
                    return fallback(warnings, "hash_on header needs a key");
                }
                return new ChashKey(K_HTTP, normaliseHeader(key), null, "http_" + key);
            case "cookie":
                if (key == null || key.isEmpty()) {
                    return fallback(warnings, "hash_on cookie needs a key");
                }
                return new ChashKey(K_COOKIE, key.getBytes(StandardCharsets.US_ASCII), null, "cookie_" + key);
            case "vars": {
                if (key == null || key.isEmpty()) {
                    return fallback(warnings, "hash_on vars needs a key");
                }
                ChashKey v = variable(key);
                return v != null ? v : fallback(warnings, "unsupported variable '" + key + "'");
            }
            case "vars_combinations":
                if (key == null || key.isEmpty()) {
                    return fallback(warnings, "hash_on vars_combinations needs a key");
                }
                return combination(key, warnings);
            default:
                throw new IllegalArgumentException("unknown hash_on '" + hashOn + "'");
        }
    }

    private static ChashKey fallback(List<String> warnings, String why) {
        if (warnings != null) {
            warnings.add("chash: " + why + "; hashing on remote_addr");
        }
        return REMOTE_ADDR;
    }

    /** A single variable by its nginx name (without '$'), or null when unsupported. */
    static ChashKey variable(String v) {
        switch (v) {
            case "remote_addr":
                return REMOTE_ADDR;
            case "uri":
                return new ChashKey(K_URI, null, null, v);
            case "request_uri":
                return new ChashKey(K_REQUEST_URI, null, null, v);
            case "host":
                return new ChashKey(K_HOST, null, null, v);
            case "request_method":
                return new ChashKey(K_METHOD, null, null, v);
            case "args":
            case "query_string":
                return new ChashKey(K_QUERY, null, null, v);
            case "consumer_name":
                return new ChashKey(K_CONSUMER, null, null, v);
            default:
                break;
        }
        if (v.startsWith("arg_") && v.length() > 4) {
            return new ChashKey(K_ARG, v.substring(4).getBytes(StandardCharsets.US_ASCII), null, v);
        }
        if (v.startsWith("http_") && v.length() > 5) {
            return new ChashKey(K_HTTP, normaliseHeader(v.substring(5)), null, v);
        }
        if (v.startsWith("cookie_") && v.length() > 7) {
            return new ChashKey(K_COOKIE, v.substring(7).getBytes(StandardCharsets.US_ASCII), null, v);
        }
        return null;
    }

    /** APISIX {@code vars_combinations}: a template of {@code $var} / {@code ${var}} and literal text. */
    static ChashKey combination(String template, List<String> warnings) {
        List<ChashKey> parts = new ArrayList<>();
        StringBuilder lit = new StringBuilder();
        int i = 0, n = template.length();
        while (i < n) {
            char c = template.charAt(i);
            if (c == '$' && i + 1 < n) {
                int s, e, next;
                if (template.charAt(i + 1) == '{') {
                    s = i + 2;
                    e = template.indexOf('}', s);
                    if (e < 0) {
                        lit.append(template, i, n);
                        break;
                    }
                    next = e + 1;
                } else {
                    s = i + 1;
                    e = s;
                    while (e < n && isVarChar(template.charAt(e))) {
                        e++;
                    }
                    next = e;
                }
                if (e > s) {
                    String name = template.substring(s, e);
                    ChashKey v = variable(name);
                    if (v == null) {
                        if (warnings != null) {
                            warnings.add("chash: unsupported variable '" + name + "' in '" + template
                                    + "' resolves to nothing");
                        }
                    } else {
                        if (lit.length() > 0) {
                            parts.add(literal(lit));
                            lit.setLength(0);
                        }
                        parts.add(v);
                    }
                    i = next;
                    continue;
                }
            }
            lit.append(c);
            i++;
        }
        if (lit.length() > 0) {
            parts.add(literal(lit));
        }
        boolean anyVar = false;
        for (ChashKey p : parts) {
            anyVar |= p.kind != K_LITERAL;
        }
        if (!anyVar) {
            return fallback(warnings, "vars_combinations '" + template + "' names no supported variable");
        }
        return new ChashKey(K_COMBINATION, null, parts.toArray(new ChashKey[0]), template);
    }

    private static ChashKey literal(CharSequence s) {
        return new ChashKey(K_LITERAL, s.toString().getBytes(StandardCharsets.UTF_8), null, "'" + s + "'");
    }

    private static boolean isVarChar(char c) {
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    static byte[] normaliseHeader(String name) {
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < b.length; i++) {
            b[i] = norm(b[i]);
        }
        return b;
    }

    private static byte norm(byte b) {
        if (b >= 'A' && b <= 'Z') {
            return (byte) (b + 32);
        }
        return b == '-' ? (byte) '_' : b;
    }

    private static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
    }

    // ---- hashing ----

    /**
     * Hash of this key for the request, or {@link #MISSING} when absent (for a combination: when none of its
     * variables is present; absent ones contribute nothing, as APISIX's resolve_var does).
     */
    public long hash(ByteBuf buf, RequestHead head, BalancerInput in) {
        long h = KeyHash.start();
        if (kind == K_COMBINATION) {
            boolean any = false;
            for (ChashKey p : parts) {
                if (p.kind == K_LITERAL) {
                    h = KeyHash.update(h, p.name);
                    continue;
                }
                long r = p.resolve(buf, head, in);
                if (r != R_MISSING) {
                    any = true;
                    h = p.mix(h, r, buf, in);
                }
            }
            if (!any) {
                return MISSING;
            }
        } else {
            long r = resolve(buf, head, in);
            if (r == R_MISSING) {
                return MISSING;
            }
            h = mix(h, r, buf, in);
        }
        long f = KeyHash.finish(h);
        return f == MISSING ? 1 : f;
    }

    /** The remote_addr hash (the fallback). */
    static long remoteHash(BalancerInput in) {
        long f = KeyHash.finish(KeyHash.update(KeyHash.start(), in != null ? in.remoteAddr() : NONE));
        return f == MISSING ? 1 : f;
    }

    private long mix(long h, long r, ByteBuf buf, BalancerInput in) {
        if (r == R_REMOTE) {
            return KeyHash.update(h, in.remoteAddr());
        }
        if (r == R_CONSUMER) {
            return KeyHash.update(h, in.consumer());
        }
        int s = (int) (r >>> 32), e = (int) r;
        return kind == K_HOST ? KeyHash.updateLower(h, buf, s, e) : KeyHash.update(h, buf, s, e);
    }

    private static long span(int s, int e) {
        return ((long) s << 32) | (e & 0xFFFFFFFFL);
    }

    /** The key's bytes: {@code (start << 32) | end} in buf, or one of the {@code R_*} codes. */
    long resolve(ByteBuf buf, RequestHead head, BalancerInput in) {
        switch (kind) {
            case K_REMOTE_ADDR:
                return R_REMOTE;
            case K_CONSUMER:
                return in.consumer() != null ? R_CONSUMER : R_MISSING;
            case K_URI:
                return span(head.targetStart, head.pathEnd);
            case K_REQUEST_URI:
                return span(head.targetStart, head.targetEnd);
            case K_METHOD:
                return span(head.methodStart, head.methodEnd);
            case K_QUERY: {
                if (!head.hasQuery(buf)) {
                    return R_MISSING;
                }
                int q = head.pathEnd + 1;
                return span(q, queryEnd(buf, q, head.targetEnd));
            }
            case K_HOST:
                return host(buf, head);
            case K_ARG:
                return arg(buf, head);
            case K_HTTP:
                return header(buf, head);
            case K_COOKIE:
                return cookie(buf, head);
            default:
                return R_MISSING;
        }
    }

    private static int queryEnd(ByteBuf buf, int q, int end) {
        for (int i = q; i < end; i++) {
            if (buf.getByte(i) == '#') {
                return i;
            }
        }
        return end;
    }

    private static long host(ByteBuf buf, RequestHead head) {
        int h = head.hostIndex;
        if (h < 0) {
            return R_MISSING;
        }
        int s = head.valueStart[h], e = head.valueEnd[h];
        if (s < e && buf.getByte(s) == '[') {
            for (int i = s; i < e; i++) {
                if (buf.getByte(i) == ']') {
                    return span(s, i + 1);
                }
            }
            return span(s, e);
        }
        for (int i = s; i < e; i++) {
            if (buf.getByte(i) == ':') {
                return span(s, i);
            }
        }
        return span(s, e);
    }

    private long arg(ByteBuf buf, RequestHead head) {
        if (!head.hasQuery(buf)) {
            return R_MISSING;
        }
        int q = head.pathEnd + 1;
        int end = queryEnd(buf, q, head.targetEnd);
        int n = name.length;
        int p = q;
        while (p < end) {
            int amp = p;
            while (amp < end && buf.getByte(amp) != '&') {
                amp++;
            }
            if (amp - p > n && buf.getByte(p + n) == '=' && namePrefixLower(buf, p)) {
                return span(p + n + 1, amp);
            }
            p = amp + 1;
        }
        return R_MISSING;
    }

    private boolean namePrefixLower(ByteBuf buf, int p) {
        for (int i = 0; i < name.length; i++) {
            if (lower(buf.getByte(p + i)) != lower(name[i])) {
                return false;
            }
        }
        return true;
    }

    private long header(ByteBuf buf, RequestHead head) {
        int n = name.length;
        for (int h = 0; h < head.headerCount; h++) {
            int s = head.nameStart[h];
            if (head.nameEnd[h] - s != n) {
                continue;
            }
            boolean eq = true;
            for (int i = 0; i < n; i++) {
                if (norm(buf.getByte(s + i)) != name[i]) {
                    eq = false;
                    break;
                }
            }
            if (eq) {
                return span(head.valueStart[h], head.valueEnd[h]);
            }
        }
        return R_MISSING;
    }

    private long cookie(ByteBuf buf, RequestHead head) {
        int n = name.length;
        for (int h = 0; h < head.headerCount; h++) {
            if (!head.nameEquals(buf, h, COOKIE)) {
                continue;
            }
            int p = head.valueStart[h], end = head.valueEnd[h];
            while (p < end) {
                while (p < end && (buf.getByte(p) == ' ' || buf.getByte(p) == '\t')) {
                    p++;
                }
                int semi = p;
                while (semi < end && buf.getByte(semi) != ';') {
                    semi++;
                }
                if (semi - p > n && buf.getByte(p + n) == '=' && namePrefixLower(buf, p)) {
                    int ve = semi;
                    while (ve > p + n + 1 && (buf.getByte(ve - 1) == ' ' || buf.getByte(ve - 1) == '\t')) {
                        ve--;
                    }
                    return span(p + n + 1, ve);
                }
                p = semi + 1;
            }
        }
        return R_MISSING;
    }
}
