package io.turnpike.engine.limit;

/**
 * limit-count, policy {@code local}, {@code window_type: fixed}: a key's window opens with its first request and lasts
 * {@code time_window} seconds (APISIX's local counter, whose reset header counts from the first request); at most
 * {@code count} requests are admitted in it, exactly, across all loops.
 *
 * <p>State, one {@code long} per key: window end in units of 100 ms on {@link LimitClock} (high 32 bits) and the
 * admitted count (low 32 bits). A decision is one volatile read and one compare-and-set.
 */
public final class LocalFixedWindow extends CountLimiter {
    /** The largest count this state holds. */
    public static final long MAX_COUNT = 0xFFFF_FFFFL - 1;

    private final LimitTable<LimitEntry> table = new LimitTable<>(LimitEntry::new);
    private final long windowTicks;

    public LocalFixedWindow(String identity, long limit, long windowSeconds) {
        super(identity, limit, windowSeconds);
        if (limit > MAX_COUNT) {
            throw new IllegalArgumentException("count above " + MAX_COUNT + " is not supported");
        }
        this.windowTicks = windowSeconds * 10;
    }

    @Override
    public int acquire(LimitKey key, long nowMs, LimitResult out, Runnable wake) {
        long now = nowMs / 100;
        out.limit = limit;
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
            long end = s >>> 32;
            long count = s & 0xFFFF_FFFFL;
            if (end <= now) {
                // The end tick is 32 bits (13.6 years of uptime): a window past it ends there.
                if (e.cas(s, (Math.min(now + windowTicks, 0xFFFF_FFFFL) << 32) | 1)) {
                    out.remaining = limit - 1;
                    out.resetSeconds = windowSeconds;
                    return Decision.ADMIT;
                }
                continue;
            }
            out.resetSeconds = (end - now + 9) / 10;
            if (count >= limit) {
                out.remaining = 0;
                return Decision.REJECT;
            }
            if (e.cas(s, s + 1)) {
                out.remaining = limit - count - 1;
                return Decision.ADMIT;
            }
        }
    }

    @Override
    public int sweep(long nowMs) {
        long now = nowMs / 100;
        return table.sweep(s -> (s >>> 32) <= now);
    }

    @Override
    public int keys() {
        return table.size();
    }
}
