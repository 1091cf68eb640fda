package io.turnpike.engine.snapshot;

import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.KeepalivePool;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.Service;
import io.turnpike.config.model.Timeout;
import io.turnpike.config.model.Upstream;
import io.turnpike.config.model.UpstreamNode;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.router.RouteTable;
import io.turnpike.engine.upstream.NodeAddress;
import io.turnpike.engine.upstream.UpstreamTarget;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Compiles a validated {@link ConfigSet} into a {@link Snapshot}. Runs off the request path (startup, or the
 * config-sync thread). Node host names are resolved here, once, so no event loop ever blocks on DNS; a name that
 * does not resolve leaves that node out (reported by the returned warnings).
 */
public final class SnapshotCompiler {
    private final EngineSettings settings;

    public SnapshotCompiler(EngineSettings settings) {
        this.settings = settings;
    }

    public Snapshot compile(ConfigSet config, List<String> warnings) {
        Map<Upstream, UpstreamTarget> targets = new IdentityHashMap<>();
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
            UpstreamTarget target = targets.get(upstream);
            if (target == null) {
                target = compileUpstream(upstream, route, targetList.size(), nodes, warnings);
                targets.put(upstream, target);
                targetList.add(target);
            }
            List<String> hosts = route.hosts();
            if (hosts.isEmpty() && route.serviceId() != null) {
                Service s = config.services().get(route.serviceId());
                if (s != null) {
                    hosts = s.hosts();
                }
            }
            List<byte[]> exact = new ArrayList<>();
            List<byte[]> wildcard = new ArrayList<>();
            for (String h : hosts) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("*.")) {
                    wildcard.add(lower.substring(1).getBytes(StandardCharsets.US_ASCII));
                } else {
                    exact.add(lower.getBytes(StandardCharsets.US_ASCII));
                }
            }
            CompiledRoute compiled = new CompiledRoute(route.id(), exact.toArray(new byte[0][]),
                    wildcard.toArray(new byte[0][]), methodMask(route.methods()), route.priority(), target, order++);
            for (String uri : route.uris()) {
                routes.add(uri, compiled);
            }
        }
        return new Snapshot(config.version(), routes.build(), targetList.toArray(new UpstreamTarget[0]),
                nodes.values().toArray(new NodeAddress[0]));
    }

    private UpstreamTarget compileUpstream(Upstream u, Route route, int slot, Map<String, NodeAddress> nodes,
                                           List<String> warnings) {
        List<NodeAddress> list = new ArrayList<>();
        for (UpstreamNode n : u.nodes()) {
            String key = n.host() + ":" + n.port();
            NodeAddress existing = nodes.get(key);
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
                address = new InetSocketAddress(InetAddress.getByName(host), n.port());
            } catch (UnknownHostException e) {
                warnings.add("upstream " + (u.id() != null ? u.id() : "of route " + route.id())
                        + ": node " + key + " does not resolve, left out");
                continue;
            }
            // One NodeAddress (one pool) per "host:port"; weights are per upstream, so a node shared by upstreams
            // with different weights gets its own entry pointing at the same pool key.
            int index = existing != null ? existing.index : nodes.size();
            NodeAddress node = new NodeAddress(key, address, key.getBytes(StandardCharsets.US_ASCII), n.weight(),
                    existing != null ? existing.index : index);
            if (existing == null) {
                nodes.put(key, node);
            }
            list.add(node);
        }
        int passHost = switch (u.passHost() == null ? "pass" : u.passHost()) {
            case "node" -> UpstreamTarget.PASS_HOST_NODE;
            case "rewrite" -> UpstreamTarget.PASS_HOST_REWRITE;
            default -> UpstreamTarget.PASS_HOST_PASS;
        };
        byte[] rewriteHost = u.upstreamHost() == null ? null : u.upstreamHost().getBytes(StandardCharsets.US_ASCII);
        Timeout t = route.timeout() != null ? route.timeout() : u.timeout();
        long connectMs = t != null && t.connect() > 0 ? (long) (t.connect() * 1000) : settings.upstreamConnectTimeoutMs();
        long readNs = t != null && t.read() > 0 ? (long) (t.read() * 1e9) : settings.upstreamReadTimeoutNs();
        KeepalivePool kp = u.keepalivePool();
        int poolSize = kp != null ? kp.size() : settings.upstreamPoolSize();
        long idleNs = kp != null ? (long) (kp.idleTimeout() * 1e9) : settings.upstreamIdleTimeoutNs();
        int maxRequests = kp != null ? kp.requests() : settings.upstreamMaxRequests();
        return new UpstreamTarget(u.id() != null ? u.id() : "route:" + route.id(), slot,
                list.toArray(new NodeAddress[0]), passHost, rewriteHost, connectMs, readNs, poolSize, idleNs,
                maxRequests);
    }

    static int methodMask(List<String> methods) {
        int mask = 0;
        for (String m : methods) {
            mask |= 1 << switch (m) {
                case "GET" -> RequestHead.METHOD_GET;
                case "HEAD" -> RequestHead.METHOD_HEAD;
                case "POST" -> RequestHead.METHOD_POST;
                case "PUT" -> RequestHead.METHOD_PUT;
                case "DELETE" -> RequestHead.METHOD_DELETE;
                case "CONNECT" -> RequestHead.METHOD_CONNECT;
                case "OPTIONS" -> RequestHead.METHOD_OPTIONS;
                case "TRACE" -> RequestHead.METHOD_TRACE;
                case "PATCH" -> RequestHead.METHOD_PATCH;
                default -> RequestHead.METHOD_OTHER; // PURGE and friends
            };
        }
        return mask;
    }
}
