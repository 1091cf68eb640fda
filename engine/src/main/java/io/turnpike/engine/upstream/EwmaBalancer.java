package io.turnpike.engine.upstream;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

/**
 * APISIX {@code ewma}: a peak-sensitive, time-decayed moving average of each node's latency (Finagle's PeakEwma, which
 * APISIX's balancer derives from), picked by power of two choices.
 *
 * <ul>
 *   <li>Score: the average decayed towards 0 with the time since the node's last sample,
 *       {@code ewma·exp(-Δt / 10 s)} (APISIX's score), so a node avoided for a while is probed again.</li>
 *   <li>Sample (at {@link #onRequestEnd}): with {@code w = exp(-Δt / 10 s)}, {@code ewma = score·w + rtt·(1 - w)}; a
 *       sample above the score replaces it at once (peak), so a slowing node is avoided immediately while a faster
 *       one is trusted over the decay time. The first sample sets it.</li>
 *   <li>Failure: the sample becomes {@code max(latency, 2·score, 100 ms)}, so a failing node is avoided until its score
 *       decays (as APISIX's score does, towards 0 with idle time, which is also how an avoided node gets probed again).</li>
 *   <li>Cost: {@code decayed_ewma · (in_flight + 1) / weight}; a node never sampled costs 0 while idle (it is probed
 *       first) and a large penalty while its probe is in flight. The pick draws two distinct eligible nodes at random
 *       (xorshift, per loop) and takes the cheaper.</li>
 * </ul>
 * APISIX ignores weights and in-flight counts for ewma; Turnpike divides by the weight and multiplies by the load
 * (Finagle), which spreads a loop's concurrent requests instead of sending them all to the momentarily fastest node.
 * State is per loop. Confined to one event loop; allocation-free.
 */
public final class EwmaBalancer implements Balancer {
    public static final double DECAY_NS = 10e9;
    public static final long FAILURE_FLOOR_NS = 100_000_000L;
    static final double PROBE_PENALTY = 1e18;

    private final NodeAddress[] nodes;
    private final NanoClock clock;
    private final double[] ewma;
    private final long[] touched;
    private final boolean[] sampled;
    private final int[] inFlight;
    private long rng;
    private int lastPos = -1;

    public EwmaBalancer(NodeAddress[] nodes) {
        this(nodes, NanoClock.SYSTEM, System.nanoTime() ^ System.identityHashCode(nodes));
    }

    public EwmaBalancer(NodeAddress[] nodes, NanoClock clock, long seed) {
        this.nodes = nodes;
        this.clock = clock;
        this.ewma = new double[nodes.length];
        this.touched = new long[nodes.length];
        this.sampled = new boolean[nodes.length];
        this.inFlight = new int[nodes.length];
        this.rng = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
    }

    @Override
    public NodeAddress[] nodes() {
        return nodes;
    }

    @Override
    public String type() {
        return "ewma";
    }

    private int nextInt(int bound) {
        long x = rng;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        rng = x;
        return (int) (((x >>> 32) * bound) >>> 32);
    }

    /** The node's latency score now (ns), decayed towards 0 since its last sample. */
    double score(int i, long now) {
        if (!sampled[i]) {
            return 0;
        }
        long td = Math.max(0, now - touched[i]);
        return ewma[i] * Math.exp(-td / DECAY_NS);
    }

    double cost(int i, long now) {
        double s = score(i, now);
        if (!sampled[i]) {
            return inFlight[i] == 0 ? 0 : PROBE_PENALTY;
        }
        return s * (inFlight[i] + 1) / nodes[i].weight;
    }

    private boolean eligible(int i, long triedMask) {
        return nodes[i].weight > 0 && (triedMask & (1L << i)) == 0;
    }

    private int nth(int ordinal, long triedMask) {
        for (int i = 0; i < nodes.length; i++) {
            if (eligible(i, triedMask) && ordinal-- == 0) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public NodeAddress pickExcluding(ByteBuf buf, RequestHead head, BalancerInput in, long triedMask) {
        int m = 0;
        for (int i = 0; i < nodes.length; i++) {
            if (eligible(i, triedMask)) {
                m++;
            }
        }
        if (m == 0) {
            return null;
        }
        int pick;
        if (m == 1) {
            pick = nth(0, triedMask);
        } else {
            int a = nextInt(m), b = nextInt(m - 1);
            if (b >= a) {
                b++;
            }
            int ia = nth(a, triedMask), ib = nth(b, triedMask);
            long now = clock.nanoTime();
            pick = cost(ib, now) < cost(ia, now) ? ib : ia;
        }
        lastPos = pick;
        return nodes[pick];
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
        if (p < 0) {
            return;
        }
        if (inFlight[p] > 0) {
            inFlight[p]--;
        }
        long now = clock.nanoTime();
        double rtt = Math.max(0, latencyNs);
        if (failed) {
            rtt = Math.max(rtt, Math.max(FAILURE_FLOOR_NS, 2 * score(p, now)));
        }
        if (!sampled[p]) {
            ewma[p] = rtt;
            sampled[p] = true;
        } else {
            // Blend from the decayed score (Finagle: reads decay the average too), so a node that was avoided while
            // its score decayed and is fast again recovers at its first probe; APISIX blends from the stored value.
            double w = Math.exp(-Math.max(0, now - touched[p]) / DECAY_NS);
            double cur = ewma[p] * w;
            ewma[p] = rtt > cur ? rtt : cur * w + rtt * (1 - w);
        }
        touched[p] = now;
    }

    /** The node's current score in ns (tests, metrics). */
    public double score(NodeAddress node) {
        int p = positionOf(node);
        return p < 0 ? 0 : score(p, clock.nanoTime());
    }

    public int inFlight(NodeAddress node) {
        int p = positionOf(node);
        return p < 0 ? 0 : inFlight[p];
    }
}
