package io.turnpike.engine.snapshot;

import io.turnpike.config.model.ConfigDelta;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.KeepalivePool;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.Service;
import io.turnpike.config.model.Timeout;
import io.turnpike.config.model.Upstream;
import io.turnpike.config.model.UpstreamNode;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.plugin.ConsumerIndex;
import io.turnpike.engine.plugin.PluginChain;
import io.turnpike.engine.plugin.PluginChainCompiler;
import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.router.RouteConditions;
import io.turnpike.engine.router.RouteTable;
import io.turnpike.engine.tls.TlsCompiler;
import io.turnpike.engine.upstream.BalancerSpec;
import io.turnpike.engine.upstream.Balancers;
import io.turnpike.engine.upstream.NodeAddress;
import io.turnpike.engine.upstream.UpstreamTarget;
import io.turnpike.engine.upstream.UpstreamTls;
import io.turnpike.engine.upstream.UpstreamTlsCompiler;
import io.turnpike.tls.TlsDefaults;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.SortedMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.HashMap;
import java.util.Map;

/**
 * Compiles a validated {@link ConfigSet} into a {@link Snapshot}. Runs off the request path (startup, or the
 * config-sync thread). Node host names are resolved here, once, so no event loop ever blocks on DNS; a name that
 * does not resolve leaves that node out (reported by the returned warnings).
 *
 * <h2>Incremental compiles</h2>
 * The compiler keeps the compiled form of its last result: the compiled route of every route id, each upstream's
 * target with the number of routes using it, each node (pool key) with the number of targets using it, and the free
 * slots of the target and node tables. Given a {@link ConfigDelta} from the configuration it compiled last (the etcd
 * source sends one when only routes changed), it derives the next snapshot in proportion to the change: changed routes
 * are compiled and swapped in the router ({@link RouteTable#with}), targets and nodes no route uses any more are freed
 * (their slot and index reused later), the target and node tables are copied once (a few hundred KB at 50,000 routes)
 * and the TLS tables are shared. The snapshot records its base version and the changed slots and node indexes, so each
 * loop updates its balancers and pools for those only ({@code LoopContext.apply}). Anything else (a delta that does
 * not start at the last compile, a route with an {@code https} upstream, a failure) falls back to a full compile,
 * which rebuilds this state.
 *
 * <p>Route order: routes of a key-ordered source (the etcd source's route map is a {@link SortedMap}) all get
 * {@code order} 0, so equal candidates fall back to the id order, which is the key order; other sources' routes keep
 * their position (file order).
 *
 * <p>Not thread-safe: one caller (the config-sync thread, or main at startup).
 */
public final class SnapshotCompiler {
    private final EngineSettings settings;
    /** Null when no HTTPS listener is configured: the snapshot's TLS table stays empty. */
    private final TlsCompiler tls;
    /** Client contexts of {@code scheme: https} upstreams (stateful: unchanged configurations keep their context). */
    private final UpstreamTlsCompiler upstreamTls = new UpstreamTlsCompiler(TlsDefaults.defaults());

    public SnapshotCompiler(EngineSettings settings) {
        this(settings, null);
    }

    public SnapshotCompiler(EngineSettings settings, TlsCompiler tls) {
        this.settings = settings;
        this.tls = tls;
    }

    /** Host name resolutions of the current compile: one lookup per distinct host, not one per node entry. */
    private final Map<String, InetAddress> resolved = new HashMap<>();

    // ---- the compiled form of the last result (see the class comment)
    private Snapshot last;
    private ConfigSet lastConfig;
    private final Map<String, RouteState> routeStates = new HashMap<>();
    private final IdentityHashMap<Upstream, TargetRef> targetRefs = new IdentityHashMap<>();
    /** Route ids by the upstream object they resolved to (own, by id, or via their service). */
    private final IdentityHashMap<Upstream, java.util.Set<String>> routesByUpstream = new IdentityHashMap<>();
    private final Map<String, NodeRef> nodeRefs = new HashMap<>();
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private final ArrayDeque<Integer> freeNodes = new ArrayDeque<>();
    private long incrementalCompiles;
    /** Upstreams left out in the compile in progress (each reported once, its routes skipped). */
    private final IdentityHashMap<Upstream, Boolean> rejectedUpstreams = new IdentityHashMap<>();

    // ---- working tables of the compile in progress
    private UpstreamTarget[] wTargets;
    private int targetCount;
    private NodeAddress[] wNodes;
    private int nodeCount;
    private IntList changedSlots;
    private final PluginChainCompiler pluginChains = new PluginChainCompiler();
    /** chash rings shared by targets with the same nodes within one compile (cleared after each). */
    private final io.turnpike.engine.upstream.ChashRing.Cache rings = new io.turnpike.engine.upstream.ChashRing.Cache();
    private IntList changedNodes;

    /** A compiled route with what it was compiled from: the route object and the hosts list (own or its service's). */
    private record RouteState(CompiledRoute compiled, Upstream upstream, Route route, List<String> hosts,
                              List<Upstream> split) {
    }

