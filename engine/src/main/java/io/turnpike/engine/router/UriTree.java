package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The URI router of one host (or of the host-less routes), lua-resty-radixtree's rules on bytes:
 * <ol>
 *   <li>exact uris in an open-addressing hash of the (normalised) path bytes;</li>
 *   <li>then every other uri under its literal prefix (the part before a trailing {@code *}, or before the first
 *       {@code :} / {@code *name}) in a compressed byte trie; the prefixes of the path are tried longest first, each
 *       node linking to the nearest shorter prefix that holds routes.</li>
 * </ol>
 * Within one key, candidates are ordered by priority (higher first), then by the length of the configured uri
 * (longer first, as radixtree's {@code sort_route}), then file order; the first whose parameter pattern and conditions
 * accept the request wins, else the next shorter key is tried. Immutable and allocation-free to match.
 */
final class UriTree {
    /** One (route, uri) pair under a key. */
    static final class Entry {
        final CompiledRoute route;
        final PathPattern pattern;
        final int uriLength;

        Entry(CompiledRoute route, PathPattern pattern, int uriLength) {
            this.route = route;
            this.pattern = pattern;
            this.uriLength = uriLength;
        }
    }

    static final Comparator<Entry> ORDER = Comparator.comparingInt((Entry e) -> -e.route.priority)
            .thenComparingInt(e -> -e.uriLength)
            .thenComparingInt(e -> e.route.order)
            .thenComparing(e -> e.route.id);

    private final byte[][] exactKeys;
    private final Entry[][] exactValues;
    private final int exactMask;
    private final Node root;

    private UriTree(byte[][] exactKeys, Entry[][] exactValues, Node root) {
        this.exactKeys = exactKeys;
        this.exactValues = exactValues;
        this.exactMask = exactKeys.length - 1;
        this.root = root;
    }

    CompiledRoute match(ByteBuf buf, RequestHead head, MatchScratch s) {
        byte[] p = s.path;
        int n = s.pathLen;
        if (exactMask > 0) {
            int slot = ByteMatch.spread(s.pathHash) & exactMask;
            byte[] key;
            while ((key = exactKeys[slot]) != null) {
                if (key.length == n && Arrays.equals(key, 0, n, p, 0, n)) {
                    CompiledRoute r = firstAccepting(exactValues[slot], buf, head, s);
                    if (r != null) {
                        return r;
                    }
                    break;
                }
                slot = (slot + 1) & exactMask;
            }
        }
        Node node = root;
        if (node == null) {
            return null;
        }
        Node best = node.bucket != null ? node : null;
        int i = 0;
        while (i < n) {
            Node c = node.child(p[i]);
            if (c == null) {
                break;
            }
            byte[] l = c.label;
            int ll = l.length;
            if (n - i < ll || (ll > 1 && !Arrays.equals(l, 1, ll, p, i + 1, i + ll))) {
                break;
            }
            i += ll;
            node = c;
            if (c.bucket != null) {
                best = c;
            }
        }
        for (Node x = best; x != null; x = x.up) {
            CompiledRoute r = firstAccepting(x.bucket, buf, head, s);
            if (r != null) {
                return r;
            }
        }
        return null;
    }

    private static CompiledRoute firstAccepting(Entry[] candidates, ByteBuf buf, RequestHead head, MatchScratch s) {
        for (Entry e : candidates) {
            if ((e.pattern == null || e.pattern.matches(s.path, s.pathLen)) && e.route.accepts(buf, head, s)) {
                return e.route;
            }
        }
        return null;
    }

    /** A trie node: the edge label leading to it (its first byte is the child key), routes ending here. */
    static final class Node {
        byte[] label;
        Entry[] bucket;
        /** Nearest ancestor with a bucket. */
        Node up;
        private byte[] keys = new byte[0];
        private Node[] kids = new Node[0];
        private Node[] dense;
        private List<Entry> pending;

        Node(byte[] label) {
            this.label = label;
        }

        Node child(byte b) {
            Node[] d = dense;
            if (d != null) {
                return d[b & 0xff];
            }
            byte[] k = keys;
            for (int i = 0; i < k.length; i++) {
                if (k[i] == b) {
                    return kids[i];
                }
            }
            return null;
        }

        void put(Node c) {
            byte b = c.label[0];
            for (int i = 0; i < keys.length; i++) {
                if (keys[i] == b) {
                    kids[i] = c;
                    return;
                }
            }
            keys = Arrays.copyOf(keys, keys.length + 1);
            kids = Arrays.copyOf(kids, kids.length + 1);
            keys[keys.length - 1] = b;
            kids[kids.length - 1] = c;
        }

        void freeze(Node nearest) {
            up = nearest;
            if (pending != null) {
                bucket = pending.toArray(new Entry[0]);
                Arrays.sort(bucket, ORDER);
                pending = null;
            }
            Node next = bucket != null ? this : nearest;
            if (kids.length > 8) {
                dense = new Node[256];
                for (int i = 0; i < keys.length; i++) {
                    dense[keys[i] & 0xff] = kids[i];
                }
            }
            for (Node k : kids) {
                k.freeze(next);
            }
        }
    }

    /** Collects the entries of one tree; used once by the compiler. */
    static final class Builder {
        private final Map<Key, List<Entry>> exact = new LinkedHashMap<>();
        private Node root;
        private final Map<Key, Node> prefixNodes = new HashMap<>();

        /** {@code uri} is the config-normalised uri bytes; {@code uriLength} its configured length. */
        void add(byte[] uri, int uriLength, CompiledRoute route) {
            int colon = indexOf(uri, (byte) ':');
            int cut = colon >= 0 ? colon : indexOf(uri, (byte) '*');
            if (cut < 0) {
                exact.computeIfAbsent(new Key(uri), k -> new ArrayList<>()).add(new Entry(route, null, uriLength));
                return;
            }
            byte[] prefix = Arrays.copyOf(uri, cut);
            PathPattern pattern = cut == uri.length - 1 && colon < 0 ? null : PathPattern.compile(uri, prefix);
            Node node = prefixNodes.computeIfAbsent(new Key(prefix), k -> insert(prefix));
            if (node.pending == null) {
                node.pending = new ArrayList<>(2);
            }
            node.pending.add(new Entry(route, pattern, uriLength));
        }

        private static int indexOf(byte[] b, byte x) {
            for (int i = 0; i < b.length; i++) {
                if (b[i] == x) {
                    return i;
                }
            }
            return -1;
        }

        private Node insert(byte[] key) {
            if (root == null) {
                root = new Node(new byte[0]);
            }
            Node node = root;
            int i = 0;
            while (i < key.length) {
                Node c = node.child(key[i]);
                if (c == null) {
                    Node leaf = new Node(Arrays.copyOfRange(key, i, key.length));
                    node.put(leaf);
                    return leaf;
                }
                byte[] l = c.label;
                int common = 0;
                while (common < l.length && i + common < key.length && l[common] == key[i + common]) {
                    common++;
                }
                if (common == l.length) {
                    node = c;
                    i += common;
                    continue;
                }
                Node mid = new Node(Arrays.copyOf(l, common));
                c.label = Arrays.copyOfRange(l, common, l.length);
                mid.put(c);
                node.put(mid);
                i += common;
                if (i == key.length) {
                    return mid;
                }
                Node leaf = new Node(Arrays.copyOfRange(key, i, key.length));
                mid.put(leaf);
                return leaf;
            }
            return node;
        }

        UriTree build() {
            int cap = Integer.highestOneBit(Math.max(2, exact.size() * 2 - 1)) << 1;
            if (exact.isEmpty()) {
                cap = 1;
            }
            byte[][] keys = new byte[cap][];
            Entry[][] values = new Entry[cap][];
            int mask = cap - 1;
            for (Map.Entry<Key, List<Entry>> e : exact.entrySet()) {
                byte[] key = e.getKey().bytes;
                int slot = ByteMatch.spread(ByteMatch.hash(key)) & mask;
                while (keys[slot] != null) {
                    slot = (slot + 1) & mask;
                }
                keys[slot] = key;
                Entry[] sorted = e.getValue().toArray(new Entry[0]);
                Arrays.sort(sorted, ORDER);
                values[slot] = sorted;
            }
            if (root != null) {
                root.freeze(null);
            }
            return new UriTree(keys, values, root);
        }
    }

    /** byte[] with value equality, for the builders' maps. */
    static final class Key {
        final byte[] bytes;
        private final int hash;

        Key(byte[] bytes) {
            this.bytes = bytes;
            this.hash = Arrays.hashCode(bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
