package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

import java.nio.charset.StandardCharsets;

/**
 * The compiled router of one snapshot, with APISIX's {@code radixtree_host_uri} semantics:
 * <ol>
 *   <li>routes with hosts (their own or their service's) live in a {@link HostTable}: the request host is looked up
 *       exactly, then as wildcard suffixes longest first, and each host has its own {@link UriTree};</li>
 *   <li>when no host-bound route matches, the host-less {@link UriTree} is consulted.</li>
 * </ol>
 * In each tree: exact uri, then the longest literal prefix ({@code /a/*}, {@code /a*}, and the part of {@code /a/:id}
 * before the parameter), then shorter ones; within one key priority, uri length, file order; a candidate is taken when
 * its parameters, method, remote address and vars accept the request. Paths are matched normalised
 * ({@link PathNormalizer}).
 *
 * <p>Immutable after construction and shared by every event loop. {@link #match(ByteBuf, RequestHead, MatchScratch)}
 * allocates nothing (except for routes with regex vars conditions, which are evaluated only when reached).
 */
public final class RouteTable {
    private static final ThreadLocal<MatchScratch> SCRATCH = ThreadLocal.withInitial(MatchScratch::new);

    private final HostTable hosts;
    private final UriTree anyHost;
    private final int size;

    private RouteTable(HostTable hosts, UriTree anyHost, int size) {
        this.hosts = hosts;
        this.anyHost = anyHost;
        this.size = size;
    }

    /** TEMPORARY placeholder until the persistent router lands: callers fall back to a full build. */
    public RouteTable with(java.util.Collection<CompiledRoute> removed, java.util.Collection<CompiledRoute> added) {
        java.util.Set<CompiledRoute> gone = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        gone.addAll(removed);
        Builder b = new Builder();
        for (CompiledRoute r : all) {
            if (!gone.contains(r)) {
                b.add(r);
            }
        }
        for (CompiledRoute r : added) {
            b.add(r);
        }
        return b.build();
    }

    private java.util.List<CompiledRoute> all = java.util.List.of();

    /** Number of (route, uri) pairs. */
    public int size() {
        return size;
    }

    /**
     * Finds the route for a parsed request head whose bytes live in {@code buf}, with a thread-local scratch and no
     * client address (routes with {@code remote_addrs} do not match). Returns null when nothing matches.
     */
    public CompiledRoute match(ByteBuf buf, RequestHead head) {
        MatchScratch s = SCRATCH.get();
        s.remoteAddress(null);
        return match(buf, head, s);
    }

    /**
     * Finds the route for a parsed request head whose bytes live in {@code buf}. {@code scratch} is the connection's
     * (it carries the client address). Returns null when nothing matches, including for a malformed path or one that
     * climbs above the root.
     */
    public CompiledRoute match(ByteBuf buf, RequestHead head, MatchScratch scratch) {
        if (!scratch.loadPath(buf, head)) {
            return null;
        }
        scratch.loadHost(buf, head);
        if (hosts != null) {
            CompiledRoute r = hosts.match(buf, head, scratch);
            if (r != null) {
                return r;
            }
        }
        return anyHost.match(buf, head, scratch);
    }

    /**
     * Start of the path in the request target: origin-form starts with '/'; absolute-form ({@code http://authority/path})
     * skips the authority (-2 when it has no path: the path is "/"); -1 for other forms ({@code *}, authority-form).
     */
    static int pathStart(ByteBuf buf, RequestHead head) {
        int start = head.targetStart;
        int end = head.pathEnd;
        if (start >= end) {
            return -1;
        }
        if (buf.getByte(start) == '/') {
            return start;
        }
        int authority = authorityStart(buf, head);
        if (authority < 0) {
            return -1;
        }
        for (int j = authority; j < end; j++) {
            if (buf.getByte(j) == '/') {
                return j;
            }
        }
        return -2;
    }

    /** Start of the authority of an absolute-form target (after "scheme://"), or -1. */
    static int authorityStart(ByteBuf buf, RequestHead head) {
        int start = head.targetStart;
        int end = head.pathEnd;
        if (start >= end || buf.getByte(start) == '/') {
            return -1;
        }
        for (int i = start; i + 2 < end; i++) {
            byte c = buf.getByte(i);
            if (c == ':') {
                return buf.getByte(i + 1) == '/' && buf.getByte(i + 2) == '/' ? i + 3 : -1;
            }
            if (c == '/') {
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
        private final HostTable.Builder hosts = new HostTable.Builder();
        private final UriTree.Builder anyHost = new UriTree.Builder();
        private int size;

        /** Adds every uri of the route, under each of its hosts (or in the host-less tree when it has none). */
        private final java.util.List<CompiledRoute> all = new java.util.ArrayList<>();

        public Builder add(CompiledRoute route) {
            all.add(route);
            for (String uri : route.uris()) {
                add(uri, route);
            }
            return this;
        }

        /** {@code uri} is an APISIX uri: exact ("/a/b"), prefix ("/a/*", "/a*") or with parameters ("/a/:id"). */
        public Builder add(String uri, CompiledRoute route) {
            byte[] utf8 = uri.getBytes(StandardCharsets.UTF_8);
            byte[] key = PathNormalizer.normalizeConfigured(utf8);
            if (route.hosts().isEmpty()) {
                anyHost.add(key, utf8.length, route);
            } else {
                for (String h : route.hosts()) {
                    hosts.tree(h).add(key, utf8.length, route);
                }
            }
            size++;
            return this;
        }

        public RouteTable build() {
            RouteTable t = new RouteTable(hosts.isEmpty() ? null : hosts.build(), anyHost.build(), size);
            t.all = all;
            return t;
        }
    }
}