    private static final class TargetRef {
        final UpstreamTarget target;
        int routes;
        /** The configured nodes in force (a node-only edit replaces them without a new target). */
        NodeAddress[] configured;

        TargetRef(UpstreamTarget target) {
            this.target = target;
            this.configured = target.nodes;
        }
    }

    /** Tells the loops about endpoint changes (null: they pick them up on their next pick; tests). */
    private io.turnpike.engine.endpoint.EndpointPublisher endpointPublisher;
    /** Node changes of the incremental compile in progress (see {@link Snapshot#endpointUpdates}). */
    private List<java.util.function.Supplier<java.util.concurrent.CompletableFuture<Void>>> endpointUpdates;
    private long nodeOnlyUpdates;

    public void endpointPublisher(io.turnpike.engine.endpoint.EndpointPublisher publisher) {
        this.endpointPublisher = publisher;
    }

    /** Health checker and DNS resolver wiring, told about the slots of each compile ({@link #announceSlots}). */
    private io.turnpike.engine.endpoint.EndpointHooks hooks = io.turnpike.engine.endpoint.EndpointHooks.NONE;
    /** The slot serving each upstream key after the last compile, with the upstream it was compiled from. */
    private Map<String, SlotUse> announced = new HashMap<>();

    private record SlotUse(io.turnpike.engine.endpoint.EndpointSlot slot, Upstream upstream) {
    }

    public void endpointHooks(io.turnpike.engine.endpoint.EndpointHooks hooks) {
        this.hooks = hooks == null ? io.turnpike.engine.endpoint.EndpointHooks.NONE : hooks;
    }

    /**
     * Tells the hooks which slots are new and which upstream keys are gone since the last compile. O(targets) per
     * compile, nothing when the hooks are none.
     */
    private void announceSlots() {
        if (hooks == io.turnpike.engine.endpoint.EndpointHooks.NONE) {
            return;
        }
        Map<String, SlotUse> now = new HashMap<>(Math.max(16, targetRefs.size() * 4 / 3 + 1));
        for (Map.Entry<Upstream, TargetRef> e : targetRefs.entrySet()) {
            io.turnpike.engine.endpoint.EndpointSlot slot = e.getValue().target.endpoints;
            now.put(slot.upstreamKey, new SlotUse(slot, e.getKey()));
        }
        for (Map.Entry<String, SlotUse> e : announced.entrySet()) {
            if (!now.containsKey(e.getKey())) {
                hooks.detached(e.getKey(), e.getValue().slot());
            }
        }
        for (Map.Entry<String, SlotUse> e : now.entrySet()) {
            SlotUse before = announced.get(e.getKey());
            if (before == null || before.slot() != e.getValue().slot()) {
                hooks.attached(e.getValue().slot(), e.getValue().upstream());
            }
        }
        announced = now;
        hooks.compiled();
    }

    /** The process's discovery settings: an upstream of a registry it does not have is left out. */
    private io.turnpike.config.process.DiscoveryConfig discovery = io.turnpike.config.process.DiscoveryConfig.DEFAULT;

    public void discovery(io.turnpike.config.process.DiscoveryConfig discovery) {
        this.discovery = discovery == null ? io.turnpike.config.process.DiscoveryConfig.DEFAULT : discovery;
    }

    /** Upstream edits applied without recompiling their routes (only their nodes changed). */
    public long nodeOnlyUpdates() {
        return nodeOnlyUpdates;
    }

    private static final class NodeRef {
        final NodeAddress node;
        int targets;

        NodeRef(NodeAddress node) {
            this.node = node;
        }
    }

    /** Compiles {@code config} whole. */
    public Snapshot compile(ConfigSet config, List<String> warnings) {
        return compile(config, null, warnings);
    }

    /**
     * Compiles {@code config}, incrementally when {@code delta} (may be null) starts at the configuration this compiler
     * compiled last, else whole.
     */
    public Snapshot compile(ConfigSet config, ConfigDelta delta, List<String> warnings) {
        try {
            return compile0(config, delta, warnings);
        } finally {
            rings.clear();
        }
    }

    private Snapshot compile0(ConfigSet config, ConfigDelta delta, List<String> warnings) {
        if (delta != null && last != null && lastConfig != null && delta.fromVersion() == lastConfig.version()
                && keyOrdered(config) && keyOrdered(lastConfig)) {
            List<String> w = new ArrayList<>();
            Snapshot s = null;
            try {
                s = incremental(config, delta, w);
            } catch (RuntimeException e) {
                w.add("incremental compile failed (" + e + "), compiling everything");
                s = null;
            }
            if (s != null) {
                warnings.addAll(w);
                last = s;
                lastConfig = config;
                incrementalCompiles++;
                announceSlots();
                return s;
            }
        }
        Snapshot s;
        try {
            s = full(config, warnings);
        } catch (RuntimeException | Error e) {
            last = null;
            lastConfig = null;
            throw e;
        } finally {
            resolved.clear();
        }
        last = s;
        lastConfig = config;
        announceSlots();
        return s;
    }

