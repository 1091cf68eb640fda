package io.turnpike.engine.upstream;

import java.net.InetSocketAddress;

/**
 * One upstream node of a snapshot: resolved address, weight, and its index in the snapshot's node table (which indexes
 * each loop's {@link NodePool} array). Immutable.
 */
public final class NodeAddress {
    public final String key;          // "host:port" as configured, the pool identity across snapshots
    public final InetSocketAddress address;
    public final byte[] hostHeader;   // "host:port" bytes for pass_host=node
    public final int weight;
    public final int index;
    /**
     * The identity of this node's connection pool across snapshots: {@link #key} for plain HTTP; for TLS it also
     * names the TLS configuration (and the fixed SNI), so an HTTP target never gets a TLS connection, nor a target
     * another one's client certificate or verification.
     */
    public final String poolKey;
    /**
     * APISIX's node {@code priority}: the balancer uses the nodes of the highest priority that has an available node,
     * lower ones only when every node above is down or tried ({@link io.turnpike.engine.endpoint.Endpoints}).
     */
    public final int priority;
    /**
     * Where the loops report this node's outcomes for passive health checks, or null (no passive checks). Set by the
     * upstream's {@link io.turnpike.engine.endpoint.EndpointSlot} before the node is published (the volatile
     * publication of the endpoints orders it), then read-only.
     */
    public io.turnpike.engine.endpoint.PassiveSink passive;

    public NodeAddress(String key, InetSocketAddress address, byte[] hostHeader, int weight, int index) {
        this(key, address, hostHeader, weight, index, key);
    }

    public NodeAddress(String key, InetSocketAddress address, byte[] hostHeader, int weight, int index,
                       String poolKey) {
        this(key, address, hostHeader, weight, index, poolKey, 0);
    }

    /** @param index the node's index in the snapshot's node table, or -1 for a node found at run time (DNS) */
    public NodeAddress(String key, InetSocketAddress address, byte[] hostHeader, int weight, int index,
                       String poolKey, int priority) {
        this.priority = priority;
        this.poolKey = poolKey;
        this.key = key;
        this.address = address;
        this.hostHeader = hostHeader;
        this.weight = weight;
        this.index = index;
    }

    @Override
    public String toString() {
        return key;
    }
}
