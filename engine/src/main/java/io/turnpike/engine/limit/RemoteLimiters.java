package io.turnpike.engine.limit;

/**
 * Builds limiters whose state is shared through Redis (policies {@code redis} and {@code redis-cluster}); installed
 * in the {@link LimiterRegistry} by {@code io.turnpike.engine.limit.redis}. Called on the snapshot compiler's thread.
 */
public interface RemoteLimiters {
    CountLimiter count(RemotePolicy policy, String identity, long limit, long windowSeconds, boolean sliding);

    ReqLimiter req(RemotePolicy policy, String identity, double rate, double burst);

    ConnLimiter conn(RemotePolicy policy, String identity, long conn, long burst, long defaultConnDelayMs,
                     boolean onlyDefaultDelay);
}