    /** Compiles that took the incremental path so far (for tests and the status endpoint). */
    public long incrementalCompiles() {
        return incrementalCompiles;
    }

    private static boolean keyOrdered(ConfigSet config) {
        return config.routes() instanceof SortedMap;
    }

    private Snapshot full(ConfigSet config, List<String> warnings) {
        routeStates.clear();
        routesByUpstream.clear();
        targetRefs.clear();
        nodeRefs.clear();
        freeSlots.clear();
        freeNodes.clear();
        wTargets = new UpstreamTarget[16];
        targetCount = 0;
        wNodes = new NodeAddress[16];
        nodeCount = 0;
        changedSlots = null;
        changedNodes = null;
        rejectedUpstreams.clear();
        routesAwaitingUpstream.clear();
        upstreamTls.begin(config);
        RouteTable.Builder routes = new RouteTable.Builder();
        boolean keyOrdered = keyOrdered(config);
        int order = 0;
        for (Route route : config.routes().values()) {
            if (!route.enabled()) {
                continue;
            }
            Upstream upstream = config.upstreamOf(route);
            if (upstream == null && !pluginsOnly(config, route, warnings)) {
                continue;
            }
            CompiledRoute compiled = compileRoute(config, route, upstream, keyOrdered ? 0 : order, warnings, null);
            if (compiled == null) {
                continue;
            }
            order++;
            routes.add(compiled);
        }
        PluginChain global;
        try {
            global = pluginChains.globalChain(config, warnings);
        } catch (IllegalArgumentException e) {
            warnings.add("global_rules: " + e.getMessage() + ", skipped");
            global = PluginChain.EMPTY;
        }
        ConsumerIndex consumers = pluginChains.consumers(config, warnings);
        return new Snapshot(config.version(), routes.build(), Arrays.copyOf(wTargets, targetCount),
                Arrays.copyOf(wNodes, nodeCount),
                tls == null ? io.turnpike.tls.TlsTable.EMPTY : tls.compile(config, warnings), upstreamTls.finish(),
                -1, null, null, global, consumers);
    }

