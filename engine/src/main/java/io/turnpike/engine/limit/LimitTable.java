package io.turnpike.engine.limit;

import org.jctools.maps.NonBlockingHashMap;

import java.util.function.LongPredicate;
import java.util.function.Supplier;

/**
 * The per-key entries of one limiter, shared by every loop: JCTools' lock-free {@link NonBlockingHashMap}, probed with
 * a {@link LimitKey} flyweight (a hit allocates nothing; a new key allocates its owned copy and its entry, once).
 *
 * <p>Reclaiming: {@link #sweep} runs on the limit sweeper thread. An entry whose state the limiter calls reclaimable
 * is first marked {@link LimitEntry#DEAD} by compare-and-set (which fails if a loop changed it meanwhile), then
 * removed; a loop holding the dead entry sees the mark, helps remove it and inserts a fresh one. So a key never has
 * two live entries and no admission is lost or doubled by reclaiming.
 *
 * @param <E> the limiter's entry type
 */
public final class LimitTable<E extends LimitEntry> {
    /**
     * The longest key a limiter stores, in bytes: a key is built from request data (a header, a query argument), so
     * its length is the client's choice; a longer one is not stored and the limiter cannot decide for it.
     */
    public static final int MAX_KEY_BYTES = 1024;
    /**
     * The most keys one limiter holds (~122 MB of heap for IPv4 addresses as keys): distinct keys are the client's
     * choice too (a header value per request) and a window may be long, so the table is bounded before the sweeper
     * can reclaim; a new key beyond it is not stored and the limiter cannot decide for it.
     */
    public static final int DEFAULT_MAX_KEYS = 1_000_000;
    private static final java.util.concurrent.atomic.AtomicLong REFUSED = new java.util.concurrent.atomic.AtomicLong();

    private final NonBlockingHashMap<LimitKey, E> map = new NonBlockingHashMap<>();
    private final Supplier<E> factory;
    private final int maxKeys;

    public LimitTable(Supplier<E> factory) {
        this(factory, DEFAULT_MAX_KEYS);
    }

    public LimitTable(Supplier<E> factory, int maxKeys) {
        this.factory = factory;
        this.maxKeys = maxKeys;
    }

    /**
     * The live entry for {@code probe} (inserted if absent), or null when the key is longer than
     * {@link #MAX_KEY_BYTES} or new while the table is full: the limiter then answers {@link Decision#ERROR}
     * ({@code allow_degradation} decides, as when Redis is down), counted in {@link #refused()}. Any thread; the probe
     * is not retained.
     */
    public E get(LimitKey probe) {
        E e = map.get(probe);
        if (e != null) {
            return e;
        }
        if (probe.length() > MAX_KEY_BYTES || map.size() >= maxKeys) {
            REFUSED.incrementAndGet(); // the refusal path only
            return null;
        }
        E created = factory.get();
        created.key = probe.copy();
        E prev = map.putIfAbsent(created.key, created);
        return prev != null ? prev : created;
    }

    /** Takes a dead entry out (a loop found it dead; the sweeper may have done it already). */
    public void removeDead(E e) {
        map.remove(e.key, e);
    }

    /**
     * Reclaims the entries whose state {@code reclaimable} accepts; returns how many. Sweeper thread (iteration is
     * weakly consistent; entries inserted meanwhile are seen next time).
     */
    public int sweep(LongPredicate reclaimable) {
        int n = 0;
        for (E e : map.values()) {
            long s = e.state();
            if (s != LimitEntry.DEAD && reclaimable.test(s) && e.cas(s, LimitEntry.DEAD)) {
                map.remove(e.key, e);
                n++;
            }
        }
        return n;
    }

    /** Visits every entry (weakly consistent). Sweeper thread: Redis-backed limiters' heartbeats and give-backs. */
    public void forEach(java.util.function.Consumer<? super E> action) {
        for (E e : map.values()) {
            action.accept(e);
        }
    }

    public int size() {
        return map.size();
    }

    /** Keys refused since the process started (too long, or new in a full table), over every table. */
    public static long refused() {
        return REFUSED.get();
    }
}
