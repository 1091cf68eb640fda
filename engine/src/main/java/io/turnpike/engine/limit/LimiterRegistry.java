package io.turnpike.engine.limit;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The process's limiters by identity, so a limit keeps its counters across snapshot compiles while its owner and
 * configuration stay the same (APISIX keys its counters by the owning resource and the plugin's configuration
 * version: an edit elsewhere does not reset them, an edit of the limit does). Entries are weak: a limiter no snapshot
 * references any more is dropped at the next sweep (Redis leases it held expire on their own: at the window end,
 * after 1 s for limit-req tokens, after 10 s for limit-conn slots).
 *
 * <p>Threads: {@link #get} runs on the snapshot compiler's thread; {@link #sweepAll} on the sweeper thread (one per
 * process, daemon, started on first use, every second). Event loops never call into the registry.
 */
public final class LimiterRegistry {
    private static final LimiterRegistry INSTANCE = new LimiterRegistry();
    public static final long SWEEP_INTERVAL_MS = 1000;

    private final Map<String, WeakReference<Limiter>> byIdentity = new HashMap<>();
    private volatile RemoteLimiters remote;
    private Thread sweeper;
    private volatile long swept;

    public static LimiterRegistry get() {
        return INSTANCE;
    }

    /** Installs the Redis-backed limiters (once, at start-up). */
    public void remote(RemoteLimiters r) {
        this.remote = r;
    }

    /**
     * The Redis-backed limiters: the installed ones, else the process's {@link
     * io.turnpike.engine.limit.redis.RedisLimiters}, created on first use (no connection before a limit names Redis).
     */
    /** The Redis-backed limiters if created or installed, else null (for /status: creates nothing). */
    public RemoteLimiters remoteIfCreated() {
        return remote;
    }

    public RemoteLimiters remote() {
        RemoteLimiters r = remote;
        if (r == null) {
            synchronized (this) {
                r = remote;
                if (r == null) {
                    r = new io.turnpike.engine.limit.redis.RedisLimiters();
                    remote = r;
                }
            }
        }
        return r;
    }

    /** The live limiter with this identity, or a new one from {@code create}. */
    @SuppressWarnings("unchecked")
    public synchronized <L extends Limiter> L get(String identity, Class<L> type, Supplier<L> create) {
        WeakReference<Limiter> ref = byIdentity.get(identity);
        Limiter l = ref == null ? null : ref.get();
        if (type.isInstance(l)) {
            return (L) l;
        }
        L created = create.get();
        byIdentity.put(identity, new WeakReference<>(created));
        startSweeper();
        return created;
    }

    private void startSweeper() {
        if (sweeper != null) {
            return;
        }
        Thread t = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    TimeUnit.MILLISECONDS.sleep(SWEEP_INTERVAL_MS);
                } catch (InterruptedException e) {
                    return;
                }
                sweepAll(LimitClock.nowMs());
            }
        }, "turnpike-limit-sweeper");
        t.setDaemon(true);
        t.start();
        sweeper = t;
    }

    /** Reclaims expired keys of every live limiter and forgets dropped limiters; returns the keys reclaimed. */
    public long sweepAll(long nowMs) {
        List<Limiter> live = new ArrayList<>();
        synchronized (this) {
            for (Iterator<WeakReference<Limiter>> it = byIdentity.values().iterator(); it.hasNext(); ) {
                Limiter l = it.next().get();
                if (l == null) {
                    it.remove();
                } else {
                    live.add(l);
                }
            }
        }
        long n = 0;
        for (Limiter l : live) {
            n += l.sweep(nowMs);
        }
        swept += n;
        return n;
    }

    /** Live limiters and the keys they hold (for /status). */
    public synchronized long[] stats() {
        long limiters = 0;
        long keys = 0;
        for (WeakReference<Limiter> r : byIdentity.values()) {
            Limiter l = r.get();
            if (l != null) {
                limiters++;
                keys += l.keys();
            }
        }
        return new long[]{limiters, keys, swept, LimitTable.refused()};
    }
}