    /** Null when the delta cannot be applied incrementally (then nothing of this compiler's state was changed). */
    private Snapshot incremental(ConfigSet config, ConfigDelta delta, List<String> warnings) {
        // Routes whose upstream is https need the TLS compiler's begin/finish cycle: compile whole.
        for (String id : delta.routeIds()) {
            RouteState old = routeStates.get(id);
            if (old != null && (old.compiled.upstream != null && old.compiled.upstream.tls != null
                    || splitHasTls(old))) {
                return null;
            }
            Route r = config.routes().get(id);
            Upstream u = r == null ? null : config.upstreamOf(r);
            if (u != null && tlsScheme(u.scheme())) {
                return null;
            }
        }
        // An upstream replaced by id moves every route that resolved to the old object (by upstream_id or through a
        // service): those routes are recompiled against the new one. So does a changed plugin_config for the routes
        // naming it (their chains change).
        java.util.Set<String> ids = delta.routeIds();
        if (!delta.pluginConfigIds().isEmpty()) {
            ids = new java.util.LinkedHashSet<>(ids);
            for (RouteState rs : routeStates.values()) {
                if (rs.route.pluginConfigId() != null && delta.pluginConfigIds().contains(rs.route.pluginConfigId())) {
                    if (rs.compiled.upstream != null && rs.compiled.upstream.tls != null) {
                        return null; // https upstreams need the TLS compiler's cycle: compile whole
                    }
                    ids.add(rs.route.id());
                }
            }
        }
        // An upstream edit that changed only its nodes keeps its target and routes: its endpoints change (below).
        List<String> nodeOnly = new ArrayList<>();
        if (!delta.upstreamIds().isEmpty()) {
            ids = new java.util.LinkedHashSet<>(ids);
            for (String uid : delta.upstreamIds()) {
                java.util.Set<String> waiting = routesAwaitingUpstream.remove(uid);
                if (waiting != null) {
                    ids.addAll(waiting);
                }
                Upstream old = lastConfig.upstreams().get(uid);
                Upstream nu = config.upstreams().get(uid);
                TargetRef ref = old == null ? null : targetRefs.get(old);
                if (nu != null && ref != null && ref.target.tls == null && !tlsScheme(nu.scheme())
                        && onlyNodesDiffer(old, nu)) {
                    nodeOnly.add(uid);
                    continue;
                }
                java.util.Set<String> users = old == null ? null : routesByUpstream.get(old);
                if (users != null) {
                    ids.addAll(users);
                }
            }
            for (String id : ids) {
                RouteState old = routeStates.get(id);
                if (old != null && old.compiled.upstream != null && old.compiled.upstream.tls != null) {
                    return null;
                }
                Route r = config.routes().get(id);
                Upstream u = r == null ? null : config.upstreamOf(r);
                if (u != null && tlsScheme(u.scheme())) {
                    return null;
                }
            }
        }
        Snapshot base = last;
        wTargets = base.targets.clone();
        targetCount = base.targets.length;
        wNodes = base.nodes.clone();
        nodeCount = base.nodes.length;
        changedSlots = new IntList();
        changedNodes = new IntList();
        endpointUpdates = new ArrayList<>();
        for (String uid : nodeOnly) {
            nodesChanged(uid, lastConfig.upstreams().get(uid), config.upstreams().get(uid), warnings);
        }
        List<CompiledRoute> added = new ArrayList<>();
        List<CompiledRoute> removed = new ArrayList<>();
        List<RouteState> replaced = new ArrayList<>();
        try {
            // Adds first, removals after: a target or node shared by the old and the new version is kept.
            for (String id : ids) {
                RouteState old = routeStates.remove(id);
                if (old != null) {
                    replaced.add(old);
                    removed.add(old.compiled);
                    java.util.Set<String> users = routesByUpstream.get(old.upstream);
                    if (users != null && users.remove(id) && users.isEmpty()) {
                        routesByUpstream.remove(old.upstream);
                    }
                    forgetSplitUsers(id, old.split);
                }
                Route route = config.routes().get(id);
                if (route == null || !route.enabled()) {
                    continue;
                }
                Upstream upstream = config.upstreamOf(route);
                if (upstream == null && !pluginsOnly(config, route, warnings)) {
                    continue;
                }
                CompiledRoute compiled = compileRoute(config, route, upstream, 0, warnings, old);
                if (compiled != null) {
                    added.add(compiled);
                }
            }
            for (RouteState old : replaced) {
                unref(old.upstream);
                for (Upstream u : old.split) {
                    unref(u);
                }
            }
        } finally {
            resolved.clear();
            rejectedUpstreams.clear();
        }
        UpstreamTarget[] targets = targetCount == wTargets.length ? wTargets : Arrays.copyOf(wTargets, targetCount);
        NodeAddress[] nodes = nodeCount == wNodes.length ? wNodes : Arrays.copyOf(wNodes, nodeCount);
        // Plugin configs and global rules are never in a delta: they carry over. Consumers are re-indexed when the
        // delta names any (O(consumers), no route is recompiled for them).
        ConsumerIndex consumers = delta.consumerIds().isEmpty() ? base.consumers
                : pluginChains.consumers(config, warnings);
        PluginChain global = base.globalPlugins;
        if (!delta.globalRuleIds().isEmpty()) {
            try {
                global = pluginChains.globalChain(config, warnings);
            } catch (IllegalArgumentException e) {
                warnings.add("global_rules: " + e.getMessage() + ", skipped");
                global = PluginChain.EMPTY;
            }
        }
        Snapshot next = new Snapshot(config.version(),
                removed.isEmpty() && added.isEmpty() ? base.routes : base.routes.with(removed, added), targets, nodes,
                base.tls, base.upstreamTls, base.version, changedSlots.toArray(), changedNodes.toArray(), global,
                consumers);
        if (!endpointUpdates.isEmpty()) {
            next.endpointUpdates = List.copyOf(endpointUpdates);
        }
        endpointUpdates = null;
        return next;
    }

    /**
     * An upstream whose nodes alone changed: new node entries (pool indexes allocated, shared nodes kept), the routes
     * and the target kept (re-keyed from the old upstream object to the new one), and the target's endpoints updated
     * once the loops applied the snapshot ({@link Snapshot#endpointUpdates}). O(nodes + routes using it), no route
     * compiled.
     */
    private void nodesChanged(String uid, Upstream old, Upstream nu, List<String> warnings) {
        TargetRef ref = targetRefs.remove(old);
        NodeAddress[] nodes = buildNodes(nu, uid, null, passHostOf(nu), warnings);
        unrefNodes(ref.configured);
        ref.configured = nodes;
        targetRefs.put(nu, ref);
        java.util.Set<String> users = routesByUpstream.remove(old);
        if (users != null) {
            routesByUpstream.put(nu, users);
            for (String id : users) {
                RouteState rs = routeStates.get(id);
                if (rs != null) {
                    // A route may use the upstream as its own and/or through traffic-split (compared by identity:
                    // Upstream is a record, equal values are different upstreams here).
                    List<Upstream> split = rs.split;
                    if (split != null) {
                        split = new ArrayList<>(split);
                        for (int k = 0; k < split.size(); k++) {
                            if (split.get(k) == old) {
                                split.set(k, nu);
                            }
                        }
                    }
                    routeStates.put(id, new RouteState(rs.compiled, rs.upstream == old ? nu : rs.upstream, rs.route,
                            rs.hosts, split));
                }
            }
        }
        io.turnpike.engine.endpoint.EndpointSlot slot = ref.target.endpoints;
        endpointUpdates.add(() -> slot.configured(nodes));
        nodeOnlyUpdates++;
    }

