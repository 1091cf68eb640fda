package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;

/** Byte comparisons between a ByteBuf span and a byte[] without copying. */
final class ByteMatch {
    private ByteMatch() {
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
        int h = 0x811c9dc5;
        for (int i = start; i < end; i++) {
            h = (h ^ buf.getByte(i)) * 0x01000193;
        }
        return h;
    }

    static int hash(byte[] b) {
        int h = 0x811c9dc5;
        for (byte x : b) {
            h = (h ^ x) * 0x01000193;
        }
        return h;
    }
}
