package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The URI router of one host (or of the host-less routes), lua-resty-radixtree's rules on bytes:
 * <ol>
 *   <li>exact uris in a sharded open-addressing hash of the (normalised) path bytes ({@link ByteMap});</li>
 *   <li>then every other uri under its literal prefix (the part before a trailing {@code *}, or before the first
 *       {@code :} / {@code *name}) in a compressed byte trie; the prefixes of the path are tried longest first: the walk
 *       down pushes every node holding routes on a stack in the {@link MatchScratch}, then pops them.</li>
 * </ol>
 * Within one key, candidates are ordered by priority (higher first), then by the length of the configured uri
 * (longer first, as radixtree's {@code sort_route}), then file order, then route id; the first whose parameter pattern
 * and conditions accept the request wins, else the next shorter key is tried. Allocation-free to match.
 *
 * <p>Persistent: {@link #with} derives a new tree sharing every unchanged shard, node and bucket with this one, which is
 * never modified (loops may be reading it). Trie nodes are copied from the root down to each changed key (path copying);
 * a node is mutated in place only by the {@link Edit} that created it, before the tree holding it is returned, and
 * never after. The trie is kept canonical (a node exists only at a key or where keys branch; a node left with no bucket
 * and one child is merged into it, one with neither is removed), so it has the same shape whatever the order of
 * updates, and churn leaves no garbage nodes.
 */
final class UriTree {
    static final UriTree EMPTY = new UriTree(ByteMap.empty(false), null);
    private static final byte[] NO_LABEL = new byte[0];
    /** Nodes wider than this get a 256-entry child array. */
    private static final int DENSE_OVER = 8;

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
            .thenComparing(e -> e.route.id, Comparator.nullsFirst(Comparator.naturalOrder()));

    private final ByteMap<Entry[]> exact;
    private final Node root;

    private UriTree(ByteMap<Entry[]> exact, Node root) {
        this.exact = exact;
        this.root = root;
    }

    boolean isEmpty() {
        return exact.size() == 0 && root == null;
    }

    CompiledRoute match(ByteBuf buf, RequestHead head, MatchScratch s) {
        byte[] p = s.path;
        int n = s.pathLen;
        Entry[] hit = exact.get(p, 0, n, s.pathHash);
        if (hit != null) {
            CompiledRoute r = firstAccepting(hit, buf, head, s);
            if (r != null) {
                return r;
            }
        }
        Node node = root;
        if (node == null) {
            return null;
        }
        Entry[][] stack = s.buckets;
        int top = 0;
        if (node.bucket != null) {
            stack[top++] = node.bucket;
        }
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
            Entry[] b = c.bucket;
            if (b != null) {
                if (top == stack.length) {
                    stack = s.growBuckets();
                }
                stack[top++] = b;
            }
        }
        CompiledRoute found = null;
        while (top > 0) {
            Entry[] b = stack[--top];
            stack[top] = null; // no reference to an old table's routes outlives the match
            if (found == null) {
                found = firstAccepting(b, buf, head, s);
            }
        }
        return found;
    }

    private static CompiledRoute firstAccepting(Entry[] candidates, ByteBuf buf, RequestHead head, MatchScratch s) {
        for (Entry e : candidates) {
            if ((e.pattern == null || e.pattern.matches(s.path, s.pathLen)) && e.route.accepts(buf, head, s)) {
                return e.route;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------------ statistics

    int exactKeys() {
        return exact.size();
    }

    int exactShards() {
        return exact.shards();
    }

    /** Trie nodes (0 for an empty trie). */
    int trieNodes() {
        return root == null ? 0 : root.count();
    }

    // ------------------------------------------------------------------------------------------------ uri keys

    /** Where a configured uri lives in a tree: its key, exact or prefix, and (when built for a route) its entry. */
    static final class Placed {
        final ByteMap.Key key;
        final boolean exact;
        final Entry entry;

        private Placed(ByteMap.Key key, boolean exact, Entry entry) {
            this.key = key;
            this.exact = exact;
            this.entry = entry;
        }
    }

    /**
     * Places an APISIX uri: exact ("/a/b"), prefix ("/a/*", "/a*") or with parameters ("/a/:id"). With a null
     * {@code route}, only the key (to remove a route's entries).
     */
    static Placed place(String uri, CompiledRoute route) {
        byte[] utf8 = uri.getBytes(StandardCharsets.UTF_8);
        byte[] key = PathNormalizer.normalizeConfigured(utf8);
        int colon = indexOf(key, (byte) ':');
        int cut = colon >= 0 ? colon : indexOf(key, (byte) '*');
        if (cut < 0) {
            return new Placed(ByteMap.Key.forward(key), true, route == null ? null : new Entry(route, null, utf8.length));
        }
        byte[] prefix = Arrays.copyOf(key, cut);
        Entry entry = null;
        if (route != null) {
            PathPattern pattern = cut == key.length - 1 && colon < 0 ? null : PathPattern.compile(key, prefix);
            entry = new Entry(route, pattern, utf8.length);
        }
        return new Placed(ByteMap.Key.forward(prefix), false, entry);
    }

    private static int indexOf(byte[] b, byte x) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == x) {
                return i;
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------------------------------------ trie

    /** Identity of one update (or one build): the nodes it created, and only those, it may still mutate. */
    static final class Edit {
    }

    /**
     * A trie node: the edge label leading to it (its first byte is the child key), routes ending here, children.
     * Mutable only through the {@link Edit} that created it, while that edit runs; immutable once reachable from a
     * returned tree.
     */
    static final class Node {
        final Edit edit;
        final byte[] label;
        Entry[] bucket;
        private byte[] keys;
        private Node[] kids;
        /** Children by first byte, when there are more than {@link #DENSE_OVER}. */
        private Node[] dense;

        Node(Edit edit, byte[] label, Entry[] bucket) {
            this.edit = edit;
            this.label = label;
            this.bucket = bucket;
            this.keys = NO_LABEL;
            this.kids = NO_KIDS;
        }

        private Node(Edit edit, byte[] label, Entry[] bucket, byte[] keys, Node[] kids, Node[] dense) {
            this.edit = edit;
            this.label = label;
            this.bucket = bucket;
            this.keys = keys;
            this.kids = kids;
            this.dense = dense;
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

        /** This node if {@code e} created it, else a copy that {@code e} owns. */
        Node editable(Edit e) {
            return edit == e ? this : relabel(label, e);
        }

        /** A node like this one with another label, owned by {@code e} (reusing this one's arrays if {@code e} owns it:
         *  this node is then being replaced and dropped). */
        Node relabel(byte[] newLabel, Edit e) {
            if (edit == e) {
                return new Node(e, newLabel, bucket, keys, kids, dense);
            }
            return new Node(e, newLabel, bucket, keys.clone(), kids.clone(), dense == null ? null : dense.clone());
        }

        /** Adds or replaces the child for {@code c.label[0]}; only on a node owned by the running edit. */
        void put(Node c) {
            byte b = c.label[0];
            for (int i = 0; i < keys.length; i++) {
                if (keys[i] == b) {
                    kids[i] = c;
                    if (dense != null) {
                        dense[b & 0xff] = c;
                    }
                    return;
                }
            }
            int n = keys.length;
            keys = Arrays.copyOf(keys, n + 1);
            kids = Arrays.copyOf(kids, n + 1);
            keys[n] = b;
            kids[n] = c;
            if (dense != null) {
                dense[b & 0xff] = c;
            } else if (n + 1 > DENSE_OVER) {
                dense = new Node[256];
                for (int i = 0; i <= n; i++) {
                    dense[keys[i] & 0xff] = kids[i];
                }
            }
        }

        /** Removes the child for {@code b}; only on a node owned by the running edit. */
        void remove(byte b) {
            int n = keys.length;
            for (int i = 0; i < n; i++) {
                if (keys[i] == b) {
                    byte[] nk = new byte[n - 1];
                    Node[] nkids = new Node[n - 1];
                    System.arraycopy(keys, 0, nk, 0, i);
                    System.arraycopy(keys, i + 1, nk, i, n - 1 - i);
                    System.arraycopy(kids, 0, nkids, 0, i);
                    System.arraycopy(kids, i + 1, nkids, i, n - 1 - i);
                    keys = nk;
                    kids = nkids;
                    if (dense != null) {
                        if (n - 1 > DENSE_OVER) {
                            dense[b & 0xff] = null;
                        } else {
                            dense = null;
                        }
                    }
                    return;
                }
            }
        }

        /**
         * Canonical form of a non-root node owned by {@code e}: null when it holds nothing, merged into its only child
         * when it has no bucket, else itself.
         */
        Node normalize(Edit e) {
            if (bucket != null || kids.length > 1) {
                return this;
            }
            if (kids.length == 0) {
                return null;
            }
            Node only = kids[0];
            byte[] l = Arrays.copyOf(label, label.length + only.label.length);
            System.arraycopy(only.label, 0, l, label.length, only.label.length);
            return only.relabel(l, e);
        }

        int count() {
            int n = 1;
            for (Node k : kids) {
                n += k.count();
            }
            return n;
        }
    }

    private static final Node[] NO_KIDS = new Node[0];

    /** The bucket of {@code key} in the trie at {@code root}, or null. */
    static Entry[] find(Node root, byte[] key) {
        Node node = root;
        if (node == null) {
            return null;
        }
        int i = 0;
        while (i < key.length) {
            Node c = node.child(key[i]);
            if (c == null) {
                return null;
            }
            byte[] l = c.label;
            if (key.length - i < l.length || !Arrays.equals(l, 0, l.length, key, i, i + l.length)) {
                return null;
            }
            i += l.length;
            node = c;
        }
        return node.bucket;
    }

    /**
     * The trie at {@code root} with the bucket of {@code key} set to {@code bucket} (null removes it): nodes on the
     * path are copied unless {@code e} owns them, everything else is shared. Returns the new root (null when empty).
     */
    static Node set(Node root, byte[] key, Entry[] bucket, Edit e) {
        if (root == null) {
            if (bucket == null) {
                return null;
            }
            root = new Node(e, NO_LABEL, null);
        }
        return set(root, key, 0, bucket, e, true);
    }

    private static Node set(Node n, byte[] key, int i, Entry[] bucket, Edit e, boolean isRoot) {
        if (i == key.length) {
            if (n.bucket == bucket) {
                return n;
            }
            Node m = n.editable(e);
            m.bucket = bucket;
            return tidy(m, e, isRoot);
        }
        byte first = key[i];
        Node c = n.child(first);
        Node nc;
        if (c == null) {
            if (bucket == null) {
                return n;
            }
            nc = new Node(e, Arrays.copyOfRange(key, i, key.length), bucket);
        } else {
            byte[] l = c.label;
            int common = 1;
            while (common < l.length && i + common < key.length && l[common] == key[i + common]) {
                common++;
            }
            if (common == l.length) {
                nc = set(c, key, i + common, bucket, e, false);
                if (nc == c) {
                    return n;
                }
            } else {
                if (bucket == null) {
                    return n; // the key ends or diverges inside c's label: it is not in the trie
                }
                Node mid = new Node(e, Arrays.copyOf(l, common), null);
                mid.put(c.relabel(Arrays.copyOfRange(l, common, l.length), e));
                if (i + common == key.length) {
                    mid.bucket = bucket;
                } else {
                    mid.put(new Node(e, Arrays.copyOfRange(key, i + common, key.length), bucket));
                }
                nc = mid;
            }
        }
        Node m = n.editable(e);
        if (nc == null) {
            m.remove(first);
        } else {
            m.put(nc);
        }
        return tidy(m, e, isRoot);
    }

    private static Node tidy(Node m, Edit e, boolean isRoot) {
        if (isRoot) {
            return m.bucket == null && m.kids.length == 0 ? null : m;
        }
        return m.normalize(e);
    }

    // ------------------------------------------------------------------------------------------------ updates

    /** The changes to one tree in one update: keys touched (by a removed route) and entries added, per key. */
    static final class Delta {
        final Map<ByteMap.Key, List<Entry>> exact = new HashMap<>();
        final Map<ByteMap.Key, List<Entry>> prefix = new HashMap<>();

        /** A removed route's uri: its key is looked at. */
        void touch(Placed p) {
            (p.exact ? exact : prefix).computeIfAbsent(p.key, k -> new ArrayList<>(1));
        }

        void add(Placed p) {
            (p.exact ? exact : prefix).computeIfAbsent(p.key, k -> new ArrayList<>(1)).add(p.entry);
        }
    }

    /**
     * A tree: this one with the entries of the routes in {@code gone} dropped from the keys of {@code d} and the added
     * entries of {@code d} inserted in order. Routes of {@code gone} actually found are added to {@code found}. This tree
     * is not modified; returns this one when nothing changed.
     */
    UriTree with(Delta d, Set<CompiledRoute> gone, Set<CompiledRoute> found, Edit e) {
        ByteMap<Entry[]> ex = exact;
        if (!d.exact.isEmpty()) {
            Map<ByteMap.Key, Entry[]> changes = new HashMap<>();
            for (Map.Entry<ByteMap.Key, List<Entry>> c : d.exact.entrySet()) {
                Entry[] old = exact.get(c.getKey());
                Entry[] next = merge(old, c.getValue(), gone, found);
                if (next != old) {
                    changes.put(c.getKey(), next);
                }
            }
            ex = exact.with(changes);
        }
        Node r = root;
        for (Map.Entry<ByteMap.Key, List<Entry>> c : d.prefix.entrySet()) {
            byte[] key = c.getKey().bytes;
            Entry[] old = find(r, key);
            Entry[] next = merge(old, c.getValue(), gone, found);
            if (next != old) {
                r = set(r, key, next, e);
            }
        }
        if (ex == exact && r == root) {
            return this;
        }
        return ex.size() == 0 && r == null ? EMPTY : new UriTree(ex, r);
    }

    /**
     * {@code old} (sorted, nullable) without the entries of {@code gone}, merged with {@code added}: sorted by
     * {@link #ORDER}; {@code old} itself when nothing changes, null when empty.
     */
    static Entry[] merge(Entry[] old, List<Entry> added, Set<CompiledRoute> gone, Set<CompiledRoute> found) {
        int oldLen = old == null ? 0 : old.length;
        int keep = 0;
        for (int i = 0; i < oldLen; i++) {
            if (gone.contains(old[i].route)) {
                found.add(old[i].route);
            } else {
                keep++;
            }
        }
        if (keep == oldLen && added.isEmpty()) {
            return old;
        }
        int n = keep + added.size();
        if (n == 0) {
            return null;
        }
        Entry[] a = added.toArray(new Entry[0]);
        Arrays.sort(a, ORDER);
        Entry[] out = new Entry[n];
        int i = 0;
        int j = 0;
        int o = 0;
        while (o < n) {
            while (i < oldLen && gone.contains(old[i].route)) {
                i++;
            }
            if (j == a.length || (i < oldLen && ORDER.compare(old[i], a[j]) <= 0)) {
                out[o++] = old[i++];
            } else {
                out[o++] = a[j++];
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ full build

    /** Collects the entries of one tree; used once by the compiler. */
    static final class Builder {
        private final Map<ByteMap.Key, List<Entry>> exact = new LinkedHashMap<>();
        private final Map<ByteMap.Key, List<Entry>> prefixes = new HashMap<>();

        void add(Placed p) {
            (p.exact ? exact : prefixes).computeIfAbsent(p.key, k -> new ArrayList<>(2)).add(p.entry);
        }

        UriTree build() {
            List<ByteMap.Key> keys = new ArrayList<>(exact.size());
            List<Entry[]> values = new ArrayList<>(exact.size());
            for (Map.Entry<ByteMap.Key, List<Entry>> e : exact.entrySet()) {
                keys.add(e.getKey());
                values.add(sorted(e.getValue()));
            }
            Edit edit = new Edit();
            Node root = null;
            for (Map.Entry<ByteMap.Key, List<Entry>> e : prefixes.entrySet()) {
                root = set(root, e.getKey().bytes, sorted(e.getValue()), edit);
            }
            if (keys.isEmpty() && root == null) {
                return EMPTY;
            }
            return new UriTree(ByteMap.build(false, keys, values), root);
        }

        private static Entry[] sorted(List<Entry> entries) {
            Entry[] a = entries.toArray(new Entry[0]);
            if (a.length > 1) {
                Arrays.sort(a, ORDER);
            }
            return a;
        }
    }
}
