package io.turnpike.engine.limit.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The Lua scripts that take and give back leases, atomically in Redis. Each touches the keys of one limit key only,
 * all under one hash tag ({@code {...}}), so it runs on one Redis Cluster slot. Times are Redis's own ({@code TIME}),
 * so gateways' clocks never meet. Immutable, any thread.
 */
final class Scripts {
    /**
     * limit-count, fixed window. KEYS[1]: hash {n: requests granted in the window, e: the window's epoch (Redis time
     * in microseconds when it opened)}, expiring with the window: the window opens with the fleet's first lease
     * (APISIX's redis policy: the key's TTL is the window). ARGV: limit, window ms, wanted. Grants at most what is
     * left and at most a quarter of it (at least one): leases shrink to one request near the limit. Returns {granted,
     * window ms left, left after the grant, epoch}.
     */
    static final String COUNT_LEASE = """
            local r = redis.call('HMGET', KEYS[1], 'n', 'e')
            local used = tonumber(r[1])
            local epoch = tonumber(r[2])
            local ttl
            if not used then
              local t = redis.call('TIME')
              epoch = tonumber(t[1]) * 1000000 + tonumber(t[2])
              used = 0
              ttl = tonumber(ARGV[2])
              redis.call('HSET', KEYS[1], 'n', 0, 'e', epoch)
              redis.call('PEXPIRE', KEYS[1], ttl)
            else
              ttl = redis.call('PTTL', KEYS[1])
              if ttl < 0 then
                ttl = tonumber(ARGV[2])
                redis.call('PEXPIRE', KEYS[1], ttl)
              end
            end
            local left = tonumber(ARGV[1]) - used
            local cap = math.floor(left / 4)
            if cap < 1 then cap = 1 end
            local grant = math.min(tonumber(ARGV[3]), cap, left)
            if grant < 0 then grant = 0 end
            if grant > 0 then redis.call('HINCRBY', KEYS[1], 'n', grant) end
            return {grant, ttl, left - grant, epoch}
            """;

    /** Gives back unused requests of a window, if it is still the same window. ARGV: epoch, count. */
    static final String COUNT_RETURN = """
            local e = tonumber(redis.call('HGET', KEYS[1], 'e'))
            if e and e == tonumber(ARGV[1]) then
              local n = redis.call('HINCRBY', KEYS[1], 'n', -tonumber(ARGV[2]))
              if n < 0 then redis.call('HSET', KEYS[1], 'n', 0) end
              return 1
            end
            return 0
            """;

    /**
     * limit-req: a token bucket of capacity burst + 1 refilled at rate per second (resty.limit.req's leaky bucket with
     * nodelay admits the same requests). KEYS[1]: hash {t: tokens, ts: ms}. ARGV: rate, capacity, wanted (a negative
     * value gives tokens back). Grants at most a quarter of the tokens (at least one). Returns {granted, thousandths of
     * tokens left, ms until the next whole token}.
     */
    static final String REQ_LEASE = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local r = redis.call('HMGET', KEYS[1], 't', 'ts')
            local rate = tonumber(ARGV[1])
            local cap = tonumber(ARGV[2])
            local want = tonumber(ARGV[3])
            local tokens = tonumber(r[1])
            local ts = tonumber(r[2])
            if not tokens then
              tokens = cap
              ts = now
            end
            if now > ts then tokens = math.min(cap, tokens + (now - ts) * rate / 1000) end
            local grant = 0
            if want > 0 then
              local c = math.floor(tokens / 4)
              if c < 1 then c = 1 end
              grant = math.min(want, c, math.floor(tokens))
              if grant < 0 then grant = 0 end
              tokens = tokens - grant
            else
              tokens = math.min(cap, tokens - want)
            end
            redis.call('HSET', KEYS[1], 't', tokens, 'ts', now)
            redis.call('PEXPIRE', KEYS[1], math.ceil(cap * 1000 / rate) + 1000)
            local wait = 0
            if tokens < 1 then wait = math.ceil((1 - tokens) * 1000 / rate) end
            return {grant, math.floor(tokens * 1000), wait}
            """;

    /**
     * limit-conn: slots held per gateway. KEYS[1]: hash gateway -> slots held; KEYS[2]: sorted set gateway -> expiry
     * (Redis ms). Holdings of a gateway that did not call for the TTL (crashed, partitioned) are dropped first. ARGV:
     * gateway, delta (> 0: take up to delta slots, never past the capacity; < 0: give back; 0: heartbeat), capacity
     * (conn + burst), TTL ms. Returns {granted (negative when given back), slots held by the fleet, held by this
     * gateway}.
     */
    static final String CONN_LEASE = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
            for i = 1, #dead do redis.call('HDEL', KEYS[1], dead[i]) end
            if #dead > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
            local gw = ARGV[1]
            local delta = tonumber(ARGV[2])
            local cap = tonumber(ARGV[3])
            local ttl = tonumber(ARGV[4])
            local total = 0
            local v = redis.call('HVALS', KEYS[1])
            for i = 1, #v do total = total + tonumber(v[i]) end
            local mine = tonumber(redis.call('HGET', KEYS[1], gw) or '0')
            local grant = 0
            if delta > 0 then
              grant = math.min(delta, cap - total)
              if grant < 0 then grant = 0 end
            elseif delta < 0 then
              grant = math.max(delta, -mine)
            end
            mine = mine + grant
            total = total + grant
            if mine > 0 then
              redis.call('HSET', KEYS[1], gw, mine)
              redis.call('ZADD', KEYS[2], now + ttl, gw)
            else
              redis.call('HDEL', KEYS[1], gw)
              redis.call('ZREM', KEYS[2], gw)
            end
            if total > 0 then
              redis.call('PEXPIRE', KEYS[1], ttl * 2)
              redis.call('PEXPIRE', KEYS[2], ttl * 2)
            end
            return {grant, total, mine}
            """;

    static final String COUNT_LEASE_SHA = sha1(COUNT_LEASE);
    static final String COUNT_RETURN_SHA = sha1(COUNT_RETURN);
    static final String REQ_LEASE_SHA = sha1(REQ_LEASE);
    static final String CONN_LEASE_SHA = sha1(CONN_LEASE);

    private Scripts() {
    }

    static String sha1(String script) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            return HexFormat.of().formatHex(md.digest(script.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
