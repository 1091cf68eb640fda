package io.turnpike.engine.upstream;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A weighted consistent-hash ring (ketama style) over one target's nodes: built once per snapshot per target,
 * immutable, shared by all loops.
 *
 * <p>Each node with a positive weight gets {@code 160 × weight / gcd(weights)} points (scaled down proportionally,
 * at least one each, when the ring would exceed {@link #MAX_POINTS}). A node's points derive from its
 * {@code "host:port"} key and the point number only, never from its position or from the other nodes, so adding or
 * removing a node moves only the keys that land on that node's arcs (about 1/n of them). The gcd keeps the common
 * "every node weight 100" ring small; the price is that a change of the gcd (e.g. all weights 2, then a node of
 * weight 1 is added) re-derives point counts and moves more keys than 1/n.
 *
 * <p>A point is packed as {@code (hash32 << 32) | position} in a sorted {@code long[]}: lookup is one
 * {@link Arrays#binarySearch(long[], long)}, allocation-free.
 */
public final class ChashRing {
    public static final int POINTS_PER_WEIGHT = 160;
    public static final int MAX_POINTS = 1 << 16;

    final long[] points;
    final int pickable;

    public ChashRing(NodeAddress[] nodes) {
        long g = 0, units = 0;
        int positive = 0;
        for (NodeAddress n : nodes) {
            if (n.weight > 0) {
                g = gcd(g, n.weight);
                positive++;
            }
        }
        this.pickable = positive;
        if (positive == 0) {
            this.points = new long[0];
            return;
        }
        for (NodeAddress n : nodes) {
            if (n.weight > 0) {
                units += n.weight / g;
            }
        }
        double perUnit = Math.min(POINTS_PER_WEIGHT, (double) MAX_POINTS / units);
        int[] counts = new int[nodes.length];
        int total = 0;
        for (int i = 0; i < nodes.length; i++) {
            if (nodes[i].weight > 0) {
                counts[i] = (int) Math.max(1, Math.round(nodes[i].weight / g * perUnit));
                total += counts[i];
            }
        }
        long[] p = new long[total];
        int k = 0;
        for (int i = 0; i < nodes.length; i++) {
            if (counts[i] == 0) {
                continue;
            }
            long base = KeyHash.hash(nodes[i].key.getBytes(StandardCharsets.UTF_8));
            for (int r = 0; r < counts[i]; r++) {
                int h = (int) (KeyHash.fmix64(base + (r + 1) * KeyHash.P1) >>> 32);
                p[k++] = ((long) h << 32) | i;
            }
        }
        Arrays.sort(p);
        this.points = p;
    }

    /**
     * Rings already built in one compile, by their nodes' keys and weights in order (a ring depends on nothing else):
     * targets with the same nodes (many inline upstreams of one backend pool) share one immutable ring instead of
     * each building and holding its own. Confined to the thread that compiles; dropped after the compile.
     */
    public static final class Cache {
        private final java.util.HashMap<String, ChashRing> rings = new java.util.HashMap<>();
        private final StringBuilder sig = new StringBuilder();

        ChashRing ring(NodeAddress[] nodes) {
            sig.setLength(0);
            for (NodeAddress n : nodes) {
                sig.append(n.key).append('\u0000').append(n.weight).append('\n');
            }
            return rings.computeIfAbsent(sig.toString(), k -> new ChashRing(nodes));
        }

        public void clear() {
            rings.clear();
        }
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    public int size() {
        return points.length;
    }

    /** Index of the first point at or after {@code keyHash} on the ring (wrapping); the ring must not be empty. */
    int lookup(long keyHash) {
        long probe = (long) (int) (keyHash >>> 32) << 32;
        int i = Arrays.binarySearch(points, probe);
        if (i < 0) {
            i = -i - 1;
        }
        return i == points.length ? 0 : i;
    }

    /** Node position owning point {@code i}. */
    int owner(int i) {
        return (int) points[i];
    }
}
