package io.turnpike.engine.limit.redis;

import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import io.turnpike.engine.limit.ConnLimiter;
import io.turnpike.engine.limit.CountLimiter;
import io.turnpike.engine.limit.RemoteLimiters;
import io.turnpike.engine.limit.RemotePolicy;
import io.turnpike.engine.limit.ReqLimiter;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The process's Redis-backed limiters (policies {@code redis} and {@code redis-cluster}): one {@link RedisLink}
 * (connection and lease pump) per distinct {@link RemotePolicy}, all on one Lettuce {@link ClientResources} with a
 * single I/O thread of its own (never a gateway event loop). Created lazily by the
 * {@link io.turnpike.engine.limit.LimiterRegistry} on the first Redis-backed limit; called on the snapshot
 * compiler's thread (builders) and the status thread ({@link #statusJson}).
 *
 * <p>The gateway id names this process's holdings in Redis (limit-conn); two instances in one JVM behave as two
 * gateways (tests).
 */
public final class RedisLimiters implements RemoteLimiters {
    private final byte[] gatewayId;
    private final Map<RemotePolicy, RedisLink> links = new LinkedHashMap<>();
    private ClientResources resources;

    static {
        // Lettuce picks epoll over io_uring when Netty offers both, and says so in a WARN line on every connection
        // attempt: two log lines per reconnect while Redis is down. Turning its io_uring probe off changes no
        // transport (it is epoll either way) and keeps the gateway's log quiet; an operator's own setting wins.
        if (System.getProperty("io.lettuce.core.iouring") == null) {
            System.setProperty("io.lettuce.core.iouring", "false");
        }
    }

    public RedisLimiters() {
        this(defaultGatewayId());
    }

    public RedisLimiters(String gatewayId) {
        this.gatewayId = gatewayId.getBytes(StandardCharsets.UTF_8);
    }

    /** host:pid:random (no DNS lookup: the host name comes from the environment). */
    private static String defaultGatewayId() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isEmpty()) {
            host = "gateway";
        }
        return host + ":" + ProcessHandle.current().pid() + ":" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** The shared link of {@code policy} (created on first use). */
    public synchronized RedisLink link(RemotePolicy policy) {
        RedisLink l = links.get(policy);
        if (l == null) {
            if (resources == null) {
                resources = DefaultClientResources.builder()
                        .ioThreadPoolSize(1)
                        .computationThreadPoolSize(1)
                        .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2,
                                TimeUnit.MILLISECONDS))
                        .build();
            }
            l = new RedisLink(policy, gatewayId, resources, links.size());
            links.put(policy, l);
        }
        return l;
    }

    @Override
    public CountLimiter count(RemotePolicy policy, String identity, long limit, long windowSeconds, boolean sliding) {
        if (sliding) {
            throw new IllegalArgumentException("window_type \"sliding\" is not supported with policy "
                    + (policy.cluster() ? "\"redis-cluster\"" : "\"redis\"") + " (use \"fixed\" or policy \"local\")");
        }
        return new RedisCountLimiter(link(policy), identity, limit, windowSeconds);
    }

    @Override
    public ReqLimiter req(RemotePolicy policy, String identity, double rate, double burst) {
        return new RedisReqLimiter(link(policy), identity, rate, burst);
    }

    @Override
    public ConnLimiter conn(RemotePolicy policy, String identity, long conn, long burst, long defaultConnDelayMs,
                            boolean onlyDefaultDelay) {
        return new RedisConnLimiter(link(policy), identity, conn, burst, defaultConnDelayMs, onlyDefaultDelay);
    }

    /** The links and their counters as a JSON array (status thread). */
    public String statusJson() {
        List<RedisLink> ls;
        synchronized (this) {
            ls = new ArrayList<>(links.values());
        }
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < ls.size(); i++) {
            b.append(i == 0 ? "" : ",").append(ls.get(i).json());
        }
        return b.append(']').toString();
    }

    /** Closes every link and the client resources (tests). */
    public synchronized void close() {
        for (RedisLink l : links.values()) {
            l.close();
        }
        links.clear();
        if (resources != null) {
            resources.shutdown(0, 1, TimeUnit.SECONDS);
            resources = null;
        }
    }
}
