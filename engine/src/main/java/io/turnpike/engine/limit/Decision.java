package io.turnpike.engine.limit;

/** The outcome of a limiter's {@code acquire}. */
public final class Decision {
    /** Admitted (possibly with a delay in {@link LimitResult#delayMs}). */
    public static final int ADMIT = 0;
    /** Over the limit. */
    public static final int REJECT = 1;
    /**
     * Not decidable without a remote answer (a Redis lease is on its way): the limiter runs the {@code wake} task it
     * was given exactly once, from any thread, when asking again can succeed; the plugin pauses the exchange.
     */
    public static final int WAIT = 2;
    /** The limiter cannot decide (Redis unreachable and no quota held): allow_degradation decides. */
    public static final int ERROR = 3;

    private Decision() {
    }
}
