package io.turnpike.engine.logs;

import java.nio.charset.StandardCharsets;

/**
 * The writer thread's view of a {@link LogSlot}'s request head bytes: the request line's parts and the header lines
 * (the head was validated by the loop's parser; a head cut at the ring's bound loses its last, partial line).
 * Reused; log writer thread only.
 */
final class HeadView {
    byte[] b;
    int methodStart, methodEnd, targetStart, targetEnd, pathEnd, protoStart, protoEnd, lineEnd;
    int headers;
    int[] nameStart = new int[64], nameEnd = new int[64], valueStart = new int[64], valueEnd = new int[64];

    /** Parses {@code s.head}; false when there is no request line (a request refused before its head was read). */
    boolean parse(LogSlot s) {
        b = s.head;
        int n = s.headLength;
        headers = 0;
        methodStart = methodEnd = targetStart = targetEnd = pathEnd = protoStart = protoEnd = lineEnd = 0;
        int eol = indexOf(b, 0, n, (byte) '\n');
        if (eol < 0) {
            if (!s.headTruncated || n == 0) {
                return false;
            }
            eol = n; // only part of the request line fits
        }
        lineEnd = eol > 0 && b[eol - 1] == '\r' ? eol - 1 : eol;
        int sp1 = indexOf(b, 0, lineEnd, (byte) ' ');
        if (sp1 < 0) {
            return false;
        }
        methodEnd = sp1;
        targetStart = sp1 + 1;
        int sp2 = lastIndexOf(b, targetStart, lineEnd, (byte) ' ');
        if (sp2 < 0) {
            targetEnd = lineEnd;
            protoStart = protoEnd = lineEnd;
        } else {
            targetEnd = sp2;
            protoStart = sp2 + 1;
            protoEnd = lineEnd;
        }
        pathEnd = targetEnd;
        for (int i = targetStart; i < targetEnd; i++) {
            if (b[i] == '?') {
                pathEnd = i;
                break;
            }
        }
        int p = eol + 1;
        while (p < n) {
            int e = indexOf(b, p, n, (byte) '\n');
            if (e < 0) {
                break; // cut by the bound
            }
            int end = e > p && b[e - 1] == '\r' ? e - 1 : e;
            if (end == p) {
                break; // the blank line
            }
            int colon = indexOf(b, p, end, (byte) ':');
            if (colon > p) {
                if (headers == nameStart.length) {
                    nameStart = java.util.Arrays.copyOf(nameStart, headers * 2);
                    nameEnd = java.util.Arrays.copyOf(nameEnd, headers * 2);
                    valueStart = java.util.Arrays.copyOf(valueStart, headers * 2);
                    valueEnd = java.util.Arrays.copyOf(valueEnd, headers * 2);
                }
                int vs = colon + 1;
                while (vs < end && (b[vs] == ' ' || b[vs] == '\t')) {
                    vs++;
                }
                int ve = end;
                while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) {
                    ve--;
                }
                nameStart[headers] = p;
                nameEnd[headers] = colon;
                valueStart[headers] = vs;
                valueEnd[headers] = ve;
                headers++;
            }
            p = e + 1;
        }
        return true;
    }

    /** The first header named {@code lowerName} (ASCII, lower case), or -1. */
    int header(byte[] lowerName) {
        for (int h = 0; h < headers; h++) {
            int len = nameEnd[h] - nameStart[h];
            if (len != lowerName.length) {
                continue;
            }
            boolean eq = true;
            for (int i = 0; i < len; i++) {
                int c = b[nameStart[h] + i];
                if (c >= 'A' && c <= 'Z') {
                    c += 32;
                }
                if (c != lowerName[i]) {
                    eq = false;
                    break;
                }
            }
            if (eq) {
                return h;
            }
        }
        return -1;
    }

    String string(int start, int end) {
        return new String(b, start, end - start, StandardCharsets.ISO_8859_1);
    }

    static int indexOf(byte[] b, int from, int to, byte c) {
        for (int i = from; i < to; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }

    static int lastIndexOf(byte[] b, int from, int to, byte c) {
        for (int i = to - 1; i >= from; i--) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }
}
