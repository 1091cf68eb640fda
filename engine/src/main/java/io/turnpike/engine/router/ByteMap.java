package io.turnpike.engine.router;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable, persistent hash map from byte strings to values, in two levels: a fixed array of shards selected by the
 * high bits of the key's hash, each shard a small open-addressing table (linear probing, load at most 1/2, at least one
 * free slot). {@link #with} copies the shard arrays (at most {@value #MAX_SHARDS} references each) and rebuilds only
 * the shards the change touches, so an update costs O(change + shards), not O(size); no array is large enough to be a
 * G1 humongous object at any realistic size.
 *
 * <p>The shard count is chosen at a full build ({@link #build}) from the size and stays for the map's life; it is
 * raised (everything rehashed, amortised O(1) per insert) only when an update makes one shard hold more than
 * {@value #MAX_PER_SHARD} keys while fewer than {@value #MAX_SHARDS} shards exist.
 *
 * <p>Keys are hashed with the router's FNV-1a, forward (uris) or over the reversed bytes (hosts, so that a request
 * host's suffix hashes serve the wildcard probes): one map uses one direction, given at construction, and every
 * {@link Key} given to it must use the same. {@link #get(byte[], int, int, int)} allocates nothing.
 */
final class ByteMap<V> {
    /** Keys per shard aimed at by a full build. */
    static final int TARGET_PER_SHARD = 32;
    /** An update that leaves a shard fuller than this re-shards the map (while below {@link #MAX_SHARDS}). */
    static final int MAX_PER_SHARD = 128;
    static final int MAX_SHARDS = 1024;
    /** The shard index is the top 10 bits of the multiplied hash, masked. */
    private static final int SHARD_SHIFT = 22;

    private static final byte[][] NO_KEYS = new byte[1][];
    private static final Object[] NO_VALUES = new Object[1];
    private static final ByteMap<?> EMPTY_FORWARD = new ByteMap<>(false, new byte[][][]{NO_KEYS},
            new Object[][]{NO_VALUES}, new int[1], 0);
    private static final ByteMap<?> EMPTY_REVERSED = new ByteMap<>(true, new byte[][][]{NO_KEYS},
            new Object[][]{NO_VALUES}, new int[1], 0);

    private final boolean reversed;
    /** Per shard: the keys by slot (null: free); the length is a power of two. */
    private final byte[][][] keys;
    private final Object[][] values;
    /** Per shard: the number of keys. */
    private final int[] counts;
    private final int shardMask;
    private final int size;

    private ByteMap(boolean reversed, byte[][][] keys, Object[][] values, int[] counts, int size) {
        this.reversed = reversed;
        this.keys = keys;
        this.values = values;
        this.counts = counts;
        this.shardMask = keys.length - 1;
        this.size = size;
    }

    @SuppressWarnings("unchecked")
    static <V> ByteMap<V> empty(boolean reversed) {
        return (ByteMap<V>) (reversed ? EMPTY_REVERSED : EMPTY_FORWARD);
    }

    int size() {
        return size;
    }

    int shards() {
        return keys.length;
    }

    static int shardOf(int hash) {
        return (hash * 0x9E3779B9) >>> SHARD_SHIFT;
    }

    /** The value of the key {@code src[off, off + len)} whose hash (in this map's direction) is {@code hash}. */
    @SuppressWarnings("unchecked")
    V get(byte[] src, int off, int len, int hash) {
        int shard = shardOf(hash) & shardMask;
        byte[][] ks = keys[shard];
        int mask = ks.length - 1;
        int slot = ByteMatch.spread(hash) & mask;
        byte[] k;
        while ((k = ks[slot]) != null) {
            if (k.length == len && Arrays.equals(k, 0, len, src, off, off + len)) {
                return (V) values[shard][slot];
            }
            slot = (slot + 1) & mask;
        }
        return null;
    }

    V get(Key key) {
        assert key.reversed == reversed;
        return get(key.bytes, 0, key.bytes.length, key.hash);
    }

    /** Calls {@code f} for every key and value (tests, re-sharding). */
    void forEach(java.util.function.BiConsumer<byte[], V> f) {
        for (int s = 0; s < keys.length; s++) {
            byte[][] ks = keys[s];
            for (int i = 0; i < ks.length; i++) {
                if (ks[i] != null) {
                    @SuppressWarnings("unchecked")
                    V v = (V) values[s][i];
                    f.accept(ks[i], v);
                }
            }
        }
    }

    /** Shards for a map of {@code n} keys built in one go: about {@value #TARGET_PER_SHARD} keys each. */
    static int shardsFor(int n) {
        return Math.max(1, Math.min(MAX_SHARDS, Integer.highestOneBit(Math.max(1, n / TARGET_PER_SHARD))));
    }

    /** Slots of a shard of {@code n} keys: a power of two, load at most 1/2. */
    private static int capacity(int n) {
        return n == 0 ? 1 : Integer.highestOneBit(Math.max(2, n * 2 - 1)) << 1;
    }

    /** A map of distinct keys (all hashed in direction {@code reversed}) and their non-null values. */
    static <V> ByteMap<V> build(boolean reversed, List<Key> ks, List<V> vs) {
        if (ks.isEmpty()) {
            return empty(reversed);
        }
        return build(reversed, ks, vs, shardsFor(ks.size()));
    }

    private static <V> ByteMap<V> build(boolean reversed, List<Key> ks, List<V> vs, int shards) {
        int sm = shards - 1;
        int n = ks.size();
        int[] counts = new int[shards];
        int[] shardOfKey = new int[n];
        for (int i = 0; i < n; i++) {
            int s = shardOf(ks.get(i).hash) & sm;
            shardOfKey[i] = s;
            counts[s]++;
        }
        byte[][][] keys = new byte[shards][][];
        Object[][] values = new Object[shards][];
        for (int s = 0; s < shards; s++) {
            if (counts[s] == 0) {
                keys[s] = NO_KEYS;
                values[s] = NO_VALUES;
            } else {
                int cap = capacity(counts[s]);
                keys[s] = new byte[cap][];
                values[s] = new Object[cap];
            }
        }
        for (int i = 0; i < n; i++) {
            Key k = ks.get(i);
            int s = shardOfKey[i];
            place(keys[s], values[s], k.bytes, k.hash, vs.get(i));
        }
        return new ByteMap<>(reversed, keys, values, counts, n);
    }

    private static void place(byte[][] ks, Object[] vs, byte[] key, int hash, Object value) {
        int mask = ks.length - 1;
        int slot = ByteMatch.spread(hash) & mask;
        while (ks[slot] != null) {
            slot = (slot + 1) & mask;
        }
        ks[slot] = key;
        vs[slot] = value;
    }

    private int hash(byte[] k) {
        return reversed ? ByteMatch.hashReversed(k) : ByteMatch.hash(k);
    }

    /**
     * A new map: this one with each key of {@code changes} set to its value, or removed when the value is null (an
     * absent key removed is ignored). This map is not modified.
     */
    ByteMap<V> with(Map<Key, V> changes) {
        if (changes.isEmpty()) {
            return this;
        }
        int shards = keys.length;
        Map<Integer, List<Key>> byShard = new HashMap<>();
        for (Key k : changes.keySet()) {
            assert k.reversed == reversed;
            byShard.computeIfAbsent(shardOf(k.hash) & shardMask, x -> new ArrayList<>(2)).add(k);
        }
        byte[][][] nk = keys.clone();
        Object[][] nv = values.clone();
        int[] nc = counts.clone();
        int nsize = size;
        boolean overfull = false;
        for (Map.Entry<Integer, List<Key>> e : byShard.entrySet()) {
            int s = e.getKey();
            byte[][] oldKeys = keys[s];
            Object[] oldValues = values[s];
            // survivors of the old shard (keys not changed), then the changed keys that have a value
            List<byte[]> sk = new ArrayList<>(counts[s] + e.getValue().size());
            List<Integer> sh = new ArrayList<>(counts[s] + e.getValue().size());
            List<Object> sv = new ArrayList<>(counts[s] + e.getValue().size());
            for (int i = 0; i < oldKeys.length; i++) {
                byte[] k = oldKeys[i];
                if (k == null) {
                    continue;
                }
                int h = hash(k);
                if (!changes.containsKey(new Key(k, h, reversed))) {
                    sk.add(k);
                    sh.add(h);
                    sv.add(oldValues[i]);
                }
            }
            for (Key k : e.getValue()) {
                V v = changes.get(k);
                if (v != null) {
                    sk.add(k.bytes);
                    sh.add(k.hash);
                    sv.add(v);
                }
            }
            int n = sk.size();
            nsize += n - counts[s];
            nc[s] = n;
            if (n == 0) {
                nk[s] = NO_KEYS;
                nv[s] = NO_VALUES;
                continue;
            }
            int cap = capacity(n);
            byte[][] tk = new byte[cap][];
            Object[] tv = new Object[cap];
            for (int i = 0; i < n; i++) {
                place(tk, tv, sk.get(i), sh.get(i), sv.get(i));
            }
            nk[s] = tk;
            nv[s] = tv;
            overfull |= n > MAX_PER_SHARD;
        }
        if (overfull && shards < MAX_SHARDS) {
            return reshard(nk, nv, nsize, Math.min(MAX_SHARDS, Math.max(shards * 2, shardsFor(nsize))));
        }
        if (nsize == 0) {
            return empty(reversed);
        }
        return new ByteMap<>(reversed, nk, nv, nc, nsize);
    }

    private ByteMap<V> reshard(byte[][][] ks, Object[][] vs, int n, int shards) {
        List<Key> all = new ArrayList<>(n);
        List<V> allValues = new ArrayList<>(n);
        for (int s = 0; s < ks.length; s++) {
            for (int i = 0; i < ks[s].length; i++) {
                byte[] k = ks[s][i];
                if (k != null) {
                    all.add(new Key(k, hash(k), reversed));
                    @SuppressWarnings("unchecked")
                    V v = (V) vs[s][i];
                    allValues.add(v);
                }
            }
        }
        return build(reversed, all, allValues, shards);
    }

    /** byte[] with value equality and the router's hash (forward or reversed), for maps and the builders. */
    static final class Key {
        final byte[] bytes;
        final int hash;
        final boolean reversed;

        private Key(byte[] bytes, int hash, boolean reversed) {
            this.bytes = bytes;
            this.hash = hash;
            this.reversed = reversed;
        }

        /** A uri key: FNV-1a over the bytes. */
        static Key forward(byte[] bytes) {
            return new Key(bytes, ByteMatch.hash(bytes), false);
        }

        /** A host key: FNV-1a over the bytes from last to first. */
        static Key reversed(byte[] bytes) {
            return new Key(bytes, ByteMatch.hashReversed(bytes), true);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
