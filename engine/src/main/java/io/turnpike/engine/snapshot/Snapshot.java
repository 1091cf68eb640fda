package io.turnpike.engine.snapshot;

import io.turnpike.engine.router.RouteTable;
import io.turnpike.engine.upstream.NodeAddress;
import io.turnpike.engine.upstream.UpstreamTarget;
import io.turnpike.engine.upstream.UpstreamTls;
import io.turnpike.tls.TlsTable;

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
    /** SNI → server context for the HTTPS listeners; released by the publisher once a successor is applied. */
    public final TlsTable tls;
    /** Client contexts of the https upstreams; released by the publisher once a successor is applied. */
    public final UpstreamTls.Contexts upstreamTls;

    public Snapshot(long version, RouteTable routes, UpstreamTarget[] targets, NodeAddress[] nodes) {
        this(version, routes, targets, nodes, TlsTable.EMPTY);
    }

    public Snapshot(long version, RouteTable routes, UpstreamTarget[] targets, NodeAddress[] nodes, TlsTable tls) {
        this(version, routes, targets, nodes, tls, UpstreamTls.Contexts.EMPTY);
    }

    public Snapshot(long version, RouteTable routes, UpstreamTarget[] targets, NodeAddress[] nodes, TlsTable tls,
                    UpstreamTls.Contexts upstreamTls) {
        this.upstreamTls = upstreamTls;
        this.version = version;
        this.routes = routes;
        this.targets = targets;
        this.nodes = nodes;
        this.tls = tls;
    }
}
