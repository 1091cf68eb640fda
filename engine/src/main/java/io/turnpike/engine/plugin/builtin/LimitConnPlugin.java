package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.engine.limit.ConnLimiter;
import io.turnpike.engine.limit.Decision;
import io.turnpike.engine.limit.LimitClock;
import io.turnpike.engine.limit.LimitResult;
import io.turnpike.engine.limit.LimiterRegistry;
import io.turnpike.engine.limit.LocalConnLimiter;
import io.turnpike.engine.limit.RemotePolicy;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.util.Set;

/**
 * APISIX {@code limit-conn}: at most {@code conn} + {@code burst} requests per key in flight, in the access phase;
 * those beyond {@code conn} are delayed ({@code default_conn_delay} seconds per multiple of {@code conn}, adapting to
 * the observed request time unless {@code only_use_default_delay}); beyond {@code conn + burst}: {@code rejected_code}
 * (503). The slot is held until the exchange ends, whatever ends it (response, local reply, client gone): the
 * exchange's end hook gives it back.
 */
public final class LimitConnPlugin extends PluginSpec {
    static final String NAME = "limit-conn";
    private static final LocalReply FAILED = LimitSupport.failed("limit conn");
    private static final LocalReply NO_HOOK = LimitSupport.failed("limit conn: too many limit-conn plugins");

    final ConnLimiter limiter;
    private final LimitSupport.KeySpec key;
    private final LocalReply rejected;
    private final boolean degrade;
    private final long waitNs;

    LimitConnPlugin(ConnLimiter limiter, LimitSupport.KeySpec key, LocalReply rejected, boolean degrade, long waitMs) {
        super(NAME, 1003);
        this.limiter = limiter;
        this.key = key;
        this.rejected = rejected;
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
                if (!x.onEnd(out.hold)) {
                    out.hold.exchangeEnded(x);
                    return x.reply(NO_HOOK);
                }
                return LimitReqPlugin.delay(x, out.delayMs);
            case Decision.REJECT:
                return x.reply(rejected);
            case Decision.WAIT:
                return x.pause(System.nanoTime() + waitNs, degrade ? null : FAILED);
            default:
                return degrade ? CONTINUE : x.reply(FAILED);
        }
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 1003;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("conn", "burst", "default_conn_delay", "only_use_default_delay", "key",
                    "key_type", "rejected_code", "rejected_msg", "policy", "allow_degradation", "_meta",
                    LimitSupport.OWNER, "redis_host", "redis_port", "redis_username", "redis_password",
                    "redis_database", "redis_timeout", "redis_ssl", "redis_ssl_verify", "sync_interval",
                    "redis_cluster_nodes", "redis_cluster_name", "redis_cluster_ssl", "redis_cluster_ssl_verify"));
            long conn = c.path("conn").asLong();
            long burst = c.path("burst").asLong();
            long delayMs = Math.round(c.path("default_conn_delay").asDouble() * 1000);
            boolean onlyDefault = Conf.bool(c, "only_use_default_delay", false);
            if (conn <= 0 || burst < 0) {
                throw new IllegalArgumentException("conn must be above 0 and burst at least 0");
            }
            LimitSupport.KeySpec key = LimitSupport.KeySpec.compile(NAME, c);
            String identity = LimitSupport.identity(NAME, c);
            RemotePolicy policy = LimitSupport.policy(c);
            ConnLimiter limiter = policy == null
                    ? LimiterRegistry.get().get(identity, LocalConnLimiter.class,
                    () -> new LocalConnLimiter(identity, conn, burst, delayMs, onlyDefault))
                    : LimiterRegistry.get().get(identity, ConnLimiter.class,
                    () -> LimitSupport.remote().conn(policy, identity, conn, burst, delayMs, onlyDefault));
            return new LimitConnPlugin(limiter, key, LimitSupport.rejected(c), Conf.bool(c, "allow_degradation", false),
                    policy == null ? 1000 : policy.timeoutMs());
        }
    }
}