    /**
     * Compiles one route against its (resolved) upstream and records it; null when it is left out (reported in
     * {@code warnings}).
     */
    /** Labels for metrics: the route's name, its service's id and name; and its {@code enable_websocket}. */
    private void describe(ConfigSet config, Route route, CompiledRoute compiled) {
        Service s = route.serviceId() == null ? null : config.services().get(route.serviceId());
        compiled.describe(route.name(), route.serviceId(), s == null ? null : s.name());
        compiled.websocket(websocket(route, s));
        Timeout t = route.timeout();
        if (t != null) {
            // The route's timeout replaces its upstream's for its own requests (each field: the process default
            // when unset), whatever other routes share the upstream's target.
            compiled.timeouts(t.connect() > 0 ? (long) (t.connect() * 1000) : settings.upstreamConnectTimeoutMs(),
                    t.read() > 0 ? (long) (t.read() * 1e9) : settings.upstreamReadTimeoutNs(),
                    t.send() > 0 ? (long) (t.send() * 1e9) : settings.upstreamSendTimeoutNs());
        }
    }

    /** APISIX: the route's {@code enable_websocket} when it sets one (true or false), else its service's. */
    static boolean websocket(Route route, Service service) {
        boolean routeSets = route.raw() != null && route.raw().has("enable_websocket");
        if (routeSets || service == null) {
            return route.enableWebsocket();
        }
        return service.enableWebsocket();
    }

    private CompiledRoute compileRoute(ConfigSet config, Route route, Upstream upstream, int order,
                                       List<String> warnings, RouteState previous) {
        List<Upstream> split = new ArrayList<>(0);
        splitTargets.begin(config, route, warnings, split);
        CompiledRoute compiled = null;
        try {
            compiled = compileRouteAndChain(config, route, upstream, order, warnings, previous, split);
            return compiled;
        } finally {
            splitTargets.end();
            if (compiled == null) {
                forgetSplitUsers(route.id(), split);
                for (Upstream u : split) {
                    unref(u);
                }
            }
        }
    }

    private CompiledRoute compileRouteAndChain(ConfigSet config, Route route, Upstream upstream, int order,
                                               List<String> warnings, RouteState previous, List<Upstream> split) {
        List<String> hosts = route.hosts();
        if (hosts.isEmpty() && route.serviceId() != null) {
            Service s = config.services().get(route.serviceId());
            if (s != null) {
                hosts = s.hosts();
            }
        }
        // Plugins and conditions first: an invalid plugin, vars expression or address leaves this route out, and
        // nothing else.
        PluginChain chain;
        try {
            chain = pluginChains.routeChain(config, route, splitTargets);
        } catch (IllegalArgumentException e) {
            warnings.add("route " + route.id() + ": " + e.getMessage() + ", skipped");
            return null;
        }
        RouteConditions conditions;
        if (previous != null && previous.route == route && previous.hosts == hosts) {
            conditions = previous.compiled.conditions(); // only its upstream changed
        } else {
            try {
                conditions = RouteConditions.compile(route.uris(), hosts, route.methods(), route.remoteAddrs(),
                        route.vars());
            } catch (IllegalArgumentException e) {
                warnings.add("route " + route.id() + ": " + e.getMessage() + ", skipped");
                return null;
            }
        }
        if (upstream == null) {
            // A route of plugins only (a redirect, a mock): its plugins answer; if none does, the exchange answers 503.
            CompiledRoute compiled = new CompiledRoute(route.id(), conditions, route.priority(), null, order, chain);
            describe(config, route, compiled);
            routeStates.put(route.id(), new RouteState(compiled, null, route, hosts, split));
            return compiled;
        }
        TargetRef ref = targetRefs.get(upstream);
        if (ref == null) {
            UpstreamTarget target = rejectedUpstreams.containsKey(upstream) ? null
                    : compileUpstream(upstream, route, upstreamKey(config, route), warnings);
            if (target == null) {
                rejectedUpstreams.put(upstream, Boolean.TRUE);
                warnings.add("route " + route.id() + ": its upstream was left out, skipped");
                return null;
            }
            ref = new TargetRef(target);
            targetRefs.put(upstream, ref);
        }
        ref.routes++;
        CompiledRoute compiled = new CompiledRoute(route.id(), conditions, route.priority(), ref.target, order, chain);
        describe(config, route, compiled);
        routeStates.put(route.id(), new RouteState(compiled, upstream, route, hosts, split));
        routesByUpstream.computeIfAbsent(upstream, u -> new java.util.HashSet<>()).add(route.id());
        return compiled;
    }

    /** A route without upstream is kept when it has plugins (APISIX allows plugin-only routes); else reported. */
    private boolean pluginsOnly(ConfigSet config, Route route, List<String> warnings) {
        boolean has = route.plugins() != null && !route.plugins().isEmpty() || route.pluginConfigId() != null;
        if (!has) {
            warnings.add("route " + route.id() + ": no upstream, skipped");
        }
        return has;
    }

