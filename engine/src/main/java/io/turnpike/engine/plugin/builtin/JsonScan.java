package io.turnpike.engine.plugin.builtin;

import java.util.Arrays;

/**
 * A validating, allocation-free scanner of one JSON object (a JWT's header or payload) that records the top-level
 * members it is asked for: their type and value span (strings without their quotes, escapes left in place). The rest
 * of the document is validated and skipped. Duplicate names: the last wins (as cjson decodes). Nesting deeper than
 * {@link #MAX_DEPTH} is refused. One instance per thread, reused.
 */
final class JsonScan {
    static final int MAX_DEPTH = 256;
    static final byte ABSENT = 0, STRING = 1, NUMBER = 2, TRUE = 3, FALSE = 4, NULL = 5, OBJECT = 6, ARRAY = 7;
    static final int MAX_FIELDS = 4;

    private final byte[][] names = new byte[MAX_FIELDS][];
    private int fieldCount;
    final byte[] type = new byte[MAX_FIELDS];
    final int[] start = new int[MAX_FIELDS];
    final int[] end = new int[MAX_FIELDS];
    /** The string value of the field has escapes (unescape it before comparing). */
    final boolean[] escaped = new boolean[MAX_FIELDS];

    private byte[] b;
    private int limit;
    /** Where names with escapes are unescaped for comparison (at least as long as the document). */
    private byte[] tmp;
    private int tmpAt;
    /** Set by {@link #string}: the last string had a backslash. */
    private boolean lastEscaped;

    /** Records the member {@code a} (slot 0). */
    void fields(byte[] a) {
        fieldCount = 1;
        names[0] = a;
    }

    /** Records the members {@code a}, {@code b2}, {@code c} (slots 0, 1, 2). */
    void fields(byte[] a, byte[] b2, byte[] c) {
        fieldCount = 3;
        names[0] = a;
        names[1] = b2;
        names[2] = c;
    }

    /**
     * Scans {@code doc[from, to)}, which must be exactly one JSON object (whitespace around it allowed).
     *
     * @param scratch room for unescaping names: {@code scratch[scratchAt, scratchAt + (to - from))}
     * @return false when it is not
     */
    boolean object(byte[] doc, int from, int to, byte[] scratch, int scratchAt) {
        this.b = doc;
        this.limit = to;
        this.tmp = scratch;
        this.tmpAt = scratchAt;
        Arrays.fill(type, ABSENT);
        int p = ws(from);
        if (p >= to || b[p] != '{') {
            return false;
        }
        p = members(p, 0, true);
        if (p < 0) {
            return false;
        }
        return ws(p) == to;
    }

    private int ws(int p) {
        while (p < limit && (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r')) {
            p++;
        }
        return p;
    }

    /** {@code b[p] == '{'}: the position after the matching '}', or -1. */
    private int members(int p, int depth, boolean top) {
        if (depth >= MAX_DEPTH) {
            return -1;
        }
        p = ws(p + 1);
        if (p < limit && b[p] == '}') {
            return p + 1;
        }
        while (true) {
            if (p >= limit || b[p] != '"') {
                return -1;
            }
            int ns = p + 1;
            p = string(p);
            if (p < 0) {
                return -1;
            }
            int ne = p - 1;
            boolean nameEscaped = lastEscaped;
            p = ws(p);
            if (p >= limit || b[p] != ':') {
                return -1;
            }
            p = ws(p + 1);
            int slot = top ? slot(ns, ne, nameEscaped) : -1;
            if (p >= limit) {
                return -1;
            }
            int vs = p;
            byte t = valueType(b[p]);
            p = value(p, depth);
            if (p < 0) {
                return -1;
            }
            if (slot >= 0) {
                type[slot] = t;
                if (t == STRING) {
                    start[slot] = vs + 1;
                    end[slot] = p - 1;
                    escaped[slot] = lastEscaped;
                } else {
                    start[slot] = vs;
                    end[slot] = p;
                }
            }
            p = ws(p);
            if (p >= limit) {
                return -1;
            }
            if (b[p] == '}') {
                return p + 1;
            }
            if (b[p] != ',') {
                return -1;
            }
            p = ws(p + 1);
        }
    }

    private static byte valueType(byte c) {
        return switch (c) {
            case '"' -> STRING;
            case '{' -> OBJECT;
            case '[' -> ARRAY;
            case 't' -> TRUE;
            case 'f' -> FALSE;
            case 'n' -> NULL;
            default -> NUMBER;
        };
    }

    private int slot(int ns, int ne, boolean nameEscaped) {
        byte[] name = b;
        int s = ns;
        int e = ne;
        if (nameEscaped) {
            int n = unescape(b, ns, ne, tmp, tmpAt);
            if (n < 0) {
                return -1;
            }
            name = tmp;
            s = tmpAt;
            e = tmpAt + n;
        }
        for (int i = 0; i < fieldCount; i++) {
            byte[] w = names[i];
            if (Arrays.equals(name, s, e, w, 0, w.length)) {
                return i;
            }
        }
        return -1;
    }

    private int value(int p, int depth) {
        byte c = b[p];
        switch (c) {
            case '"':
                return string(p);
            case '{':
                return members(p, depth + 1, false);
            case '[':
                return array(p, depth + 1);
            case 't':
                return literal(p, 't', 'r', 'u', 'e');
            case 'f':
                if (p + 5 <= limit && b[p + 1] == 'a' && b[p + 2] == 'l' && b[p + 3] == 's' && b[p + 4] == 'e') {
                    return p + 5;
                }
                return -1;
            case 'n':
                return literal(p, 'n', 'u', 'l', 'l');
            default:
                return number(p);
        }
    }

    private int literal(int p, char a, char b1, char c, char d) {
        if (p + 4 <= limit && b[p] == a && b[p + 1] == b1 && b[p + 2] == c && b[p + 3] == d) {
            return p + 4;
        }
        return -1;
    }

    private int array(int p, int depth) {
        if (depth >= MAX_DEPTH) {
            return -1;
        }
        p = ws(p + 1);
        if (p < limit && b[p] == ']') {
            return p + 1;
        }
        while (true) {
            if (p >= limit) {
                return -1;
            }
            p = value(p, depth);
            if (p < 0) {
                return -1;
            }
            p = ws(p);
            if (p >= limit) {
                return -1;
            }
            if (b[p] == ']') {
                return p + 1;
            }
            if (b[p] != ',') {
                return -1;
            }
            p = ws(p + 1);
        }
    }

    /** {@code b[p] == '"'}: the position after the closing quote, or -1; sets {@link #lastEscaped}. */
    private int string(int p) {
        p++;
        boolean esc = false;
        while (p < limit) {
            byte c = b[p];
            if (c == '"') {
                lastEscaped = esc;
                return p + 1;
            }
            if ((c & 0xff) < 0x20) {
                return -1;
            }
            if (c == '\\') {
                esc = true;
                if (p + 1 >= limit) {
                    return -1;
                }
                byte e = b[p + 1];
                if (e == 'u') {
                    if (p + 6 > limit) {
                        return -1;
                    }
                    for (int i = 2; i < 6; i++) {
                        if (hex(b[p + i]) < 0) {
                            return -1;
                        }
                    }
                    p += 6;
                    continue;
                }
                if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
                    return -1;
                }
                p += 2;
                continue;
            }
            p++;
        }
        return -1;
    }

