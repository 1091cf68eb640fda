package io.turnpike.config.regex;

/**
 * An upper estimate of the RE2 program size of a pattern, read from its text before RE2/J compiles it: RE2/J expands
 * counted repetitions into copies and has no limit on the product of nested ones, so {@code ((a{1000}){1000}){1000}}
 * (24 characters) would compile to a billion instructions. A literal, escape, class or {@code .} counts 1; a group its
 * content + 2; each {@code |} 1; {@code * + ?} add 1; {@code {n,m}} multiplies by {@code max(n, m)} (+1 per copy).
 * Counting stops as soon as the estimate passes {@code cap}.
 */
final class SizeEstimate {
    private SizeEstimate() {
    }

    /** The estimate, or a value above {@code cap} as soon as it passes it. */
    static long of(String p, long cap) {
        // per open group: the size so far and the size of the last atom (what a quantifier applies to)
        long[] totals = new long[8];
        long[] lasts = new long[8];
        int depth = 0;
        long total = 2; // match + fail instructions
        long last = 0;
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            long atom = -1; // the size of an atom that ends at i, or -1 for none
            switch (c) {
                case '\\' -> {
                    if (i + 1 < p.length() && p.charAt(i + 1) == 'Q') {
                        int end = p.indexOf("\\E", i + 2);
                        int stop = end < 0 ? p.length() : end;
                        atom = Math.max(1, stop - (i + 2));
                        i = end < 0 ? p.length() : end + 1;
                    } else {
                        i = escapeEnd(p, i);
                        atom = 1;
                    }
                }
                case '[' -> {
                    i = LinearRegex.classEnd(p, i);
                    atom = 1;
                }
                case '(' -> {
                    if (i + 1 < p.length() && p.charAt(i + 1) == '?') {
                        // (?flags) sets flags: no group; (?flags:, (?P<name>, (?<name> open one: skip the prefix
                        int close = p.indexOf(')', i);
                        int colon = p.indexOf(':', i);
                        int name = p.indexOf('>', i);
                        boolean named = i + 2 < p.length() && (p.charAt(i + 2) == '<' || p.charAt(i + 2) == 'P');
                        int prefixEnd = named ? name : colon >= 0 && (close < 0 || colon < close) ? colon : close;
                        if (prefixEnd < 0) {
                            return total; // unterminated: RE2 refuses it
                        }
                        if (prefixEnd == close && !named) {
                            i = close;
                            continue;
                        }
                        i = prefixEnd;
                    }
                    if (depth == totals.length) {
                        totals = java.util.Arrays.copyOf(totals, depth * 2);
                        lasts = java.util.Arrays.copyOf(lasts, depth * 2);
                    }
                    totals[depth] = total;
                    lasts[depth] = last;
                    depth++;
                    total = 0;
                    last = 0;
                }
                case ')' -> {
                    if (depth == 0) {
                        atom = 1; // unbalanced: RE2 refuses it
                    } else {
                        long inner = total + 2;
                        depth--;
                        total = totals[depth];
                        atom = inner;
                    }
                }
                case '|' -> {
                    total += 1;
                    last = 0;
                }
                case '*', '+', '?' -> {
                    total += 1;
                    last += 1;
                    if (i + 1 < p.length() && p.charAt(i + 1) == '?') {
                        i++; // lazy
                    }
                }
                case '{' -> {
                    int end = repeatEnd(p, i);
                    if (end < 0) {
                        atom = 1; // a literal '{'
                    } else {
                        long times = repeatMax(p, i, end);
                        long grown = saturate((last + 1) * times + 1, cap);
                        total = saturate(total - last + grown, cap);
                        last = grown;
                        i = end;
                        if (i + 1 < p.length() && p.charAt(i + 1) == '?') {
                            i++;
                        }
                    }
                }
                default -> atom = 1;
            }
            if (atom >= 0) {
                total = saturate(total + atom, cap);
                last = atom;
            }
            if (total > cap) {
                return total;
            }
        }
        while (depth > 0) { // unclosed groups: RE2 refuses them, the estimate only has to stay finite
            depth--;
            total = saturate(totals[depth] + total + 2, cap);
        }
        return total;
    }

    private static long saturate(long v, long cap) {
        return v > cap ? cap + 1 : v;
    }

    /** The index of the last character of the escape starting at {@code i} (a backslash). */
    private static int escapeEnd(String p, int i) {
        int j = i + 1;
        if (j >= p.length()) {
            return i;
        }
        char e = p.charAt(j);
        if ((e == 'x' || e == 'p' || e == 'P') && j + 1 < p.length() && p.charAt(j + 1) == '{') {
            int close = p.indexOf('}', j + 2);
            return close < 0 ? p.length() - 1 : close;
        }
        if (e == 'x') {
            return Math.min(j + 2, p.length() - 1);
        }
        if (e == 'p' || e == 'P') {
            return Math.min(j + 1, p.length() - 1);
        }
        return j;
    }

    /** The index of the '}' of a repeat {@code {n}}, {@code {n,}} or {@code {n,m}} opened at {@code open}, or -1. */
    static int repeatEnd(String p, int open) {
        int i = open + 1;
        int digits = 0;
        while (i < p.length() && Character.isDigit(p.charAt(i)) && p.charAt(i) < 128) {
            i++;
            digits++;
        }
        if (digits == 0 || i >= p.length()) {
            return -1;
        }
        if (p.charAt(i) == ',') {
            i++;
            while (i < p.length() && p.charAt(i) >= '0' && p.charAt(i) <= '9') {
                i++;
            }
        }
        return i < p.length() && p.charAt(i) == '}' ? i : -1;
    }

    /** The index of the '{' of the repeat whose '}' is at {@code close}, or -1 when that '}' closes no repeat. */
    static int repeatStart(String p, int close) {
        int open = p.lastIndexOf('{', close);
        return open >= 0 && repeatEnd(p, open) == close ? open : -1;
    }

    /** The largest count of the repeat {@code p[open, end]}: m of {n,m}, n + 1 of {n,}, n of {n} (at most 100,000). */
    private static long repeatMax(String p, int open, int end) {
        long n = 0;
        long m = -1;
        boolean comma = false;
        for (int i = open + 1; i < end; i++) {
            char c = p.charAt(i);
            if (c == ',') {
                comma = true;
                m = 0;
            } else if (comma) {
                m = Math.min(m * 10 + (c - '0'), 100_000);
            } else {
                n = Math.min(n * 10 + (c - '0'), 100_000);
            }
        }
        if (!comma) {
            return Math.max(n, 1);
        }
        if (end == p.indexOf(',', open) + 1) {
            return n + 1; // {n,}
        }
        return Math.max(Math.max(n, m), 1);
    }
}
