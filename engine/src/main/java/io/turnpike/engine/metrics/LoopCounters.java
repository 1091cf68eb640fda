package io.turnpike.engine.metrics;

/**
 * Counters owned by one event loop: written only by that loop (plain stores into a padded array), read by the scrape
 * thread (racy reads of monotonically increasing longs are fine for monitoring; a torn read is impossible for aligned
 * longs on 64-bit JVMs, and visibility lag is bounded by the next publication).
 *
 * <p>Confined to its event loop for writes.
 */
public final class LoopCounters {
    /** Slot indexes. */
    public static final int REQUESTS = 0;
    public static final int RESPONSES = 1;
    public static final int DOWNSTREAM_CONNECTIONS_OPENED = 2;
    public static final int DOWNSTREAM_CONNECTIONS_CLOSED = 3;
    public static final int UPSTREAM_CONNECTIONS_OPENED = 4;
    public static final int UPSTREAM_CONNECTIONS_CLOSED = 5;
    public static final int UPSTREAM_CONNECTIONS_REUSED = 6;
    public static final int BYTES_IN = 7;
    public static final int BYTES_OUT = 8;
    public static final int UPSTREAM_RETRIES = 9;
    /** Connections closed at accept because the loop already had {@code max_connections_per_loop} open. */
    public static final int DOWNSTREAM_CONNECTIONS_REJECTED = 10;
    /** First slot of the per-{@link GatewayError} counters. */
    public static final int ERROR_BASE = 11;
    /** First slot of per-parse-error counters (indexed by HttpParseError ordinal). */
    public static final int PARSE_ERROR_BASE = ERROR_BASE + GatewayError.values().length;
    public static final int PARSE_ERROR_SLOTS = 64;
    /** Requests a plugin answered itself (auth refusals, CORS preflights, redirects, ...). */
    public static final int PLUGIN_REPLIES = PARSE_ERROR_BASE + PARSE_ERROR_SLOTS;
    /** Connections that speak HTTP/2 (ALPN h2 or prior-knowledge h2c); also counted as downstream connections. */
    public static final int HTTP2_CONNECTIONS = PLUGIN_REPLIES + 1;
    /** HTTP/2 connection errors (GOAWAY with an error code sent, floods included) and stream errors (RST_STREAM sent). */
    public static final int HTTP2_CONNECTION_ERRORS = PLUGIN_REPLIES + 2;
    public static final int HTTP2_STREAM_ERRORS = PLUGIN_REPLIES + 3;
    /** RST_STREAM frames received from clients. */
    public static final int HTTP2_CLIENT_RESETS = PLUGIN_REPLIES + 4;
    public static final int SLOT_COUNT = PLUGIN_REPLIES + 5;

    private static final int PAD = 16; // 128 bytes of padding on each side against false sharing with neighbours
    private final long[] slots = new long[SLOT_COUNT + 2 * PAD];

    public void increment(int slot) {
        slots[PAD + slot]++;
    }

    public void add(int slot, long delta) {
        slots[PAD + slot] += delta;
    }

    public void error(GatewayError error) {
        slots[PAD + ERROR_BASE + error.ordinal()]++;
    }

    public void parseError(int ordinal) {
        slots[PAD + PARSE_ERROR_BASE + Math.min(ordinal, PARSE_ERROR_SLOTS - 1)]++;
    }

    /** Read from any thread. */
    public long get(int slot) {
        return slots[PAD + slot];
    }
}
