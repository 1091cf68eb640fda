package io.turnpike.engine.limit;

/**
 * limit-req's decision: a leaky bucket per key draining {@link #rate} requests per second with room for
 * {@link #burst} more; a request over the rate but within the burst is delayed by what the bucket holds (unless
 * {@code nodelay}). resty.limit.req's arithmetic, in thousandths of a request.
 */
public abstract class ReqLimiter extends Limiter {
    public final double rate;
    public final double burst;

    protected ReqLimiter(String identity, double rate, double burst) {
        super(identity);
        this.rate = rate;
        this.burst = burst;
    }

    /** As {@link CountLimiter#acquire}; {@link LimitResult#delayMs} is the delay the bucket asks for. */
    public abstract int acquire(LimitKey key, long nowMs, LimitResult out, Runnable wake);
}
