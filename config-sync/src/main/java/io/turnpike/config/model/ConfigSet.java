package io.turnpike.config.model;

import java.util.AbstractMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.pcollections.PMap;

/**
 * One complete, immutable, validated configuration: every reference in it resolves.
 *
 * <p>Maps passed in are copied, except persistent maps ({@link PMap}, immutable by construction) and maps of another
 * {@code ConfigSet} (already frozen copies): a source deriving a configuration from the previous one (the etcd source,
 * for a route change) shares everything unchanged and pays in proportion to the change. The etcd source's route map
 * is a {@code TreePMap}, ordered by id (etcd key order).
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
        if (!(others instanceof Frozen)) {
            Map<String, Map<String, RawResource>> o = new LinkedHashMap<>();
            others.forEach((k, v) -> o.put(k, orderedCopy(v)));
            others = new Frozen<>(o);
        }
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
        if (m instanceof PMap || m instanceof Frozen) {
            return m;
        }
        return new Frozen<>(new LinkedHashMap<>(m));
    }

    /** A read-only view of a private copy nobody else references: immutable, so never copied again. */
    private static final class Frozen<V> extends AbstractMap<String, V> {
        private final Map<String, V> map;
        private final Map<String, V> view;

        Frozen(Map<String, V> copy) {
            this.map = copy;
            this.view = Collections.unmodifiableMap(copy);
        }

        @Override
        public Set<Entry<String, V>> entrySet() {
            return view.entrySet();
        }

        @Override
        public V get(Object key) {
            return map.get(key);
        }

        @Override
        public boolean containsKey(Object key) {
            return map.containsKey(key);
        }

        @Override
        public int size() {
            return map.size();
        }

        @Override
        public Set<String> keySet() {
            return view.keySet();
        }

        @Override
        public java.util.Collection<V> values() {
            return view.values();
        }
    }
}
