package io.turnpike.engine.router;

import io.turnpike.config.model.ConfigSet;
import io.turnpike.engine.testing.Configs;

/**
 * Generated route sets for the allocation and scale tests, through the real loader. Route i is of kind i % 5:
 * exact, prefix, param, host-bound prefix, vars {@code ==}; all share one upstream.
 */
final class RouterLoad {
    static final int KINDS = 5;

    private RouterLoad() {
    }

    /** n routes; loaded in chunks (the YAML loader caps one document at 3 M code points) and merged. */
    static ConfigSet routes(int n) {
        java.util.Map<String, io.turnpike.config.model.Route> all = new java.util.LinkedHashMap<>();
        ConfigSet last = null;
        for (int from = 0; from < n; from += 20_000) {
            last = chunk(from, Math.min(n, from + 20_000));
            all.putAll(last.routes());
        }
        return new ConfigSet(last.version(), all, last.services(), last.upstreams(), java.util.Map.of());
    }

    private static ConfigSet chunk(int from, int to) {
        int n = to;
        StringBuilder b = new StringBuilder(n * 80);
        b.append("upstreams:\n  - id: u\n    nodes:\n      \"127.0.0.1:80\": 1\nroutes:\n");
        for (int i = from; i < n; i++) {
            b.append("  - id: r").append(i).append("\n    upstream_id: u\n");
            switch (i % KINDS) {
                case 0 -> b.append("    uri: ").append(exactPath(i)).append('\n');
                case 1 -> b.append("    uri: /svc").append(i).append("/*\n");
                case 2 -> b.append("    uri: /users").append(i).append("/:id/orders\n");
                case 3 -> b.append("    uri: /api/*\n    host: h").append(i).append(".example.com\n");
                default -> b.append("    uri: /v/").append(i).append("\n    vars: [[\"http_x_tenant\", \"==\", \"t")
                        .append(i).append("\"]]\n");
            }
        }
        return Configs.fromYaml(b.toString());
    }

    static String exactPath(int i) {
        return "/api/v1/resource" + i;
    }

    /** A request matching route i (of its kind). */
    static String request(int i) {
        String target;
        String host = "api.example.com";
        String extra = "";
        switch (i % KINDS) {
            case 0 -> target = exactPath(i);
            case 1 -> target = "/svc" + i + "/orders/42?expand=items";
            case 2 -> target = "/users" + i + "/7/orders";
            case 3 -> {
                target = "/api/things/9";
                host = "h" + i + ".example.com:8080";
            }
            default -> {
                target = "/v/" + i;
                extra = "X-Tenant: t" + i + "\r\n";
            }
        }
        return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n" + extra
                + "\r\n";
    }
}
