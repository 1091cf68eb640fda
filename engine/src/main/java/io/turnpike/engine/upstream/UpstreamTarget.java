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
    public final int poolSize;
    public final long idleTimeoutNs;
    public final int maxRequestsPerConnection;
    /** Immutable balancer definition (chash ring included); each loop instantiates its own state from it. */
    public final BalancerSpec balancer;
    /** Connect-failure retries on other nodes (APISIX default: number of nodes - 1). */
    public final int retries;

    public UpstreamTarget(String id, int slot, NodeAddress[] nodes, int passHost, byte[] rewriteHost,
                          long connectTimeoutMs, long readTimeoutNs, int poolSize, long idleTimeoutNs,
                          int maxRequestsPerConnection, BalancerSpec balancer, int retries) {
        this.id = id;
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
    }
}
