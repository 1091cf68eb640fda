package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;

/**
 * The fields of one parsed JSON object, in insertion order, held in one array of key/value pairs while the object is
 * small: what {@link CompactNodeFactory} gives every {@code ObjectNode} of a configuration value.
 *
 * <p>Why: the etcd agent keeps the parsed tree of every value it holds (the compile memo is keyed by it and the
 * records keep it as their {@code raw} JSON), and Jackson's default {@code ObjectNode} field map is a
 * {@link LinkedHashMap}: a 16-slot table plus a 40-byte entry per field, about 340 bytes for a five-field object. With
 * 50,000 routes that was ~55 MB of map overhead in a ~190 MB live heap (docs/startup.md, "Memory"). Here a five-field
 * object costs one 40-byte map and one 80-byte array (room for eight pairs).
 *
 * <p>Lookups scan the keys; Jackson interns the field names it parses, so the scan's first test ({@code ==}) usually
 * decides. An object that grows beyond {@link #MAX_PAIRS} fields (an upstream's {@code nodes} written as a
 * {@code "host:port": weight} map can have thousands) moves into a {@link LinkedHashMap} for good, so no operation is
 * worse than the default's by more than the constant.
 *
 * <p>Not thread-safe, like the {@link LinkedHashMap} it replaces; a tree is read-only once published (see
 * {@link ConfigCompiler}). Null keys are refused (JSON has none); null values are kept (Jackson stores {@code
 * NullNode}, never null, but the {@link Map} contract allows them).
 */
final class CompactFieldMap extends AbstractMap<String, JsonNode> {
    /** Most fields kept in the pair array; the next one moves the object into a {@link LinkedHashMap}. */
    static final int MAX_PAIRS = 12;

    private static final Object[] EMPTY = new Object[0];

    /** key 0, value 0, key 1, value 1, ...; null once {@link #big} holds the fields. */
    private Object[] pairs = EMPTY;
    private int size;
    private LinkedHashMap<String, JsonNode> big;
    /** Structural changes (put of a new key, remove, clear), for fail-fast iterators. */
    private int modCount;

    /** Whether the fields are still held in the pair array (for tests). */
    boolean compact() {
        return big == null;
    }

    @Override
    public int size() {
        return big != null ? big.size() : size;
    }

    private int indexOf(Object key) {
        Object[] p = pairs;
        for (int i = 0, n = size << 1; i < n; i += 2) {
            if (p[i] == key) {
                return i;
            }
        }
        if (key instanceof String) {
            for (int i = 0, n = size << 1; i < n; i += 2) {
                if (p[i].equals(key)) {
                    return i;
                }
            }
        }
        return -1;
    }

    @Override
    public boolean containsKey(Object key) {
        return big != null ? big.containsKey(key) : indexOf(key) >= 0;
    }

    @Override
    public JsonNode get(Object key) {
        if (big != null) {
            return big.get(key);
        }
        int i = indexOf(key);
        return i < 0 ? null : (JsonNode) pairs[i + 1];
    }

    @Override
    public JsonNode put(String key, JsonNode value) {
        Objects.requireNonNull(key, "key");
        if (big != null) {
            return big.put(key, value);
        }
        int i = indexOf(key);
        if (i >= 0) {
            JsonNode old = (JsonNode) pairs[i + 1];
            pairs[i + 1] = value;
            return old;
        }
        modCount++;
        if (size == MAX_PAIRS) {
            big = new LinkedHashMap<>(MAX_PAIRS * 4);
            for (int k = 0; k < size << 1; k += 2) {
                big.put((String) pairs[k], (JsonNode) pairs[k + 1]);
            }
            big.put(key, value);
            pairs = null;
            size = 0;
            return null;
        }
        int n = size << 1;
        if (n == pairs.length) {
            // 1, 2, 4, 8, then 12 fields: most configuration objects have 1-8
            Object[] grown = new Object[Math.min(MAX_PAIRS, Math.max(1, size * 2)) << 1];
            System.arraycopy(pairs, 0, grown, 0, n);
            pairs = grown;
        }
        pairs[n] = key;
        pairs[n + 1] = value;
        size++;
        return null;
    }

    @Override
    public JsonNode remove(Object key) {
        if (big != null) {
            return big.remove(key);
        }
        int i = indexOf(key);
        if (i < 0) {
            return null;
        }
        JsonNode old = (JsonNode) pairs[i + 1];
        removeAt(i);
        return old;
    }

    private void removeAt(int i) {
        int n = size << 1;
        System.arraycopy(pairs, i + 2, pairs, i, n - i - 2);
        pairs[n - 2] = null;
        pairs[n - 1] = null;
        size--;
        modCount++;
    }

