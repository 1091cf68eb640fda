package io.turnpike.engine.codec;

import io.netty.buffer.ByteBuf;

/** Byte-class lookup tables and small allocation-free helpers shared by the parsers. */
final class HttpChars {
    private HttpChars() {
    }

    static final byte CR = '\r', LF = '\n', SP = ' ', HTAB = '\t';

    /** RFC 9110 tchar. */
    static final boolean[] TCHAR = new boolean[256];
    /** Field value classes: 0 = not allowed (CTL except HTAB, DEL, CR, LF), 1 = VCHAR / obs-text, 2 = SP / HTAB. */
    static final byte[] VALUE_CLASS = new byte[256];
    static final byte V_BAD = 0, V_CHAR = 1, V_WS = 2;
    /** Request-target classes: 0 = not allowed, 1 = allowed, 2 = '?' or '#' (ends the path). Allowed = VCHAR 0x21-0x7E. */
    static final byte[] TARGET_CLASS = new byte[256];
    /** ASCII lower-casing table (non-letters map to themselves). */
    static final byte[] LOWER = new byte[256];
    /** Hex digit value, or -1. */
    static final byte[] HEX = new byte[256];
    /** Quoted-string qdtext / quoted-pair second byte allowed (HTAB, SP, VCHAR, obs-text) excluding '"' and '\\' for qdtext. */
    static final boolean[] QDTEXT = new boolean[256];

    static {
        String t = "!#$%&'*+-.^_`|~";
        for (int c = '0'; c <= '9'; c++) TCHAR[c] = true;
        for (int c = 'a'; c <= 'z'; c++) TCHAR[c] = true;
        for (int c = 'A'; c <= 'Z'; c++) TCHAR[c] = true;
        for (int i = 0; i < t.length(); i++) TCHAR[t.charAt(i)] = true;
        for (int c = 0; c < 256; c++) {
            VALUE_CLASS[c] = (c >= 0x21 && c != 0x7f) ? V_CHAR : V_BAD;
            TARGET_CLASS[c] = (byte) (c >= 0x21 && c <= 0x7e ? 1 : 0);
            LOWER[c] = (byte) (c >= 'A' && c <= 'Z' ? c + 32 : c);
            HEX[c] = -1;
            QDTEXT[c] = c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80;
        }
        VALUE_CLASS[' '] = V_WS;
        VALUE_CLASS['\t'] = V_WS;
        TARGET_CLASS['?'] = 2;
        TARGET_CLASS['#'] = 2;
        for (int c = '0'; c <= '9'; c++) HEX[c] = (byte) (c - '0');
        for (int c = 'a'; c <= 'f'; c++) HEX[c] = (byte) (c - 'a' + 10);
        for (int c = 'A'; c <= 'F'; c++) HEX[c] = (byte) (c - 'A' + 10);
    }

    static byte[] ascii(String s) {
        byte[] b = new byte[s.length()];
        for (int i = 0; i < b.length; i++) b[i] = (byte) s.charAt(i);
        return b;
    }

    /** Case-insensitive compare of buf[start, end) with a lower-case ASCII constant. */
    static boolean equalsLower(ByteBuf buf, int start, int end, byte[] lower) {
        int n = lower.length;
        if (end - start != n) return false;
        for (int i = 0; i < n; i++) {
            if (LOWER[buf.getByte(start + i) & 0xff] != lower[i]) return false;
        }
        return true;
    }

    /** Case-insensitive compare of two ranges of the same buffer. */
    static boolean equalsIgnoreCase(ByteBuf buf, int s1, int e1, int s2, int e2) {
        int n = e1 - s1;
        if (e2 - s2 != n) return false;
        for (int i = 0; i < n; i++) {
            if (LOWER[buf.getByte(s1 + i) & 0xff] != LOWER[buf.getByte(s2 + i) & 0xff]) return false;
        }
        return true;
    }

    static boolean isOws(byte b) {
        return b == SP || b == HTAB;
    }

