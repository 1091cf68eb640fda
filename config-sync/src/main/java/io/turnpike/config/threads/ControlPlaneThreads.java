package io.turnpike.config.threads;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The CPU priority of the control plane: every thread that is not an event loop (Admin API, config-sync, the etcd
 * client's executor and transport) runs at {@link Thread#MIN_PRIORITY}, so that when a config write and a request
 * compete for a core the request wins: what nginx's {@code worker_priority} does for whole worker processes.
 *
 * <p>On Linux the JVM applies Java priorities only with {@code -XX:ThreadPriorityPolicy=1} (the launcher
 * {@code bin/turnpike} and the benchmark scripts pass it): {@code MIN_PRIORITY} becomes nice +4 for the thread (CFS
 * weight 423 against 1024 for the loops at nice 0), which needs no privilege. Without the flag the priorities are
 * ignored and everything runs at the same nice value, as before.
 */
public final class ControlPlaneThreads {
    public static final int PRIORITY = Thread.MIN_PRIORITY;

    private ControlPlaneThreads() {
    }

    /** Lowers {@code t} to the control-plane priority (call before it starts, or on itself). */
    public static Thread lower(Thread t) {
        t.setPriority(PRIORITY);
        return t;
    }

    /** Daemon threads named {@code <prefix>-<n>} at the control-plane priority. */
    public static ThreadFactory factory(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return lower(t);
        };
    }
}
