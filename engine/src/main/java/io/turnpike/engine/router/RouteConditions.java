package io.turnpike.engine.router;

import com.fasterxml.jackson.databind.JsonNode;
import io.turnpike.engine.codec.RequestHead;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The compiled match conditions of one route (everything but its upstream): uris, hosts, methods, remote_addrs and
 * vars. Compiled by the snapshot compiler before the route's upstream, so that an invalid condition leaves that one
 * route out ({@link #compile} throws {@link IllegalArgumentException} with the reason).
 */
public final class RouteConditions {
    final List<String> uris;
    /** Lower-case hosts as configured ("*.example.com" kept with its star). */
    final List<String> hosts;
    final int methodMask;
    final IpMatcher remote;
    final VarsExpr vars;

    private RouteConditions(List<String> uris, List<String> hosts, int methodMask, IpMatcher remote, VarsExpr vars) {
        this.uris = uris;
        this.hosts = hosts;
        this.methodMask = methodMask;
        this.remote = remote;
        this.vars = vars;
    }

    /**
     * @param hosts       the route's hosts, or its service's when it has none
     * @param methods     APISIX method names; empty means any
     * @param remoteAddrs IPs and CIDRs; empty means any client
     * @param vars        the raw vars expression, nullable
     * @throws IllegalArgumentException for an invalid vars expression or address
     */
    public static RouteConditions compile(List<String> uris, List<String> hosts, List<String> methods,
                                          List<String> remoteAddrs, JsonNode vars) {
        if (uris.isEmpty()) {
            throw new IllegalArgumentException("no uri");
        }
        List<String> h = new ArrayList<>();
        for (String x : hosts) {
            h.add(x.toLowerCase(Locale.ROOT));
        }
        return new RouteConditions(List.copyOf(uris), List.copyOf(h), methodMask(methods),
                IpMatcher.compile(remoteAddrs), VarsExpr.compile(vars));
    }

    /** Whether matching this route may allocate (it has a {@code ~~} or {@code ~*} vars condition). */
    public boolean usesRegex() {
        return vars != null && vars.usesRegex();
    }

    /** Bit per {@code RequestHead.METHOD_*}; {@code METHOD_OTHER} stands for PURGE (checked on the bytes). */
    public static int methodMask(List<String> methods) {
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
                default -> RequestHead.METHOD_OTHER; // PURGE
            };
        }
        return mask;
    }

    static final byte[] PURGE = "PURGE".getBytes(StandardCharsets.US_ASCII);
}
