package io.turnpike.engine.upstream;

import java.util.ArrayList;
import java.util.List;

/** Builds balancers from APISIX upstream settings ({@code type}, {@code hash_on}, {@code key}). */
public final class Balancers {
    public static final String ROUNDROBIN = "roundrobin", CHASH = "chash", LEAST_CONN = "least_conn", EWMA = "ewma";

    private Balancers() {
    }

    /**
     * Compiles a target's balancer once per snapshot (off the loops). {@code type} null means roundrobin (APISIX's
     * default); {@code hashOn} null means vars; {@code hashOn}/{@code key} are ignored unless chash.
     *
     * @param warnings where fallbacks are reported (unsupported chash variable, missing key); may be null
     * @throws IllegalArgumentException for an unknown type or hash_on
     */
    public static BalancerSpec compile(String type, NodeAddress[] nodes, String hashOn, String key,
                                       List<String> warnings) {
        return compile(type, nodes, hashOn, key, warnings, null);
    }

    /** {@link #compile(String, NodeAddress[], String, String, List)} sharing chash rings through {@code rings}. */
    public static BalancerSpec compile(String type, NodeAddress[] nodes, String hashOn, String key,
                                       List<String> warnings, ChashRing.Cache rings) {
        String t = type == null ? ROUNDROBIN : type;
        List<String> w = new ArrayList<>();
        BalancerSpec spec = switch (t) {
            case ROUNDROBIN, LEAST_CONN, EWMA -> new BalancerSpec(t, nodes, null, null);
            case CHASH -> {
                ChashKey k = ChashKey.compile(hashOn, key, w);
                yield new BalancerSpec(t, nodes, new ConsistentHashBalancer(nodes,
                        rings == null ? new ChashRing(nodes) : rings.ring(nodes), k), w, hashOn,
                        key);
            }
            default -> throw new IllegalArgumentException("unknown upstream type '" + type + "'");
        };
        if (warnings != null) {
            warnings.addAll(w);
        }
        return spec;
    }

    /** One loop's balancer, compiled on the spot (tests, tools); production code keeps the {@link BalancerSpec}. */
    public static Balancer create(String type, NodeAddress[] nodes, String hashOn, String key) {
        return compile(type, nodes, hashOn, key, null).newBalancer();
    }
}