    /** One route fewer uses {@code upstream}: frees its target, and nodes only it used, at zero. */
    private void unref(Upstream upstream) {
        TargetRef ref = targetRefs.get(upstream);
        if (ref == null || --ref.routes > 0) {
            return;
        }
        targetRefs.remove(upstream);
        int slot = ref.target.slot;
        wTargets[slot] = null;
        if (changedSlots != null) {
            changedSlots.add(slot);
        }
        freeSlots.push(slot);
        unrefNodes(ref.configured);
    }

    private int allocSlot() {
        Integer free = freeSlots.poll();
        if (free != null) {
            return free;
        }
        if (targetCount == wTargets.length) {
            wTargets = Arrays.copyOf(wTargets, Math.max(16, targetCount * 2));
        }
        return targetCount++;
    }

    private int allocNodeIndex() {
        Integer free = freeNodes.poll();
        if (free != null) {
            return free;
        }
        if (nodeCount == wNodes.length) {
            wNodes = Arrays.copyOf(wNodes, Math.max(16, nodeCount * 2));
        }
        return nodeCount++;
    }

    /**
     * The identity of the upstream a route resolves to, for its endpoints (health, discovery):
     * {@code upstreams/<id>}, or {@code routes/<id>} / {@code services/<id>} for inline ones.
     */
    static String upstreamKey(ConfigSet config, Route route) {
        if (route.upstream() != null) {
            return "routes/" + route.id();
        }
        if (route.upstreamId() != null) {
            return "upstreams/" + route.upstreamId();
        }
        Service s = route.serviceId() == null ? null : config.services().get(route.serviceId());
        if (s != null && s.upstream() != null) {
            return "services/" + s.id();
        }
        return s != null && s.upstreamId() != null ? "upstreams/" + s.upstreamId() : "routes/" + route.id();
    }

    private static int passHostOf(Upstream u) {
        return switch (u.passHost() == null ? "pass" : u.passHost()) {
            case "node" -> UpstreamTarget.PASS_HOST_NODE;
            case "rewrite" -> UpstreamTarget.PASS_HOST_REWRITE;
            default -> UpstreamTarget.PASS_HOST_PASS;
        };
    }

    /** The upstream's target, in a newly allocated slot; null when it is left out (reported in {@code warnings}). */
    private UpstreamTarget compileUpstream(Upstream u, Route route, String upstreamKey, List<String> warnings) {
        String problem = discovery.problem(u);
        if (problem != null) {
            warnings.add("upstream " + (u.id() != null ? u.id() : "of route " + route.id()) + ": " + problem
                    + ", left out");
            return null;
        }
        UpstreamTls tlsConfig;
        try {
            tlsConfig = upstreamTls.resolve(u);
        } catch (IllegalArgumentException e) {
            warnings.add("upstream " + (u.id() != null ? u.id() : "of route " + route.id()) + ": " + e.getMessage()
                    + ", left out");
            return null;
        }
        int passHost = passHostOf(u);
        byte[] rewriteHost = u.upstreamHost() == null ? null : u.upstreamHost().getBytes(StandardCharsets.US_ASCII);
        String label = u.id() != null ? u.id() : "of route " + route.id();
        NodeAddress[] arr = buildNodes(u, label, tlsConfig, passHost, warnings);
        Timeout t = u.timeout(); // a route's own timeout is the route's (CompiledRoute.timeouts): targets are shared
        long connectMs = t != null && t.connect() > 0 ? (long) (t.connect() * 1000) : settings.upstreamConnectTimeoutMs();
        long readNs = t != null && t.read() > 0 ? (long) (t.read() * 1e9) : settings.upstreamReadTimeoutNs();
        long sendNs = t != null && t.send() > 0 ? (long) (t.send() * 1e9) : settings.upstreamSendTimeoutNs();
        KeepalivePool kp = u.keepalivePool();
        int poolSize = kp != null ? kp.size() : settings.upstreamPoolSize();
        long idleNs = kp != null ? (long) (kp.idleTimeout() * 1e9) : settings.upstreamIdleTimeoutNs();
        int maxRequests = kp != null ? kp.requests() : settings.upstreamMaxRequests();
        String uid = u.id() != null ? u.id() : "route:" + route.id();
        List<String> balancerWarnings = new ArrayList<>();
        BalancerSpec balancer;
        try {
            balancer = Balancers.compile(u.type(), arr, u.hashOn(), u.key(), balancerWarnings, rings);
        } catch (IllegalArgumentException e) {
            balancerWarnings.add(e.getMessage() + "; using roundrobin");
            balancer = Balancers.compile("roundrobin", arr, null, null, null);
        }
        for (String w : balancerWarnings) {
            warnings.add("upstream " + uid + ": " + w);
        }
        int slot = allocSlot();
        io.turnpike.engine.endpoint.EndpointSlot endpoints =
                new io.turnpike.engine.endpoint.EndpointSlot(upstreamKey, balancer, endpointPublisher);
        endpoints.targetSlotHint = slot;
        endpoints.poolKeyPrefix = tlsConfig == null ? "" : "https:" + tlsConfig.id
                + (passHost == UpstreamTarget.PASS_HOST_REWRITE ? "/" + u.upstreamHost() : "")
                + (passHost == UpstreamTarget.PASS_HOST_PASS ? "/*" : "") + "@";
        UpstreamTarget target = new UpstreamTarget(uid, slot, arr, passHost, rewriteHost, connectMs, readNs, sendNs,
                poolSize, idleNs, maxRequests, balancer, u.retries(), tlsConfig, endpoints,
                (long) (u.retryTimeout() * 1e9), "grpc".equals(u.scheme()) || "grpcs".equals(u.scheme()));
        wTargets[slot] = target;
        if (changedSlots != null) {
            changedSlots.add(slot);
        }
        return target;
    }

