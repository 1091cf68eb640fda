package io.turnpike.engine.upstream;

import io.turnpike.engine.upstream.BalancerTestSupport.FakeClock;
import org.junit.jupiter.api.Test;

import static io.turnpike.engine.upstream.BalancerTestSupport.nodes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EwmaBalancerTest {
    private static final long MS = 1_000_000L;

    /** Runs {@code requests} sequential requests, one every {@code everyMs}; returns picks per node. */
    private static int[] run(EwmaBalancer b, FakeClock clock, int requests, long everyMs, long[] latencyMs) {
        int[] c = new int[b.nodes().length];
        for (int i = 0; i < requests; i++) {
            NodeAddress a = b.pick(null, null, null);
            c[a.index]++;
            b.onRequestStart(a);
            b.onRequestEnd(a, latencyMs[a.index] * MS, false);
            clock.advanceMs(everyMs);
        }
        return c;
    }

    @Test
    void prefersTheFastNodeAfterAFewSamples() {
        NodeAddress[] n = nodes(1, 1, 1);
        FakeClock clock = new FakeClock();
        EwmaBalancer b = new EwmaBalancer(n, clock, 42);
        long[] lat = {50, 2, 80};
        run(b, clock, 10, 1, lat); // warm-up: every node gets probed once
        int[] c = run(b, clock, 1000, 1, lat);
        assertTrue(c[1] > 600, "fast node share " + c[1] + "/1000");
        assertTrue(c[1] > c[0] && c[0] >= c[2], java.util.Arrays.toString(c));
    }

    @Test
    void twoNodesAlwaysTheFaster() {
        NodeAddress[] n = nodes(1, 1);
        FakeClock clock = new FakeClock();
        EwmaBalancer b = new EwmaBalancer(n, clock, 7);
        long[] lat = {40, 1};
        run(b, clock, 4, 1, lat);
        int[] c = run(b, clock, 1000, 1, lat);
        assertEquals(1000, c[1]);
    }

    @Test
    void recoversWhenTheSlowNodeBecomesFast() {
        NodeAddress[] n = nodes(1, 1);
        FakeClock clock = new FakeClock();
        EwmaBalancer b = new EwmaBalancer(n, clock, 3);
        run(b, clock, 100, 10, new long[] {1, 50});
        long[] nowBothFast = {1, 1};
        // The avoided node's score decays towards 0 (10 s decay time): after ln(50) × 10 s ≈ 39 s it drops below the
        // fast node's, gets probed, answers fast and takes its share at once.
        int[] early = run(b, clock, 3_000, 10, nowBothFast);
        assertTrue(early[1] < 100, "still avoided during the first 30 s: " + early[1]);
        run(b, clock, 2_000, 10, nowBothFast);
        int[] c = run(b, clock, 1000, 10, nowBothFast);
        assertTrue(c[1] > 400, "recovered node share " + c[1] + "/1000");
    }

    @Test
    void failuresArePenalised() {
        NodeAddress[] n = nodes(1, 1);
        FakeClock clock = new FakeClock();
        EwmaBalancer b = new EwmaBalancer(n, clock, 11);
        long[] lat = {2, 2};
        run(b, clock, 200, 1, lat);
        b.onRequestStart(n[0]);
        b.onRequestEnd(n[0], 2 * MS, true); // fast but failed
        assertTrue(b.score(n[0]) >= EwmaBalancer.FAILURE_FLOOR_NS * 0.9);
        int[] c = run(b, clock, 500, 1, lat);
        assertEquals(500, c[1]);
    }

    @Test
    void inFlightSpreadsConcurrentRequests() {
        NodeAddress[] n = nodes(1, 1);
        FakeClock clock = new FakeClock();
        EwmaBalancer b = new EwmaBalancer(n, clock, 5);
        run(b, clock, 20, 1, new long[] {10, 10});
        int[] c = new int[2];
        for (int i = 0; i < 100; i++) { // 100 requests in flight at once
            NodeAddress a = b.pick(null, null, null);
            c[a.index]++;
            b.onRequestStart(a);
        }
        assertTrue(Math.abs(c[0] - c[1]) <= 10, java.util.Arrays.toString(c));
    }

    @Test
    void zeroWeightNeverPickedAndEmptyIsNull() {
        NodeAddress[] n = nodes(0, 1, 0);
        EwmaBalancer b = new EwmaBalancer(n, new FakeClock(), 1);
        for (int i = 0; i < 100; i++) {
            assertSame(n[1], b.pick(null, null, null));
        }
        assertNull(new EwmaBalancer(nodes(0, 0), new FakeClock(), 1).pick(null, null, null));
        assertEquals("ewma", Balancers.create("ewma", n, null, null).type());
    }
}
