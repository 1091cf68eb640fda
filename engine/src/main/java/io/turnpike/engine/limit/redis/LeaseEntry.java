package io.turnpike.engine.limit.redis;

import io.turnpike.engine.limit.LimitEntry;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One key's lease state in a Redis-backed limiter: the packed {@link #state()} (the limiter's layout, updated by
 * compare-and-set from the loops, the lease pump and Lettuce's I/O thread) and side fields the pump and the replies
 * keep. Side fields are written off the loops and read racily on them (figures for headers, lease sizing): a stale
 * value changes a header or a lease size, never an admission.
 */
class LeaseEntry extends LimitEntry {
    private static final AtomicIntegerFieldUpdater<LeaseEntry> QUEUED =
            AtomicIntegerFieldUpdater.newUpdater(LeaseEntry.class, "queued");

    /** The limiter that sends this entry's commands. */
    final RemoteLimit owner;
    /** 1 while the entry sits in its link's pump queue (so it is queued once). */
    private volatile int queued;
    /** Work for the pump besides a pending lease: tokens/slots to give back. Pump and loops (atomic adds). */
    volatile int giveBack;
    /** The key in Redis (built once by the pump). */
    byte[] redisKey;
    byte[] redisKey2;
    /** Size of the last grant and when it arrived (LimitClock ms): lease sizing. */
    volatile int lastGrant;
    volatile long grantedAtMs;
    /** Tokens held right after the last grant was added (lease sizing: what was spent since). */
    volatile long heldAtGrant;
    /** When the pump sent the outstanding lease request (LimitClock ms). */
    volatile long sentAtMs;
    /** What Redis had left after the last grant (count: requests; req: thousandths of tokens; conn: fleet slots). */
    volatile long remoteLeft;
    /** limit-count: the window's epoch (for giving back). */
    volatile long epoch;
    /** The tokens/slots the sweeper saw last time (idle detection without a write on the request path). */
    long sweptTokens = -1;
    /** limit-conn: last successful contact with Redis for this key; refuse spare slots older than the TTL. */
    volatile long contactMs;
    /** A lease request of this entry is on the wire (pump sets, reply clears). */
    volatile boolean inFlight;
    /** limit-conn: reject without asking Redis until then. */
    volatile long denyUntilMs;

    LeaseEntry(RemoteLimit owner) {
        this.owner = owner;
    }

    boolean markQueued() {
        return QUEUED.compareAndSet(this, 0, 1);
    }

    void unmarkQueued() {
        queued = 0;
    }

    void addGiveBack(int n) {
        GIVE_BACK.addAndGet(this, n);
    }

    int takeGiveBack() {
        return GIVE_BACK.getAndSet(this, 0);
    }

    private static final AtomicIntegerFieldUpdater<LeaseEntry> GIVE_BACK =
            AtomicIntegerFieldUpdater.newUpdater(LeaseEntry.class, "giveBack");
}
