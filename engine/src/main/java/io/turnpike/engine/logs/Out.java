package io.turnpike.engine.logs;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable byte buffer for one formatted entry (log writer thread only). */
final class Out {
    byte[] b = new byte[1024];
    int n;

    void reset() {
        n = 0;
    }

    void ensure(int more) {
        if (n + more > b.length) {
            b = Arrays.copyOf(b, Math.max(b.length * 2, n + more));
        }
    }

    Out ascii(String s) {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) {
            b[n++] = (byte) s.charAt(i);
        }
        return this;
    }

    Out utf8(String s) {
        byte[] x = s.getBytes(StandardCharsets.UTF_8);
        return bytes(x, 0, x.length);
    }

    Out bytes(byte[] x, int off, int len) {
        ensure(len);
        System.arraycopy(x, off, b, n, len);
        n += len;
        return this;
    }

    Out ch(char c) {
        ensure(1);
        b[n++] = (byte) c;
        return this;
    }

    Out num(long v) {
        return ascii(Long.toString(v));
    }

    /** Milliseconds as seconds with 3 decimals (nginx's {@code $request_time}). */
    Out seconds3(long nanos) {
        long ms = nanos / 1_000_000;
        num(ms / 1000).ch('.');
        long f = ms % 1000;
        if (f < 100) {
            ch('0');
        }
        if (f < 10) {
            ch('0');
        }
        return num(f);
    }

    /** JSON string contents (no quotes) of raw bytes: UTF-8 passes through, controls and quotes are escaped. */
    Out jsonEscaped(byte[] x, int off, int len) {
        ensure(len);
        for (int i = off; i < off + len; i++) {
            int c = x[i] & 0xFF;
            if (c == '"' || c == '\\') {
                ch('\\').ch((char) c);
            } else if (c < 0x20 || c == 0x7F) {
                ascii("\\u00").ch(HEX[c >> 4]).ch(HEX[c & 15]);
            } else if (c >= 0x80) {
                int k = utf8Length(x, i, off + len);
                if (k == 0) {
                    ascii("\\u00").ch(HEX[c >> 4]).ch(HEX[c & 15]); // not UTF-8: the byte as Latin-1
                } else {
                    bytes(x, i, k);
                    i += k - 1;
                }
            } else {
                ensure(1);
                b[n++] = (byte) c;
            }
        }
        return this;
    }

    Out jsonEscaped(String s) {
        byte[] x = s.getBytes(StandardCharsets.UTF_8);
        return jsonEscaped(x, 0, x.length);
    }

    /** The length of a valid UTF-8 sequence starting at {@code i} (a byte >= 0x80), or 0. */
    private static int utf8Length(byte[] x, int i, int end) {
        int c = x[i] & 0xFF;
        int k = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
        if (k == 0 || c > 0xF4 || i + k > end) {
            return 0;
        }
        for (int j = 1; j < k; j++) {
            if ((x[i + j] & 0xC0) != 0x80) {
                return 0;
            }
        }
        return k;
    }

    /** nginx's default escaping: '"', '\' and bytes outside 0x20..0x7E as {@code \xHH}. */
    Out nginxEscaped(byte[] x, int off, int len) {
        ensure(len);
        for (int i = off; i < off + len; i++) {
            int c = x[i] & 0xFF;
            if (c == '"' || c == '\\' || c < 0x20 || c > 0x7E) {
                ascii("\\x").ch(HEX_UPPER[c >> 4]).ch(HEX_UPPER[c & 15]);
            } else {
                ensure(1);
                b[n++] = (byte) c;
            }
        }
        return this;
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final char[] HEX_UPPER = "0123456789ABCDEF".toCharArray();
}
