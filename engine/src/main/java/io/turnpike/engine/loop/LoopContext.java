package io.turnpike.engine.loop;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.upstream.NodeAddress;
import io.turnpike.engine.upstream.NodePool;
import io.turnpike.engine.upstream.Balancer;
import io.turnpike.engine.upstream.UpstreamTarget;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Everything one event loop owns: the snapshot it currently serves, its upstream pools and balancer state, its
 * counters, its connection sweeper and its upstream bootstrap. Envoy's "thread local cluster manager", in Turnpike's
 * terms.
 *
 * <p>Confined to its event loop: every field is read and written only on {@link #eventLoop} (asserted where cheap);
 * other threads hand work over with {@code eventLoop.execute}. The only cross-thread reads are the counters and
 * {@link #appliedVersion}, which is volatile for the publication barrier and the readiness probe.
 */
public final class LoopContext {
    public final int id;
    public final EventLoop eventLoop;
    public final EngineSettings settings;
    public final LoopCounters counters = new LoopCounters();
    public final ConnectionSweeper sweeper = new ConnectionSweeper();
    /** "Now", read once per dispatch from this loop (see {@link DispatchClock}). */
    public final DispatchClock clock = new DispatchClock();
    private final Bootstrap upstreamBootstrap;

    private Snapshot snapshot;
    private volatile long appliedVersion = -1;
    private Balancer[] balancers = new Balancer[0];
    @SuppressWarnings("rawtypes")
    private NodePool[] pools = new NodePool[0];
    /** The endpoints each of {@link #balancers} was built from (a balancer is rebuilt when its target's changed). */
    private io.turnpike.engine.endpoint.Endpoints[] balancerEndpoints = new io.turnpike.engine.endpoint.Endpoints[0];
    private final Map<String, NodePool<?>> poolsByKey = new HashMap<>();

    // The decimal text of the local ports this loop's connections arrived on (X-Forwarded-Port, $server_port): a loop
    // listens on a few ports, so the text is made once per port instead of once per connection. Loop-confined; the
    // arrays are never written after they are made, and connections share them.
    private final int[] portKeys = {-1, -1, -1, -1};
    private final byte[][] portTexts = new byte[4][];
    private int portNext;

    /** {@code port} in decimal ASCII, shared (read-only) by this loop's connections. Event-loop thread. */
    public byte[] portText(int port) {
        for (int i = 0; i < portKeys.length; i++) {
            if (portKeys[i] == port) {
                return portTexts[i];
            }
        }
        byte[] text = Integer.toString(port).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int i = portNext;
        portNext = (i + 1) & 3;
        portKeys[i] = port;
        portTexts[i] = text;
        return text;
    }
    private boolean draining;
    private int openDownstream;
    private int busyDownstream;
    private static final io.turnpike.engine.observe.ExchangeObserver[] NO_OBSERVERS =
            new io.turnpike.engine.observe.ExchangeObserver[0];
    /** This loop's exchange observers (access log, metrics, tracing); set before the loop serves, then read-only. */
    private io.turnpike.engine.observe.ExchangeObserver[] observers = NO_OBSERVERS;

    public LoopContext(int id, EventLoop eventLoop, EngineSettings settings, Class<? extends SocketChannel> socketClass,
                       ByteBufAllocator allocator) {
        this.id = id;
        this.eventLoop = eventLoop;
        this.settings = settings;
        this.upstreamBootstrap = new Bootstrap()
                .group(eventLoop)
                .channel(socketClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, allocator)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.upstreamConnectTimeoutMs());
    }

    /** Starts the sweeper task. Call once after construction. */
    public void start() {
        eventLoop.scheduleAtFixedRate(() -> sweeper.sweep(System.nanoTime()),
                ConnectionSweeper.TICK_MS, ConnectionSweeper.TICK_MS, TimeUnit.MILLISECONDS);
    }

    /** Installs this loop's exchange observers (at start-up, before the listeners accept). */
    public void observers(io.turnpike.engine.observe.ExchangeObserver... observers) {
        this.observers = observers.clone();
    }

    /** Adds one exchange observer to this loop's (at start-up, before the listeners accept). */
    public void addObserver(io.turnpike.engine.observe.ExchangeObserver observer) {
        io.turnpike.engine.observe.ExchangeObserver[] o = java.util.Arrays.copyOf(observers, observers.length + 1);
        o[observers.length] = observer;
        this.observers = o;
    }

    /** This loop's exchange observers, in installation order (empty when none: the per-request cost is one check). */
    public io.turnpike.engine.observe.ExchangeObserver[] observers() {
        return observers;
    }

    /** A bootstrap bound to this loop; clone it and set the handler per connection. */
    public Bootstrap upstreamBootstrap() {
        return upstreamBootstrap;
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    public long appliedVersion() {
        return appliedVersion;
    }

    /**
     * Applies a new snapshot on this loop (runs on the loop). Pools of nodes that remain configured are kept, with
     * their idle connections; pools of removed nodes are retired. Requests in flight keep the snapshot they pinned.
     * An incremental snapshot derived from the one this loop serves ({@link Snapshot#baseVersion}) updates only the
     * balancers of its changed slots and the pools of its changed node indexes (balancer state of unchanged targets,
     * such as the round-robin position, carries over); any other snapshot is applied whole.
     */
    @SuppressWarnings({"rawtypes", "unchecked"})
    public void apply(Snapshot next) {
        assert eventLoop.inEventLoop();
        if (snapshot != null && next.baseVersion >= 0 && next.baseVersion == snapshot.version) {
            applyChanges(next);
        } else {
            applyWhole(next);
        }
        this.snapshot = next;
        this.appliedVersion = next.version;
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private void applyWhole(Snapshot next) {
        // Balancers are built on first use from each target's endpoints (balancer()).
        Balancer[] b = new Balancer[next.targets.length];
        io.turnpike.engine.endpoint.Endpoints[] be = new io.turnpike.engine.endpoint.Endpoints[next.targets.length];
        // Existing pools of nodes that stay are carried over; the others are created on first use (pool()).
        NodePool[] p = new NodePool[next.nodes.length];
        Map<String, NodePool<?>> keep = new HashMap<>();
        for (NodeAddress n : next.nodes) {
            if (n == null) {
                continue;
            }
            NodePool<?> pool = poolsByKey.get(n.poolKey);
            if (pool != null) {
                p[n.index] = pool;
                keep.put(n.poolKey, pool);
            }
        }
        // Pools of nodes found at run time (DNS) that a target still has.
        for (UpstreamTarget t : next.targets) {
            if (t != null) {
                for (NodeAddress n : t.endpoints.current().nodes) {
                    NodePool<?> pool = n.index < 0 ? poolsByKey.get(n.poolKey) : null;
                    if (pool != null) {
                        keep.put(n.poolKey, pool);
                    }
                }
            }
        }
        for (Map.Entry<String, NodePool<?>> e : poolsByKey.entrySet()) {
            if (!keep.containsKey(e.getKey())) {
                e.getValue().retire();
            }
        }
        poolsByKey.clear();
        poolsByKey.putAll(keep);
        this.balancers = b;
        this.balancerEndpoints = be;
        this.pools = p;
    }

    /**
     * Pools are not created here but on first use ({@link #pool}): an upstream of 90,000 nodes costs this loop a few
     * int writes per node instead of a pool and a map entry each (measured 140 ms per loop before).
     */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private void applyChanges(Snapshot next) {
        // The arrays are this loop's own (never shared): update in place, growing when the tables grew.
        if (balancers.length != next.targets.length) {
            balancers = java.util.Arrays.copyOf(balancers, next.targets.length);
            balancerEndpoints = java.util.Arrays.copyOf(balancerEndpoints, next.targets.length);
        }
        if (pools.length != next.nodes.length) {
            NodePool[] grown = java.util.Arrays.copyOf(pools, next.nodes.length);
            for (int i = next.nodes.length; i < pools.length; i++) {
                retire(pools[i]);
            }
            pools = grown;
        }
        for (int i : next.changedNodes) {
            if (i >= pools.length) {
                continue;
            }
            NodeAddress n = next.nodes[i];
            NodePool old = pools[i];
            if (old != null && (n == null || !old.key.equals(n.poolKey))) {
                retire(old);
                pools[i] = null;
            }
        }
        for (int slot : next.changedSlots) {
            if (slot < balancers.length) {
                balancers[slot] = null; // rebuilt on first use
                balancerEndpoints[slot] = null;
            }
        }
    }

    /**
     * An upstream's endpoints changed ({@link io.turnpike.engine.endpoint.EndpointPublisher}, on this loop): rebuilds
     * its balancer now if this loop serves it, and retires the pools of run-time nodes (DNS) that left it. Pools of
     * configured nodes follow the snapshots.
     */
    public void endpointsChanged(io.turnpike.engine.endpoint.EndpointSlot slot,
                                 io.turnpike.engine.endpoint.Endpoints prev,
                                 io.turnpike.engine.endpoint.Endpoints next) {
        Snapshot s = snapshot;
        int i = slot.targetSlotHint;
        if (s != null && i >= 0 && i < s.targets.length && s.targets[i] != null && s.targets[i].endpoints == slot
                && i < balancers.length) {
            balancer(s.targets[i]);
        }
        if (prev != null && prev.nodes != next.nodes && hasRunTimeNode(prev.nodes)) {
            java.util.Set<String> stay = new java.util.HashSet<>();
            for (NodeAddress n : next.nodes) {
                stay.add(n.poolKey);
            }
            for (NodeAddress n : prev.nodes) {
                if (n.index < 0 && !stay.contains(n.poolKey)) {
                    retire(poolsByKey.get(n.poolKey));
                }
            }
        }
    }

    private static boolean hasRunTimeNode(NodeAddress[] nodes) {
        for (NodeAddress n : nodes) {
            if (n.index < 0) {
                return true;
            }
        }
        return false;
    }

    private void retire(NodePool<?> pool) {
        if (pool != null && poolsByKey.get(pool.key) == pool) {
            poolsByKey.remove(pool.key);
            pool.retire();
        }
    }

    /**
     * Closes this loop's idle upstream connections (runs on the loop; at shutdown). TLS connections must close while
     * the loop still runs tasks: their engines (which hold client contexts) are freed when the channel deregisters.
     */
    public void closeIdleUpstreams() {
        assert eventLoop.inEventLoop();
        for (NodePool<?> pool : poolsByKey.values()) {
            pool.retire();
        }
        for (io.turnpike.engine.grpc.H2UpstreamPool pool : grpcPools.values()) {
            pool.close();
        }
        grpcPools.clear();
    }

    /** This loop's HTTP/2 pools of {@code scheme: grpc} nodes, by pool key (created on first use). */
    private final java.util.HashMap<String, io.turnpike.engine.grpc.H2UpstreamPool> grpcPools = new java.util.HashMap<>();

    /**
     * The HTTP/2 pool of {@code node} of a gRPC upstream (one lookup by the node's pool key; created on first use with
     * the target's timeouts and keepalive pool size). A pool whose node left the configuration closes its connections
     * by idle timeout.
     */
    public io.turnpike.engine.grpc.H2UpstreamPool grpcPool(NodeAddress node, UpstreamTarget target) {
        io.turnpike.engine.grpc.H2UpstreamPool p = grpcPools.get(node.poolKey);
        if (p == null || p.isTerminated()) {
            // grpcs: the upstream's client context (ALPN h2); the SNI is the node's host, or upstream_host with
            // pass_host rewrite (one SNI per pool: the client's Host is not used as SNI for gRPC upstreams).
            p = new io.turnpike.engine.grpc.H2UpstreamPool(eventLoop, upstreamBootstrap(), sweeper, node.address,
                    target.tls == null ? null : target.tls.sslContext(),
                    target.tls == null ? null : target.sni(node, null),
                    io.turnpike.engine.grpc.H2UpstreamPool.Settings.of(target));
            grpcPools.put(node.poolKey, p);
        }
        return p;
    }

    /**
     * This loop's balancer for {@code target}, over its endpoints in force: one volatile read and a compare in the
     * steady state; rebuilt (allocation, once per change) when the endpoints changed. A target of an older snapshot
     * (an exchange that pinned it) gets a balancer of its own, not cached.
     */
    public Balancer balancer(UpstreamTarget target) {
        int s = target.slot;
        io.turnpike.engine.endpoint.Endpoints e = target.endpoints.current();
        if (s < balancers.length) {
            Balancer b = balancers[s];
            if (b != null && balancerEndpoints[s] == e) {
                return b;
            }
            Snapshot snap = snapshot;
            if (snap != null && s < snap.targets.length && snap.targets[s] == target) {
                Balancer previous = b;
                b = e.newBalancer();
                if (previous != null && balancerEndpoints[s] != null) {
                    b.inherit(previous); // the same upstream's endpoints changed: keep the rotation
                }
                balancers[s] = b;
                balancerEndpoints[s] = e;
                return b;
            }
        }
        return e.newBalancer();
    }

    /**
     * This loop's pool for {@code node}, created on its first use (allocation once per node and loop; applying a
     * snapshot never creates pools). Configured nodes are found by their index in the snapshot's node table (a hint:
     * the pool's key is checked, the same {@code String} instance in the steady state); nodes found at run time (DNS,
     * index -1) by key. A node of an older snapshot that is no longer configured gets a retired stand-in pool: its
     * connection serves this one exchange and closes on release.
     */
    @SuppressWarnings("unchecked")
    public <C extends NodePool.Pooled> NodePool<C> pool(NodeAddress node) {
        return pool(node, settings.upstreamPoolSize());
    }

    /** As {@link #pool(NodeAddress)}, a new pool keeping at most {@code maxIdle} idle connections. */
    @SuppressWarnings("unchecked")
    public <C extends NodePool.Pooled> NodePool<C> pool(NodeAddress node, int maxIdle) {
        int i = node.index;
        NodePool<?> p = i >= 0 && i < pools.length ? pools[i] : null;
        if (p != null && (p.key == node.poolKey || p.key.equals(node.poolKey))) {
            return (NodePool<C>) p;
        }
        if (i < 0) {
            p = poolsByKey.get(node.poolKey);
            if (p == null) {
                p = new NodePool<>(node.poolKey, maxIdle);
                poolsByKey.put(node.poolKey, p);
            }
            return (NodePool<C>) p;
        }
        return (NodePool<C>) createPool(node, maxIdle);
    }

    /** Pools this loop holds (tests, metrics: read racily from other threads). */
    public int poolCount() {
        return poolsByKey.size();
    }

    /** The cold path of {@link #pool}: the node's pool by key, a new one for a configured node, else a stand-in. */
    private NodePool<?> createPool(NodeAddress node, int maxIdlePerPool) {
        int i = node.index;
        Snapshot s = snapshot;
        boolean current = s != null && i >= 0 && i < s.nodes.length && i < pools.length && s.nodes[i] != null
                && s.nodes[i].poolKey.equals(node.poolKey);
        NodePool<?> pool = poolsByKey.get(node.poolKey);
        if (pool == null) {
            if (!current) {
                NodePool<?> standIn = new NodePool<>(node.poolKey, 0);
                standIn.retire();
                return standIn;
            }
            pool = new NodePool<>(node.poolKey, maxIdlePerPool);
            poolsByKey.put(node.poolKey, pool);
        }
        if (current) {
            pools[i] = pool;
        }
        return pool;
    }

    public boolean isDraining() {
        return draining;
    }

    public void startDraining() {
        draining = true;
    }

    public void downstreamOpened() {
        openDownstream++;
    }

    public void downstreamClosed() {
        openDownstream--;
    }

    public int openDownstream() {
        return openDownstream;
    }

    public void busy(int delta) {
        busyDownstream += delta;
    }

    public int busyDownstream() {
        return busyDownstream;
    }
}
