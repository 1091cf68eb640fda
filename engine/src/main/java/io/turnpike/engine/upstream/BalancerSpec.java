package io.turnpike.engine.upstream;

import java.util.List;

/**
 * A target's balancer as compiled into a snapshot: its type, nodes and, for chash, the ring and key (built once,
 * immutable, shared by all loops). Each loop makes its own {@link Balancer} from it when it applies the snapshot
 * ({@link #newBalancer()}); for chash that is one shared stateless instance.
 */
public final class BalancerSpec {
    public final String type;
    public final NodeAddress[] nodes;
    /** chash only: shared by every loop. */
    private final ConsistentHashBalancer chash;
    /** Why the configuration was not honoured as written (e.g. an unsupported chash variable); null when it was. */
    public final List<String> warnings;
    /** The chash settings it was compiled from (null otherwise): to compile the same balancer over other nodes. */
    public final String hashOn;
    public final String key;

    BalancerSpec(String type, NodeAddress[] nodes, ConsistentHashBalancer chash, List<String> warnings) {
        this(type, nodes, chash, warnings, null, null);
    }

    BalancerSpec(String type, NodeAddress[] nodes, ConsistentHashBalancer chash, List<String> warnings,
                 String hashOn, String key) {
        this.hashOn = hashOn;
        this.key = key;
        this.type = type;
        this.nodes = nodes;
        this.chash = chash;
        this.warnings = warnings == null || warnings.isEmpty() ? null : List.copyOf(warnings);
    }

    /** A balancer for one loop (call on that loop, on snapshot apply). */
    public Balancer newBalancer() {
        return switch (type) {
            case Balancers.CHASH -> chash;
            case Balancers.LEAST_CONN -> new LeastConnBalancer(nodes);
            case Balancers.EWMA -> new EwmaBalancer(nodes);
            default -> new SmoothWeightedRoundRobin(nodes);
        };
    }
}