    // ---- word-at-a-time scans (the parsers' hot loops) ----
    //
    // ByteBuf.getByte pays a bounds check and a reference-count check per byte; these read 8 bytes per check with
    // getLongLE (the buffer's own bounds-checked read, so a pooled direct buffer is one unaligned load) and classify
    // the bytes from the register. They return exactly what the byte-at-a-time loop they replace returned: the first
    // index in [i, end) whose byte fails the class, or end when every byte passes. Reads never go past end.

    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    /** First index in [i, end) that is not a tchar, or end. */
    static int skipTchar(ByteBuf buf, int i, int end) {
        for (; i + 8 <= end; i += 8) {
            long w = buf.getLongLE(i);
            for (int k = 0; k < 8; k++, w >>>= 8) {
                if (!TCHAR[(int) w & 0xff]) return i + k;
            }
        }
        while (i < end && TCHAR[buf.getByte(i) & 0xff]) i++;
        return i;
    }

    /**
     * First index in [i, end) whose byte is not allowed in a field value ({@link #VALUE_CLASS} {@code V_BAD}: a CTL
     * other than HTAB, or DEL), or end. SWAR: a word with no byte below 0x20 and none equal to 0x7F is all SP, VCHAR
     * or obs-text and is skipped whole (the usual case for a header value); only a word that has one (HTAB, or the
     * CR that ends the line) is looked at byte by byte.
     */
    static int skipFieldValue(ByteBuf buf, int i, int end) {
        for (; i + 8 <= end; i += 8) {
            long w = buf.getLongLE(i);
            long ctl = (w - 0x20 * ONES) & ~w & HIGHS;              // some byte < 0x20 (exact test for "any")
            long del = w ^ (0x7F * ONES);
            del = (del - ONES) & ~del & HIGHS;                        // some byte == 0x7F
            if ((ctl | del) != 0) {
                for (int k = 0; k < 8; k++, w >>>= 8) {
                    if (VALUE_CLASS[(int) w & 0xff] == V_BAD) return i + k;
                }
            }
        }
        while (i < end && VALUE_CLASS[buf.getByte(i) & 0xff] != V_BAD) i++;
        return i;
    }

    /**
     * Scans a request-target: the low 32 bits of the result are the first index in [i, end) whose byte is not
     * allowed in one ({@link #TARGET_CLASS} 0), or end; the high 32 bits the first '?' or '#' met on the way, or -1
     * ({@link #targetEnd} and {@link #targetQuery} unpack them; a long so that nothing is allocated).
     */
    static long scanTarget(ByteBuf buf, int i, int end) {
        int q = -1;
        for (; i + 8 <= end; i += 8) {
            long w = buf.getLongLE(i);
            for (int k = 0; k < 8; k++, w >>>= 8) {
                int c = TARGET_CLASS[(int) w & 0xff];
                if (c == 0) return pack(q, i + k);
                if (c == 2 && q < 0) q = i + k;
            }
        }
        for (; i < end; i++) {
            int c = TARGET_CLASS[buf.getByte(i) & 0xff];
            if (c == 0) break;
            if (c == 2 && q < 0) q = i;
        }
        return pack(q, i);
    }

    private static long pack(int query, int end) {
        return ((long) query << 32) | (end & 0xffffffffL);
    }

    static int targetEnd(long scan) {
        return (int) scan;
    }

    static int targetQuery(long scan) {
        return (int) (scan >> 32);
    }

    // ---- header name classification ----
    private static final byte[] N_TE = ascii("te");
    private static final byte[] N_HOST = ascii("host");
    private static final byte[] N_EXPECT = ascii("expect");
    private static final byte[] N_TRAILER = ascii("trailer");
    private static final byte[] N_UPGRADE = ascii("upgrade");
    private static final byte[] N_X_REAL_IP = ascii("x-real-ip");
    private static final byte[] N_CONNECTION = ascii("connection");
    private static final byte[] N_KEEP_ALIVE = ascii("keep-alive");
    private static final byte[] N_CONTENT_LENGTH = ascii("content-length");
    private static final byte[] N_XFF = ascii("x-forwarded-for");
    private static final byte[] N_PROXY_CONNECTION = ascii("proxy-connection");
    private static final byte[] N_XF_HOST = ascii("x-forwarded-host");
    private static final byte[] N_XF_PORT = ascii("x-forwarded-port");
    private static final byte[] N_TRANSFER_ENCODING = ascii("transfer-encoding");
    private static final byte[] N_XF_PROTO = ascii("x-forwarded-proto");

