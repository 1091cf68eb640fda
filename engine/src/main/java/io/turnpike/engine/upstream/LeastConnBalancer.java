package io.turnpike.engine.upstream;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

/**
 * APISIX {@code least_conn}: the node with the lowest {@code (in_flight + 1) / weight} (the load it would have with this
 * request, relative to its weight; APISIX's score), ties broken round robin (the scan starts after the last pick).
 * In-flight counts are this loop's own (requests this loop started and has not ended), maintained by
 * {@link #onRequestStart} / {@link #onRequestEnd}; a pick alone does not count. Confined to one event loop;
 * allocation-free.
 */
public final class LeastConnBalancer implements Balancer {
    private final NodeAddress[] nodes;
    private final int[] inFlight;
    private int cursor;
    private int lastPos = -1;

    public LeastConnBalancer(NodeAddress[] nodes) {
        this.nodes = nodes;
        this.inFlight = new int[nodes.length];
    }

    @Override
    public NodeAddress[] nodes() {
        return nodes;
    }

    @Override
    public String type() {
        return "least_conn";
    }

    @Override
    public NodeAddress pickExcluding(ByteBuf buf, RequestHead head, BalancerInput in, long triedMask) {
        int n = nodes.length;
        int best = -1;
        long bestLoad = 0, bestWeight = 1;
        for (int k = 0, i = cursor; k < n; k++, i++) {
            if (i >= n) {
                i = 0;
            }
            int w = nodes[i].weight;
            if (w <= 0 || (triedMask & (1L << i)) != 0) {
                continue;
            }
            long load = inFlight[i] + 1L;
            // load / w < bestLoad / bestWeight, without division
            if (best < 0 || load * bestWeight < bestLoad * w) {
                best = i;
                bestLoad = load;
                bestWeight = w;
            }
        }
        if (best < 0) {
            return null;
        }
        cursor = best + 1 == n ? 0 : best + 1;
        lastPos = best;
        return nodes[best];
    }

    @Override
    public int positionOf(NodeAddress node) {
        int p = lastPos;
        if (p >= 0 && nodes[p] == node) {
            return p;
        }
        for (int i = 0; i < nodes.length; i++) {
            if (nodes[i] == node) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void onRequestStart(NodeAddress node) {
        int p = positionOf(node);
        if (p >= 0) {
            inFlight[p]++;
        }
    }

    @Override
    public void onRequestEnd(NodeAddress node, long latencyNs, boolean failed) {
        int p = positionOf(node);
        if (p >= 0 && inFlight[p] > 0) {
            inFlight[p]--;
        }
    }

    /** This loop's in-flight count for {@code node} (tests, metrics). */
    public int inFlight(NodeAddress node) {
        int p = positionOf(node);
        return p < 0 ? 0 : inFlight[p];
    }
}
