package io.turnpike.engine.prometheus;

import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.upstream.NodeAddress;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * One event loop's prometheus series: plain arrays written only by that loop, read racily by the exporter's thread.
 *
 * <p>Two tables. An <em>exchange series</em> is keyed by (route id, node key, consumer name, prefer_name) and holds
 * the three latency histograms (request, upstream, apisix: one count per bucket, +Inf included, and a sum in
 * microseconds) and the two bandwidth counters; a <em>status series</em> is keyed by (exchange series, status code)
 * and holds one count. Both are found through chained hash tables of int indexes whose keys hash with the Strings'
 * cached hash codes: no allocation, no lock, no atomic read-modify-write on the request path. The route's labels
 * (name, service, uri, host) are read from the {@link CompiledRoute} at scrape time, not per request.
 *
 * <p>Bounded: at most {@code maxSeries} exchange series and as many status series; beyond, exchanges count in the
 * overflow series (exchange slot 0, route {@code __overflow__}) and status counts in its per-code array. Arrays grow
 * by doubling up to the cap (allocation only when a new label combination first appears beyond the current size).
 *
 * <p>Expiry: the exporter marks a series whose route has left the latest snapshot after rendering it
 * ({@link #markDead}); the loop frees marked series on its next {@link #expire} tick, so a deleted route's series
 * appears in exactly one more scrape.
 *
 * <p>Concurrent reading: each slot has a generation, odd while free, even while live. The loop writes a new series'
 * keys and zeroed values, then publishes an even generation with a release store; it frees a slot by an odd
 * generation. The reader reads the generation (acquire), the slot, then the generation again, and skips the slot when
 * it changed (a seqlock without atomics). Counter values themselves are plain, monotonic longs.
 */
public final class LoopSeries {
    static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

    /** Latency types, APISIX's {@code type} label values. */
    static final int REQUEST = 0;
    static final int UPSTREAM = 1;
    static final int APISIX = 2;
    static final String[] TYPES = {"request", "upstream", "apisix"};

    /** The route of the overflow series. */
    public static final String OVERFLOW_ROUTE = "__overflow__";

    final long[] boundsNs;
    /** Longs per bucket row: one per bucket plus +Inf. */
    final int rowLen;
    /** Longs per exchange series: 3 histogram rows, 3 sums (us), ingress and egress bytes. */
    final int stride;
    final int sumOff;
    final int ingressOff;
    final int egressOff;
    final int maxSeries;

    // ---- exchange series (slot 0: overflow) ----
    private final int[] heads;
    private final int mask;
    int[] next;
    int[] gen;
    String[] routeIds;
    CompiledRoute[] routes;
    NodeAddress[] nodes;
    String[] consumers;
    boolean[] preferName;
    long[] data;
    /** Written by the reader: the generation it found dead, per slot (0: none). */
    volatile int[] deadMarks;
    int used = 1;
    private int freeHead = -1;

    // ---- status series ----
    private final int[] sHeads;
    int[] sNext;
    int[] sGen;
    int[] sParent;
    int[] sParentGen;
    int[] sCode;
    long[] sCount;
    int sUsed;
    private int sFreeHead = -1;
    /** Status counts of exchanges beyond the status cap, by code (0..999), labelled as the overflow series. */
    final long[] overflowCodes = new long[1000];

    /** @param bucketsMs upper bounds in milliseconds, increasing */
    public LoopSeries(double[] bucketsMs, int maxSeries) {
        boundsNs = new long[bucketsMs.length];
        for (int i = 0; i < bucketsMs.length; i++) {
            boundsNs[i] = (long) (bucketsMs[i] * 1_000_000d);
        }
        rowLen = bucketsMs.length + 1;
        sumOff = 3 * rowLen;
        ingressOff = sumOff + 3;
        egressOff = ingressOff + 1;
        stride = egressOff + 1;
        this.maxSeries = maxSeries;
        int h = Integer.highestOneBit(Math.max(16, maxSeries * 2 - 1)) << 1;
        heads = new int[h];
        Arrays.fill(heads, -1);
        mask = h - 1;
        sHeads = new int[h];
        Arrays.fill(sHeads, -1);
        int initial = Math.min(maxSeries, 256);
        next = new int[initial];
        gen = new int[initial];
        Arrays.fill(gen, 1);
        routeIds = new String[initial];
        routes = new CompiledRoute[initial];
        nodes = new NodeAddress[initial];
        consumers = new String[initial];
        preferName = new boolean[initial];
        data = new long[initial * stride];
        deadMarks = new int[initial];
        routeIds[0] = OVERFLOW_ROUTE;
        consumers[0] = "";
        INTS.setRelease(gen, 0, 2);
        sNext = new int[initial];
        sGen = new int[initial];
        Arrays.fill(sGen, 1);
        sParent = new int[initial];
        sParentGen = new int[initial];
        sCode = new int[initial];
        sCount = new long[initial];
    }

    /** Records one completed exchange. On the loop; no allocation in the steady state. */
    public void record(CompiledRoute route, NodeAddress node, String consumer, boolean prefer, int status,
                       long requestNs, long upstreamNs, long requestBytes, long responseBytes) {
        int s = find(route, node, consumer, prefer);
        long[] d = data;
        int base = s * stride;
        observe(d, base, REQUEST, requestNs);
        if (upstreamNs >= 0) {
            observe(d, base, UPSTREAM, upstreamNs);
            observe(d, base, APISIX, Math.max(0, requestNs - upstreamNs));
        } else {
            observe(d, base, APISIX, requestNs);
        }
        d[base + ingressOff] += requestBytes;
        d[base + egressOff] += responseBytes;
        countStatus(s, status);
    }

    private void observe(long[] d, int base, int type, long ns) {
        long[] b = boundsNs;
        int i = 0;
        while (i < b.length && ns > b[i]) {
            i++;
        }
        d[base + type * rowLen + i]++;
        d[base + sumOff + type] += ns / 1000;
    }

    private static int hash(String routeId, NodeAddress node, String consumer) {
        int h = routeId == null ? 0 : routeId.hashCode();
        h = h * 31 + (node == null ? 0 : node.key.hashCode());
        h = h * 31 + (consumer == null ? 0 : consumer.hashCode());
        return h ^ (h >>> 16);
    }

    private int find(CompiledRoute route, NodeAddress node, String consumer, boolean prefer) {
        String routeId = route == null ? null : route.id;
        int b = hash(routeId, node, consumer) & mask;
        for (int s = heads[b]; s >= 0; s = next[s]) {
            if (prefer == preferName[s] && same(routeIds[s], routeId) && sameNode(nodes[s], node)
                    && same(consumers[s], consumer)) {
                if (route != null && routes[s] != route) {
                    routes[s] = route; // recompiled: labels from the newest
                }
                return s;
            }
        }
        return add(b, route, routeId, node, consumer, prefer);
    }

    private static boolean same(String a, String b) {
        return a == b || (a != null && a.equals(b));
    }

    private static boolean sameNode(NodeAddress a, NodeAddress b) {
        return a == b || (a != null && b != null && a.key.equals(b.key));
    }

    private int add(int b, CompiledRoute route, String routeId, NodeAddress node, String consumer, boolean prefer) {
        int s;
        if (freeHead >= 0) {
            s = freeHead;
            freeHead = next[s];
        } else if (used < maxSeries) {
            if (used == gen.length) {
                grow(Math.min(maxSeries, gen.length * 2));
            }
            s = used++;
        } else {
            return 0;
        }
        routeIds[s] = routeId;
        routes[s] = route;
        nodes[s] = node;
        consumers[s] = consumer;
        preferName[s] = prefer;
        Arrays.fill(data, s * stride, (s + 1) * stride, 0L);
        next[s] = heads[b];
        heads[b] = s;
        INTS.setRelease(gen, s, (int) INTS.get(gen, s) + 1); // even: live
        return s;
    }

    private void grow(int n) {
        next = Arrays.copyOf(next, n);
        int old = gen.length;
        int[] g = Arrays.copyOf(gen, n);
        Arrays.fill(g, old, n, 1);
        routeIds = Arrays.copyOf(routeIds, n);
        routes = Arrays.copyOf(routes, n);
        nodes = Arrays.copyOf(nodes, n);
        consumers = Arrays.copyOf(consumers, n);
        preferName = Arrays.copyOf(preferName, n);
        data = Arrays.copyOf(data, n * stride);
        deadMarks = Arrays.copyOf(deadMarks, n);
        gen = g; // last: a reader that sees the new gen array sees the grown key arrays too (racy but monotone)
    }

    private void countStatus(int parent, int code) {
        int key = parent * 1000 + code;
        int b = (key ^ (key >>> 16)) * 0x9E3779B1 >>> 1 & mask;
        for (int s = sHeads[b]; s >= 0; s = sNext[s]) {
            if (sParent[s] == parent && sCode[s] == code) {
                sCount[s]++;
                return;
            }
        }
        int s;
        if (sFreeHead >= 0) {
            s = sFreeHead;
            sFreeHead = sNext[s];
        } else if (sUsed < maxSeries) {
            if (sUsed == sGen.length) {
                growStatus(Math.min(maxSeries, sGen.length * 2));
            }
            s = sUsed++;
        } else {
            overflowCodes[code]++;
            return;
        }
        sParent[s] = parent;
        sParentGen[s] = (int) INTS.get(gen, parent);
        sCode[s] = code;
        sCount[s] = 1;
        sNext[s] = sHeads[b];
        sHeads[b] = s;
        INTS.setRelease(sGen, s, (int) INTS.get(sGen, s) + 1);
    }

    private void growStatus(int n) {
        sNext = Arrays.copyOf(sNext, n);
        int old = sGen.length;
        int[] g = Arrays.copyOf(sGen, n);
        Arrays.fill(g, old, n, 1);
        sParent = Arrays.copyOf(sParent, n);
        sParentGen = Arrays.copyOf(sParentGen, n);
        sCode = Arrays.copyOf(sCode, n);
        sCount = Arrays.copyOf(sCount, n);
        sGen = g;
    }

    /** Reader side: marks exchange series {@code s} (seen live with generation {@code g}) for removal. */
    void markDead(int s, int g) {
        int[] m = deadMarks;
        if (s < m.length) {
            m[s] = g;
        }
    }

    /** On the loop: frees the series the reader marked (and their status series). Returns how many were freed. */
    public int expire() {
        int[] m = deadMarks;
        int freed = 0;
        int n = Math.min(used, m.length);
        for (int s = 1; s < n; s++) {
            int mark = m[s];
            if (mark == 0) {
                continue;
            }
            m[s] = 0;
            int g = (int) INTS.get(gen, s);
            if (mark != g || (g & 1) != 0) {
                continue; // a mark for an earlier incarnation of the slot
            }
            unlink(s);
            INTS.setRelease(gen, s, g + 1); // odd: free
            routeIds[s] = null;
            routes[s] = null;
            nodes[s] = null;
            consumers[s] = null;
            next[s] = freeHead;
            freeHead = s;
            freed++;
        }
        if (freed > 0) {
            for (int t = 0; t < sUsed; t++) {
                int g = (int) INTS.get(sGen, t);
                if ((g & 1) == 0 && (int) INTS.get(gen, sParent[t]) != sParentGen[t]) {
                    unlinkStatus(t);
                    INTS.setRelease(sGen, t, g + 1);
                    sNext[t] = sFreeHead;
                    sFreeHead = t;
                }
            }
        }
        return freed;
    }

    private void unlink(int s) {
        int b = hash(routeIds[s], nodes[s], consumers[s]) & mask;
        int prev = -1;
        for (int x = heads[b]; x >= 0; prev = x, x = next[x]) {
            if (x == s) {
                if (prev < 0) {
                    heads[b] = next[x];
                } else {
                    next[prev] = next[x];
                }
                return;
            }
        }
    }

    private void unlinkStatus(int t) {
        int key = sParent[t] * 1000 + sCode[t];
        int b = (key ^ (key >>> 16)) * 0x9E3779B1 >>> 1 & mask;
        int prev = -1;
        for (int x = sHeads[b]; x >= 0; prev = x, x = sNext[x]) {
            if (x == t) {
                if (prev < 0) {
                    sHeads[b] = sNext[x];
                } else {
                    sNext[prev] = sNext[x];
                }
                return;
            }
        }
    }
}