    /** Classifies a (tchar-validated) header name into one of the {@code HttpHead.H_*} kinds. */
    static byte classify(ByteBuf buf, int s, int e) {
        switch (e - s) {
            case 2: return equalsLower(buf, s, e, N_TE) ? HttpHead.H_TE : HttpHead.H_OTHER;
            case 4: return equalsLower(buf, s, e, N_HOST) ? HttpHead.H_HOST : HttpHead.H_OTHER;
            case 6: return equalsLower(buf, s, e, N_EXPECT) ? HttpHead.H_EXPECT : HttpHead.H_OTHER;
            case 7:
                if (equalsLower(buf, s, e, N_UPGRADE)) return HttpHead.H_UPGRADE;
                return equalsLower(buf, s, e, N_TRAILER) ? HttpHead.H_TRAILER : HttpHead.H_OTHER;
            case 9: return equalsLower(buf, s, e, N_X_REAL_IP) ? HttpHead.H_X_REAL_IP : HttpHead.H_OTHER;
            case 10:
                if (equalsLower(buf, s, e, N_CONNECTION)) return HttpHead.H_CONNECTION;
                return equalsLower(buf, s, e, N_KEEP_ALIVE) ? HttpHead.H_KEEP_ALIVE : HttpHead.H_OTHER;
            case 14: return equalsLower(buf, s, e, N_CONTENT_LENGTH) ? HttpHead.H_CONTENT_LENGTH : HttpHead.H_OTHER;
            case 15: return equalsLower(buf, s, e, N_XFF) ? HttpHead.H_X_FORWARDED_FOR : HttpHead.H_OTHER;
            case 16:
                if (equalsLower(buf, s, e, N_PROXY_CONNECTION)) return HttpHead.H_PROXY_CONNECTION;
                if (equalsLower(buf, s, e, N_XF_HOST)) return HttpHead.H_X_FORWARDED_HOST;
                return equalsLower(buf, s, e, N_XF_PORT) ? HttpHead.H_X_FORWARDED_PORT : HttpHead.H_OTHER;
            case 17:
                if (equalsLower(buf, s, e, N_TRANSFER_ENCODING)) return HttpHead.H_TRANSFER_ENCODING;
                return equalsLower(buf, s, e, N_XF_PROTO) ? HttpHead.H_X_FORWARDED_PROTO : HttpHead.H_OTHER;
            default: return HttpHead.H_OTHER;
        }
    }

    /** Hop-by-hop by kind (RFC 9110 7.6.1 plus the legacy Keep-Alive / Proxy-Connection). */
    static boolean hopByHopKind(byte kind) {
        switch (kind) {
            case HttpHead.H_CONNECTION: case HttpHead.H_KEEP_ALIVE: case HttpHead.H_PROXY_CONNECTION:
            case HttpHead.H_TE: case HttpHead.H_TRAILER: case HttpHead.H_TRANSFER_ENCODING: case HttpHead.H_UPGRADE:
                return true;
            default:
                return false;
        }
    }

    /**
     * Parses a trimmed Content-Length value: 1*DIGIT, no sign, no inner whitespace, no list. Returns -1 when invalid
     * (empty, non-digit, overflow of a signed 63-bit value).
     */
    static long parseContentLength(ByteBuf buf, int s, int e) {
        if (s >= e) return -1;
        long v = 0;
        for (int i = s; i < e; i++) {
            int d = buf.getByte(i) - '0';
            if (d < 0 || d > 9) return -1;
            if (v > (Long.MAX_VALUE - d) / 10) return -1;
            v = v * 10 + d;
        }
        return v;
    }
}
