package io.turnpike.engine.upstream;

/**
 * nginx's smooth weighted round robin over one target's nodes: over a full cycle of sum(weights) picks each node is
 * chosen exactly weight times, interleaved rather than in bursts. Confined to one event loop (one instance per loop per
 * target); allocation-free per pick.
 */
public final class SmoothWeightedRoundRobin {
    private final NodeAddress[] nodes;
    private final int[] current;
    private final int total;

    public SmoothWeightedRoundRobin(NodeAddress[] nodes) {
        this.nodes = nodes;
        this.current = new int[nodes.length];
        int t = 0;
        for (NodeAddress n : nodes) {
            t += Math.max(0, n.weight);
        }
        this.total = t;
    }

    /** Returns null when no node has a positive weight. */
    public NodeAddress next() {
        if (total == 0) {
            return null;
        }
        int best = -1;
        for (int i = 0; i < nodes.length; i++) {
            int w = nodes[i].weight;
            if (w <= 0) {
                continue;
            }
            current[i] += w;
            if (best < 0 || current[i] > current[best]) {
                best = i;
            }
        }
        current[best] -= total;
        return nodes[best];
    }
}
