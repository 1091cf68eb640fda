package io.turnpike.engine.health;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The health of one node: a single {@code long} updated by compare-and-set, so that active probe results (checker
 * thread) and passive reports (every event loop) change it without a lock and without allocating. The state machine is
 * lua-resty-healthcheck's (the library APISIX runs), with its shared counters:
 * <ul>
 *   <li>four 8-bit counters: successes, HTTP failures, TCP failures, timeouts; a success clears the three failure
 *       counters, a failure clears the success counter (so each threshold counts a streak);</li>
 *   <li>four statuses: {@code healthy}, {@code mostly_healthy} (healthy, some failures counted), {@code mostly_unhealthy}
 *       (unhealthy, some successes counted), {@code unhealthy}; a fully healthy node does not count successes, a fully
 *       unhealthy one does not count failures;</li>
 *   <li>a counter reaching its threshold moves the node to that side; a threshold of 0 disables that counter.</li>
 * </ul>
 * Thread-safe; {@link #report} is wait-free in practice (one CAS, retried only when another thread reported at the
 * same moment).
 */
final class HealthState {
    static final int SUCCESS = 0;
    static final int HTTP = 8;
    static final int TCP = 16;
    static final int TIMEOUT = 24;

    static final int HEALTHY = 0;
    static final int MOSTLY_HEALTHY = 1;
    static final int MOSTLY_UNHEALTHY = 2;
    static final int UNHEALTHY = 3;

    private static final long SUCCESS_MASK = 0xFFL;
    private static final long FAILURE_MASK = 0xFFFFFF00L;
    private static final int STATUS_SHIFT = 32;
    private static final VarHandle WORD;

    static {
        try {
            WORD = MethodHandles.lookup().findVarHandle(HealthState.class, "word", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through WORD
    private volatile long word;

    static int status(long w) {
        return (int) (w >>> STATUS_SHIFT) & 3;
    }

    static int counter(long w, int type) {
        return (int) (w >>> type) & 0xFF;
    }

    static boolean healthy(int status) {
        return status == HEALTHY || status == MOSTLY_HEALTHY;
    }

    static String statusName(int status) {
        return switch (status) {
            case HEALTHY -> "healthy";
            case MOSTLY_HEALTHY -> "mostly_healthy";
            case MOSTLY_UNHEALTHY -> "mostly_unhealthy";
            default -> "unhealthy";
        };
    }

    long word() {
        return word;
    }

    boolean healthy() {
        return healthy(status(word));
    }

    /**
     * Counts one result.
     *
     * @param type    {@link #SUCCESS}, {@link #HTTP}, {@link #TCP} or {@link #TIMEOUT}
     * @param limit   the threshold of that counter; 0: not counted
     * @return true when the node crossed between healthy and unhealthy
     */
    boolean report(int type, int limit) {
        if (limit <= 0) {
            return false;
        }
        boolean success = type == SUCCESS;
        while (true) {
            long w = word;
            int status = status(w);
            if (success ? status == HEALTHY : status == UNHEALTHY) {
                return false;
            }
            int ctr = Math.min(counter(w, type) + 1, 0xFF);
            long counters = success ? (long) ctr : ((w & FAILURE_MASK) & ~(0xFFL << type)) | ((long) ctr << type);
            int next = status;
            if (ctr >= limit) {
                next = success ? HEALTHY : UNHEALTHY;
            } else if (status == HEALTHY && (counters & FAILURE_MASK) != 0) {
                next = MOSTLY_HEALTHY;
            } else if (status == UNHEALTHY && (counters & SUCCESS_MASK) != 0) {
                next = MOSTLY_UNHEALTHY;
            }
            long nw = ((long) next << STATUS_SHIFT) | counters;
            if (WORD.compareAndSet(this, w, nw)) {
                return healthy(status) != healthy(next);
            }
        }
    }

    /** Back to a new node's state: healthy, counters cleared. */
    void reset() {
        word = 0;
    }
}
