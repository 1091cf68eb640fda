package io.turnpike.engine.upstream;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

/**
 * APISIX {@code chash}: the node owning the key's arc of a {@link ChashRing}. Stateless and immutable (the ring and the
 * key are), so one instance serves every loop. A missing key falls back to {@code remote_addr}, as APISIX does. Retries
 * walk the ring clockwise from the key's point to the next untried node, like resty.chash's {@code next}.
 */
public final class ConsistentHashBalancer implements Balancer {
    private final NodeAddress[] nodes;
    private final ChashRing ring;
    private final ChashKey key;

    public ConsistentHashBalancer(NodeAddress[] nodes, ChashRing ring, ChashKey key) {
        this.nodes = nodes;
        this.ring = ring;
        this.key = key;
    }

    @Override
    public NodeAddress[] nodes() {
        return nodes;
    }

    @Override
    public String type() {
        return "chash";
    }

    public ChashKey key() {
        return key;
    }

    public ChashRing ring() {
        return ring;
    }

    /** The hash the request would be placed by (the key's, or remote_addr's when the key is missing). */
    public long keyHash(ByteBuf buf, RequestHead head, BalancerInput in) {
        long h = buf != null && head != null ? key.hash(buf, head, in) : ChashKey.MISSING;
        return h != ChashKey.MISSING ? h : ChashKey.remoteHash(in);
    }

    @Override
    public NodeAddress pickExcluding(ByteBuf buf, RequestHead head, BalancerInput in, long triedMask) {
        if (ring.pickable == 0) {
            return null;
        }
        long h;
        if ((triedMask != 0 || in != null && in.reuseKeyHash) && in != null && in.keyHashValid) {
            h = in.keyHash;
        } else {
            h = keyHash(buf, head, in);
            if (in != null) {
                in.keyHash = h;
                in.keyHashValid = true;
            }
        }
        int i = ring.lookup(h);
        if (triedMask == 0) {
            return nodes[ring.owner(i)];
        }
        if (allTried(triedMask)) {
            return null;
        }
        long[] pts = ring.points;
        for (int k = 0; k < pts.length; k++) {
            int o = ring.owner(i);
            if ((triedMask & (1L << o)) == 0) {
                return nodes[o];
            }
            if (++i == pts.length) {
                i = 0;
            }
        }
        return null;
    }

    private boolean allTried(long triedMask) {
        for (int i = 0; i < nodes.length; i++) {
            if (nodes[i].weight > 0 && (triedMask & (1L << i)) == 0) {
                return false;
            }
        }
        return true;
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
}
