package io.turnpike.engine.limit;

/**
 * limit-req, policy {@code local}: resty.limit.req's leaky bucket per key, exact across loops. The bucket holds
 * {@code excess} thousandths of a request and drains {@code rate} requests per second; a request adds one. Over
 * {@code burst} it is rejected (and adds nothing); otherwise it is admitted, delayed by {@code excess / rate} unless
 * {@code nodelay}.
 *
 * <p>State: the time of the last admitted request in ms on {@link LimitClock} (high 38 bits) and the excess in
 * thousandths of a request (low 26 bits: a burst of up to {@value #MAX_BURST} requests).
 */
public final class LocalLeakyBucket extends ReqLimiter {
    public static final long MAX_BURST = 67_000;
    private static final long EXCESS_MASK = (1L << 26) - 1;

    private final LimitTable<LimitEntry> table = new LimitTable<>(LimitEntry::new);
    /** Thousandths of a request drained per millisecond is {@code rate}; the burst in thousandths. */
    private final long burstMilli;

    public LocalLeakyBucket(String identity, double rate, double burst) {
        super(identity, rate, burst);
        if (burst > MAX_BURST) {
            throw new IllegalArgumentException("burst above " + MAX_BURST + " is not supported by the local policy");
        }
        this.burstMilli = (long) (burst * 1000);
    }

    @Override
    public int acquire(LimitKey key, long nowMs, LimitResult out, Runnable wake) {
        out.limit = (long) rate;
        out.remaining = 0;
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
            long excess;
            if (s == 0) {
                excess = 0; // the key's first request (or first since its bucket drained and was reclaimed)
            } else {
                long elapsed = Math.abs(nowMs - (s >>> 26));
                excess = Math.max((long) ((s & EXCESS_MASK) - rate * elapsed + 1000), 0);
                if (excess > burstMilli) {
                    out.delayMs = 0;
                    return Decision.REJECT;
                }
            }
            if (e.cas(s, (nowMs << 26) | excess)) {
                out.delayMs = (long) (excess / rate);
                return Decision.ADMIT;
            }
        }
    }

    /** A bucket is reclaimed once a request would find it empty anyway (excess 0): nothing changes for the key. */
    @Override
    public int sweep(long nowMs) {
        return table.sweep(s -> s != 0 && (s & EXCESS_MASK) - rate * (nowMs - (s >>> 26)) + 1000 <= 0);
    }

    @Override
    public int keys() {
        return table.size();
    }
}
