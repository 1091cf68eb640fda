package io.turnpike.engine.limit;

/**
 * What a limiter decided besides admit/reject: the figures of the quota headers and the delay. One per exchange
 * (reused); written by the limiter on the loop, read by the plugin right after.
 */
public final class LimitResult {
    /** The configured limit (X-RateLimit-Limit). */
    public long limit;
    /** What is left of the quota after this request (X-RateLimit-Remaining). */
    public long remaining;
    /** Seconds until the window resets (X-RateLimit-Reset). */
    public long resetSeconds;
    /** How long the request must wait before it proceeds (limit-req without nodelay, limit-conn over conn). */
    public long delayMs;
    /** limit-conn: what gives the admitted request's slot back when its exchange ends. */
    public io.turnpike.engine.plugin.PluginContext.EndHook hold;

    public void clear() {
        limit = 0;
        remaining = 0;
        resetSeconds = 0;
        delayMs = 0;
        hold = null;
    }
}
