package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The outer level of APISIX's {@code radixtree_host_uri}: host-bound routes grouped by host, each group with its own
 * {@link UriTree}. Exact hosts and wildcard suffixes ({@code *.example.com} stored as {@code .example.com}) are two
 * {@link ByteMap}s keyed by the hash of their reversed bytes. The request host's reversed suffix hashes are computed once
 * ({@link MatchScratch#hostHashes}), so the exact probe and every wildcard probe (longest suffix first, only at the
 * suffix lengths that exist) cost one lookup each. Immutable and persistent ({@link #with}); allocation-free to match.
 */
final class HostTable {
    private final ByteMap<UriTree> exact;
    private final ByteMap<UriTree> wild;
    /** Distinct wildcard suffix lengths, longest first. */
    private final int[] wildcardLengths;
    /** Number of wildcard hosts per suffix length (index), to maintain {@link #wildcardLengths} on updates. */
    private final int[] wildcardCounts;

    private HostTable(ByteMap<UriTree> exact, ByteMap<UriTree> wild, int[] wildcardCounts) {
        this.exact = exact;
        this.wild = wild;
        this.wildcardCounts = wildcardCounts;
        int distinct = 0;
        for (int c : wildcardCounts) {
            if (c > 0) {
                distinct++;
            }
        }
        int[] wl = new int[distinct];
        int i = 0;
        for (int L = wildcardCounts.length - 1; L >= 0; L--) {
            if (wildcardCounts[L] > 0) {
                wl[i++] = L;
            }
        }
        this.wildcardLengths = wl;
    }

    CompiledRoute match(ByteBuf buf, RequestHead head, MatchScratch s) {
        int len = s.hostLen;
        if (len < 0) {
            return null;
        }
        byte[] host = s.host;
        int[] hashes = s.hostHashes;
        UriTree t = exact.get(host, 0, len, hashes[len]);
        if (t != null) {
            CompiledRoute r = t.match(buf, head, s);
            if (r != null) {
                return r;
            }
        }
        for (int L : wildcardLengths) {
            if (L > len) {
                continue;
            }
            t = wild.get(host, len - L, L, hashes[L]);
            if (t != null) {
                CompiledRoute r = t.match(buf, head, s);
                if (r != null) {
                    return r;
                }
            }
        }
        return null;
    }

    /** Distinct wildcard suffix lengths, longest first (tests). */
    int[] wildcardLengths() {
        return wildcardLengths.clone();
    }

    /** Distinct hosts (exact and wildcard). */
    int hosts() {
        return exact.size() + wild.size();
    }

    /** Trie nodes over all hosts (tests; walks everything). */
    int trieNodes() {
        int[] n = {0};
        exact.forEach((k, t) -> n[0] += t.trieNodes());
        wild.forEach((k, t) -> n[0] += t.trieNodes());
        return n[0];
    }

    int exactKeys() {
        int[] n = {0};
        exact.forEach((k, t) -> n[0] += t.exactKeys());
        wild.forEach((k, t) -> n[0] += t.exactKeys());
        return n[0];
    }

    /** "*.example.com" → wildcard key ".example.com"; "api.example.com" → exact key. */
    private static ByteMap.Key key(String host) {
        String name = host.startsWith("*") ? host.substring(1) : host;
        return ByteMap.Key.reversed(name.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * {@code table} (nullable: no host-bound routes) with each host's tree updated by its delta ({@link UriTree#with}).
     * A host whose tree becomes empty is removed; returns null when no host is left. {@code table} is not modified.
     */
    static HostTable with(HostTable table, Map<String, UriTree.Delta> deltas, Set<CompiledRoute> gone,
                          Set<CompiledRoute> found, UriTree.Edit edit) {
        ByteMap<UriTree> ex = table == null ? ByteMap.empty(true) : table.exact;
        ByteMap<UriTree> wi = table == null ? ByteMap.empty(true) : table.wild;
        int[] counts = table == null ? new int[0] : table.wildcardCounts;
        Map<ByteMap.Key, UriTree> exChanges = new HashMap<>();
        Map<ByteMap.Key, UriTree> wildChanges = new HashMap<>();
        boolean lengthsChanged = false;
        for (Map.Entry<String, UriTree.Delta> d : deltas.entrySet()) {
            boolean isWild = d.getKey().startsWith("*");
            ByteMap.Key k = key(d.getKey());
            UriTree old = (isWild ? wi : ex).get(k);
            UriTree base = old == null ? UriTree.EMPTY : old;
            UriTree next = base.with(d.getValue(), gone, found, edit);
            if (next == base) {
                continue;
            }
            if (next.isEmpty()) {
                next = null;
            }
            if (next == old) {
                continue;
            }
            (isWild ? wildChanges : exChanges).put(k, next);
            if (isWild && (old == null || next == null)) {
                int L = k.bytes.length;
                if (!lengthsChanged) {
                    counts = java.util.Arrays.copyOf(counts, Math.max(counts.length, L + 1));
                    lengthsChanged = true;
                } else if (counts.length <= L) {
                    counts = java.util.Arrays.copyOf(counts, L + 1);
                }
                counts[L] += next == null ? -1 : 1;
            }
        }
        if (exChanges.isEmpty() && wildChanges.isEmpty()) {
            return table;
        }
        ByteMap<UriTree> nex = ex.with(exChanges);
        ByteMap<UriTree> nwi = wi.with(wildChanges);
        if (nex.size() == 0 && nwi.size() == 0) {
            return null;
        }
        if (lengthsChanged) {
            int top = counts.length;
            while (top > 0 && counts[top - 1] == 0) {
                top--;
            }
            counts = java.util.Arrays.copyOf(counts, top);
        }
        return new HostTable(nex, nwi, counts);
    }

    /** Groups host-bound entries; used once by the compiler. */
    static final class Builder {
        private final Map<ByteMap.Key, UriTree.Builder> exact = new LinkedHashMap<>();
        private final Map<ByteMap.Key, UriTree.Builder> wild = new LinkedHashMap<>();

        boolean isEmpty() {
            return exact.isEmpty() && wild.isEmpty();
        }

        /** {@code host} lower case; "*.example.com" is a wildcard. */
        UriTree.Builder tree(String host) {
            return (host.startsWith("*") ? wild : exact).computeIfAbsent(key(host), k -> new UriTree.Builder());
        }

        HostTable build() {
            int[] counts = new int[0];
            for (ByteMap.Key k : wild.keySet()) {
                int L = k.bytes.length;
                if (counts.length <= L) {
                    counts = java.util.Arrays.copyOf(counts, L + 1);
                }
                counts[L]++;
            }
            return new HostTable(build(exact), build(wild), counts);
        }

        private static ByteMap<UriTree> build(Map<ByteMap.Key, UriTree.Builder> trees) {
            List<ByteMap.Key> keys = new ArrayList<>(trees.size());
            List<UriTree> values = new ArrayList<>(trees.size());
            for (Map.Entry<ByteMap.Key, UriTree.Builder> e : trees.entrySet()) {
                keys.add(e.getKey());
                values.add(e.getValue().build());
            }
            return ByteMap.build(true, keys, values);
        }
    }
}
