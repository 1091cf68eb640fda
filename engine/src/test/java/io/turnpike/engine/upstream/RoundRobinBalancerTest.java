package io.turnpike.engine.upstream;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static io.turnpike.engine.upstream.BalancerTestSupport.nodes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class RoundRobinBalancerTest {
    @Test
    void smoothInterleaving() {
        NodeAddress[] n = nodes(5, 1, 1);
        Balancer b = Balancers.create("roundrobin", n, null, null);
        StringBuilder seq = new StringBuilder();
        for (int i = 0; i < 7; i++) {
            seq.append((char) ('a' + b.pick(null, null, null).index));
        }
        assertEquals("aabacaa", seq.toString());
    }

    @Test
    void exactProportionsOverEveryFullCycle() {
        NodeAddress[] n = nodes(3, 7, 1, 9);
        Balancer b = Balancers.create(null, n, null, null);
        for (int cycle = 0; cycle < 5; cycle++) {
            int[] c = new int[n.length];
            for (int i = 0; i < 20; i++) {
                c[b.pick(null, null, null).index]++;
            }
            for (int i = 0; i < n.length; i++) {
                assertEquals(n[i].weight, c[i], "cycle " + cycle + " node " + i);
            }
        }
    }

    @Test
    void zeroWeightNeverPickedAndEmptyIsNull() {
        NodeAddress[] n = nodes(0, 2, 0);
        Balancer b = Balancers.create("roundrobin", n, null, null);
        for (int i = 0; i < 10; i++) {
            assertSame(n[1], b.pick(null, null, null));
        }
        assertNull(Balancers.create("roundrobin", nodes(0, 0), null, null).pick(null, null, null));
        assertNull(Balancers.create("roundrobin", new NodeAddress[0], null, null).pick(null, null, null));
    }

    @Test
    void retriesSkipTriedNodesAndKeepProportionsAmongTheRest() {
        NodeAddress[] n = nodes(1, 2, 3);
        Balancer b = Balancers.create("roundrobin", n, null, null);
        long tried = b.markTried(0, n[2]);
        Map<NodeAddress, Integer> c = new HashMap<>();
        for (int i = 0; i < 30; i++) {
            c.merge(b.pickExcluding(null, null, null, tried), 1, Integer::sum);
        }
        assertEquals(10, c.get(n[0]));
        assertEquals(20, c.get(n[1]));
        assertNull(c.get(n[2]));
    }
}
