package io.turnpike.engine.limit;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One key's state in a {@link LimitTable}: a single {@code long} the limiter packs its fields into and updates with
 * compare-and-set (no lock: any loop may race for it, one wins, the others retry with the new value). {@link #DEAD}
 * marks an entry the sweeper took out; a loop that meets it removes it (if still there) and starts a fresh entry.
 */
public class LimitEntry {
    /** A state no limiter produces: the entry left its table. */
    public static final long DEAD = Long.MIN_VALUE;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(LimitEntry.class, "state", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The owned key this entry is stored under (set once before it is published). */
    LimitKey key;
    private volatile long state;

    /** Volatile load. */
    public final long state() {
        return state;
    }

    /** Compare-and-set of the whole state. */
    public final boolean cas(long expect, long update) {
        return STATE.compareAndSet(this, expect, update);
    }

    public final LimitKey key() {
        return key;
    }
}
