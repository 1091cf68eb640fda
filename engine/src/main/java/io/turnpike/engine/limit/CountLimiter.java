package io.turnpike.engine.limit;

/**
 * limit-count's decision: at most {@link #limit} requests per key per window of {@link #windowSeconds}. Implemented
 * in process ({@link LocalFixedWindow}, {@link LocalSlidingWindow}) and over Redis leases.
 */
public abstract class CountLimiter extends Limiter {
    public final long limit;
    public final long windowSeconds;

    protected CountLimiter(String identity, long limit, long windowSeconds) {
        super(identity);
        this.limit = limit;
        this.windowSeconds = windowSeconds;
    }

    /**
     * Takes one request's worth of quota for {@code key} (a flyweight valid during the call). Event loop: no lock, no
     * blocking, no allocation unless the key is new.
     *
     * @param wake run once, from any thread, after this returned {@link Decision#WAIT}, when asking again can succeed
     * @return a {@link Decision}; {@code out} holds the quota figures
     */
    public abstract int acquire(LimitKey key, long nowMs, LimitResult out, Runnable wake);
}