    /**
     * The upstream's configured nodes as this target's own {@link NodeAddress}es (a node's passive-check sink is per
     * upstream), each counted in {@link #nodeRefs} under its pool key: targets sharing a node share its pool index.
     */
    private NodeAddress[] buildNodes(Upstream u, String label, UpstreamTls tlsConfig, int passHost,
                                     List<String> warnings) {
        List<NodeAddress> list = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (UpstreamNode n : u.nodes()) {
            String key = n.host() + ":" + n.port();
            // TLS connections are pooled apart per TLS configuration and fixed SNI (pass_host node/rewrite); with
            // pass_host pass the SNI follows the request's Host and the pool is searched by it (NodePool.Matcher).
            String poolKey = tlsConfig == null ? key : "https:" + tlsConfig.id
                    + (passHost == UpstreamTarget.PASS_HOST_REWRITE ? "/" + u.upstreamHost() : "")
                    + (passHost == UpstreamTarget.PASS_HOST_PASS ? "/*" : "") + "@" + key;
            if (seen.contains(key)) {
                warnings.add("upstream " + label + ": node " + key + " listed twice, first entry kept");
                continue;
            }
            seen.add(key);
            if (hooks.resolvesHostNames() && !isIpLiteral(n.host())) {
                continue; // resolved off this thread, on TTL: the hooks add it as a discovered node
            }
            NodeRef existing = nodeRefs.get(poolKey);
            InetSocketAddress address;
            if (existing != null) {
                address = existing.node.address;
            } else {
                try {
                    String host = n.host();
                    if (host.startsWith("[") && host.endsWith("]")) {
                        host = host.substring(1, host.length() - 1);
                    }
                    InetAddress ip = resolved.get(host);
                    if (ip == null) {
                        ip = InetAddress.getByName(host);
                        resolved.put(host, ip);
                    }
                    address = new InetSocketAddress(ip, n.port());
                } catch (UnknownHostException e) {
                    warnings.add("upstream " + label + ": node " + key + " does not resolve, left out");
                    continue;
                }
            }
            if (existing != null) {
                existing.targets++;
                list.add(new NodeAddress(key, address, key.getBytes(StandardCharsets.US_ASCII), n.weight(),
                        existing.node.index, poolKey, n.priority()));
                continue;
            }
            int index = allocNodeIndex();
            NodeAddress node = new NodeAddress(key, address, key.getBytes(StandardCharsets.US_ASCII), n.weight(),
                    index, poolKey, n.priority());
            NodeRef nr = new NodeRef(node);
            nr.targets = 1;
            nodeRefs.put(poolKey, nr);
            wNodes[index] = node;
            if (changedNodes != null) {
                changedNodes.add(index);
            }
            list.add(node);
        }
        return list.toArray(new NodeAddress[0]);
    }

    public static boolean isIpLiteral(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return io.netty.util.NetUtil.isValidIpV4Address(h) || io.netty.util.NetUtil.isValidIpV6Address(h);
    }

    /** Drops one target's reference to each of {@code nodes}; frees the indexes no target uses any more. */
    private void unrefNodes(NodeAddress[] nodes) {
        for (NodeAddress n : nodes) {
            NodeRef nr = nodeRefs.get(n.poolKey);
            if (nr != null && --nr.targets == 0) {
                nodeRefs.remove(n.poolKey);
                wNodes[nr.node.index] = null;
                if (changedNodes != null) {
                    changedNodes.add(nr.node.index);
                }
                freeNodes.push(nr.node.index);
            }
        }
    }

    /**
     * Whether {@code next} differs from {@code old} in its nodes only (then the routes using it keep their target and
     * only its endpoints change). Compared on the validated JSON, so any other field, present or future, counts.
     */
    static boolean onlyNodesDiffer(Upstream old, Upstream next) {
        if (old.raw() == null || next.raw() == null) {
            return false;
        }
        com.fasterxml.jackson.databind.node.ObjectNode a = old.raw().deepCopy();
        com.fasterxml.jackson.databind.node.ObjectNode b = next.raw().deepCopy();
        for (String f : new String[] {"nodes", "update_time", "create_time"}) {
            a.remove(f);
            b.remove(f);
        }
        return a.equals(b);
    }

