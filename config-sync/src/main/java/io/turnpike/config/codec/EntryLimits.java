package io.turnpike.config.codec;

import io.turnpike.config.regex.LinearRegex;

/**
 * What one configuration entry may hold. APISIX's schema leaves these lists unbounded; here a bound keeps one entry
 * from making every later configuration write (decode, compile, compare) or every request (conditions are evaluated
 * per request) expensive. Each is far above what a hand-written route needs; an entry over a bound is refused with
 * APISIX's JSON-schema wording ({@code expect array to have at most N items}). Documented in docs/config.md.
 */
public final class EntryLimits {
    private EntryLimits() {
    }

    /** {@code uris} of a route. */
    public static final int MAX_URIS = 1024;
    /** {@code hosts} of a route or service. */
    public static final int MAX_HOSTS = 1024;
    /** {@code remote_addrs} of a route (tested one by one per request). */
    public static final int MAX_REMOTE_ADDRS = 1024;
    /** {@code vars} of a route: expressions in all, nested ones and logical groups included (evaluated per request). */
    public static final int MAX_VARS_EXPRESSIONS = 64;
    /** How deep {@code vars} expressions may nest ({@code ["OR", ["AND", ...], ...]}). */
    public static final int MAX_VARS_DEPTH = 8;
    /** Values of one {@code in} expression (compared one by one per request). */
    public static final int MAX_VARS_IN_VALUES = 256;
    /** Length of a {@code ~~} / {@code ~*} pattern, in UTF-8 bytes. */
    public static final int MAX_REGEX_BYTES = LinearRegex.MAX_PATTERN_BYTES;
    /** Compiled size of a {@code ~~} / {@code ~*} pattern, in RE2 instructions. */
    public static final int MAX_REGEX_PROGRAM_SIZE = LinearRegex.MAX_PROGRAM_SIZE;
}
