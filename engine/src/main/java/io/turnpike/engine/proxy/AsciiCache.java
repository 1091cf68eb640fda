package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.util.AsciiString;

/**
 * A small direct-mapped cache of {@link AsciiString}s by content, for the HTTP/1 to HTTP/2 header conversion: the
 * field names of responses (and their stable values: content types, server names) repeat from one response to the
 * next, so the conversion reuses the string it made last time instead of a new {@code byte[]} and
 * {@code AsciiString} per field. A miss replaces the slot. Per connection; confined to its event loop.
 */
final class AsciiCache {
    private static final int SLOTS = 128;
    /** Values longer than this are not cached (dates, lengths and ids change anyway). */
    private static final int MAX_LENGTH = 64;

    private final AsciiString[] slots = new AsciiString[SLOTS];

    /** The bytes {@code [s, e)} of {@code b} as an AsciiString, lower-cased when {@code lower}. */
    AsciiString get(ByteBuf b, int s, int e, boolean lower) {
        int n = e - s;
        if (n > MAX_LENGTH) {
            return make(b, s, e, lower);
        }
        int h = lower ? 1 : 7;
        for (int i = s; i < e; i++) {
            h = h * 31 + (lower ? toLower(b.getByte(i)) : b.getByte(i));
        }
        int slot = (h ^ (h >>> 16)) & (SLOTS - 1);
        AsciiString c = slots[slot];
        if (c != null && c.length() == n && matches(c, b, s, lower)) {
            return c;
        }
        c = make(b, s, e, lower);
        slots[slot] = c;
        return c;
    }

    private static boolean matches(AsciiString c, ByteBuf b, int s, boolean lower) {
        byte[] a = c.array();
        int off = c.arrayOffset();
        for (int i = 0; i < c.length(); i++) {
            byte x = b.getByte(s + i);
            if (a[off + i] != (lower ? toLower(x) : x)) {
                return false;
            }
        }
        return true;
    }

    private static AsciiString make(ByteBuf b, int s, int e, boolean lower) {
        byte[] a = new byte[e - s];
        b.getBytes(s, a);
        if (lower) {
            for (int i = 0; i < a.length; i++) {
                a[i] = toLower(a[i]);
            }
        }
        return new AsciiString(a, false);
    }

    private static byte toLower(byte c) {
        return c >= 'A' && c <= 'Z' ? (byte) (c + 32) : c;
    }
}
