package io.turnpike.engine.limit.redis;

import io.lettuce.core.RedisFuture;
import io.turnpike.engine.limit.ConnLimiter;
import io.turnpike.engine.limit.Decision;
import io.turnpike.engine.limit.LimitClock;
import io.turnpike.engine.limit.LimitEntry;
import io.turnpike.engine.limit.LimitKey;
import io.turnpike.engine.limit.LimitResult;
import io.turnpike.engine.limit.LimitTable;
import io.turnpike.engine.plugin.PluginContext;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * limit-conn, policies {@code redis} and {@code redis-cluster}: the fleet never has more than {@code conn + burst}
 * requests of a key in flight. Each gateway holds slots granted by Redis ({@link Scripts#CONN_LEASE}: per-gateway
 * holdings whose sum never exceeds the capacity); a request takes a held slot on its loop (one compare-and-set) and
 * gives it back locally when its exchange ends. A gateway asks Redis only when its own concurrency for the key grows
 * past what it holds; it keeps up to {@link #spare} idle slots and gives back the rest at once, and gives back all
 * idle slots untouched for a sweep period. Holdings carry a TTL ({@link #TTL_MS}) refreshed by every call and by a
 * heartbeat from the sweeper, so a crashed gateway's slots come back to the fleet; a gateway that could not reach
 * Redis for half the TTL stops using its idle slots.
 *
 * <p>State per key: slots in use here (bits 0-23), slots held here (bits 24-47), {@link #PENDING} (bit 48).
 */
public final class RedisConnLimiter extends ConnLimiter {
    static final long IN_USE = (1L << 24) - 1;
    static final int HELD_SHIFT = 24;
    static final long ONE_HELD = 1L << HELD_SHIFT;
    static final long PENDING = 1L << 48;
    /** How long Redis keeps a gateway's holdings without hearing from it. */
    static final long TTL_MS = 10_000;
    /** A key's holdings are refreshed when untouched that long (sweeper). */
    static final long HEARTBEAT_MS = 2_000;
    /** After Redis had no slot for us, reject without asking for that long. */
    static final long DENY_MS = 20;

    private final RedisLink link;
    private final boolean onlyDefaultDelay;
    private final long capacity;
    private final long spare;
    private final byte[] keyPrefix;
    private final byte[] capArg;
    private final byte[] ttlArg;
    private final LimitTable<Slots> table;
    private final long ttlMs;
    private volatile long unitDelayUs;

    /** One key's slots; it is its own release hook (shared by every exchange of the key). */
    static final class Slots extends LeaseEntry implements PluginContext.EndHook {
        volatile boolean heartbeat;

        Slots(RemoteLimit owner) {
            super(owner);
        }

        @Override
        public void exchangeEnded(PluginContext x) {
            ((Remote) owner).outer().leave(this, x);
        }
    }

    private final class Remote implements RemoteLimit {
        RedisConnLimiter outer() {
            return RedisConnLimiter.this;
        }

        @Override
        public void send(LeaseEntry e, RedisLink l) {
            sendFor((Slots) e);
        }

        @Override
        public void fail(LeaseEntry e, RedisLink l) {
            e.takeGiveBack();
            if (!e.inFlight) {
                clearPending(e);
            }
            link.wakeWaiters();
        }
    }

    RedisConnLimiter(RedisLink link, String identity, long conn, long burst, long defaultConnDelayMs,
                     boolean onlyDefaultDelay) {
        this(link, identity, conn, burst, defaultConnDelayMs, onlyDefaultDelay, TTL_MS);
    }

    RedisConnLimiter(RedisLink link, String identity, long conn, long burst, long defaultConnDelayMs,
                     boolean onlyDefaultDelay, long ttlMs) {
        super(identity, conn, burst);
        this.link = link;
        this.ttlMs = ttlMs;
        this.onlyDefaultDelay = onlyDefaultDelay;
        this.unitDelayUs = defaultConnDelayMs * 1000;
        this.capacity = conn + burst;
        this.spare = Math.max(1, capacity / 8);
        this.keyPrefix = ("tp:ln:{" + identity + ":").getBytes(StandardCharsets.UTF_8);
        this.capArg = RedisLink.ascii(capacity);
        this.ttlArg = RedisLink.ascii(ttlMs);
        Remote remote = new Remote();
        this.table = new LimitTable<>(() -> new Slots(remote));
    }

    @Override
    public int acquire(LimitKey key, long nowMs, LimitResult out, Runnable wake) {
        out.limit = conn;
        for (;;) {
            Slots e = table.get(key);
            if (e == null) {
                return Decision.ERROR;
            }
            long s = e.state();
            if (s == LimitEntry.DEAD) {
                table.removeDead(e);
                continue;
            }
            long inUse = s & IN_USE;
            long held = (s >>> HELD_SHIFT) & IN_USE;
            if (inUse < held && nowMs - e.contactMs < ttlMs / 2) {
                if (!e.cas(s, s + 1)) {
                    continue;
                }
                long fleet = Math.max(inUse + 1, e.remoteLeft - (held - inUse - 1));
                out.remaining = Math.max(0, conn - fleet);
                out.hold = e;
                if (fleet > conn) {
                    long unit = unitDelayUs;
                    out.delayMs = onlyDefaultDelay ? unit / 1000 : unit * ((fleet - 1) / conn) / 1000;
                } else {
                    out.delayMs = 0;
                }
                return Decision.ADMIT;
            }
            if (nowMs < e.denyUntilMs) {
                out.remaining = 0;
                return Decision.REJECT;
            }
            if (!link.up(nowMs)) {
                link.degraded();
                return Decision.ERROR;
            }
            if ((s & PENDING) == 0) {
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
                link.wakeWaiters();
            }
            return Decision.WAIT;
        }
    }

    void leave(Slots e, PluginContext x) {
        long giveBack = 0;
        for (;;) {
            long s = e.state();
            if (s == LimitEntry.DEAD || (s & IN_USE) == 0) {
                return;
            }
            long inUse = (s & IN_USE) - 1;
            long held = (s >>> HELD_SHIFT) & IN_USE;
            long surplus = held - inUse;
            giveBack = surplus > spare ? surplus - spare : 0;
            if (e.cas(s, s - 1 - giveBack * ONE_HELD)) {
                break;
            }
        }
        if (giveBack > 0) {
            e.addGiveBack((int) giveBack);
            link.submit(e);
        }
        if (!onlyDefaultDelay && x != null && x.record() != null && x.record().endNs != 0) {
            long latencyUs = (x.record().endNs - x.record().startNs) / 1000;
            unitDelayUs = (unitDelayUs + latencyUs) / 2;
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

    private byte[][] keys(LeaseEntry e) {
        if (e.redisKey == null) {
            byte[] k = e.key().toBytes();
            byte[] h = new byte[keyPrefix.length + k.length + 3];
            System.arraycopy(keyPrefix, 0, h, 0, keyPrefix.length);
            System.arraycopy(k, 0, h, keyPrefix.length, k.length);
            h[h.length - 3] = '}';
            h[h.length - 2] = ':';
            h[h.length - 1] = 'h';
            byte[] z = h.clone();
            z[z.length - 1] = 'z';
            e.redisKey = h;
            e.redisKey2 = z;
        }
        return new byte[][]{e.redisKey, e.redisKey2};
    }

    /** Pump thread. */
    private void sendFor(Slots e) {
        byte[][] keys = keys(e);
        int back = e.takeGiveBack();
        boolean lease = (e.state() & PENDING) != 0 && !e.inFlight;
        if (back > 0) {
            link.givenBack.addAndGet(back);
            call(e, keys, -back, false);
        } else if (e.heartbeat && !lease) {
            call(e, keys, 0, false);
        }
        e.heartbeat = false;
        if (lease) {
            long inUse = e.state() & IN_USE;
            long want = Math.max(1, Math.min(inUse / 4 + 1, spare));
            e.inFlight = true;
            e.sentAtMs = LimitClock.nowMs();
            link.leases.incrementAndGet();
            call(e, keys, want, true);
        }
    }

    private void call(Slots e, byte[][] keys, long delta, boolean lease) {
        RedisFuture<List<Object>> f = link.call(Scripts.CONN_LEASE_SHA, Scripts.CONN_LEASE, keys, link.gatewayId,
                RedisLink.ascii(delta), capArg, ttlArg);
        f.whenComplete((r, t) -> onReply(e, r, t, delta, lease));
    }

    /** Lettuce I/O thread. */
    private void onReply(Slots e, List<Object> r, Throwable t, long delta, boolean lease) {
        if (t != null) {
            if (link.failed(t)) {
                if (lease) {
                    e.inFlight = false;
                } else if (delta < 0) {
                    e.addGiveBack((int) -delta);
                }
                link.submit(e);
                return;
            }
            if (lease) {
                clearPending(e);
                e.inFlight = false;
                if ((e.state() & PENDING) != 0) {
                    link.submit(e);
                }
                link.wakeWaiters();
            }
            return;
        }
        link.succeeded();
        long now = LimitClock.nowMs();
        long grant = TokenLeases.num(r.get(0));
        long total = TokenLeases.num(r.get(1));
        long mine = TokenLeases.num(r.get(2));
        e.contactMs = now;
        e.remoteLeft = total;
        if (!lease) {
            if (!e.inFlight) {
                // Redis lost (some of) our holdings (restart, expiry while unreachable): hold no more than it knows.
                for (;;) {
                    long s = e.state();
                    long held = (s >>> HELD_SHIFT) & IN_USE;
                    if (s == LimitEntry.DEAD || held <= mine || e.cas(s, (s & ~(IN_USE << HELD_SHIFT))
                            | (mine << HELD_SHIFT))) {
                        break;
                    }
                }
            }
            return;
        }
        if (grant > 0) {
            link.granted.addAndGet(grant);
        } else {
            link.denied.incrementAndGet();
            e.denyUntilMs = now + DENY_MS;
        }
        for (;;) {
            long s = e.state();
            if (s == LimitEntry.DEAD) {
                break;
            }
            long held = Math.min(IN_USE, ((s >>> HELD_SHIFT) & IN_USE) + grant);
            long ns = (s & IN_USE) | (held << HELD_SHIFT);
            if (e.cas(s, ns)) {
                break;
            }
        }
        e.inFlight = false;
        if ((e.state() & PENDING) != 0 && e.state() != LimitEntry.DEAD) {
            link.submit(e);
        }
        link.wakeWaiters();
    }

    /** Slots held here / in use here for a key (tests). */
    public long[] slots(LimitKey key) {
        Slots e = table.get(key);
        long s = e == null ? 0 : e.state();
        return new long[]{(s >>> HELD_SHIFT) & IN_USE, s & IN_USE};
    }

    /**
     * Sweeper thread: heartbeats keys holding slots, gives back idle slots untouched for a sweep period, reclaims
     * keys holding nothing.
     */
    @Override
    public int sweep(long nowMs) {
        table.forEach(e -> {
            long s = e.state();
            if (s == LimitEntry.DEAD) {
                return;
            }
            long inUse = s & IN_USE;
            long held = (s >>> HELD_SHIFT) & IN_USE;
            long surplus = held - inUse;
            if (surplus > 0 && surplus == e.sweptTokens && (s & PENDING) == 0
                    && e.cas(s, s - surplus * ONE_HELD)) {
                e.sweptTokens = -1;
                e.addGiveBack((int) surplus);
                link.submit(e);
                return;
            }
            e.sweptTokens = surplus > 0 ? surplus : -1;
            if (held > 0 && nowMs - e.contactMs >= Math.min(HEARTBEAT_MS, ttlMs / 4)) {
                e.heartbeat = true;
                link.submit(e);
            }
        });
        return table.sweep(s -> s == 0);
    }

    @Override
    public int keys() {
        return table.size();
    }
}
