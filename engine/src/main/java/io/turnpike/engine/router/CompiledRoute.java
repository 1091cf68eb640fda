package io.turnpike.engine.router;

import io.turnpike.engine.plugin.PluginChain;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.upstream.UpstreamTarget;

import java.util.List;

/**
 * One route of a snapshot, with its match conditions pre-compiled (method mask, CIDRs as masked integers, vars with
 * names as bytes, numbers parsed and regexes compiled). Immutable; shared by all loops. Its uris and hosts are not
 * checked here: they are the keys of the {@link RouteTable}'s trees.
 */
public final class CompiledRoute {
    public final String id;
    /** {@link #id} as bytes ({@code $route_id} in plugin templates and limit keys). */
    public final byte[] idBytes;
    public final int priority;
    public final UpstreamTarget upstream;
    /** Position in the snapshot's route list, used to keep the file order as the final tie-breaker. */
    public final int order;
    /** The route's merged plugin chain ({@link PluginChain#EMPTY} when it has none). */
    public final PluginChain plugins;
    private final RouteConditions conditions;
    /**
     * Route name, service id and service name, for metric labels; set once by the snapshot compiler. Volatile: the
     * metrics exporter reaches this object through a racy read of a loop's table (the loops never read these).
     */
    private volatile String name = "";
    private volatile String serviceId = "";
    private volatile String serviceName = "";
    /**
     * WebSocket upgrades are forwarded ({@code enable_websocket}: the route's when set, else its service's). Set once
     * by the snapshot compiler before the route is published (the publication orders it for the loops), never after.
     */
    private boolean websocket;
    private final int methodMask;
    private final IpMatcher remote;
    private final VarsExpr vars;

    public CompiledRoute(String id, RouteConditions conditions, int priority, UpstreamTarget upstream, int order) {
        this(id, conditions, priority, upstream, order, PluginChain.EMPTY);
    }

    public CompiledRoute(String id, RouteConditions conditions, int priority, UpstreamTarget upstream, int order,
                         PluginChain plugins) {
        this(id, conditions, priority, upstream, order, plugins, null, null);
    }

    public CompiledRoute(String id, RouteConditions conditions, int priority, UpstreamTarget upstream, int order,
                         PluginChain plugins, String name, String serviceId) {
        this.name = name == null ? "" : name;
        this.serviceId = serviceId == null ? "" : serviceId;
        this.plugins = plugins;
        this.id = id;
        this.idBytes = id.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.conditions = conditions;
        this.priority = priority;
        this.upstream = upstream;
        this.order = order;
        this.methodMask = conditions.methodMask;
        this.remote = conditions.remote;
        this.vars = conditions.vars;
    }

    /**
     * Sets the route's name and its service's id and name (for metric labels); called by the snapshot compiler
     * before the route is published, never after.
     */
    public CompiledRoute describe(String name, String serviceId, String serviceName) {
        this.name = name == null ? "" : name;
        this.serviceId = serviceId == null ? "" : serviceId;
        this.serviceName = serviceName == null ? "" : serviceName;
        return this;
    }

    /**
     * The route's own {@code timeout} (APISIX: it replaces the upstream's for this route's requests), -1 when it has
     * none; set by the snapshot compiler before the route is published, never after. A target is shared by every
     * route of its upstream, so these cannot live there.
     */
    private long connectTimeoutMs = -1;
    private long readTimeoutNs = -1;
    private long sendTimeoutNs = -1;

    public CompiledRoute timeouts(long connectMs, long readNs, long sendNs) {
        this.connectTimeoutMs = connectMs;
        this.readTimeoutNs = readNs;
        this.sendTimeoutNs = sendNs;
        return this;
    }

    /** The route's connect timeout, else {@code target}'s. */
    public long connectTimeoutMs(UpstreamTarget target) {
        return connectTimeoutMs >= 0 ? connectTimeoutMs : target.connectTimeoutMs;
    }

    public long readTimeoutNs(UpstreamTarget target) {
        return readTimeoutNs >= 0 ? readTimeoutNs : target.readTimeoutNs;
    }

    public long sendTimeoutNs(UpstreamTarget target) {
        return sendTimeoutNs >= 0 ? sendTimeoutNs : target.sendTimeoutNs;
    }

    /** Sets {@link #websocket()}; called by the snapshot compiler before the route is published, never after. */
    public CompiledRoute websocket(boolean enabled) {
        this.websocket = enabled;
        return this;
    }

    /** WebSocket upgrade requests on this route are forwarded and tunnelled (docs/websocket.md). */
    public boolean websocket() {
        return websocket;
    }

    /** The route's name, "" when it has none. */
    public String name() {
        return name;
    }

    /** The route's service_id, "" when it has none. */
    public String serviceId() {
        return serviceId;
    }

    /** The route's service's name, "" when it has none. */
    public String serviceName() {
        return serviceName;
    }

    /** The compiled match conditions (shared by the next compile when the route itself did not change). */
    public RouteConditions conditions() {
        return conditions;
    }

    public List<String> uris() {
        return conditions.uris;
    }

    /** Lower-case hosts (own or inherited from the service); empty means any host. */
    public List<String> hosts() {
        return conditions.hosts;
    }

    /** Method, remote_addrs and vars conditions (APISIX's order: method, remote address, vars). */
    boolean accepts(ByteBuf buf, RequestHead head, MatchScratch s) {
        int mask = methodMask;
        if (mask != 0) {
            int m = head.method;
            if ((mask & (1 << m)) == 0) {
                return false;
            }
            if (m == RequestHead.METHOD_OTHER && !isPurge(buf, head)) {
                return false;
            }
        }
        if (remote != null && !remote.matches(s)) {
            return false;
        }
        return vars == null || vars.eval(buf, head, s);
    }

    private static boolean isPurge(ByteBuf buf, RequestHead head) {
        byte[] p = RouteConditions.PURGE;
        return head.methodEnd - head.methodStart == p.length && ByteMatch.equals(buf, head.methodStart, p, 0, p.length);
    }

    @Override
    public String toString() {
        return "route " + id;
    }
}
