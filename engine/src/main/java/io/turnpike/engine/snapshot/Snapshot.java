package io.turnpike.engine.snapshot;

import io.turnpike.engine.plugin.ConsumerIndex;
import io.turnpike.engine.plugin.PluginChain;

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
    /** Indexed by {@link UpstreamTarget#slot}; null at free slots. */
    public final UpstreamTarget[] targets;
    /** Distinct nodes (one per pool), indexed by {@link NodeAddress#index}; null at free indexes. */
    public final NodeAddress[] nodes;
    /** SNI → server context for the HTTPS listeners; released by the publisher once a successor is applied. */
    public final TlsTable tls;
    /** Client contexts of the https upstreams; released by the publisher once a successor is applied. */
    public final UpstreamTls.Contexts upstreamTls;
    /**
     * For an incremental snapshot: the version it was derived from, else -1. A loop that serves that version applies
     * only {@link #changedSlots} and {@link #changedNodes}; any other loop applies the whole snapshot.
     */
    public final long baseVersion;
    /** Target slots that differ from the base snapshot (a new target, or null where one was freed). */
    public final int[] changedSlots;
    /** Node indexes that differ from the base snapshot. */
    public final int[] changedNodes;
    /** The global rules' plugins, run before every route's chain. */
    public final PluginChain globalPlugins;
    /** Consumers indexed by credential, for the auth plugins. */
    public final ConsumerIndex consumers;
    /**
     * Node changes of upstreams whose routes were not recompiled (only their nodes changed): committed to their
     * {@link io.turnpike.engine.endpoint.EndpointSlot}s once every loop applied this snapshot (which knows the new
     * nodes' pool indexes). Set by the compiler before publication, then read-only.
     */
    public java.util.List<java.util.function.Supplier<java.util.concurrent.CompletableFuture<Void>>> endpointUpdates =
            java.util.List.of();

    public Snapshot(long version, RouteTable routes, UpstreamTarget[] targets, NodeAddress[] nodes) {
        this(version, routes, targets, nodes, TlsTable.EMPTY);
    }

    public Snapshot(long version, RouteTable routes, UpstreamTarget[] targets, NodeAddress[] nodes, TlsTable tls) {
        this(version, routes, targets, nodes, tls, UpstreamTls.Contexts.EMPTY);
    }

    public Snapshot(long version, RouteTable routes, UpstreamTarget[] targets, NodeAddress[] nodes, TlsTable tls,
                    UpstreamTls.Contexts upstreamTls) {
        this(version, routes, targets, nodes, tls, upstreamTls, -1, null, null);
    }

    /**
     * @param targets indexed by slot; may hold nulls (freed slots) in an incremental snapshot
     * @param nodes   indexed by node index; may hold nulls (freed indexes) in an incremental snapshot
     */
    public Snapshot(long version, RouteTable routes, UpstreamTarget[] targets, NodeAddress[] nodes, TlsTable tls,
                    UpstreamTls.Contexts upstreamTls, long baseVersion, int[] changedSlots, int[] changedNodes) {
        this(version, routes, targets, nodes, tls, upstreamTls, baseVersion, changedSlots, changedNodes,
                PluginChain.EMPTY, ConsumerIndex.EMPTY);
    }

    public Snapshot(long version, RouteTable routes, UpstreamTarget[] targets, NodeAddress[] nodes, TlsTable tls,
                    UpstreamTls.Contexts upstreamTls, long baseVersion, int[] changedSlots, int[] changedNodes,
                    PluginChain globalPlugins, ConsumerIndex consumers) {
        this.globalPlugins = globalPlugins;
        this.consumers = consumers;
        this.baseVersion = baseVersion;
        this.changedSlots = changedSlots;
        this.changedNodes = changedNodes;
        this.upstreamTls = upstreamTls;
        this.version = version;
        this.routes = routes;
        this.targets = targets;
        this.nodes = nodes;
        this.tls = tls;
    }
}
