package io.turnpike.engine.limit.redis;

import io.lettuce.core.RedisFuture;
import io.turnpike.engine.limit.Decision;
import io.turnpike.engine.limit.LimitClock;
import io.turnpike.engine.limit.LimitEntry;
import io.turnpike.engine.limit.LimitKey;
import io.turnpike.engine.limit.LimitResult;
import io.turnpike.engine.limit.LimitTable;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Leases of tokens (limit-count's requests of a window, limit-req's bucket tokens) held by this gateway for each key,
 * spent on the loops without Redis. Shared by {@link RedisCountLimiter} and {@link RedisReqLimiter}.
 *
 * <p>State, one {@code long} per key: tokens held (bits 0-23), {@link #PENDING} (a lease is asked for),
 * {@link #DENY} (Redis had nothing: reject until {@code until}), and {@code until} (bits 26-63, {@link LimitClock}
 * ms): when the held tokens stop being valid (limit-count: the window's end as seen from before the lease was asked
 * for, so never after Redis's; limit-req: the lease's end), or when to ask again after a denial.
 *
 * <p>A loop takes a token by one compare-and-set. When what is left falls to half the last grant it marks the key
 * pending and queues it for the pump (a prefetch: the request itself is admitted), so a key with steady traffic never
 * waits. Only a key with no token and no denial waits ({@link Decision#WAIT}) for a lease.
 */
abstract class TokenLeases implements RemoteLimit {
    static final long TOKENS = (1L << 24) - 1;
    static final long PENDING = 1L << 24;
    static final long DENY = 1L << 25;
    static final int UNTIL_SHIFT = 26;
    /** A lease should last about this long at the key's current local rate. */
    static final long HORIZON_MS = 100;

    final RedisLink link;
    final byte[] keyPrefix;
    final LimitTable<LeaseEntry> table = new LimitTable<>(() -> new LeaseEntry(this));

    TokenLeases(RedisLink link, String kind, String identity) {
        this.link = link;
        this.keyPrefix = ("tp:" + kind + ":{" + identity + ":").getBytes(StandardCharsets.UTF_8);
    }

    /** Fills the headers' figures. */
    abstract void fill(LimitResult out, LeaseEntry e, long tokensAfter, long until, long nowMs);

    /** Sends a lease request for {@code want} tokens (pump). */
    abstract RedisFuture<List<Object>> lease(LeaseEntry e, long want);

    /** Sends a give-back of {@code n} tokens (pump); null when nothing is to be sent. */
    abstract RedisFuture<List<Object>> giveBack(LeaseEntry e, int n);

    /** Applies a lease reply: returns the granted tokens; sets {@link #replyUntil} and {@link #replyDenyUntil}. */
    abstract long applyReply(LeaseEntry e, List<Object> reply, long nowMs);

    /** Tokens that outlived their lease: limit-req gives them back, limit-count drops them (the window is gone). */
    abstract void expired(LeaseEntry e, int tokens);

    /** The largest lease to ask for. */
    abstract long maxLease();

    // Written and read by the reply path (Lettuce's single I/O thread) only.
    long replyUntil;
    long replyDenyUntil;

    final int acquire(LimitKey key, long now, LimitResult out, Runnable wake) {
        for (;;) {
            LeaseEntry e = table.get(key);
            if (e == null) {
                return Decision.ERROR;
            }
            long s = e.state();
            if (s == LimitEntry.DEAD) {
                table.removeDead(e);
                continue;
            }
            long until = s >>> UNTIL_SHIFT;
            int tokens = (int) (s & TOKENS);
            boolean pending = (s & PENDING) != 0;
            if (until <= now && (tokens > 0 || (s & DENY) != 0)) {
                if (e.cas(s, s & PENDING) && tokens > 0) {
                    expired(e, tokens);
                }
                continue;
            }
            if (tokens > 0) {
                long ns = s - 1;
                boolean ask = !pending && tokens - 1 <= (e.lastGrant >> 1) && (s & DENY) == 0 && link.up(now);
                if (ask) {
                    ns |= PENDING;
                }
                if (!e.cas(s, ns)) {
                    continue;
                }
                if (ask && !link.submit(e)) {
                    clearPending(e);
                }
                fill(out, e, tokens - 1, until, now);
                return Decision.ADMIT;
            }
            if ((s & DENY) != 0) {
                fill(out, e, 0, until, now);
                return Decision.REJECT;
            }
            if (!link.up(now)) {
                link.degraded();
                return Decision.ERROR;
            }
            if (!pending) {
                if (!e.cas(s, s | PENDING)) {
                    continue;
                }
                if (!link.submit(e)) {
                    clearPending(e);
                    link.degraded();
                    return Decision.ERROR;
                }
            }
            if (!link.await(wake)) {
                link.degraded();
                return Decision.ERROR;
            }
            if ((e.state() & PENDING) == 0) {
                link.wakeWaiters(); // the reply came between our look and our parking: have the pump wake us
            }
            return Decision.WAIT;
        }
    }

    private static void clearPending(LeaseEntry e) {
        for (;;) {
            long s = e.state();
            if (s == LimitEntry.DEAD || (s & PENDING) == 0 || e.cas(s, s & ~PENDING)) {
                return;
            }
        }
    }

    final void ensureKey(LeaseEntry e) {
        if (e.redisKey == null) {
            byte[] k = e.key().toBytes();
            byte[] r = new byte[keyPrefix.length + k.length + 1];
            System.arraycopy(keyPrefix, 0, r, 0, keyPrefix.length);
            System.arraycopy(k, 0, r, keyPrefix.length, k.length);
            r[r.length - 1] = '}';
            e.redisKey = r;
        }
    }

    @Override
    public final void send(LeaseEntry e, RedisLink l) {
        ensureKey(e);
        int back = e.takeGiveBack();
        if (back > 0) {
            RedisFuture<List<Object>> f = giveBack(e, back);
            if (f != null) {
                link.givenBack.addAndGet(back);
                f.whenComplete((r, t) -> {
                    if (t != null && link.failed(t)) {
                        e.addGiveBack(back);
                        link.submit(e);
                    }
                });
            }
        }
        if ((e.state() & PENDING) != 0 && !e.inFlight) {
            long now = LimitClock.nowMs();
            long want = want(e, now);
            e.inFlight = true;
            e.sentAtMs = now;
            link.leases.incrementAndGet();
            lease(e, want).whenComplete((r, t) -> onReply(e, r, t));
        }
    }

    /** Sizes a lease by the key's local rate: about {@link #HORIZON_MS} of it, at least one. */
    private long want(LeaseEntry e, long now) {
        int last = e.lastGrant;
        if (last == 0) {
            return 1;
        }
        long held = e.state() & TOKENS;
        long used = Math.max(1, e.heldAtGrant - held); // spent since the last grant, leftovers included
        long elapsed = Math.max(1, now - e.grantedAtMs);
        long want = (used * HORIZON_MS + elapsed - 1) / elapsed;
        return Math.max(1, Math.min(Math.min(want, maxLease()), TOKENS / 2));
    }

    private void onReply(LeaseEntry e, List<Object> r, Throwable t) {
        if (t != null) {
            if (link.failed(t)) {
                e.inFlight = false;
                link.submit(e); // NOSCRIPT: send again (as EVAL)
                return;
            }
            clearPending(e);
            e.inFlight = false;
            resubmitIfPending(e);
            link.wakeWaiters();
            return;
        }
        link.succeeded();
        long now = LimitClock.nowMs();
        long grant = applyReply(e, r, now);
        if (grant > 0) {
            link.granted.addAndGet(grant);
        } else {
            link.denied.incrementAndGet();
        }
        for (;;) {
            long s = e.state();
            if (s == LimitEntry.DEAD) {
                if (grant > 0) {
                    expired(e, (int) grant);
                }
                break;
            }
            long until = s >>> UNTIL_SHIFT;
            long tokens = s & TOKENS;
            long ns;
            if (tokens > 0 && until <= now) {
                expired(e, (int) tokens); // outlived (limit-count: an older window's): never merged into the new lease
                tokens = 0;
                until = 0;
            }
            if (grant > 0) {
                long u = tokens > 0 ? Math.max(until, replyUntil) : replyUntil;
                ns = (u << UNTIL_SHIFT) | Math.min(TOKENS, tokens + grant);
            } else {
                long u = tokens > 0 ? Math.min(until, replyDenyUntil) : replyDenyUntil;
                ns = (u << UNTIL_SHIFT) | DENY | tokens;
            }
            if (e.cas(s, ns)) {
                if (grant > 0) {
                    e.lastGrant = (int) grant;
                    e.grantedAtMs = now;
                    e.heldAtGrant = ns & TOKENS;
                }
                break;
            }
        }
        e.inFlight = false;
        resubmitIfPending(e);
        link.wakeWaiters();
    }

    private void resubmitIfPending(LeaseEntry e) {
        if ((e.state() & PENDING) != 0 && e.state() != LimitEntry.DEAD) {
            link.submit(e);
        }
    }

    /** Pump: marks the entry failed (no connection). */
    @Override
    public final void fail(LeaseEntry e, RedisLink l) {
        e.takeGiveBack();
        if (!e.inFlight) {
            clearPending(e);
        }
        link.wakeWaiters();
    }

    /**
     * Sweeper thread: gives back tokens a key has not touched for a whole sweep period (its local rate dropped), and
     * reclaims entries that hold nothing, ask nothing and deny nothing.
     */
    final int sweep(long now) {
        table.forEach(e -> {
            long s = e.state();
            long tokens = s & TOKENS;
            if (s == LimitEntry.DEAD || (s & PENDING) != 0 || tokens == 0) {
                e.sweptTokens = -1;
                return;
            }
            if (tokens == e.sweptTokens && e.cas(s, s & ~TOKENS)) {
                e.sweptTokens = -1;
                if ((s >>> UNTIL_SHIFT) > now) {
                    expiredIdle(e, (int) tokens);
                }
                return;
            }
            e.sweptTokens = tokens;
        });
        return table.sweep(s -> (s & (PENDING | TOKENS)) == 0 && ((s & DENY) == 0 || (s >>> UNTIL_SHIFT) <= now));
    }

    /** Idle tokens of a live lease: give them back. */
    void expiredIdle(LeaseEntry e, int tokens) {
        e.addGiveBack(tokens);
        link.submit(e);
    }

    static long num(Object o) {
        if (o instanceof Long l) {
            return l;
        }
        if (o instanceof byte[] b) {
            return Long.parseLong(new String(b, StandardCharsets.US_ASCII));
        }
        return 0;
    }
}
