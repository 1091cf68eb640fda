package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The compiled router of one snapshot, with APISIX's {@code radixtree_host_uri} semantics:
 * <ol>
 *   <li>routes with hosts (their own or their service's) live in a {@link HostTable}: the request host is looked up
 *       exactly, then as wildcard suffixes longest first, and each host has its own {@link UriTree};</li>
 *   <li>when no host-bound route matches, the host-less {@link UriTree} is consulted.</li>
 * </ol>
 * In each tree: exact uri, then the longest literal prefix ({@code /a/*}, {@code /a*}, and the part of {@code /a/:id}
 * before the parameter), then shorter ones; within one key priority, uri length, file order, route id; a candidate is
 * taken when its parameters, method, remote address and vars accept the request. Paths are matched normalised
 * ({@link PathNormalizer}).
 *
 * <p>Immutable after construction and shared by every event loop. A full build ({@link Builder}) is for the first
 * snapshot; later ones can be derived with {@link #with}, which shares every unchanged part (hash shards, trie nodes,
 * buckets, per-host trees) with this table. {@link #match(ByteBuf, RequestHead, MatchScratch)}
 * allocates nothing (except for routes with regex vars conditions, which are evaluated only when reached).
 */
public final class RouteTable {
    private static final ThreadLocal<MatchScratch> SCRATCH = ThreadLocal.withInitial(MatchScratch::new);

    /** The table without routes; {@link #with} grows it. */
    public static final RouteTable EMPTY = new Builder().build();

    private final HostTable hosts;
    private final UriTree anyHost;
    private final int size;

    private RouteTable(HostTable hosts, UriTree anyHost, int size) {
        this.hosts = hosts;
        this.anyHost = anyHost;
        this.size = size;
    }

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
        // The host is read (lower-cased, hashed) only when a host table or a `host` var (a route's, or traffic-split's
        // on the same scratch after this match) needs it.
        scratch.hostLoaded = false;
        if (!scratch.loadPath(buf, head)) {
            return null;
        }
        if (hosts != null) {
            scratch.loadHost(buf, head);
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

    /**
     * A new table: this one minus {@code removed} (by identity: objects previously added to this table) plus
     * {@code added}. This table is not modified (loops may be reading it). Cost proportional to the change, not to
     * {@link #size()}.
     *
     * <p>Matching on the result is identical to matching on a table built by {@link Builder} from the resulting set of
     * routes. A route of {@code removed} that is not in this table is ignored; a route in both lists is removed, then
     * added. Calls are independent: two calls on one table each derive their own table.
     */
    public RouteTable with(Collection<CompiledRoute> removed, Collection<CompiledRoute> added) {
        if (removed.isEmpty() && added.isEmpty()) {
            return this;
        }
        Set<CompiledRoute> gone = Collections.newSetFromMap(new IdentityHashMap<>());
        gone.addAll(removed);
        UriTree.Delta any = new UriTree.Delta();
        Map<String, UriTree.Delta> byHost = new HashMap<>();
        for (CompiledRoute r : gone) {
            for (String uri : r.uris()) {
                UriTree.Placed p = UriTree.place(uri, null);
                if (r.hosts().isEmpty()) {
                    any.touch(p);
                } else {
                    for (String h : r.hosts()) {
                        byHost.computeIfAbsent(h, x -> new UriTree.Delta()).touch(p);
                    }
                }
            }
        }
        int addedPairs = 0;
        for (CompiledRoute r : added) {
            for (String uri : r.uris()) {
                UriTree.Placed p = UriTree.place(uri, r);
                if (r.hosts().isEmpty()) {
                    any.add(p);
                } else {
                    for (String h : r.hosts()) {
                        byHost.computeIfAbsent(h, x -> new UriTree.Delta()).add(p);
                    }
                }
                addedPairs++;
            }
        }
        Set<CompiledRoute> found = Collections.newSetFromMap(new IdentityHashMap<>());
        UriTree.Edit edit = new UriTree.Edit();
        UriTree nextAny = anyHost.with(any, gone, found, edit);
        HostTable nextHosts = byHost.isEmpty() ? hosts : HostTable.with(hosts, byHost, gone, found, edit);
        int removedPairs = 0;
        for (CompiledRoute r : found) {
            removedPairs += r.uris().size();
        }
        return new RouteTable(nextHosts, nextAny, size - removedPairs + addedPairs);
    }

    // ---- statistics, for tests

    /** Trie nodes over all trees (walks everything). */
    int trieNodes() {
        return anyHost.trieNodes() + (hosts == null ? 0 : hosts.trieNodes());
    }

    /** Distinct exact uri keys over all trees (walks the hosts). */
    int exactKeys() {
        return anyHost.exactKeys() + (hosts == null ? 0 : hosts.exactKeys());
    }

    /** Shards of the host-less tree's exact-uri map. */
    int anyHostExactShards() {
        return anyHost.exactShards();
    }

    /** Distinct wildcard suffix lengths, longest first. */
    int[] wildcardLengths() {
        return hosts == null ? new int[0] : hosts.wildcardLengths();
    }

    /** Distinct hosts (exact and wildcard) holding routes. */
    int hostCount() {
        return hosts == null ? 0 : hosts.hosts();
    }

    /** Collects routes for a full build; not thread-safe, used once by the snapshot compiler. */
    public static final class Builder {
        private final HostTable.Builder hosts = new HostTable.Builder();
        private final UriTree.Builder anyHost = new UriTree.Builder();
        private int size;

        /** Adds every uri of the route, under each of its hosts (or in the host-less tree when it has none). */
        public Builder add(CompiledRoute route) {
            for (String uri : route.uris()) {
                add(uri, route);
            }
            return this;
        }

        /** {@code uri} is an APISIX uri: exact ("/a/b"), prefix ("/a/*", "/a*") or with parameters ("/a/:id"). */
        public Builder add(String uri, CompiledRoute route) {
            UriTree.Placed p = UriTree.place(uri, route);
            if (route.hosts().isEmpty()) {
                anyHost.add(p);
            } else {
                for (String h : route.hosts()) {
                    hosts.tree(h).add(p);
                }
            }
            size++;
            return this;
        }

        public RouteTable build() {
            return new RouteTable(hosts.isEmpty() ? null : hosts.build(), anyHost.build(), size);
        }
    }
}
