package io.turnpike.engine.plugin;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/** Byte helpers for plugins: comparisons on buffer spans without decoding to {@code String}. */
public final class Bytes {
    private Bytes() {
    }

    public static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    public static byte[] lower(String s) {
        return ascii(s.toLowerCase(java.util.Locale.ROOT));
    }

    /** {@code buf[start, end)} equals {@code lower} ignoring ASCII case ({@code lower} is lower case). */
    public static boolean equalsLower(ByteBuf buf, int start, int end, byte[] lower) {
        if (end - start != lower.length) {
            return false;
        }
        for (int i = 0; i < lower.length; i++) {
            byte b = buf.getByte(start + i);
            if (b >= 'A' && b <= 'Z') {
                b += 32;
            }
            if (b != lower[i]) {
                return false;
            }
        }
        return true;
    }

    /** {@code buf[start, end)} equals {@code bytes} exactly. */
    public static boolean equals(ByteBuf buf, int start, int end, byte[] bytes) {
        if (end - start != bytes.length) {
            return false;
        }
        for (int i = 0; i < bytes.length; i++) {
            if (buf.getByte(start + i) != bytes[i]) {
                return false;
            }
        }
        return true;
    }
}
