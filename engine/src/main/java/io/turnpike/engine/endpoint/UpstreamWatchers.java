package io.turnpike.engine.endpoint;

import io.turnpike.config.model.Upstream;
import io.turnpike.config.model.UpstreamNode;
import io.turnpike.engine.discovery.DnsDiscovery;
import io.turnpike.engine.discovery.DnsListener;
import io.turnpike.engine.discovery.ResolvedNode;
import io.turnpike.engine.upstream.NodeAddress;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Connects the upstreams' endpoint slots to the process's DNS resolvers (and, see {@link HealthWatch}, to the health
 * checker): a {@code discovery_type: dns} upstream's {@code service_name} and every node host given as a name are
 * watched; each node set DNS finds becomes the slot's discovered nodes for that name, published to every loop, and the
 * resolver's refresh (the control API's {@code POST /v1/discovery/dns/refresh}) answers once all loops applied it.
 *
 * <p>Threads: {@link #attached}/{@link #detached}/{@link #compiled} on the config-sync thread (the compiler's hooks);
 * the DNS listeners on the {@code turnpike-dns} thread. The maps are concurrent; a slot serialises its own inputs.
 */
public final class UpstreamWatchers implements EndpointHooks {
    /** How long a compile waits for the first answers of names it started to watch (all of them together). */
    static final long FIRST_ANSWER_WAIT_MS = 2_000;

    private final DnsDiscovery services;
    private final DnsDiscovery hosts;
    private final HealthWatch health;
    /** The slot serving each upstream key (the DNS and health listeners find it here: slots are replaced). */
    private final Map<String, EndpointSlot> slots = new ConcurrentHashMap<>();
    /** The DNS watch keys of each upstream key. */
    private final Map<String, Set<String>> dnsKeys = new HashMap<>();
    /** First answers the compile in progress waits for. */
    private final List<CompletableFuture<Void>> firstAnswers = new ArrayList<>();

    /**
     * @param services the resolver of {@code service_name}s ({@code discovery.dns}); null: no dns discovery
     * @param hosts    the resolver of node host names (the system's); null: the compiler resolves them itself
     * @param health   the health checker's side; null: no health checks
     */
    public UpstreamWatchers(DnsDiscovery services, DnsDiscovery hosts, HealthWatch health) {
        this.services = services;
        this.hosts = hosts;
        this.health = health;
    }

    /** What the health wiring does with a slot; implemented next to the checker. */
    public interface HealthWatch {
        void attached(EndpointSlot slot, Upstream upstream);

        void detached(String upstreamKey);
    }

    @Override
    public boolean resolvesHostNames() {
        return hosts != null;
    }

    /** The slot serving {@code upstreamKey} now, or null. */
    public EndpointSlot slot(String upstreamKey) {
        return slots.get(upstreamKey);
    }

    @Override
    public void attached(EndpointSlot slot, Upstream u) {
        String key = slot.upstreamKey;
        slots.put(key, slot);
        Set<String> watchKeys = new HashSet<>();
        if (u.serviceName() != null && services != null) {
            watchKeys.add(key);
            String name = serviceHost(u.serviceName());
            seed(slot, name, services.current(name), u, false);
            services.watchUpstream(key, u, listener(key, u, name, false));
        }
        if (hosts != null) {
            for (UpstreamNode n : u.nodes()) {
                if (io.turnpike.engine.snapshot.SnapshotCompiler.isIpLiteral(n.host())) {
                    continue;
                }
                String wk = key + "/" + n.host() + ":" + n.port();
                watchKeys.add(wk);
                seed(slot, n.host() + ":" + n.port(), hosts.current(n.host()), u, true);
                hosts.watchHost(wk, n.host(), n.port(), n.weight(), n.priority(),
                        listener(key, u, n.host() + ":" + n.port(), true));
            }
        }
        Set<String> before = watchKeys.isEmpty() ? dnsKeys.remove(key) : dnsKeys.put(key, watchKeys);
        if (before != null) {
            for (String old : before) {
                if (!watchKeys.contains(old)) {
                    unwatch(old, key);
                }
            }
        }
        if (health != null) {
            health.attached(slot, u);
        }
    }

    @Override
    public void detached(String upstreamKey, EndpointSlot slot) {
        slots.remove(upstreamKey, slot);
        Set<String> keys = dnsKeys.remove(upstreamKey);
        if (keys != null) {
            for (String k : keys) {
                unwatch(k, upstreamKey);
            }
        }
        if (health != null) {
            health.detached(upstreamKey);
        }
    }

    private void unwatch(String watchKey, String upstreamKey) {
        if (watchKey.equals(upstreamKey)) {
            if (services != null) {
                services.unwatch(watchKey);
            }
        } else if (hosts != null) {
            hosts.unwatch(watchKey);
        }
    }

    @Override
    public void compiled() {
        if (firstAnswers.isEmpty()) {
            return;
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(firstAnswers.toArray(new CompletableFuture[0]));
        firstAnswers.clear();
        try {
            all.get(FIRST_ANSWER_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // names that did not answer in time join their upstream when they do (the listener publishes them)
        }
    }

    /** Seeds a new slot with what the resolver already knows; else the compile waits (bounded) for a first answer. */
    private void seed(EndpointSlot slot, String name, List<ResolvedNode> known, Upstream u, boolean hostMode) {
        if (known != null) {
            slot.discovered(name, nodes(known, u, slot, hostMode));
        } else {
            CompletableFuture<Void> first = new CompletableFuture<>();
            firstAnswers.add(first);
            pending.put(slot.upstreamKey + "|" + name, first);
        }
    }

    private final Map<String, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();

    /** Applies each answer for {@code setName} to the slot serving {@code upstreamKey} now. */
    private DnsListener listener(String upstreamKey, Upstream u, String setName, boolean hostMode) {
        return (name, resolved) -> {
            EndpointSlot slot = slots.get(upstreamKey);
            CompletableFuture<Void> applied = slot == null ? CompletableFuture.completedFuture(null)
                    : slot.discovered(setName, nodes(resolved, u, slot, hostMode));
            CompletableFuture<Void> first = pending.remove(upstreamKey + "|" + setName);
            if (first != null) {
                first.complete(null);
            }
            return applied;
        };
    }

    /** {@code name} of a {@code service_name} {@code name[:port]}. */
    static String serviceHost(String serviceName) {
        int colon = serviceName.lastIndexOf(':');
        return colon >= 0 ? serviceName.substring(0, colon) : serviceName;
    }

    /**
     * The slot's nodes for a DNS answer: keyed {@code ip:port} (the pool identity, after the slot's TLS prefix),
     * index -1 (found at run time: pooled by key). The Host sent with {@code pass_host: node} is the name for a node
     * host (as APISIX resolves a domain node), the address for a discovered service node.
     */
    static NodeAddress[] nodes(List<ResolvedNode> resolved, Upstream u, EndpointSlot slot, boolean hostMode) {
        NodeAddress[] out = new NodeAddress[resolved.size()];
        for (int i = 0; i < out.length; i++) {
            ResolvedNode r = resolved.get(i);
            String key = r.key();
            String host = hostMode ? r.host() + ":" + r.address().getPort() : key;
            out[i] = new NodeAddress(key, r.address(), host.getBytes(StandardCharsets.US_ASCII), r.weight(), -1,
                    slot.poolKeyPrefix + key, r.priority());
        }
        return out;
    }
}
