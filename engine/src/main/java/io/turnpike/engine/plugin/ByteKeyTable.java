package io.turnpike.engine.plugin;

import io.netty.buffer.ByteBuf;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * An immutable open-addressing table from byte strings to values, looked up from a span of a {@link ByteBuf} or of a
 * {@code byte[]} without decoding or allocating (FNV-1a over the bytes, linear probing). Built off the loops; shared.
 */
final class ByteKeyTable<T> {
    private final byte[][] keys;
    private final Object[] values;
    private final int mask;

    /** @throws IllegalArgumentException on a duplicate key (callers leave duplicates out first) */
    ByteKeyTable(List<Map.Entry<byte[], T>> entries) {
        int cap = Integer.highestOneBit(Math.max(4, entries.size() * 2 + 1)) * 2;
        this.keys = new byte[cap][];
        this.values = new Object[cap];
        this.mask = cap - 1;
        for (Map.Entry<byte[], T> e : entries) {
            byte[] k = e.getKey();
            int i = hash(k, 0, k.length) & mask;
            while (keys[i] != null) {
                if (Arrays.equals(keys[i], k)) {
                    throw new IllegalArgumentException("duplicate key");
                }
                i = (i + 1) & mask;
            }
            keys[i] = k;
            values[i] = e.getValue();
        }
    }

    @SuppressWarnings("unchecked")
    T get(ByteBuf buf, int start, int end) {
        int h = 0x811c9dc5;
        for (int i = start; i < end; i++) {
            h = (h ^ (buf.getByte(i) & 0xff)) * 0x01000193;
        }
        int i = h & mask;
        byte[] k;
        while ((k = keys[i]) != null) {
            if (Bytes.equals(buf, start, end, k)) {
                return (T) values[i];
            }
            i = (i + 1) & mask;
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    T get(byte[] b, int start, int end) {
        int i = hash(b, start, end) & mask;
        byte[] k;
        while ((k = keys[i]) != null) {
            if (Arrays.equals(k, 0, k.length, b, start, end)) {
                return (T) values[i];
            }
            i = (i + 1) & mask;
        }
        return null;
    }

    static int hash(byte[] b, int start, int end) {
        int h = 0x811c9dc5;
        for (int i = start; i < end; i++) {
            h = (h ^ (b[i] & 0xff)) * 0x01000193;
        }
        return h;
    }
}
