package io.turnpike.engine.endpoint;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.upstream.Balancer;
import io.turnpike.engine.upstream.BalancerInput;
import io.turnpike.engine.upstream.NodeAddress;

/**
 * APISIX's priority balancer: one balancer per priority group (highest first); a pick goes to the first group with an
 * untried node. Positions (for the tried mask) are the concatenation of the groups' positions, so a retry that tried
 * every node of a group moves to the next group, as APISIX's {@code before_retry_next_priority}. Confined to one
 * event loop, allocation-free per pick.
 */
final class PriorityBalancer implements Balancer {
    private final Balancer[] groups;
    private final int[] offsets;
    private final NodeAddress[] all;

    PriorityBalancer(Balancer[] groups) {
        this.groups = groups;
        this.offsets = new int[groups.length];
        int n = 0;
        for (int i = 0; i < groups.length; i++) {
            offsets[i] = n;
            n += groups[i].nodes().length;
        }
        all = new NodeAddress[n];
        for (int i = 0; i < groups.length; i++) {
            System.arraycopy(groups[i].nodes(), 0, all, offsets[i], groups[i].nodes().length);
        }
    }

    @Override
    public NodeAddress[] nodes() {
        return all;
    }

    @Override
    public String type() {
        return groups[0].type();
    }

    @Override
    public NodeAddress pickExcluding(ByteBuf buf, RequestHead head, BalancerInput in, long triedMask) {
        for (int g = 0; g < groups.length; g++) {
            int off = offsets[g];
            int size = groups[g].nodes().length;
            long mask;
            if (off >= 64) {
                mask = 0; // positions above 64 alias; a group beyond is tried from scratch (never repeats a pick)
            } else {
                mask = triedMask >>> off;
                if (size < 64) {
                    mask &= (1L << size) - 1;
                }
            }
            if (size < 64 && mask == (1L << size) - 1 && size > 0) {
                continue; // every node of this priority was tried
            }
            NodeAddress n;
            if (triedMask != 0 && in != null) {
                in.reuseKeyHash = true;
                n = groups[g].pickExcluding(buf, head, in, mask);
                in.reuseKeyHash = false;
            } else {
                n = groups[g].pickExcluding(buf, head, in, mask);
            }
            if (n != null) {
                return n;
            }
        }
        return null;
    }

    @Override
    public int positionOf(NodeAddress node) {
        for (int g = 0; g < groups.length; g++) {
            int p = groups[g].positionOf(node);
            if (p >= 0) {
                return offsets[g] + p;
            }
        }
        return -1;
    }

    @Override
    public void onRequestStart(NodeAddress node) {
        Balancer b = groupOf(node);
        if (b != null) {
            b.onRequestStart(node);
        }
    }

    @Override
    public void onRequestEnd(NodeAddress node, long latencyNs, boolean failed) {
        Balancer b = groupOf(node);
        if (b != null) {
            b.onRequestEnd(node, latencyNs, failed);
        }
    }

    private Balancer groupOf(NodeAddress node) {
        for (Balancer g : groups) {
            if (g.positionOf(node) >= 0) {
                return g;
            }
        }
        return null;
    }

    @Override
    public void inherit(Balancer previous) {
        for (Balancer g : groups) {
            if (previous instanceof PriorityBalancer pp) {
                for (Balancer old : pp.groups) {
                    g.inherit(old);
                }
            } else {
                g.inherit(previous);
            }
        }
    }
}
