package io.turnpike.engine.limit.redis;

import io.lettuce.core.RedisFuture;
import io.turnpike.engine.limit.LimitKey;
import io.turnpike.engine.limit.LimitResult;
import io.turnpike.engine.limit.ReqLimiter;

import java.util.List;

/**
 * limit-req, policies {@code redis} and {@code redis-cluster}: a token bucket per key in Redis of capacity
 * {@code burst + 1} refilled at {@code rate} per second ({@link Scripts#REQ_LEASE}); with {@code nodelay} it admits
 * what resty.limit.req's leaky bucket admits. Gateways lease tokens (at most a quarter of the bucket at a time, sized
 * to about {@link TokenLeases#HORIZON_MS} of their local rate) and spend them on the loops; a lease is valid for
 * {@link #LEASE_MS}, after which (or after a sweep period untouched) its tokens go back to the bucket.
 *
 * <p>Delay (no {@code nodelay}): the bucket's excess as this gateway last saw it, {@code capacity - 1 - (tokens left
 * in Redis at the last grant + tokens still held here)}, divided by the rate: it never undercounts what Redis had
 * handed out at that grant, so it errs towards longer delays. Event loops call {@link #acquire}.
 */
public final class RedisReqLimiter extends ReqLimiter {
    /** How long leased tokens stay valid on this gateway. */
    static final long LEASE_MS = 1000;

    private final Leases leases;
    private final double capacity;

    RedisReqLimiter(RedisLink link, String identity, double rate, double burst) {
        super(identity, rate, burst);
        this.capacity = burst + 1;
        this.leases = new Leases(link, identity);
    }

    @Override
    public int acquire(LimitKey key, long nowMs, LimitResult out, Runnable wake) {
        out.limit = (long) rate;
        out.remaining = 0;
        out.delayMs = 0;
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

    private final class Leases extends TokenLeases {
        private final byte[] rateArg = Double.toString(rate).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        private final byte[] capArg = Double.toString(capacity).getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        Leases(RedisLink link, String identity) {
            super(link, "lr", identity);
        }

        @Override
        void fill(LimitResult out, LeaseEntry e, long tokensAfter, long until, long nowMs) {
            double avail = e.remoteLeft / 1000.0 + tokensAfter;
            double excess = capacity - 1 - avail;
            out.delayMs = excess > 0 ? (long) (excess * 1000 / rate) : 0;
        }

        @Override
        RedisFuture<List<Object>> lease(LeaseEntry e, long want) {
            return link.call(Scripts.REQ_LEASE_SHA, Scripts.REQ_LEASE, new byte[][]{e.redisKey},
                    rateArg, capArg, RedisLink.ascii(want));
        }

        @Override
        RedisFuture<List<Object>> giveBack(LeaseEntry e, int n) {
            return link.call(Scripts.REQ_LEASE_SHA, Scripts.REQ_LEASE, new byte[][]{e.redisKey},
                    rateArg, capArg, RedisLink.ascii(-n));
        }

        @Override
        long applyReply(LeaseEntry e, List<Object> r, long nowMs) {
            long grant = num(r.get(0));
            e.remoteLeft = num(r.get(1));
            long wait = num(r.get(2));
            replyUntil = nowMs + LEASE_MS;
            replyDenyUntil = nowMs + Math.max(1, wait);
            return grant;
        }

        @Override
        void expired(LeaseEntry e, int tokens) {
            e.addGiveBack(tokens);
            link.submit(e);
        }

        @Override
        long maxLease() {
            return Math.max(1, (long) (capacity / 4));
        }
    }
}
