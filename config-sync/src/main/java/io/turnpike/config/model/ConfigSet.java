package io.turnpike.config.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One complete, immutable, validated configuration: every reference in it resolves.
 *
 * @param version monotonic: the etcd revision, or the standalone file's load generation
 * @param routes  id -> route, in source order
 * @param others  resource name ({@link Resource#key()}) -> id -> raw value, for resources typed later
 */
public record ConfigSet(long version, Map<String, Route> routes, Map<String, Service> services,
                        Map<String, Upstream> upstreams, Map<String, Map<String, RawResource>> others) {

    private static final ConfigSet EMPTY = new ConfigSet(0, Map.of(), Map.of(), Map.of(), Map.of());

    public ConfigSet {
        routes = orderedCopy(routes);
        services = orderedCopy(services);
        upstreams = orderedCopy(upstreams);
        Map<String, Map<String, RawResource>> o = new LinkedHashMap<>();
        others.forEach((k, v) -> o.put(k, orderedCopy(v)));
        others = Collections.unmodifiableMap(o);
    }

    public static ConfigSet empty() {
        return EMPTY;
    }

    /** The raw entries of one untyped resource; empty when none. */
    public Map<String, RawResource> others(String resource) {
        return others.getOrDefault(resource, Map.of());
    }

    /** The upstream a route proxies to: its own, its upstream_id, then its service's; null when none. */
    public Upstream upstreamOf(Route route) {
        if (route.upstream() != null) {
            return route.upstream();
        }
        if (route.upstreamId() != null) {
            return upstreams.get(route.upstreamId());
        }
        if (route.serviceId() != null) {
            Service s = services.get(route.serviceId());
            if (s != null) {
                return s.upstream() != null ? s.upstream() : s.upstreamId() != null ? upstreams.get(s.upstreamId()) : null;
            }
        }
        return null;
    }

    private static <V> Map<String, V> orderedCopy(Map<String, V> m) {
        return Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }
}
