package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The compiled URI router of one snapshot: exact paths in an open-addressing hash table keyed by the path bytes, then
 * prefix routes ({@code /a/*}) longest first. Within one path, candidates are ordered by {@code priority} (higher
 * first) then by configuration order, and the first whose host and method conditions accept the request wins.
 *
 * <p>Immutable after construction and shared by every event loop; {@link #match} allocates nothing.
 * The radix tree, {@code :param} segments, vars and remote_addrs of APISIX's full router build on this in the router
 * issue.
 */
public final class RouteTable {
    private static final CompiledRoute[] NONE = new CompiledRoute[0];

    private final byte[][] exactKeys;
    private final CompiledRoute[][] exactValues;
    private final int exactMask;
    private final byte[][] prefixes;
    private final CompiledRoute[][] prefixValues;
    private final int size;

    private RouteTable(Map<String, List<CompiledRoute>> exact, Map<String, List<CompiledRoute>> prefix) {
        int cap = Integer.highestOneBit(Math.max(4, exact.size() * 2)) << 1;
        exactKeys = new byte[cap][];
        exactValues = new CompiledRoute[cap][];
        exactMask = cap - 1;
        int n = 0;
        for (Map.Entry<String, List<CompiledRoute>> e : exact.entrySet()) {
            byte[] key = e.getKey().getBytes(StandardCharsets.UTF_8);
            int slot = ByteMatch.hash(key) & exactMask;
            while (exactKeys[slot] != null) {
                slot = (slot + 1) & exactMask;
            }
            exactKeys[slot] = key;
            exactValues[slot] = sorted(e.getValue());
            n += e.getValue().size();
        }
        List<String> keys = new ArrayList<>(prefix.keySet());
        keys.sort(Comparator.comparingInt(String::length).reversed());
        prefixes = new byte[keys.size()][];
        prefixValues = new CompiledRoute[keys.size()][];
        for (int i = 0; i < keys.size(); i++) {
            prefixes[i] = keys.get(i).getBytes(StandardCharsets.UTF_8);
            prefixValues[i] = sorted(prefix.get(keys.get(i)));
            n += prefixValues[i].length;
        }
        size = n;
    }

    private static CompiledRoute[] sorted(List<CompiledRoute> routes) {
        CompiledRoute[] a = routes.toArray(NONE);
        java.util.Arrays.sort(a, Comparator.comparingInt((CompiledRoute r) -> -r.priority).thenComparingInt(r -> r.order));
        return a;
    }

    public int size() {
        return size;
    }

    /**
     * Finds the route for a parsed request head whose bytes live in {@code buf}. Returns null when nothing matches.
     */
    public CompiledRoute match(ByteBuf buf, RequestHead head) {
        int pathStart = pathStart(buf, head);
        int pathEnd = head.pathEnd;
        if (pathStart < 0) {
            return null;
        }
        int hostStart = -1;
        int hostEnd = -1;
        if (head.hostIndex >= 0) {
            hostStart = head.valueStart[head.hostIndex];
            hostEnd = hostEnd(buf, hostStart, head.valueEnd[head.hostIndex]);
        }
        int len = pathEnd - pathStart;
        int slot = ByteMatch.hash(buf, pathStart, pathEnd) & exactMask;
        byte[] key;
        while ((key = exactKeys[slot]) != null) {
            if (key.length == len && ByteMatch.equals(buf, pathStart, key, 0, len)) {
                CompiledRoute r = firstAccepting(exactValues[slot], buf, head, hostStart, hostEnd);
                if (r != null) {
                    return r;
                }
                break;
            }
            slot = (slot + 1) & exactMask;
        }
        for (int i = 0; i < prefixes.length; i++) {
            byte[] p = prefixes[i];
            if (p.length <= len && ByteMatch.equals(buf, pathStart, p, 0, p.length)) {
                CompiledRoute r = firstAccepting(prefixValues[i], buf, head, hostStart, hostEnd);
                if (r != null) {
                    return r;
                }
            }
        }
        return null;
    }

    private static CompiledRoute firstAccepting(CompiledRoute[] candidates, ByteBuf buf, RequestHead head,
                                                int hostStart, int hostEnd) {
        for (CompiledRoute r : candidates) {
            if (r.accepts(buf, head, hostStart, hostEnd)) {
                return r;
            }
        }
        return null;
    }

    /** Origin-form targets start with '/'; absolute-form ({@code http://authority/path}) skips the authority. */
    static int pathStart(ByteBuf buf, RequestHead head) {
        int start = head.targetStart;
        int end = head.pathEnd;
        if (start >= end) {
            return -1;
        }
        if (buf.getByte(start) == '/') {
            return start;
        }
        // absolute-form: scheme "://" authority path
        for (int i = start; i + 2 < end; i++) {
            if (buf.getByte(i) == ':' && buf.getByte(i + 1) == '/' && buf.getByte(i + 2) == '/') {
                for (int j = i + 3; j < end; j++) {
                    if (buf.getByte(j) == '/') {
                        return j;
                    }
                }
                return -1;
            }
        }
        return -1;
    }

    /** End of the host name in a Host value, without ":port"; handles "[v6]:port". */
    static int hostEnd(ByteBuf buf, int start, int end) {
        if (start < end && buf.getByte(start) == '[') {
            for (int i = start; i < end; i++) {
                if (buf.getByte(i) == ']') {
                    return i + 1;
                }
            }
            return end;
        }
        for (int i = start; i < end; i++) {
            if (buf.getByte(i) == ':') {
                return i;
            }
        }
        return end;
    }

    /** Collects routes for compilation; not thread-safe, used once by the snapshot compiler. */
    public static final class Builder {
        private final Map<String, List<CompiledRoute>> exact = new LinkedHashMap<>();
        private final Map<String, List<CompiledRoute>> prefix = new LinkedHashMap<>();

        /** {@code uri} is an APISIX uri: exact ("/a/b") or prefix ("/a/*", "/*"). */
        public Builder add(String uri, CompiledRoute route) {
            if (uri.endsWith("*")) {
                prefix.computeIfAbsent(uri.substring(0, uri.length() - 1), k -> new ArrayList<>()).add(route);
            } else {
                exact.computeIfAbsent(uri, k -> new ArrayList<>()).add(route);
            }
            return this;
        }

        public RouteTable build() {
            return new RouteTable(exact, prefix);
        }
    }
}
