package io.turnpike.engine.snapshot;

import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.KeepalivePool;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.Service;
import io.turnpike.config.model.Timeout;
import io.turnpike.config.model.Upstream;
import io.turnpike.config.model.UpstreamNode;
import io.turnpike.engine.loop.EngineSettings;
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
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.HashMap;
import java.util.Map;

/**
 * Compiles a validated {@link ConfigSet} into a {@link Snapshot}. Runs off the request path (startup, or the
 * config-sync thread). Node host names are resolved here, once, so no event loop ever blocks on DNS; a name that
 * does not resolve leaves that node out (reported by the returned warnings).
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

    /**
     * Route conditions of the previous compile, by Route identity: a config source that keeps unchanged routes as the
     * same objects (the etcd source's memoizing decoder does) gets them back without recompiling. Valid while the
     * hosts list (a service's, when inherited) is the same object too.
     */
    private IdentityHashMap<Route, Object[]> conditionsMemo = new IdentityHashMap<>();
    /** Host name resolutions of the current compile: one lookup per distinct host, not one per node entry. */
    private final Map<String, InetAddress> resolved = new HashMap<>();

    public Snapshot compile(ConfigSet config, List<String> warnings) {
        resolved.clear();
        IdentityHashMap<Route, Object[]> nextMemo = new IdentityHashMap<>();
        try {
            return compile0(config, warnings, nextMemo);
        } finally {
            conditionsMemo = nextMemo;
            resolved.clear();
        }
    }

    private Snapshot compile0(ConfigSet config, List<String> warnings, IdentityHashMap<Route, Object[]> nextMemo) {
        Map<Upstream, UpstreamTarget> targets = new IdentityHashMap<>();
        Map<Upstream, Boolean> rejected = new IdentityHashMap<>();
        upstreamTls.begin(config);
        List<UpstreamTarget> targetList = new ArrayList<>();
        Map<String, NodeAddress> nodes = new LinkedHashMap<>();
        RouteTable.Builder routes = new RouteTable.Builder();
        int order = 0;
        for (Route route : config.routes().values()) {
            if (!route.enabled()) {
                continue;
            }
            Upstream upstream = config.upstreamOf(route);
            if (upstream == null) {
                warnings.add("route " + route.id() + ": no upstream, skipped");
                continue;
            }
            List<String> hosts = route.hosts();
            if (hosts.isEmpty() && route.serviceId() != null) {
                Service s = config.services().get(route.serviceId());
                if (s != null) {
                    hosts = s.hosts();
                }
            }
            // Conditions first: an invalid vars expression or address leaves this route out, and nothing else.
            RouteConditions conditions;
            Object[] memo = conditionsMemo.get(route);
            if (memo != null && memo[0] == hosts) {
                conditions = (RouteConditions) memo[1];
            } else {
                try {
                    conditions = RouteConditions.compile(route.uris(), hosts, route.methods(), route.remoteAddrs(),
                            route.vars());
                } catch (IllegalArgumentException e) {
                    warnings.add("route " + route.id() + ": " + e.getMessage() + ", skipped");
                    continue;
                }
            }
            nextMemo.put(route, new Object[]{hosts, conditions});
            UpstreamTarget target = targets.get(upstream);
            if (target == null) {
                if (rejected.containsKey(upstream)) {
                    warnings.add("route " + route.id() + ": its upstream was left out, skipped");
                    continue;
                }
                target = compileUpstream(upstream, route, targetList.size(), nodes, warnings);
                if (target == null) {
                    rejected.put(upstream, Boolean.TRUE);
                    warnings.add("route " + route.id() + ": its upstream was left out, skipped");
                    continue;
                }
                targets.put(upstream, target);
                targetList.add(target);
            }
            routes.add(new CompiledRoute(route.id(), conditions, route.priority(), target, order++));
        }
        return new Snapshot(config.version(), routes.build(), targetList.toArray(new UpstreamTarget[0]),
                nodes.values().toArray(new NodeAddress[0]),
                tls == null ? io.turnpike.tls.TlsTable.EMPTY : tls.compile(config, warnings), upstreamTls.finish());
    }

    /** The upstream's target; null when it is left out (an unusable {@code tls}, reported in {@code warnings}). */
    private UpstreamTarget compileUpstream(Upstream u, Route route, int slot, Map<String, NodeAddress> nodes,
                                           List<String> warnings) {
        UpstreamTls tlsConfig;
        try {
            tlsConfig = upstreamTls.resolve(u);
        } catch (IllegalArgumentException e) {
            warnings.add("upstream " + (u.id() != null ? u.id() : "of route " + route.id()) + ": " + e.getMessage()
                    + ", left out");
            return null;
        }
        int passHost = switch (u.passHost() == null ? "pass" : u.passHost()) {
            case "node" -> UpstreamTarget.PASS_HOST_NODE;
            case "rewrite" -> UpstreamTarget.PASS_HOST_REWRITE;
            default -> UpstreamTarget.PASS_HOST_PASS;
        };
        byte[] rewriteHost = u.upstreamHost() == null ? null : u.upstreamHost().getBytes(StandardCharsets.US_ASCII);
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
                warnings.add("upstream " + (u.id() != null ? u.id() : "of route " + route.id())
                        + ": node " + key + " listed twice, first entry kept");
                continue;
            }
            seen.add(key);
            NodeAddress existing = nodes.get(poolKey);
            if (existing != null && existing.weight == n.weight()) {
                list.add(existing);
                continue;
            }
            InetSocketAddress address;
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
                warnings.add("upstream " + (u.id() != null ? u.id() : "of route " + route.id())
                        + ": node " + key + " does not resolve, left out");
                continue;
            }
            // One NodeAddress (one pool) per "host:port"; weights are per upstream, so a node shared by upstreams
            // with different weights gets its own entry pointing at the same pool key.
            int index = existing != null ? existing.index : nodes.size();
            NodeAddress node = new NodeAddress(key, address, key.getBytes(StandardCharsets.US_ASCII), n.weight(),
                    existing != null ? existing.index : index, poolKey);
            if (existing == null) {
                nodes.put(poolKey, node);
            }
            list.add(node);
        }
        Timeout t = route.timeout() != null ? route.timeout() : u.timeout();
        long connectMs = t != null && t.connect() > 0 ? (long) (t.connect() * 1000) : settings.upstreamConnectTimeoutMs();
        long readNs = t != null && t.read() > 0 ? (long) (t.read() * 1e9) : settings.upstreamReadTimeoutNs();
        KeepalivePool kp = u.keepalivePool();
        int poolSize = kp != null ? kp.size() : settings.upstreamPoolSize();
        long idleNs = kp != null ? (long) (kp.idleTimeout() * 1e9) : settings.upstreamIdleTimeoutNs();
        int maxRequests = kp != null ? kp.requests() : settings.upstreamMaxRequests();
        NodeAddress[] arr = list.toArray(new NodeAddress[0]);
        String uid = u.id() != null ? u.id() : "route:" + route.id();
        List<String> balancerWarnings = new ArrayList<>();
        BalancerSpec balancer;
        try {
            balancer = Balancers.compile(u.type(), arr, u.hashOn(), u.key(), balancerWarnings);
        } catch (IllegalArgumentException e) {
            balancerWarnings.add(e.getMessage() + "; using roundrobin");
            balancer = Balancers.compile("roundrobin", arr, null, null, null);
        }
        for (String w : balancerWarnings) {
            warnings.add("upstream " + uid + ": " + w);
        }
        return new UpstreamTarget(uid, slot, arr, passHost, rewriteHost, connectMs, readNs, poolSize, idleNs,
                maxRequests, balancer, u.effectiveRetries(), tlsConfig);
    }

    static int methodMask(List<String> methods) {
        return RouteConditions.methodMask(methods);
    }
}
