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
    private final NonBlockingHashMap<LimitKey, E> map = new NonBlockingHashMap<>();
    private final Supplier<E> factory;

    public LimitTable(Supplier<E> factory) {
        this.factory = factory;
    }

    /** The live entry for {@code probe} (inserted if absent). Any thread; the probe is not retained. */
    public E get(LimitKey probe) {
        E e = map.get(probe);
        if (e != null) {
            return e;
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
}
