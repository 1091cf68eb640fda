package io.turnpike.engine.router;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A route uri with parameters, as lua-resty-radixtree reads it: the uri is split on '/', a segment starting with
 * {@code :} matches one non-empty segment ({@code [^/]+}), a segment starting with {@code *} matches the rest
 * ({@code .*}, slashes included, possibly empty); everything else is literal. The whole normalised path must match.
 * Allocation-free.
 */
final class PathPattern {
    private static final int LIT = 0, PARAM = 1, REST = 2;

    private final int[] kinds;
    private final byte[][] literals;
    /** Parameter names in order ("ext" for an anonymous {@code *}), for diagnostics and future captures. */
    final String[] names;

    private PathPattern(int[] kinds, byte[][] literals, String[] names) {
        this.kinds = kinds;
        this.literals = literals;
        this.names = names;
    }

    /**
     * Compiles a (config-normalised) uri; returns null when it has no parameter segment, or when its only parameter is
     * a trailing {@code *name} right after {@code literalPrefix} (then the prefix match alone decides, as for
     * {@code /a/*}).
     */
    static PathPattern compile(byte[] uri, byte[] literalPrefix) {
        List<Integer> kinds = new ArrayList<>();
        List<byte[]> lits = new ArrayList<>();
        List<String> names = new ArrayList<>();
        ByteArrayOutputStream lit = new ByteArrayOutputStream();
        int i = 0;
        int n = uri.length;
        boolean first = true;
        while (i <= n) {
            int j = i;
            while (j < n && uri[j] != '/') {
                j++;
            }
            if (!first) {
                lit.write('/');
            }
            first = false;
            if (j > i && (uri[i] == ':' || uri[i] == '*')) {
                if (lit.size() > 0) {
                    kinds.add(LIT);
                    lits.add(lit.toByteArray());
                    lit.reset();
                }
                kinds.add(uri[i] == ':' ? PARAM : REST);
                lits.add(null);
                String name = new String(uri, i + 1, j - i - 1, java.nio.charset.StandardCharsets.UTF_8);
                names.add(name.isEmpty() && uri[i] == '*' ? "ext" : name);
            } else {
                lit.write(uri, i, j - i);
            }
            i = j + 1;
        }
        if (lit.size() > 0) {
            kinds.add(LIT);
            lits.add(lit.toByteArray());
        }
        if (names.isEmpty()) {
            return null;
        }
        if (kinds.size() == 2 && kinds.get(0) == LIT && kinds.get(1) == REST
                && Arrays.equals(lits.get(0), literalPrefix)) {
            return null;
        }
        int[] k = new int[kinds.size()];
        for (int x = 0; x < k.length; x++) {
            k[x] = kinds.get(x);
        }
        return new PathPattern(k, lits.toArray(new byte[0][]), names.toArray(new String[0]));
    }

    boolean matches(byte[] path, int len) {
        return matchFrom(0, path, 0, len);
    }

    private boolean matchFrom(int t, byte[] p, int pos, int len) {
        for (; t < kinds.length; t++) {
            switch (kinds[t]) {
                case LIT -> {
                    byte[] l = literals[t];
                    if (len - pos < l.length || !Arrays.equals(p, pos, pos + l.length, l, 0, l.length)) {
                        return false;
                    }
                    pos += l.length;
                }
                case PARAM -> {
                    int j = pos;
                    while (j < len && p[j] != '/') {
                        j++;
                    }
                    if (j == pos) {
                        return false;
                    }
                    pos = j;
                }
                default -> { // REST: greedy, backtracking
                    if (t == kinds.length - 1) {
                        return true;
                    }
                    for (int j = len; j >= pos; j--) {
                        if (matchFrom(t + 1, p, j, len)) {
                            return true;
                        }
                    }
                    return false;
                }
            }
        }
        return pos == len;
    }
}
