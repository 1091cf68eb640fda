package io.turnpike.engine.limit;

/**
 * One configured limit, shared by every loop: found again across compiles by its identity in the
 * {@link LimiterRegistry} (so its counters survive configuration changes that do not touch it), swept by the
 * registry's sweeper thread.
 */
public abstract class Limiter {
    /** Who owns the limit and its configuration (or its group): the registry's key. */
    public final String identity;

    protected Limiter(String identity) {
        this.identity = identity;
    }

    /** Reclaims state that no longer matters (expired windows, drained buckets, idle keys). Sweeper thread. */
    public abstract int sweep(long nowMs);

    /** Keys currently held (for /status and the memory report). */
    public abstract int keys();
}
