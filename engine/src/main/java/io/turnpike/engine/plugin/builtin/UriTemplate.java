package io.turnpike.engine.plugin.builtin;

import io.turnpike.config.regex.LinearRegex;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.plugin.PluginContext;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * APISIX's {@code regex_uri}: pairs of (pattern, template); the first pattern that matches the request path replaces
 * its first match with the template ({@code $0}..{@code $9}, {@code ${N}}, {@code $$} for a dollar), as
 * {@code ngx.re.sub} does. Patterns run on the linear-time engine ({@link LinearRegex}). The result is written into
 * the exchange's scratch.
 */
final class UriTemplate {
    private final LinearRegex[] patterns;
    /** Per pair: pieces, each a literal (bytes) or a group reference (groups[i] >= 0). */
    private final byte[][][] literals;
    private final int[][] groups;

    private UriTemplate(LinearRegex[] patterns, byte[][][] literals, int[][] groups) {
        this.patterns = patterns;
        this.literals = literals;
        this.groups = groups;
    }

    /** @param pairs [pattern, template, pattern, template, ...] */
    static UriTemplate compile(String field, List<String> pairs) {
        if (pairs.size() < 2 || pairs.size() % 2 != 0) {
            throw new IllegalArgumentException(field + ": expected pairs of pattern and template");
        }
        int n = pairs.size() / 2;
        LinearRegex[] ps = new LinearRegex[n];
        byte[][][] lits = new byte[n][][];
        int[][] gs = new int[n][];
        for (int i = 0; i < n; i++) {
            ps[i] = LinearRegex.compile(pairs.get(2 * i), false);
            List<byte[]> l = new ArrayList<>();
            List<Integer> g = new ArrayList<>();
            String t = pairs.get(2 * i + 1);
            StringBuilder lit = new StringBuilder();
            for (int k = 0; k < t.length(); k++) {
                char c = t.charAt(k);
                if (c != '$' || k + 1 >= t.length()) {
                    lit.append(c);
                    continue;
                }
                char d = t.charAt(k + 1);
                int group = -1;
                if (d == '$') {
                    lit.append('$');
                    k++;
                    continue;
                } else if (d >= '0' && d <= '9') {
                    group = d - '0';
                    k++;
                } else if (d == '{') {
                    int close = t.indexOf('}', k + 2);
                    if (close < 0) {
                        throw new IllegalArgumentException(field + ": unterminated ${ in template \"" + t + "\"");
                    }
                    try {
                        group = Integer.parseInt(t.substring(k + 2, close));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException(field + ": variables (" + t.substring(k, close + 1)
                                + ") are not supported in templates, only group references");
                    }
                    k = close;
                } else {
                    throw new IllegalArgumentException(field + ": variables ($" + d + "...) are not supported in"
                            + " templates, only group references ($1, ${1})");
                }
                if (group > ps[i].groupCount()) {
                    throw new IllegalArgumentException(field + ": template refers to group " + group + " but \""
                            + pairs.get(2 * i) + "\" has " + ps[i].groupCount());
                }
                l.add(lit.toString().getBytes(StandardCharsets.UTF_8));
                g.add(-1);
                lit.setLength(0);
                l.add(null);
                g.add(group);
            }
            l.add(lit.toString().getBytes(StandardCharsets.UTF_8));
            g.add(-1);
            lits[i] = l.toArray(new byte[0][]);
            gs[i] = g.stream().mapToInt(Integer::intValue).toArray();
        }
        return new UriTemplate(ps, lits, gs);
    }

    /** Per thread (event loop): group spans of the last match. */
    private static final ThreadLocal<int[]> SPANS = ThreadLocal.withInitial(() -> new int[20]);

    /**
     * Rewrites the request path (the query string is kept after it); false when no pattern matched (the URI stays).
     */
    boolean apply(PluginContext x) {
        long r = rewrite(x, true);
        if (r < 0) {
            return false;
        }
        x.uri(x.scratchBytes(), (int) (r >>> 32), (int) r);
        return true;
    }

    /**
     * The rewritten path (with the query string when {@code withQuery}) written into the exchange's scratch:
     * {@code offset << 32 | length} in {@link PluginContext#scratchBytes()}, or -1 when no pattern matched.
     */
    long rewrite(PluginContext x, boolean withQuery) {
        RequestHead h = x.head();
        int pathLen = h.pathEnd - h.targetStart;
        int queryLen = withQuery ? h.targetEnd - h.pathEnd : 0;
        int at = x.copyToScratch(h.targetStart, h.pathEnd);
        if (at < 0) {
            return -1;
        }
        byte[] path = x.scratchBytes();
        int[] sp = SPANS.get();
        for (int i = 0; i < patterns.length; i++) {
            if (!patterns[i].findGroups(path, at, pathLen, sp)) {
                continue;
            }
            int n = sp[0] + (pathLen - sp[1]) + queryLen;
            for (int k = 0; k < literals[i].length; k++) {
                int g = groups[i][k];
                n += g < 0 ? literals[i][k].length : Math.max(0, sp[2 * g + 1] - sp[2 * g]);
            }
            int out = x.scratch(n);
            if (out < 0) {
                return -1;
            }
            byte[] o = x.scratchBytes(); // may be a grown array: the copied path stays readable in the old one
            int w = out;
            System.arraycopy(path, at, o, w, sp[0]);
            w += sp[0];
            for (int k = 0; k < literals[i].length; k++) {
                int g = groups[i][k];
                if (g < 0) {
                    System.arraycopy(literals[i][k], 0, o, w, literals[i][k].length);
                    w += literals[i][k].length;
                } else if (sp[2 * g] >= 0) {
                    int len = sp[2 * g + 1] - sp[2 * g];
                    System.arraycopy(path, at + sp[2 * g], o, w, len);
                    w += len;
                }
            }
            System.arraycopy(path, at + sp[1], o, w, pathLen - sp[1]);
            w += pathLen - sp[1];
            x.source().getBytes(h.pathEnd, o, w, queryLen);
            return ((long) out << 32) | n;
        }
        return -1;
    }
}