    static int methodMask(List<String> methods) {
        return RouteConditions.methodMask(methods);
    }

    // ---------------------------------------------------------------- upstreams of plugins (traffic-split)

    private final SplitTargets splitTargets = new SplitTargets();
    /**
     * Routes left out because their plugins name an upstream id that does not exist (config-sync does not check
     * references inside plugin configurations): when a delta adds that upstream, they are compiled again.
     */
    private final Map<String, java.util.Set<String>> routesAwaitingUpstream = new HashMap<>();
    private static final io.turnpike.config.codec.ResourceCodec UPSTREAM_CODEC =
            new io.turnpike.config.codec.ResourceCodec(io.turnpike.config.plugin.PluginRegistry.empty());

    /** An incremental compile met a plugin upstream that needs the TLS compiler's cycle: compile everything. */
    private static final class FullCompileNeeded extends RuntimeException {
        FullCompileNeeded() {
            super("a plugin's https upstream needs a full compile", null, false, false);
        }
    }

    /** {@code https} and {@code grpcs} upstreams have a client TLS context (built in the TLS compiler's cycle). */
    private static boolean tlsScheme(String scheme) {
        return "https".equals(scheme) || "grpcs".equals(scheme);
    }

    /** Whether a route's plugins route to an https upstream (whose client context needs the TLS compiler's cycle). */
    private static boolean splitHasTls(RouteState rs) {
        for (Upstream u : rs.split) {
            if (tlsScheme(u.scheme())) {
                return true;
            }
        }
        return false;
    }

    private void forgetSplitUsers(String routeId, List<Upstream> split) {
        for (Upstream u : split) {
            java.util.Set<String> users = routesByUpstream.get(u);
            if (users != null && users.remove(routeId) && users.isEmpty()) {
                routesByUpstream.remove(u);
            }
        }
    }

    /**
     * Resolves the upstreams a route's plugins route to (traffic-split), while that route is compiled: a target per
     * upstream object, shared with routes using it (by {@code upstream_id}), counted as one more use per reference and
     * recorded on the route (released when the route is replaced or left out); the route joins the reverse index of
     * the upstream, so a change of that upstream recompiles it.
     */
    private final class SplitTargets implements io.turnpike.engine.plugin.TargetResolver {
        private ConfigSet config;
        private Route route;
        private List<String> warnings;
        private List<Upstream> refs;

        void begin(ConfigSet config, Route route, List<String> warnings, List<Upstream> refs) {
            this.config = config;
            this.route = route;
            this.warnings = warnings;
            this.refs = refs;
        }

        void end() {
            config = null;
            route = null;
            warnings = null;
            refs = null;
        }

        @Override
        public UpstreamTarget byId(String upstreamId) {
            Upstream u = config.upstreams().get(upstreamId);
            if (u == null) {
                routesAwaitingUpstream.computeIfAbsent(upstreamId, k -> new java.util.HashSet<>()).add(route.id());
                throw new IllegalArgumentException("failed to fetch upstream info by upstream id: " + upstreamId);
            }
            return target(u, "upstream " + upstreamId);
        }

        @Override
        public UpstreamTarget inline(com.fasterxml.jackson.databind.node.ObjectNode json, String label) {
            io.turnpike.config.codec.Decoded<Upstream> d = UPSTREAM_CODEC.decodeUpstream(null, json);
            if (!d.ok()) {
                io.turnpike.config.codec.FieldError e = d.errors().get(0);
                throw new IllegalArgumentException(label + ": " + (e.field().isEmpty() ? "" : e.field() + ": ")
                        + e.message());
            }
            Upstream v = d.value();
            // Named after its place, for metrics and messages (an inline upstream has no id of its own).
            Upstream u = v.withId("route:" + route.id() + "/" + label);
            return target(u, label);
        }

        private UpstreamTarget target(Upstream u, String label) {
            TargetRef ref = targetRefs.get(u);
            if (ref == null) {
                if (changedSlots != null && tlsScheme(u.scheme())) {
                    throw new FullCompileNeeded(); // its client context needs the TLS compiler's full cycle
                }
                String key = u.id() != null && u.id().startsWith("route:") ? "routes/" + u.id().substring(6)
                        : "upstreams/" + u.id();
                UpstreamTarget t = rejectedUpstreams.containsKey(u) ? null : compileUpstream(u, route, key, warnings);
                if (t == null) {
                    rejectedUpstreams.put(u, Boolean.TRUE);
                    throw new IllegalArgumentException(label + " was left out");
                }
                ref = new TargetRef(t);
                targetRefs.put(u, ref);
            }
            ref.routes++;
            refs.add(u);
            routesByUpstream.computeIfAbsent(u, k -> new java.util.HashSet<>()).add(route.id());
            return ref.target;
        }
    }

    /** A growable int list (changed slots and node indexes of one incremental compile). */
    private static final class IntList {
        private int[] a = new int[8];
        private int n;

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
