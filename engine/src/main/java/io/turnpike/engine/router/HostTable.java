package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The outer level of APISIX's {@code radixtree_host_uri}: host-bound routes grouped by host, each group with its own
 * {@link UriTree}. Hosts are keyed by the hash of their reversed bytes: an exact host by the whole name, a wildcard
 * {@code *.example.com} by its suffix {@code .example.com}. The request host's reversed prefix hashes are computed once
 * ({@link MatchScratch#hostHashes}), so the exact probe and every wildcard probe (longest suffix first, only at the
 * suffix lengths that exist) cost one table lookup each. Immutable, allocation-free.
 */
final class HostTable {
    private final byte[][] keys;
    private final UriTree[] trees;
    private final boolean[] wildcard;
    private final int mask;
    /** Distinct wildcard suffix lengths, longest first. */
    private final int[] wildcardLengths;

    private HostTable(byte[][] keys, UriTree[] trees, boolean[] wildcard, int[] wildcardLengths) {
        this.keys = keys;
        this.trees = trees;
        this.wildcard = wildcard;
        this.mask = keys.length - 1;
        this.wildcardLengths = wildcardLengths;
    }

    CompiledRoute match(ByteBuf buf, RequestHead head, MatchScratch s) {
        int len = s.hostLen;
        if (len < 0) {
            return null;
        }
        byte[] host = s.host;
        UriTree t = find(host, len, len, false, s.hostHashes[len]);
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
            t = find(host, len, L, true, s.hostHashes[L]);
            if (t != null) {
                CompiledRoute r = t.match(buf, head, s);
                if (r != null) {
                    return r;
                }
            }
        }
        return null;
    }

    /** The tree keyed by the last {@code L} bytes of {@code host}. */
    private UriTree find(byte[] host, int len, int L, boolean wild, int hash) {
        int slot = ByteMatch.spread(hash) & mask;
        byte[] k;
        while ((k = keys[slot]) != null) {
            if (k.length == L && wildcard[slot] == wild && Arrays.equals(k, 0, L, host, len - L, len)) {
                return trees[slot];
            }
            slot = (slot + 1) & mask;
        }
        return null;
    }

    /** Groups host-bound entries; used once by the compiler. */
    static final class Builder {
        private final Map<UriTree.Key, UriTree.Builder> exact = new LinkedHashMap<>();
        private final Map<UriTree.Key, UriTree.Builder> wild = new LinkedHashMap<>();

        boolean isEmpty() {
            return exact.isEmpty() && wild.isEmpty();
        }

        /** {@code host} lower case; "*.example.com" is a wildcard. */
        UriTree.Builder tree(String host) {
            if (host.startsWith("*")) {
                byte[] suffix = host.substring(1).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                return wild.computeIfAbsent(new UriTree.Key(suffix), k -> new UriTree.Builder());
            }
            byte[] name = host.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            return exact.computeIfAbsent(new UriTree.Key(name), k -> new UriTree.Builder());
        }

        HostTable build() {
            int n = exact.size() + wild.size();
            int cap = Integer.highestOneBit(Math.max(2, n * 2 - 1)) << 1;
            byte[][] keys = new byte[cap][];
            UriTree[] trees = new UriTree[cap];
            boolean[] isWild = new boolean[cap];
            int mask = cap - 1;
            TreeSet<Integer> lengths = new TreeSet<>();
            for (int pass = 0; pass < 2; pass++) {
                boolean w = pass == 1;
                for (Map.Entry<UriTree.Key, UriTree.Builder> e : (w ? wild : exact).entrySet()) {
                    byte[] key = e.getKey().bytes;
                    int slot = ByteMatch.spread(ByteMatch.hashReversed(key)) & mask;
                    while (keys[slot] != null) {
                        slot = (slot + 1) & mask;
                    }
                    keys[slot] = key;
                    trees[slot] = e.getValue().build();
                    isWild[slot] = w;
                    if (w) {
                        lengths.add(key.length);
                    }
                }
            }
            int[] wl = new int[lengths.size()];
            int i = 0;
            for (int L : lengths.descendingSet()) {
                wl[i++] = L;
            }
            return new HostTable(keys, trees, isWild, wl);
        }
    }
}
