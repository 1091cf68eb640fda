package io.turnpike.config.process;

import io.turnpike.config.model.Upstream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * Service discovery from {@code conf/config.yaml}: APISIX's {@code discovery.dns} (the only registry Turnpike
 * implements) and Turnpike's {@code turnpike.dns} resolver tuning (TTL clamps, query timeout, retry after a failure).
 * Immutable. See docs/discovery.md.
 *
 * @param dns    {@code discovery.dns}; null when config.yaml has none (then an upstream with
 *               {@code discovery_type: dns} is refused: {@link #problem})
 * @param system the resolver for node host names (no {@code discovery.dns}: {@code /etc/resolv.conf} and
 *               {@code /etc/hosts}), with the same tuning; never null
 */
public record DiscoveryConfig(Dns dns, Dns system) {

    /** APISIX's default {@code discovery.dns.order}. */
    public static final List<String> ORDER_DEFAULT = List.of("last", "SRV", "A", "AAAA", "CNAME");
    public static final long MIN_TTL_MS_DEFAULT = 1_000;
    public static final long MAX_TTL_MS_DEFAULT = 300_000;
    /** APISIX's dns client: 2 s per query. */
    public static final long QUERY_TIMEOUT_MS_DEFAULT = 2_000;
    public static final long ERROR_RETRY_MS_DEFAULT = 2_000;

    /** No {@code discovery.dns}; the system resolver with the default tuning. */
    public static final DiscoveryConfig DEFAULT = new DiscoveryConfig(null, Dns.system(MIN_TTL_MS_DEFAULT,
            MAX_TTL_MS_DEFAULT, QUERY_TIMEOUT_MS_DEFAULT, ERROR_RETRY_MS_DEFAULT));

    public DiscoveryConfig {
        if (system == null) {
            system = DEFAULT.system;
        }
    }

    /**
     * The resolver settings.
     *
     * @param servers        {@code discovery.dns.servers} (IP and port, default port 53); empty: the name servers of
     *                       {@code resolvConf}, or of {@code /etc/resolv.conf} when that is null too
     * @param resolvConf     {@code discovery.dns.resolv_conf}: its {@code nameserver}, {@code search}/{@code domain}
     *                       and {@code options ndots:N} lines are read; null: see {@code servers}
     * @param order          record types tried in turn, the first with records wins: {@code last} (the type that
     *                       answered last time for that name), {@code SRV}, {@code A}, {@code AAAA}, {@code CNAME} (CNAME
     *                       chains are followed inside the other lookups)
     * @param minTtlMs       {@code turnpike.dns.min_ttl}: a record's TTL is raised to this before re-resolving
     * @param maxTtlMs       {@code turnpike.dns.max_ttl}: and lowered to this
     * @param queryTimeoutMs {@code turnpike.dns.query_timeout_ms}: one query to one server
     * @param errorRetryMs   {@code turnpike.dns.error_retry}: re-resolve this soon after a failed resolution
     * @param system         true: the platform resolver ({@code /etc/resolv.conf} with its search domains, and
     *                       {@code /etc/hosts}); false: {@code discovery.dns} (no hosts file, as APISIX)
     */
    public record Dns(List<InetSocketAddress> servers, Path resolvConf, List<String> order, long minTtlMs,
                      long maxTtlMs, long queryTimeoutMs, long errorRetryMs, boolean system) {
        public Dns {
            servers = List.copyOf(servers);
            order = List.copyOf(order);
            if (minTtlMs < 0 || maxTtlMs < minTtlMs || queryTimeoutMs <= 0 || errorRetryMs <= 0) {
                throw new IllegalArgumentException("bad dns tuning: min_ttl " + minTtlMs + " ms, max_ttl " + maxTtlMs
                        + " ms, query_timeout " + queryTimeoutMs + " ms, error_retry " + errorRetryMs + " ms");
            }
        }

        /** The platform resolver: /etc/resolv.conf, /etc/hosts, APISIX's default order. */
        public static Dns system(long minTtlMs, long maxTtlMs, long queryTimeoutMs, long errorRetryMs) {
            return new Dns(List.of(), null, ORDER_DEFAULT, minTtlMs, maxTtlMs, queryTimeoutMs, errorRetryMs, true);
        }

        /** {@code discovery.dns} with the given name servers and the default tuning (tests, embedders). */
        public static Dns servers(List<InetSocketAddress> servers) {
            return new Dns(servers, null, ORDER_DEFAULT, MIN_TTL_MS_DEFAULT, MAX_TTL_MS_DEFAULT,
                    QUERY_TIMEOUT_MS_DEFAULT, ERROR_RETRY_MS_DEFAULT, false);
        }

        public Dns withOrder(List<String> order) {
            return new Dns(servers, resolvConf, order, minTtlMs, maxTtlMs, queryTimeoutMs, errorRetryMs, system);
        }

        public Dns withTuning(long minTtlMs, long maxTtlMs, long queryTimeoutMs, long errorRetryMs) {
            return new Dns(servers, resolvConf, order, minTtlMs, maxTtlMs, queryTimeoutMs, errorRetryMs, system);
        }
    }

    /**
     * Why {@code u} cannot be served with this configuration, in APISIX's words (its request-time 503
     * "discovery dns is uninitialized", raised at compile time here), or null. For the engine's compiler.
     */
    public String problem(Upstream u) {
        if (u.serviceName() == null) {
            return null;
        }
        if (!"dns".equals(u.discoveryType())) {
            return "discovery " + u.discoveryType() + " is uninitialized (Turnpike implements only dns discovery)";
        }
        return dns == null ? "discovery dns is uninitialized: add discovery.dns (servers or resolv_conf) to"
                + " config.yaml" : null;
    }
}
