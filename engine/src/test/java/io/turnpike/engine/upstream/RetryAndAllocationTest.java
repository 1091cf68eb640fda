package io.turnpike.engine.upstream;

import io.turnpike.engine.upstream.BalancerTestSupport.Parsed;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import static io.turnpike.engine.upstream.BalancerTestSupport.allocatedBytes;
import static io.turnpike.engine.upstream.BalancerTestSupport.nodes;
import static io.turnpike.engine.upstream.BalancerTestSupport.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Behaviour every balancer shares: retries never repeat a node, and picks allocate nothing. */
class RetryAndAllocationTest {
    private static final String[][] KINDS = {
            {"roundrobin", null, null},
            {"least_conn", null, null},
            {"ewma", null, null},
            {"chash", "vars", "remote_addr"},
            {"chash", "header", "X-User-Id"},
            {"chash", "cookie", "sid"},
            {"chash", "vars", "arg_user"},
            {"chash", "vars_combinations", "$host$uri-$http_x_user_id"},
    };

    private static final String REQUEST = "GET /api/orders?user=u17&x=1 HTTP/1.1\r\nHost: shop.example\r\n"
            + "X-User-Id: 17\r\nCookie: theme=dark; sid=s-17\r\n\r\n";

    @Test
    void retriesNeverRepeatATriedNodeAndEndWithNull() {
        NodeAddress[] n = nodes(1, 3, 0, 2, 1, 5);
        int pickable = 5;
        try (Parsed p = parse(REQUEST)) {
            for (String[] k : KINDS) {
                Balancer b = Balancers.create(k[0], n, k[1], k[2]);
                for (int round = 0; round < 50; round++) {
                    BalancerInput in = new BalancerInput()
                            .remoteAddr(("10.0." + round + ".1").getBytes(StandardCharsets.US_ASCII));
                    Set<NodeAddress> seen = new HashSet<>();
                    long tried = 0;
                    NodeAddress a = b.pick(p.buf, p.head, in);
                    while (a != null) {
                        assertTrue(a.weight > 0, k[0] + " picked a weight-0 node");
                        assertTrue(seen.add(a), k[0] + "/" + k[1] + " repeated " + a + " after " + seen);
                        b.onRequestStart(a);
                        b.onRequestEnd(a, 1_000_000, true);
                        tried = b.markTried(tried, a);
                        a = b.pickExcluding(p.buf, p.head, in, tried);
                    }
                    assertEquals(pickable, seen.size(), k[0] + " stopped before trying every node");
                    assertNull(b.pickExcluding(p.buf, p.head, in, tried));
                }
            }
        }
    }

    @Test
    void moreThan64NodesAliasButNeverRepeat() {
        int[] w = new int[70];
        java.util.Arrays.fill(w, 1);
        NodeAddress[] n = nodes(w);
        for (String[] k : KINDS) {
            Balancer b = Balancers.create(k[0], n, k[1], k[2]);
            Set<NodeAddress> seen = new HashSet<>();
            long tried = 0;
            BalancerInput in = new BalancerInput();
            NodeAddress a = b.pick(null, null, in);
            while (a != null) {
                assertTrue(seen.add(a), k[0] + " repeated " + a);
                tried = b.markTried(tried, a);
                a = b.pickExcluding(null, null, in, tried);
            }
            assertTrue(seen.size() >= 64, k[0] + " tried " + seen.size());
        }
    }

    @Test
    void markTriedIgnoresForeignNodes() {
        Balancer b = Balancers.create("roundrobin", nodes(1, 1), null, null);
        assertEquals(0L, b.markTried(0, BalancerTestSupport.node("10.9.9.9:1", 1, 0)));
        assertEquals(2L, b.markTried(0, b.nodes()[1]));
    }

    @Test
    void picksAllocateNothing() {
        NodeAddress[] n = nodes(5, 1, 3, 2, 4, 1, 1, 2);
        try (Parsed p = parse(REQUEST)) {
            BalancerInput in = new BalancerInput().remoteAddr("192.0.2.33".getBytes(StandardCharsets.US_ASCII));
            for (String[] k : KINDS) {
                Balancer b = Balancers.create(k[0], n, k[1], k[2]);
                loop(b, p, in, 200_000); // warm-up (JIT)
                long before = allocatedBytes();
                loop(b, p, in, 100_000);
                long bytes = allocatedBytes() - before;
                assertTrue(bytes < 100_000, k[0] + "/" + k[1] + "/" + k[2] + ": " + bytes + " bytes over 100,000 picks");
            }
        }
    }

    private static int sink;

    private static void loop(Balancer b, Parsed p, BalancerInput in, int picks) {
        int s = 0;
        for (int i = 0; i < picks; i++) {
            NodeAddress a = b.pick(p.buf, p.head, in);
            b.onRequestStart(a);
            if ((i & 7) == 0) { // a retry now and then
                NodeAddress r = b.pickExcluding(p.buf, p.head, in, b.markTried(0, a));
                s += r.index;
            }
            b.onRequestEnd(a, 1_000_000 + (i & 1023), (i & 255) == 0);
            s += a.index;
        }
        sink += s;
        assertNotNull(b.nodes());
        assertFalse(sink == Integer.MIN_VALUE);
    }
}
