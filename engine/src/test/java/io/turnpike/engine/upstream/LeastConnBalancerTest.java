package io.turnpike.engine.upstream;

import org.junit.jupiter.api.Test;

import static io.turnpike.engine.upstream.BalancerTestSupport.nodes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class LeastConnBalancerTest {
    @Test
    void prefersTheIdleNode() {
        NodeAddress[] n = nodes(1, 1, 1);
        Balancer b = Balancers.create("least_conn", n, null, null);
        b.onRequestStart(n[0]);
        b.onRequestStart(n[0]);
        b.onRequestStart(n[2]);
        assertSame(n[1], b.pick(null, null, null));
        b.onRequestStart(n[1]);
        b.onRequestStart(n[1]);
        // now 2,2,1
        assertSame(n[2], b.pick(null, null, null));
        b.onRequestEnd(n[0], 1_000, false);
        b.onRequestEnd(n[0], 1_000, false);
        assertSame(n[0], b.pick(null, null, null));
    }

    @Test
    void tiesAreBrokenRoundRobin() {
        NodeAddress[] n = nodes(1, 1, 1);
        Balancer b = Balancers.create("least_conn", n, null, null);
        StringBuilder seq = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            NodeAddress a = b.pick(null, null, null);
            seq.append(a.index);
            b.onRequestStart(a);
            b.onRequestEnd(a, 1, false); // always idle again: every pick is a tie
        }
        assertEquals("012012", seq.toString());
    }

    @Test
    void respectsWeights() {
        NodeAddress[] n = nodes(3, 1, 0);
        LeastConnBalancer b = (LeastConnBalancer) Balancers.create("least_conn", n, null, null);
        for (int i = 0; i < 400; i++) {
            NodeAddress a = b.pick(null, null, null);
            b.onRequestStart(a); // long-running requests: nothing ends
        }
        assertEquals(300, b.inFlight(n[0]));
        assertEquals(100, b.inFlight(n[1]));
        assertEquals(0, b.inFlight(n[2]), "weight 0 is never picked");
    }

    @Test
    void endsNeverDriveCountsNegativeAndEmptyIsNull() {
        NodeAddress[] n = nodes(1, 1);
        LeastConnBalancer b = (LeastConnBalancer) Balancers.create("least_conn", n, null, null);
        b.onRequestEnd(n[0], 1, true);
        assertEquals(0, b.inFlight(n[0]));
        b.onRequestStart(BalancerTestSupport.node("10.9.9.9:80", 1, 7)); // a node of another target: ignored
        assertNull(Balancers.create("least_conn", nodes(0, 0), null, null).pick(null, null, null));
    }
}
