package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.engine.limit.Decision;
import io.turnpike.engine.limit.LimitClock;
import io.turnpike.engine.limit.LimitResult;
import io.turnpike.engine.limit.LimiterRegistry;
import io.turnpike.engine.limit.LocalLeakyBucket;
import io.turnpike.engine.limit.RemotePolicy;
import io.turnpike.engine.limit.ReqLimiter;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * APISIX {@code limit-req}: a leaky bucket per key ({@code rate} requests per second, {@code burst} more), in the
 * access phase. Over the burst: {@code rejected_code} (503). Over the rate within the burst: delayed by what the bucket
 * holds (the exchange pauses on a loop timer: the loop never sleeps), or let through at once with {@code nodelay}.
 */
public final class LimitReqPlugin extends PluginSpec {
    static final String NAME = "limit-req";
    private static final LocalReply FAILED = LimitSupport.failed("limit req");

    final ReqLimiter limiter;
    private final LimitSupport.KeySpec key;
    private final LocalReply rejected;
    private final boolean nodelay;
    private final boolean degrade;
    private final long waitNs;

    LimitReqPlugin(ReqLimiter limiter, LimitSupport.KeySpec key, LocalReply rejected, boolean nodelay,
                   boolean degrade, long waitMs) {
        super(NAME, 1001);
        this.limiter = limiter;
        this.key = key;
        this.rejected = rejected;
        this.nodelay = nodelay;
        this.degrade = degrade;
        this.waitNs = waitMs * 1_000_000L;
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
    public int access(PluginContext x) {
        LimitResult out = x.limitResult;
        out.clear();
        int d = limiter.acquire(key.key(x), LimitClock.nowMs(), out, x.wakeTask());
        switch (d) {
            case Decision.ADMIT:
                return nodelay ? CONTINUE : delay(x, out.delayMs);
            case Decision.REJECT:
                return x.reply(rejected);
            case Decision.WAIT:
                return x.pause(System.nanoTime() + waitNs, degrade ? null : FAILED);
            default:
                return degrade ? CONTINUE : x.reply(FAILED);
        }
    }

    /** Pauses the exchange for {@code ms} on a timer of its loop (the over-rate path; allocates the timer task). */
    static int delay(PluginContext x, long ms) {
        if (ms < 1) {
            return CONTINUE; // resty: delays under 1 ms are not slept
        }
        x.eventLoop().schedule(x.delayTask(), ms, TimeUnit.MILLISECONDS);
        // The timer resumes it; the deadline only bounds a lost timer (the loop shut down).
        return x.pause(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms + 60_000), null);
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 1001;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("rate", "burst", "key", "key_type", "rejected_code", "rejected_msg", "nodelay",
                    "policy", "allow_degradation", "_meta", LimitSupport.OWNER, "redis_host", "redis_port",
                    "redis_username", "redis_password", "redis_database", "redis_timeout", "redis_ssl",
                    "redis_ssl_verify", "sync_interval", "redis_cluster_nodes", "redis_cluster_name",
                    "redis_cluster_ssl", "redis_cluster_ssl_verify"));
            double rate = c.path("rate").asDouble();
            double burst = c.path("burst").asDouble();
            if (!(rate > 0) || burst < 0) {
                throw new IllegalArgumentException("rate must be above 0 and burst at least 0");
            }
            LimitSupport.KeySpec key = LimitSupport.KeySpec.compile(NAME, c);
            String identity = LimitSupport.identity(NAME, c);
            RemotePolicy policy = LimitSupport.policy(c);
            ReqLimiter limiter = policy == null
                    ? LimiterRegistry.get().get(identity, LocalLeakyBucket.class,
                    () -> new LocalLeakyBucket(identity, rate, burst))
                    : LimiterRegistry.get().get(identity, ReqLimiter.class,
                    () -> LimitSupport.remote().req(policy, identity, rate, burst));
            return new LimitReqPlugin(limiter, key, LimitSupport.rejected(c), Conf.bool(c, "nodelay", false),
                    Conf.bool(c, "allow_degradation", false), policy == null ? 1000 : policy.timeoutMs());
        }
    }
}
