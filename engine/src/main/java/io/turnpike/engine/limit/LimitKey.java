package io.turnpike.engine.limit;

import java.util.Arrays;

/**
 * A limit key's bytes with their hash: stored keys own a copy ({@link #copy}); a loop probes the table with a reused
 * flyweight ({@link #wrap}) so a lookup allocates nothing. {@code equals} compares bytes, whichever side is the
 * flyweight (the table calls {@code probe.equals(stored)}).
 */
public final class LimitKey {
    private byte[] bytes;
    private int offset;
    private int length;
    private int hash;

    /** Points this flyweight at {@code b[off, off + len)} (valid until the next wrap; the caller keeps it alive). */
    public LimitKey wrap(byte[] b, int off, int len) {
        this.bytes = b;
        this.offset = off;
        this.length = len;
        int h = 1;
        for (int i = off, end = off + len; i < end; i++) {
            h = 31 * h + b[i];
        }
        this.hash = h ^ (h >>> 16);
        return this;
    }

    /** An owned copy, for storing in a table. */
    public LimitKey copy() {
        LimitKey k = new LimitKey();
        k.bytes = Arrays.copyOfRange(bytes, offset, offset + length);
        k.offset = 0;
        k.length = length;
        k.hash = hash;
        return k;
    }

    public int length() {
        return length;
    }

    /** The key's bytes as a new array (off the loops: Redis keys, tests). */
    public byte[] toBytes() {
        return Arrays.copyOfRange(bytes, offset, offset + length);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof LimitKey k) || k.hash != hash || k.length != length) {
            return false;
        }
        return Arrays.equals(bytes, offset, offset + length, k.bytes, k.offset, k.offset + length);
    }

    @Override
    public String toString() {
        return new String(bytes, offset, length, java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
