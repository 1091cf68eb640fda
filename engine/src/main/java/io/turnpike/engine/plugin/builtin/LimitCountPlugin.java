package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.engine.limit.CountLimiter;
import io.turnpike.engine.limit.Decision;
import io.turnpike.engine.limit.LimitClock;
import io.turnpike.engine.limit.LimitResult;
import io.turnpike.engine.limit.LimiterRegistry;
import io.turnpike.engine.limit.LocalFixedWindow;
import io.turnpike.engine.limit.LocalSlidingWindow;
import io.turnpike.engine.limit.RemotePolicy;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.util.Set;

/**
 * APISIX {@code limit-count}: at most {@code count} requests per {@code time_window} seconds per key, in the access
 * phase; over it, {@code rejected_code} (503) with {@code {"error_msg": rejected_msg}} when set. Quota headers
 * ({@code X-RateLimit-Limit}, {@code -Remaining}, {@code -Reset}) on admitted and rejected responses unless
 * {@code show_limit_quota_header} is false. Policy {@code local} is exact for the process across loops; {@code redis}
 * and {@code redis-cluster} take leases from Redis (see docs/rate-limits.md). A limiter that cannot decide (Redis down,
 * no lease held) admits when {@code allow_degradation}, else answers 500 {@code failed to limit count}.
 */
public final class LimitCountPlugin extends PluginSpec {
    static final String NAME = "limit-count";
    private static final byte[] LIMIT = "X-RateLimit-Limit".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] LIMIT_LOWER = LimitSupport.lower("X-RateLimit-Limit");
    private static final byte[] REMAINING = "X-RateLimit-Remaining".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] REMAINING_LOWER = LimitSupport.lower("X-RateLimit-Remaining");
    private static final byte[] RESET = "X-RateLimit-Reset".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] RESET_LOWER = LimitSupport.lower("X-RateLimit-Reset");
    private static final LocalReply FAILED = LimitSupport.failed("limit count");

    final CountLimiter limiter;
    private final LimitSupport.KeySpec key;
    private final LocalReply rejected;
    private final boolean showHeaders;
    private final boolean degrade;
    private final long waitNs;
    /** {@code X-RateLimit-Limit}'s value: the limiter's count, the same on every response (written once, not per request). */
    private final byte[] limitValue;

    LimitCountPlugin(CountLimiter limiter, LimitSupport.KeySpec key, LocalReply rejected, boolean showHeaders,
                     boolean degrade, long waitMs) {
        super(NAME, 1002);
        this.limiter = limiter;
        this.key = key;
        this.rejected = rejected;
        this.showHeaders = showHeaders;
        this.degrade = degrade;
        this.waitNs = waitMs * 1_000_000L;
        this.limitValue = Long.toString(Math.max(0, limiter.limit)).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Override
    public int phases() {
        return PHASE_ACCESS;
    }

    @Override
    public boolean mayPause() {
        return true;
    }

    @Override
    public int maxHeaderEdits() {
        return showHeaders ? 3 : 0;
    }

    @Override
    public int access(PluginContext x) {
        LimitResult out = x.limitResult;
        out.clear();
        int d = limiter.acquire(key.key(x), LimitClock.nowMs(), out, x.wakeTask());
        switch (d) {
            case Decision.ADMIT:
                headers(x, out);
                return CONTINUE;
            case Decision.REJECT:
                out.remaining = 0;
                headers(x, out);
                return x.reply(rejected);
            case Decision.WAIT:
                return x.pause(System.nanoTime() + waitNs, degrade ? null : FAILED);
            default:
                return degrade ? CONTINUE : x.reply(FAILED);
        }
    }

    private void headers(PluginContext x, LimitResult out) {
        if (showHeaders) {
            x.responseEdits.set(LIMIT_LOWER, LIMIT, limitValue); // out.limit: every count limiter reports its count
            LimitSupport.setHeader(x, REMAINING_LOWER, REMAINING, out.remaining);
            LimitSupport.setHeader(x, RESET_LOWER, RESET, out.resetSeconds);
        }
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 1002;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("count", "time_window", "window_type", "group", "key", "key_type",
                    "rejected_code", "rejected_msg", "policy", "allow_degradation", "show_limit_quota_header", "_meta",
                    LimitSupport.OWNER, "redis_host", "redis_port", "redis_username", "redis_password",
                    "redis_database", "redis_timeout", "redis_ssl", "redis_ssl_verify", "sync_interval",
                    "redis_cluster_nodes", "redis_cluster_name", "redis_cluster_ssl", "redis_cluster_ssl_verify"));
            long count = c.path("count").asLong();
            long window = c.path("time_window").asLong();
            if (count <= 0 || window <= 0) {
                throw new IllegalArgumentException("count and time_window must be positive integers");
            }
            boolean sliding = Conf.str(c, "window_type", "fixed").equals("sliding");
            LimitSupport.KeySpec key = LimitSupport.KeySpec.compile(NAME, c);
            String identity = LimitSupport.identity(NAME, c);
            RemotePolicy policy = LimitSupport.policy(c);
            CountLimiter limiter;
            if (policy == null) {
                limiter = sliding
                        ? LimiterRegistry.get().get(identity, LocalSlidingWindow.class,
                        () -> new LocalSlidingWindow(identity, count, window))
                        : LimiterRegistry.get().get(identity, LocalFixedWindow.class,
                        () -> new LocalFixedWindow(identity, count, window));
            } else {
                limiter = LimiterRegistry.get().get(identity, CountLimiter.class,
                        () -> LimitSupport.remote().count(policy, identity, count, window, sliding));
            }
            return new LimitCountPlugin(limiter, key, LimitSupport.rejected(c),
                    Conf.bool(c, "show_limit_quota_header", true), Conf.bool(c, "allow_degradation", false),
                    policy == null ? 1000 : policy.timeoutMs());
        }
    }
}
