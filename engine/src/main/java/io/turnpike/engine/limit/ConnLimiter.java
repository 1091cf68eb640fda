package io.turnpike.engine.limit;

import io.turnpike.engine.plugin.PluginContext;

/**
 * limit-conn's decision: at most {@link #conn} + {@link #burst} requests per key in flight at once; those beyond
 * {@code conn} are delayed. An admitted request holds its slot until the exchange ends: {@link #acquire} returns the
 * {@link PluginContext.EndHook} that gives it back (registered with {@link PluginContext#onEnd}).
 */
public abstract class ConnLimiter extends Limiter {
    public final long conn;
    public final long burst;

    protected ConnLimiter(String identity, long conn, long burst) {
        super(identity);
        this.conn = conn;
        this.burst = burst;
    }

    /**
     * Takes a slot for {@code key}. On {@link Decision#ADMIT} {@link LimitResult#hold} is the hook that gives the
     * slot back when the exchange ends; {@link LimitResult#delayMs} the delay for requests over {@code conn}.
     */
    public abstract int acquire(LimitKey key, long nowMs, LimitResult out, Runnable wake);
}
