package io.turnpike.bench;

import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.Upstream;
import io.turnpike.config.model.UpstreamNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Generated configurations, built from the config-sync records directly (no YAML/JSON decoding in the way).
 *
 * <p>{@link #routes(int, boolean)} cycles through three kinds of route so that every size has the same mix:
 * <pre>
 *   i % 3 == 0   exact path            /api/v1/svc{i}/items                  any host
 *   i % 3 == 1   prefix path           /pfx/svc{i}/*                         any host
 *   i % 3 == 2   exact path + host     /host/svc{i}/items    Host: h{i}.example.com
 * </pre>
 * {@code {i}} is zero-padded to 6 digits, so every prefix has the same length and the router's longest-first prefix
 * order is the configuration order.
 */
final class Configs {
    static final int KINDS = 3;

    private Configs() {
    }

    static String id(int i) {
        return String.format("%06d", i);
    }

    static String exactPath(int i) {
        return "/api/v1/svc" + id(i) + "/items";
    }

    static String prefix(int i) {
        return "/pfx/svc" + id(i) + "/";
    }

    static String hostPath(int i) {
        return "/host/svc" + id(i) + "/items";
    }

    static String host(int i) {
        return "h" + id(i) + ".example.com";
    }

    static Upstream upstream(String id) {
        return new Upstream(id, null, "roundrobin", List.of(new UpstreamNode("127.0.0.1", 1980, 1, 0)), null, null,
                Upstream.DEFAULT_RETRIES, 0, null, "pass", null, "http", null, null, null, null, null);
    }

    /**
     * @param n              number of routes
     * @param inlineUpstream true: every route carries its own inline upstream object (the common APISIX style, one
     *                       compiled target per route); false: all routes share one upstream (one target)
     */
    static ConfigSet routes(int n, boolean inlineUpstream) {
        Upstream shared = upstream("u1");
        Map<String, Route> routes = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String uri;
            List<String> hosts = List.of();
            switch (i % KINDS) {
                case 0 -> uri = exactPath(i);
                case 1 -> uri = prefix(i) + "*";
                default -> {
                    uri = hostPath(i);
                    hosts = List.of(host(i));
                }
            }
            String id = "r" + i;
            routes.put(id, route(id, List.of(uri), hosts, inlineUpstream ? upstream(null) : shared));
        }
        return new ConfigSet(1, routes, Map.of(), Map.of(), Map.of());
    }

    /**
     * {@link #routes} plus two routes the generated mix lacks: {@code /users/:id/profile} (a parameter segment) and
     * {@code /canary/check} guarded by {@code vars [["http_x_canary", "==", "yes"]]}.
     */
    static ConfigSet routesWithParamAndVars(int n) {
        ConfigSet base = routes(n, false);
        Map<String, Route> routes = new LinkedHashMap<>(base.routes());
        Upstream shared = upstream("u1");
        routes.put("param", route("param", List.of("/users/:id/profile"), List.of(), shared));
        com.fasterxml.jackson.databind.node.ArrayNode vars = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance
                .arrayNode();
        vars.addArray().add("http_x_canary").add("==").add("yes");
        routes.put("vars", new Route("vars", null, List.of("/canary/check"), List.of(), List.of(), 0, List.of(), vars,
                shared, null, null, null, null, null, false, 1, null));
        return new ConfigSet(1, routes, Map.of(), Map.of(), Map.of());
    }

    static Route route(String id, List<String> uris, List<String> hosts, Upstream upstream) {
        return new Route(id, null, uris, hosts, List.of(), 0, List.of(), null, upstream, null, null, null, null,
                null, false, 1, null);
    }
}
