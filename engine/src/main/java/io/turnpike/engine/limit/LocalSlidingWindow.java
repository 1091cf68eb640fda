package io.turnpike.engine.limit;

/**
 * limit-count, policy {@code local}, {@code window_type: sliding}: APISIX's approximate sliding window. Windows are
 * aligned on multiples of {@code time_window}; a request is admitted when the previous window's count weighted by the
 * part of it still inside the sliding window, plus the current window's count, plus one, is at most {@code count}.
 * Exact across loops: the decision and the increment are one compare-and-set.
 *
 * <p>State: the window number's low 16 bits, the previous window's count (24 bits) and the current one's (24 bits).
 * The sweeper removes a key two windows after its last request, long before the window number could wrap.
 */
public final class LocalSlidingWindow extends CountLimiter {
    /** The largest count this state holds. */
    public static final long MAX_COUNT = (1L << 24) - 1;

    private final LimitTable<LimitEntry> table = new LimitTable<>(LimitEntry::new);
    private final long windowMs;

    public LocalSlidingWindow(String identity, long limit, long windowSeconds) {
        super(identity, limit, windowSeconds);
        if (limit > MAX_COUNT) {
            throw new IllegalArgumentException("count above " + MAX_COUNT + " is not supported with window_type sliding");
        }
        this.windowMs = windowSeconds * 1000;
    }

    @Override
    public int acquire(LimitKey key, long nowMs, LimitResult out, Runnable wake) {
        long window = nowMs / windowMs;
        long elapsed = nowMs - window * windowMs;
        long w16 = window & 0xFFFF;
        out.limit = limit;
        out.resetSeconds = (windowMs - elapsed + 999) / 1000;
        for (;;) {
            LimitEntry e = table.get(key);
            if (e == null) {
                return Decision.ERROR;
            }
            long s = e.state();
            if (s == LimitEntry.DEAD) {
                table.removeDead(e);
                continue;
            }
            long sw = s >>> 48;
            long prev = (s >>> 24) & 0xFF_FFFF;
            long cur = s & 0xFF_FFFF;
            if (sw != w16) {
                prev = sw == ((window - 1) & 0xFFFF) ? cur : 0;
                cur = 0;
            }
            // prev * (windowMs - elapsed) / windowMs + cur + 1 <= limit, in integers
            long weighted = prev * (windowMs - elapsed);
            if (weighted + (cur + 1) * windowMs > limit * windowMs) {
                out.remaining = 0;
                return Decision.REJECT;
            }
            long next = (w16 << 48) | (prev << 24) | (cur + 1);
            if (e.cas(s, next)) {
                long used = (weighted + windowMs - 1) / windowMs + cur + 1;
                out.remaining = Math.max(0, limit - used);
                return Decision.ADMIT;
            }
        }
    }

    @Override
    public int sweep(long nowMs) {
        long window = nowMs / windowMs;
        return table.sweep(s -> ((window - (s >>> 48)) & 0xFFFF) >= 2);
    }

    @Override
    public int keys() {
        return table.size();
    }
}
