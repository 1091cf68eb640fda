package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;

/** Byte comparisons and the router's hash (FNV-1a over bytes), without copying or allocating. */
final class ByteMatch {
    static final int SEED = 0x811c9dc5;

    private ByteMatch() {
    }

    static int mix(int h, byte b) {
        return (h ^ b) * 0x01000193;
    }

    static boolean equals(ByteBuf buf, int index, byte[] b, int off, int len) {
        for (int i = 0; i < len; i++) {
            if (buf.getByte(index + i) != b[off + i]) {
                return false;
            }
        }
        return true;
    }

    /** {@code b} must already be lower case. */
    static boolean equalsIgnoreCase(ByteBuf buf, int index, byte[] b, int off, int len) {
        for (int i = 0; i < len; i++) {
            byte c = buf.getByte(index + i);
            if (c >= 'A' && c <= 'Z') {
                c = (byte) (c + 32);
            }
            if (c != b[off + i]) {
                return false;
            }
        }
        return true;
    }

    static int hash(ByteBuf buf, int start, int end) {
        int h = SEED;
        for (int i = start; i < end; i++) {
            h = mix(h, buf.getByte(i));
        }
        return h;
    }

    static int hash(byte[] b) {
        return hash(b, 0, b.length);
    }

    static int hash(byte[] b, int off, int len) {
        int h = SEED;
        for (int i = off, end = off + len; i < end; i++) {
            h = mix(h, b[i]);
        }
        return h;
    }

    /** Hash of {@code b} read from its last byte to its first: the hash of the reversed bytes. */
    static int hashReversed(byte[] b) {
        int h = SEED;
        for (int i = b.length - 1; i >= 0; i--) {
            h = mix(h, b[i]);
        }
        return h;
    }

    /** Spreads a hash before masking it into a power-of-two table. */
    static int spread(int h) {
        return h ^ (h >>> 16);
    }
}
