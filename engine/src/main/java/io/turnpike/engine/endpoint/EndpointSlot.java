package io.turnpike.engine.endpoint;

import io.turnpike.engine.upstream.NodeAddress;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One upstream's endpoints, process-wide: the nodes the configuration names, the nodes DNS found for its names, and
 * which of them the health checker holds down, combined into an immutable {@link Endpoints} that every event loop reads
 * (one volatile read per pick) and builds its own balancer from when it changed.
 *
 * <p>A node change therefore costs the same whatever the number of routes using the upstream: no route is recompiled,
 * each loop rebuilds one balancer. Inputs ({@link #configured}, {@link #discovered}, {@link #health}) come from
 * background threads (config-sync, DNS, health) and are serialised by this object's monitor, never taken on a loop.
 * Each change is handed to the {@link EndpointPublisher}, whose future completes once every loop applied it.
 */
public final class EndpointSlot {
    /** The upstream's identity: {@code upstreams/<id>}, {@code routes/<id>} or {@code services/<id>} (inline ones). */
    public final String upstreamKey;
    private final String type;
    private final String hashOn;
    private final String key;
    private final EndpointPublisher publisher;
    private volatile Endpoints current;
    /**
     * Prefix of the pool keys of this upstream's nodes: "" for plain HTTP; for TLS the client configuration and fixed
     * SNI, so discovered nodes get pools apart as configured ones do (see the compiler's node keys).
     */
    public volatile String poolKeyPrefix = "";
    /** The target slot of the snapshot this slot's target was compiled into (a hint for the loops' eager rebuild). */
    public volatile int targetSlotHint = -1;

    // ---- inputs, guarded by this
    private NodeAddress[] configured;
    private final LinkedHashMap<String, NodeAddress[]> discovered = new LinkedHashMap<>();
    /** Health keys ({@link #healthKey}) of the nodes the checker holds down. */
    private final Set<String> down = new HashSet<>();
    private PassiveSource passive;
    private long generation;
    /** Told when the members change (configured or discovered nodes), on the thread that changed them. */
    private volatile java.util.function.Consumer<EndpointSlot> membersListener;

    /** Sets who is told when the members change (the health wiring: the checker's targets follow them). */
    public void membersListener(java.util.function.Consumer<EndpointSlot> listener) {
        this.membersListener = listener;
    }

    private void membersChanged() {
        java.util.function.Consumer<EndpointSlot> l = membersListener;
        if (l != null) {
            l.accept(this);
        }
    }

    /** Gives the passive-check sink of each node (set by the health wiring), or null for none. */
    public interface PassiveSource {
        PassiveSink sink(NodeAddress node);
    }

    /**
     * @param publisher null: no loop is told eagerly (tests, tools); the loops still pick the change up on their next
     *                  pick
     */
    public EndpointSlot(String upstreamKey, NodeAddress[] configured, String type, String hashOn, String key,
                        EndpointPublisher publisher) {
        this.upstreamKey = upstreamKey;
        this.type = type;
        this.hashOn = hashOn;
        this.key = key;
        this.publisher = publisher;
        this.configured = configured;
        this.current = build(null);
    }

    /** A slot whose first endpoints use {@code spec} (compiled over {@code spec.nodes}) as they are. */
    public EndpointSlot(String upstreamKey, io.turnpike.engine.upstream.BalancerSpec spec, EndpointPublisher publisher) {
        this.upstreamKey = upstreamKey;
        this.type = spec.type;
        this.hashOn = spec.hashOn;
        this.key = spec.key;
        this.publisher = publisher;
        this.configured = spec.nodes;
        this.current = build(spec);
    }

    /** The endpoints in force (any thread; the loops read this once per pick). */
    public Endpoints current() {
        return current;
    }

    public String balancerType() {
        return type;
    }

    /** Replaces the configured nodes (an upstream edit that changed only its nodes). */
    public CompletableFuture<Void> configured(NodeAddress[] nodes) {
        CompletableFuture<Void> f;
        synchronized (this) {
            this.configured = nodes;
            f = rebuild();
        }
        membersChanged();
        return f;
    }

    /** The nodes DNS found for {@code name} (null or empty removes them: a name without addresses adds no node). */
    public CompletableFuture<Void> discovered(String name, NodeAddress[] nodes) {
        CompletableFuture<Void> f;
        synchronized (this) {
            if (nodes == null || nodes.length == 0) {
                if (discovered.remove(name) == null) {
                    return CompletableFuture.completedFuture(null);
                }
            } else {
                discovered.put(name, nodes);
            }
            f = rebuild();
        }
        membersChanged();
        return f;
    }

    /** The checker's verdict for the node at {@code address} checked with Host {@code host}. */
    public synchronized CompletableFuture<Void> health(InetSocketAddress address, String host, boolean up) {
        String k = healthKey(address, host);
        boolean changed = up ? down.remove(k) : down.add(k);
        return changed ? rebuild() : CompletableFuture.completedFuture(null);
    }

    /** Sets where the nodes' passive outcomes go (the health wiring), and republishes. */
    public synchronized CompletableFuture<Void> passive(PassiveSource source) {
        this.passive = source;
        return rebuild();
    }

    /** The configured nodes (not the discovered ones). */
    public synchronized NodeAddress[] configuredNodes() {
        return configured;
    }

    /** Every member, configured then discovered (the checker's targets). */
    public synchronized List<NodeAddress> members() {
        return List.of(current.nodes);
    }

    /** The identity of a node for health: its address and the host it is checked with. */
    public static String healthKey(InetSocketAddress address, String host) {
        String ip = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
        return ip + ":" + address.getPort() + "|" + host;
    }

    /**
     * The host a node is checked with: the host part of the {@code host:port} it is sent as with {@code pass_host:
     * node} (as configured, or the name a DNS node came from; {@code [v6]} without brackets).
     */
    public static String hostOf(NodeAddress n) {
        String k = new String(n.hostHeader, java.nio.charset.StandardCharsets.US_ASCII);
        int c = k.lastIndexOf(':');
        String h = c > 0 ? k.substring(0, c) : k;
        return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }

    private CompletableFuture<Void> rebuild() {
        Endpoints prev = current;
        Endpoints next = build(null);
        current = next;
        return publisher == null ? CompletableFuture.completedFuture(null) : publisher.publish(this, prev, next);
    }

    private Endpoints build(io.turnpike.engine.upstream.BalancerSpec prebuilt) {
        List<NodeAddress> all = new ArrayList<>();
        Map<String, Boolean> seen = new HashMap<>();
        for (NodeAddress n : configured) {
            if (seen.putIfAbsent(n.poolKey, Boolean.TRUE) == null) {
                all.add(n);
            }
        }
        for (NodeAddress[] d : discovered.values()) {
            for (NodeAddress n : d) {
                if (seen.putIfAbsent(n.poolKey, Boolean.TRUE) == null) {
                    all.add(n);
                }
            }
        }
        NodeAddress[] nodes = discovered.isEmpty() && all.size() == configured.length ? configured
                : all.toArray(new NodeAddress[0]);
        boolean[] up = new boolean[nodes.length];
        for (int i = 0; i < nodes.length; i++) {
            NodeAddress n = nodes[i];
            up[i] = down.isEmpty() || !down.contains(healthKey(n.address, hostOf(n)));
            if (passive != null) {
                n.passive = passive.sink(n);
            }
        }
        return new Endpoints(++generation, nodes, up, type, hashOn, key,
                prebuilt != null && nodes.length == prebuilt.nodes.length ? prebuilt : null);
    }

    @Override
    public String toString() {
        return upstreamKey;
    }
}
