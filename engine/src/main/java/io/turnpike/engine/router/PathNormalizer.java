package io.turnpike.engine.router;

/**
 * Normalises a request path for matching (the request target itself is forwarded unchanged):
 * <ul>
 *   <li>{@code %XX} escapes of unreserved characters ({@code A-Z a-z 0-9 - . _ ~}) and of non-ASCII bytes (UTF-8) are
 *       decoded; every other escape is kept, with its hex digits upper-cased. {@code %2F} and {@code %5C} are therefore
 *       never turned into separators: {@code /a%2F..%2Fb} stays one segment.</li>
 *   <li>duplicate slashes are merged (nginx's {@code merge_slashes on});</li>
 *   <li>dot segments ({@code .}, {@code ..}, also when written {@code %2e}) are removed (RFC 3986 5.2.4); a trailing
 *       slash stays significant ({@code /a/b/..} is {@code /a/}).</li>
 * </ul>
 * A malformed escape or a path that climbs above the root is rejected (-1): no route matches it.
 */
final class PathNormalizer {
    private static final boolean[] UNRESERVED = new boolean[256];
    private static final byte[] HEX_VALUE = new byte[256];
    private static final byte[] UPPER_HEX = "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    static {
        for (int c = 'a'; c <= 'z'; c++) {
            UNRESERVED[c] = true;
            UNRESERVED[c - 32] = true;
        }
        for (int c = '0'; c <= '9'; c++) {
            UNRESERVED[c] = true;
        }
        UNRESERVED['-'] = UNRESERVED['.'] = UNRESERVED['_'] = UNRESERVED['~'] = true;
        for (int c = 0x80; c < 256; c++) {
            UNRESERVED[c] = true; // UTF-8 bytes: decoded like nginx's $uri, so routes may be written in UTF-8
        }
        java.util.Arrays.fill(HEX_VALUE, (byte) -1);
        for (int c = '0'; c <= '9'; c++) {
            HEX_VALUE[c] = (byte) (c - '0');
        }
        for (int c = 'a'; c <= 'f'; c++) {
            HEX_VALUE[c] = (byte) (c - 'a' + 10);
            HEX_VALUE[c - 32] = (byte) (c - 'a' + 10);
        }
    }

    private PathNormalizer() {
    }

    static int hex(byte c) {
        return HEX_VALUE[c & 0xff];
    }

    /** True when the path has no '%', no "//" and no "/." (so normalising it would not change it). */
    static boolean isNormal(byte[] p, int len) {
        byte prev = 0;
        for (int i = 0; i < len; i++) {
            byte c = p[i];
            if (c == '%' || (prev == '/' && (c == '/' || c == '.'))) {
                return false;
            }
            prev = c;
        }
        return true;
    }

    /**
     * Normalises {@code in[0, len)} (which starts with '/') into {@code out} (at least {@code len} long: the result is
     * never longer). Returns the normalised length, or -1 for a malformed escape or a path above the root.
     */
    static int normalize(byte[] in, int len, byte[] out) {
        out[0] = '/';
        int o = 1;
        int i = 1;
        while (i <= len) {
            // one segment: in[i, next '/' or len)
            int segStart = o;
            while (i < len && in[i] != '/') {
                byte c = in[i];
                if (c == '%') {
                    if (i + 2 >= len) {
                        return -1;
                    }
                    int hi = hex(in[i + 1]);
                    int lo = hex(in[i + 2]);
                    if (hi < 0 || lo < 0) {
                        return -1;
                    }
                    int v = (hi << 4) | lo;
                    if (UNRESERVED[v]) {
                        out[o++] = (byte) v;
                    } else {
                        out[o++] = '%';
                        out[o++] = UPPER_HEX[hi];
                        out[o++] = UPPER_HEX[lo];
                    }
                    i += 3;
                } else {
                    out[o++] = c;
                    i++;
                }
            }
            int segLen = o - segStart;
            boolean slashFollows = i < len; // in[i] == '/'
            if (segLen == 1 && out[segStart] == '.') {
                o = segStart; // "." : drop; the output already ends with '/'
            } else if (segLen == 2 && out[segStart] == '.' && out[segStart + 1] == '.') {
                if (segStart == 1) {
                    return -1; // above the root
                }
                // drop the previous segment and its trailing slash: out[..segStart-1] ends with '/'
                int j = segStart - 2;
                while (out[j] != '/') {
                    j--;
                }
                o = j + 1;
            } else if (segLen > 0 && slashFollows) {
                out[o++] = '/';
            }
            // an empty segment (duplicate slash) writes nothing
            i++; // skip the '/' (or step past the end)
        }
        return o;
    }

    /**
     * The configured side of the same normalisation: decodes the escapes that {@link #normalize} decodes and upper-cases
     * the others, leaving slashes and dots alone (route uris are taken literally). A malformed escape is kept as is.
     */
    static byte[] normalizeConfigured(byte[] in) {
        byte[] out = new byte[in.length];
        int o = 0;
        for (int i = 0; i < in.length; i++) {
            byte c = in[i];
            if (c == '%' && i + 2 < in.length && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
                int hi = hex(in[i + 1]);
                int lo = hex(in[i + 2]);
                int v = (hi << 4) | lo;
                if (UNRESERVED[v]) {
                    out[o++] = (byte) v;
                } else {
                    out[o++] = '%';
                    out[o++] = UPPER_HEX[hi];
                    out[o++] = UPPER_HEX[lo];
                }
                i += 2;
            } else {
                out[o++] = c;
            }
        }
        return o == out.length ? out : java.util.Arrays.copyOf(out, o);
    }
}
