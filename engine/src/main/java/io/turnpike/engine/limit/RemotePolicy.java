package io.turnpike.engine.limit;

import java.util.List;

/**
 * Where a {@code redis} or {@code redis-cluster} limit keeps its shared state (APISIX's keys: {@code redis_host},
 * {@code redis_port}, {@code redis_username}, {@code redis_password}, {@code redis_database}, {@code redis_timeout},
 * {@code redis_ssl}, {@code redis_ssl_verify}; {@code redis_cluster_nodes}, {@code redis_cluster_name},
 * {@code redis_cluster_ssl}, {@code redis_cluster_ssl_verify}). Limits naming an equal policy share one client.
 *
 * @param cluster      {@code redis-cluster}
 * @param nodes        "host:port" seeds: one for {@code redis}, the configured ones for a cluster
 * @param timeoutMs    {@code redis_timeout}: how long a request waits for a lease before the limit degrades
 */
public record RemotePolicy(boolean cluster, List<String> nodes, String username, String password, int database,
                           long timeoutMs, boolean ssl, boolean sslVerify, String clusterName) {
}