    private int number(int p) {
        int s = p;
        if (p < limit && b[p] == '-') {
            p++;
        }
        if (p >= limit) {
            return -1;
        }
        if (b[p] == '0') {
            p++;
        } else if (b[p] >= '1' && b[p] <= '9') {
            while (p < limit && b[p] >= '0' && b[p] <= '9') {
                p++;
            }
        } else {
            return -1;
        }
        if (p < limit && b[p] == '.') {
            p++;
            int d = p;
            while (p < limit && b[p] >= '0' && b[p] <= '9') {
                p++;
            }
            if (p == d) {
                return -1;
            }
        }
        if (p < limit && (b[p] == 'e' || b[p] == 'E')) {
            p++;
            if (p < limit && (b[p] == '+' || b[p] == '-')) {
                p++;
            }
            int d = p;
            while (p < limit && b[p] >= '0' && b[p] <= '9') {
                p++;
            }
            if (p == d) {
                return -1;
            }
        }
        return p > s ? p : -1;
    }

    static int hex(byte c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    /** The value of a JSON number span (validated by the scan); no allocation. */
    static double parseNumber(byte[] b, int s, int e) {
        int p = s;
        boolean neg = b[p] == '-';
        if (neg) {
            p++;
        }
        double v = 0;
        while (p < e && b[p] >= '0' && b[p] <= '9') {
            v = v * 10 + (b[p++] - '0');
        }
        if (p < e && b[p] == '.') {
            p++;
            double scale = 0.1;
            while (p < e && b[p] >= '0' && b[p] <= '9') {
                v += (b[p++] - '0') * scale;
                scale /= 10;
            }
        }
        if (p < e && (b[p] == 'e' || b[p] == 'E')) {
            p++;
            boolean eneg = false;
            if (b[p] == '+' || b[p] == '-') {
                eneg = b[p] == '-';
                p++;
            }
            int x = 0;
            while (p < e && b[p] >= '0' && b[p] <= '9') {
                x = Math.min(1000, x * 10 + (b[p++] - '0'));
            }
            v = eneg ? v / Math.pow(10, x) : v * Math.pow(10, x);
        }
        return neg ? -v : v;
    }

    /**
     * Unescapes the JSON string body {@code src[s, e)} (validated) into {@code dst[at...]} as UTF-8; the length, or -1
     * for a lone surrogate.
     */
    static int unescape(byte[] src, int s, int e, byte[] dst, int at) {
        int o = at;
        int p = s;
        while (p < e) {
            byte c = src[p];
            if (c != '\\') {
                dst[o++] = c;
                p++;
                continue;
            }
            byte x = src[p + 1];
            if (x != 'u') {
                dst[o++] = switch (x) {
                    case 'b' -> (byte) '\b';
                    case 'f' -> (byte) '\f';
                    case 'n' -> (byte) '\n';
                    case 'r' -> (byte) '\r';
                    case 't' -> (byte) '\t';
                    default -> x; // " \ /
                };
                p += 2;
                continue;
            }
            int cp = u4(src, p + 2);
            p += 6;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (p + 6 > e || src[p] != '\\' || src[p + 1] != 'u') {
                    return -1;
                }
                int lo = u4(src, p + 2);
                if (lo < 0xdc00 || lo > 0xdfff) {
                    return -1;
                }
                p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return -1;
            }
            if (cp < 0x80) {
                dst[o++] = (byte) cp;
            } else if (cp < 0x800) {
                dst[o++] = (byte) (0xc0 | (cp >> 6));
                dst[o++] = (byte) (0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                dst[o++] = (byte) (0xe0 | (cp >> 12));
                dst[o++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
                dst[o++] = (byte) (0x80 | (cp & 0x3f));
            } else {
                dst[o++] = (byte) (0xf0 | (cp >> 18));
                dst[o++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
                dst[o++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
                dst[o++] = (byte) (0x80 | (cp & 0x3f));
            }
        }
        return o - at;
    }

    private static int u4(byte[] b, int p) {
        return (hex(b[p]) << 12) | (hex(b[p + 1]) << 8) | (hex(b[p + 2]) << 4) | hex(b[p + 3]);
    }
}
