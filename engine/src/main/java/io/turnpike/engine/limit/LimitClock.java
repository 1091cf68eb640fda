package io.turnpike.engine.limit;

/**
 * Milliseconds on a monotonic clock that starts near zero when the process starts, so packed states can hold times
 * in few bits (38 bits of milliseconds: 8.7 years of uptime). Any thread.
 */
public final class LimitClock {
    private static final long BASE_NS = System.nanoTime() - 1_000_000_000L; // 1 s in: 0 stays "never"

    private LimitClock() {
    }

    public static long nowMs() {
        return (System.nanoTime() - BASE_NS) / 1_000_000L;
    }
}
