package io.turnpike.engine.upstream;

/**
 * An upstream as a route sees it in a compiled snapshot: its nodes and the settings of its pool and timeouts.
 * Immutable and shared by all loops; per-loop balancer state lives in the loop's array at {@link #slot}.
 */
public final class UpstreamTarget {
    public static final int PASS_HOST_PASS = 0;
    public static final int PASS_HOST_NODE = 1;
    public static final int PASS_HOST_REWRITE = 2;

    public final String id;
    public final int slot;
    public final NodeAddress[] nodes;
    public final int passHost;
    public final byte[] rewriteHost;
    public final long connectTimeoutMs;
    public final long readTimeoutNs;
    /**
     * nginx's {@code proxy_send_timeout} (APISIX {@code timeout.send}): how long the upstream may stop accepting the
     * request (its connection unwritable) before the exchange fails with 504.
     */
    public final long sendTimeoutNs;
    public final int poolSize;
    public final long idleTimeoutNs;
    public final int maxRequestsPerConnection;
    /** Immutable balancer definition (chash ring included); each loop instantiates its own state from it. */
    public final BalancerSpec balancer;
    /** Connect-failure retries on other nodes (APISIX default: number of nodes - 1). */
    public final int retries;
    /** {@code scheme: https}: the client TLS context and verification mode; null for plain HTTP. */
    public final UpstreamTls tls;
    /** With {@link #tls} and {@code pass_host: rewrite}: the SNI ({@code upstream_host} without port), else null. */
    public final String rewriteSni;
    /**
     * The upstream's live endpoints (nodes, health, priority), published to the loops apart from snapshots: the loops
     * balance over {@code endpoints.current()}, not over {@link #nodes} (the nodes it was compiled with).
     */
    public final io.turnpike.engine.endpoint.EndpointSlot endpoints;
    /** APISIX's {@code retry_timeout} in nanoseconds: no retry starts later than this after the first try; 0: none. */
    public final long retryTimeoutNs;
    /** {@code scheme: grpc}: requests go up as HTTP/2 streams (engine/grpc's pools), not over the HTTP/1.1 pools. */
    public final boolean grpc;

    public UpstreamTarget(String id, int slot, NodeAddress[] nodes, int passHost, byte[] rewriteHost,
                          long connectTimeoutMs, long readTimeoutNs, int poolSize, long idleTimeoutNs,
                          int maxRequestsPerConnection, BalancerSpec balancer, int retries) {
        this(id, slot, nodes, passHost, rewriteHost, connectTimeoutMs, readTimeoutNs, readTimeoutNs, poolSize,
                idleTimeoutNs, maxRequestsPerConnection, balancer, retries, null);
    }

    public UpstreamTarget(String id, int slot, NodeAddress[] nodes, int passHost, byte[] rewriteHost,
                          long connectTimeoutMs, long readTimeoutNs, long sendTimeoutNs, int poolSize,
                          long idleTimeoutNs, int maxRequestsPerConnection, BalancerSpec balancer, int retries,
                          UpstreamTls tls) {
        this(id, slot, nodes, passHost, rewriteHost, connectTimeoutMs, readTimeoutNs, sendTimeoutNs, poolSize,
                idleTimeoutNs, maxRequestsPerConnection, balancer, retries, tls, null, 0);
    }

    /**
     * @param retries    retries on another node; negative: APISIX's default, the number of nodes - 1 (of the
     *                   endpoints in force)
     * @param endpoints  null: a slot of its own over {@code nodes} (no health, no discovery)
     */
    public UpstreamTarget(String id, int slot, NodeAddress[] nodes, int passHost, byte[] rewriteHost,
                          long connectTimeoutMs, long readTimeoutNs, long sendTimeoutNs, int poolSize,
                          long idleTimeoutNs, int maxRequestsPerConnection, BalancerSpec balancer, int retries,
                          UpstreamTls tls, io.turnpike.engine.endpoint.EndpointSlot endpoints, long retryTimeoutNs) {
        this(id, slot, nodes, passHost, rewriteHost, connectTimeoutMs, readTimeoutNs, sendTimeoutNs, poolSize,
                idleTimeoutNs, maxRequestsPerConnection, balancer, retries, tls, endpoints, retryTimeoutNs, false);
    }

    /** @param grpc {@code scheme: grpc} */
    public UpstreamTarget(String id, int slot, NodeAddress[] nodes, int passHost, byte[] rewriteHost,
                          long connectTimeoutMs, long readTimeoutNs, long sendTimeoutNs, int poolSize,
                          long idleTimeoutNs, int maxRequestsPerConnection, BalancerSpec balancer, int retries,
                          UpstreamTls tls, io.turnpike.engine.endpoint.EndpointSlot endpoints, long retryTimeoutNs,
                          boolean grpc) {
        this.grpc = grpc;
        this.endpoints = endpoints != null ? endpoints
                : new io.turnpike.engine.endpoint.EndpointSlot(id, balancer, null);
        this.retryTimeoutNs = retryTimeoutNs;
        this.id = id;
        this.sendTimeoutNs = sendTimeoutNs;
        this.slot = slot;
        this.nodes = nodes;
        this.passHost = passHost;
        this.rewriteHost = rewriteHost;
        this.connectTimeoutMs = connectTimeoutMs;
        this.readTimeoutNs = readTimeoutNs;
        this.poolSize = poolSize;
        this.idleTimeoutNs = idleTimeoutNs;
        this.maxRequestsPerConnection = maxRequestsPerConnection;
        this.balancer = balancer;
        this.retries = retries;
        this.tls = tls;
        this.rewriteSni = tls != null && rewriteHost != null
                ? UpstreamTls.hostOf(new String(rewriteHost, java.nio.charset.StandardCharsets.US_ASCII)) : null;
    }

    /** Retries allowed with {@code e} in force (APISIX's default: one per other node). */
    public int retries(io.turnpike.engine.endpoint.Endpoints e) {
        return retries >= 0 ? retries : Math.max(0, e.nodes.length - 1);
    }

    /**
     * The SNI (and verified name) for a new TLS connection to {@code node}: the Host that will be sent, by
     * {@code pass_host}: the node's host for {@code node}, {@code upstream_host} for {@code rewrite}, the client's
     * Host ({@code requestHost}, already without port) for {@code pass}, else the node's host.
     */
    public String sni(NodeAddress node, String requestHost) {
        if (passHost == PASS_HOST_REWRITE && rewriteSni != null) {
            return rewriteSni;
        }
        if (passHost == PASS_HOST_PASS && requestHost != null && !requestHost.isEmpty()) {
            return requestHost;
        }
        return UpstreamTls.hostOf(node.key);
    }
}
