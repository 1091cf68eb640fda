package io.turnpike.engine.snapshot;

import io.turnpike.engine.router.RouteTable;
import io.turnpike.engine.upstream.NodeAddress;
import io.turnpike.engine.upstream.UpstreamTarget;

/**
 * An immutable, versioned compilation of the configuration that every event loop reads without locks. A request pins
 * the snapshot current on its loop when its head is decoded and uses that one object until its response completes.
 */
public final class Snapshot {
    public final long version;
    public final RouteTable routes;
    /** Indexed by {@link UpstreamTarget#slot}. */
    public final UpstreamTarget[] targets;
    /** Distinct nodes, indexed by {@link NodeAddress#index}. */
    public final NodeAddress[] nodes;

    public Snapshot(long version, RouteTable routes, UpstreamTarget[] targets, NodeAddress[] nodes) {
        this.version = version;
        this.routes = routes;
        this.targets = targets;
        this.nodes = nodes;
    }
}
