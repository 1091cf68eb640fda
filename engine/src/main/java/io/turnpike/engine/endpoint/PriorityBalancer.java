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
    /** Each node's group, for the start/end hooks of least_conn and ewma (lookups allocate nothing). */
    private final java.util.IdentityHashMap<NodeAddress, Balancer> groupOfNode;
    /** Whether the groups keep per-request state (least_conn, ewma): the hooks are skipped otherwise. */
    private final boolean tracks;

    PriorityBalancer(Balancer[] groups) {
        this.groups = groups;
        this.offsets = new int[groups.length];
        int n = 0;
        for (int i = 0; i < groups.length; i++) {
            offsets[i] = n;
            n += groups[i].nodes().length;
        }
        all = new NodeAddress[n];
        groupOfNode = new java.util.IdentityHashMap<>(n * 2);
        for (int i = 0; i < groups.length; i++) {
            System.arraycopy(groups[i].nodes(), 0, all, offsets[i], groups[i].nodes().length);
            for (NodeAddress a : groups[i].nodes()) {
                groupOfNode.put(a, groups[i]);
            }
        }
        String t = groups.length == 0 ? "" : groups[0].type();
        tracks = io.turnpike.engine.upstream.Balancers.LEAST_CONN.equals(t)
                || io.turnpike.engine.upstream.Balancers.EWMA.equals(t);
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
        Balancer b = groupOfNode.get(node);
        if (b == null) {
            return -1;
        }
        for (int g = 0; g < groups.length; g++) {
            if (groups[g] == b) {
                int p = b.positionOf(node);
                return p < 0 ? -1 : offsets[g] + p;
            }
        }
        return -1;
    }

    @Override
    public void onRequestStart(NodeAddress node) {
        if (!tracks) {
            return;
        }
        Balancer b = groupOfNode.get(node);
        if (b != null) {
            b.onRequestStart(node);
        }
    }

    @Override
    public void onRequestEnd(NodeAddress node, long latencyNs, boolean failed) {
        if (!tracks) {
            return;
        }
        Balancer b = groupOfNode.get(node);
        if (b != null) {
            b.onRequestEnd(node, latencyNs, failed);
        }
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
