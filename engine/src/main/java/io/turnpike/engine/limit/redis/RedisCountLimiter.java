package io.turnpike.engine.limit.redis;

import io.lettuce.core.RedisFuture;
import io.turnpike.engine.limit.CountLimiter;
import io.turnpike.engine.limit.LimitKey;
import io.turnpike.engine.limit.LimitResult;

import java.util.List;

/**
 * limit-count, policies {@code redis} and {@code redis-cluster}, {@code window_type: fixed}: the fleet admits at most
 * {@code count} requests per key per window, exactly, without a Redis round trip per request. The window opens with
 * the fleet's first request for the key and lasts {@code time_window} (APISIX's redis policy: the Redis key's TTL is
 * the window). Each gateway leases requests of the window from Redis ({@link Scripts#COUNT_LEASE}, never past the
 * limit), spends them on its loops, and gives back what it leaves untouched for a sweep period.
 *
 * <p>Event loops call {@link #acquire} (lock-free, allocation-free for a known key); the pump, Lettuce's I/O thread
 * and the sweeper do the rest (see {@link TokenLeases}).
 */
public final class RedisCountLimiter extends CountLimiter {
    private final Leases leases;

    RedisCountLimiter(RedisLink link, String identity, long limit, long windowSeconds) {
        super(identity, limit, windowSeconds);
        this.leases = new Leases(link, identity);
    }

    @Override
    public int acquire(LimitKey key, long nowMs, LimitResult out, Runnable wake) {
        out.limit = limit;
        return leases.acquire(key, nowMs, out, wake);
    }

    @Override
    public int sweep(long nowMs) {
        return leases.sweep(nowMs);
    }

    @Override
    public int keys() {
        return leases.table.size();
    }

    /** Tokens this gateway holds for a key (tests). */
    public long held(LimitKey key) {
        LeaseEntry e = leases.table.get(key);
        return e == null ? 0 : e.state() & TokenLeases.TOKENS;
    }

    private final class Leases extends TokenLeases {
        private final byte[] limitArg = RedisLink.ascii(limit);
        private final byte[] windowArg = RedisLink.ascii(windowSeconds * 1000);

        Leases(RedisLink link, String identity) {
            super(link, "lc", identity);
        }

        @Override
        void fill(LimitResult out, LeaseEntry e, long tokensAfter, long until, long nowMs) {
            out.remaining = Math.max(0, Math.min(limit, e.remoteLeft + tokensAfter));
            out.resetSeconds = until > nowMs ? (until - nowMs + 999) / 1000 : windowSeconds;
        }

        @Override
        RedisFuture<List<Object>> lease(LeaseEntry e, long want) {
            return link.call(Scripts.COUNT_LEASE_SHA, Scripts.COUNT_LEASE, new byte[][]{e.redisKey},
                    limitArg, windowArg, RedisLink.ascii(want));
        }

        @Override
        RedisFuture<List<Object>> giveBack(LeaseEntry e, int n) {
            return link.call(Scripts.COUNT_RETURN_SHA, Scripts.COUNT_RETURN, new byte[][]{e.redisKey},
                    RedisLink.ascii(e.epoch), RedisLink.ascii(n));
        }

        @Override
        long applyReply(LeaseEntry e, List<Object> r, long nowMs) {
            long grant = num(r.get(0));
            long ttl = num(r.get(1));
            e.remoteLeft = num(r.get(2));
            e.epoch = num(r.get(3));
            // The window ends ttl after Redis ran the script, which was after we sent: sentAt + ttl is never late.
            long end = e.sentAtMs + Math.max(0, ttl);
            replyUntil = end;
            replyDenyUntil = end;
            return grant;
        }

        @Override
        void expired(LeaseEntry e, int tokens) {
            // The window is over in Redis too (its key expired): nothing to give back.
        }

        @Override
        long maxLease() {
            return Math.max(1, limit / 4);
        }
    }
}