    @Override
    public void clear() {
        if (big != null) {
            big.clear();
            return;
        }
        if (size > 0) {
            java.util.Arrays.fill(pairs, 0, size << 1, null);
            size = 0;
            modCount++;
        }
    }

    /** A fresh view each call (not cached in a field: a cached view would cost every object 16 bytes more). */
    @Override
    public Set<Map.Entry<String, JsonNode>> entrySet() {
        return big != null ? big.entrySet() : new Entries();
    }

    /**
     * A fresh view each call: {@link AbstractMap#keySet} would keep it in a field, and Jackson asks every object it
     * walks for its field names, which left a view behind in every parsed object (150,000 of them with 50,000 routes).
     */
    @Override
    public Set<String> keySet() {
        if (big != null) {
            return big.keySet();
        }
        return new AbstractSet<>() {
            @Override
            public Iterator<String> iterator() {
                return mapped(Map.Entry::getKey);
            }

            @Override
            public int size() {
                return CompactFieldMap.this.size();
            }

            @Override
            public boolean contains(Object o) {
                return containsKey(o);
            }

            @Override
            public boolean remove(Object o) {
                if (!containsKey(o)) {
                    return false;
                }
                CompactFieldMap.this.remove(o);
                return true;
            }
        };
    }

    /** A fresh view each call, for the reason given at {@link #keySet}. */
    @Override
    public java.util.Collection<JsonNode> values() {
        if (big != null) {
            return big.values();
        }
        return new java.util.AbstractCollection<>() {
            @Override
            public Iterator<JsonNode> iterator() {
                return mapped(Map.Entry::getValue);
            }

            @Override
            public int size() {
                return CompactFieldMap.this.size();
            }
        };
    }

    /** An iterator over the entries' keys or values, removing through the entry iterator. */
    private <T> Iterator<T> mapped(java.util.function.Function<Map.Entry<String, JsonNode>, T> part) {
        Iterator<Map.Entry<String, JsonNode>> it = entrySet().iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public T next() {
                return part.apply(it.next());
            }

            @Override
            public void remove() {
                it.remove();
            }
        };
    }

    private final class Entries extends AbstractSet<Map.Entry<String, JsonNode>> {
        @Override
        public int size() {
            return CompactFieldMap.this.size();
        }

        @Override
        public Iterator<Map.Entry<String, JsonNode>> iterator() {
            if (big != null) {
                return big.entrySet().iterator(); // moved while this view was held
            }
            return new Iterator<>() {
                private int next; // pair index of the next entry
                private int last = -1;
                private int expected = modCount;

                @Override
                public boolean hasNext() {
                    return next < size << 1;
                }

                @Override
                public Map.Entry<String, JsonNode> next() {
                    if (expected != modCount) {
                        throw new ConcurrentModificationException();
                    }
                    if (next >= size << 1) {
                        throw new NoSuchElementException();
                    }
                    last = next;
                    next += 2;
                    return new Pair(last);
                }

                @Override
                public void remove() {
                    if (last < 0) {
                        throw new IllegalStateException();
                    }
                    if (expected != modCount) {
                        throw new ConcurrentModificationException();
                    }
                    removeAt(last);
                    next = last;
                    last = -1;
                    expected = modCount;
                }
            };
        }
    }

    /** One field, writing through to the array: valid until the map's next structural change. */
    private final class Pair implements Map.Entry<String, JsonNode> {
        private final int i;
        private final String key;

        Pair(int i) {
            this.i = i;
            this.key = (String) pairs[i];
        }

        @Override
        public String getKey() {
            return key;
        }

        /** The pair index of this field now (the map may have changed since the entry was handed out). */
        private int at() {
            if (big == null && i < size << 1 && pairs[i] == key) {
                return i;
            }
            int k = big == null ? indexOf(key) : -1;
            if (k < 0 && !containsKey(key)) {
                throw new IllegalStateException("field " + key + " was removed");
            }
            return k;
        }

        @Override
        public JsonNode getValue() {
            int k = at();
            return k >= 0 ? (JsonNode) pairs[k + 1] : big.get(key);
        }

        @Override
        public JsonNode setValue(JsonNode value) {
            int k = at();
            if (k < 0) {
                return big.put(key, value);
            }
            JsonNode old = (JsonNode) pairs[k + 1];
            pairs[k + 1] = value;
            return old;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Map.Entry<?, ?> e && key.equals(e.getKey())
                    && Objects.equals(getValue(), e.getValue());
        }

        @Override
        public int hashCode() {
            return key.hashCode() ^ Objects.hashCode(getValue());
        }

        @Override
        public String toString() {
            return key + "=" + getValue();
        }
    }
}
