package io.turnpike.engine.plugin.builtin;

import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * Base64 decoding of spans into caller-owned arrays, without allocation, with nginx's {@code ngx_decode_base64}
 * leniency: decoding stops at the first {@code '='} (padding is optional, what follows it is ignored), any other byte
 * outside the alphabet fails, and a length of 1 modulo 4 fails.
 */
final class Base64Span {
    private static final byte[] STD = table(false);
    private static final byte[] ANY = table(true);
    private static final byte[] URL = urlOnly();

    private Base64Span() {
    }

    private static byte[] table(boolean url) {
        byte[] t = new byte[256];
        Arrays.fill(t, (byte) -1);
        String a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; i++) {
            t[a.charAt(i)] = (byte) i;
        }
        if (url) {
            t['-'] = 62;
            t['_'] = 63;
        }
        return t;
    }

    private static byte[] urlOnly() {
        byte[] t = table(true);
        t['+'] = -1;
        t['/'] = -1;
        return t;
    }

    /** Most bytes {@code n} encoded characters decode to. */
    static int maxDecoded(int n) {
        return n / 4 * 3 + 2;
    }

    /** Standard alphabet from {@code src[start, end)} into {@code dst[at...]}: the decoded length, or -1. */
    static int decode(ByteBuf src, int start, int end, byte[] dst, int at) {
        int n = start;
        while (n < end && src.getByte(n) != '=') {
            if (STD[src.getByte(n) & 0xff] < 0) {
                return -1;
            }
            n++;
        }
        if ((n - start) % 4 == 1) {
            return -1;
        }
        int o = at;
        int acc = 0;
        int bits = 0;
        for (int i = start; i < n; i++) {
            acc = (acc << 6) | STD[src.getByte(i) & 0xff];
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                dst[o++] = (byte) (acc >> bits);
            }
        }
        return o - at;
    }

    /** Either alphabet (base64url as JWTs use it, or standard) from {@code src[start, end)}: the length, or -1. */
    static int decodeUrl(byte[] src, int start, int end, byte[] dst, int at) {
        return decode(ANY, src, start, end, dst, at);
    }

    /** The base64url alphabet only (nginx's {@code ngx_decode_base64url}, as APISIX decodes a JWT's signature). */
    static int decodeUrlStrict(byte[] src, int start, int end, byte[] dst, int at) {
        return decode(URL, src, start, end, dst, at);
    }

    private static int decode(byte[] table, byte[] src, int start, int end, byte[] dst, int at) {
        int n = start;
        while (n < end && src[n] != '=') {
            if (table[src[n] & 0xff] < 0) {
                return -1;
            }
            n++;
        }
        if ((n - start) % 4 == 1) {
            return -1;
        }
        int o = at;
        int acc = 0;
        int bits = 0;
        for (int i = start; i < n; i++) {
            acc = (acc << 6) | table[src[i] & 0xff];
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                dst[o++] = (byte) (acc >> bits);
            }
        }
        return o - at;
    }
}
