package io.turnpike.engine.upstream;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

/**
 * APISIX {@code roundrobin}, as nginx's smooth weighted round robin: over a full cycle of sum(weights) picks each node
 * is chosen exactly weight times, interleaved rather than in bursts (5,1,1 gives a a b a c a a). Nodes of weight 0
 * are never picked. Retries run the same step over the untried nodes only (nginx's {@code tried} bitmap). Confined to
 * one event loop (one instance per loop per target); allocation-free per pick.
 */
public final class SmoothWeightedRoundRobin implements Balancer {
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

    @Override
    public NodeAddress[] nodes() {
        return nodes;
    }

    @Override
    public String type() {
        return "roundrobin";
    }

    @Override
    public NodeAddress pick(ByteBuf buf, RequestHead head, BalancerInput in) {
        return next();
    }

    @Override
    public NodeAddress pickExcluding(ByteBuf buf, RequestHead head, BalancerInput in, long triedMask) {
        if (triedMask == 0) {
            return next();
        }
        int best = -1, sum = 0;
        for (int i = 0; i < nodes.length; i++) {
            int w = nodes[i].weight;
            if (w <= 0 || (triedMask & (1L << i)) != 0) {
                continue;
            }
            current[i] += w;
            sum += w;
            if (best < 0 || current[i] > current[best]) {
                best = i;
            }
        }
        if (best < 0) {
            return null;
        }
        current[best] -= sum;
        return nodes[best];
    }

    @Override
    public int positionOf(NodeAddress node) {
        for (int i = 0; i < nodes.length; i++) {
            if (nodes[i] == node) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void inherit(Balancer previous) {
        if (!(previous instanceof SmoothWeightedRoundRobin p)) {
            return;
        }
        for (int i = 0; i < nodes.length; i++) {
            for (int j = 0; j < p.nodes.length; j++) {
                if (p.nodes[j].poolKey.equals(nodes[i].poolKey)) {
                    current[i] = p.current[j];
                    break;
                }
            }
        }
    }
}
