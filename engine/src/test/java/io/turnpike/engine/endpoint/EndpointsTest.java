package io.turnpike.engine.endpoint;

import io.turnpike.engine.upstream.Balancer;
import io.turnpike.engine.upstream.BalancerInput;
import io.turnpike.engine.upstream.Balancers;
import io.turnpike.engine.upstream.NodeAddress;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Priority groups, health and retries over an upstream's endpoints, as APISIX's priority balancer and health filter. */
class EndpointsTest {
    private static NodeAddress node(int port, int weight, int priority) {
        String key = "127.0.0.1:" + port;
        return new NodeAddress(key, new InetSocketAddress("127.0.0.1", port), key.getBytes(StandardCharsets.US_ASCII),
                weight, -1, key, priority);
    }

    private static Map<Integer, Integer> picks(Balancer b, int n) {
        Map<Integer, Integer> m = new HashMap<>();
        for (int i = 0; i < n; i++) {
            NodeAddress a = b.pick(null, null, new BalancerInput());
            m.merge(a == null ? -1 : a.address.getPort(), 1, Integer::sum);
        }
        return m;
    }

    @Test
    void requestsGoToTheHighestPriorityOnly() {
        NodeAddress a = node(1, 1, 10), b = node(2, 3, 10), c = node(3, 100, 0);
        Endpoints e = new EndpointSlot("upstreams/1", new NodeAddress[] {a, b, c}, Balancers.ROUNDROBIN, null, null,
                null).current();
        assertEquals(2, e.priorities().length);
        assertEquals(10, e.priorities()[0]);
        Map<Integer, Integer> m = picks(e.newBalancer(), 400);
        assertEquals(100, m.get(1)); // weights 1:3 within the group
        assertEquals(300, m.get(2));
        assertNull(m.get(3), "the lower priority gets nothing while the higher has nodes");
    }

    @Test
    void aRetryMovesToTheNextPriorityOnceEveryNodeOfTheGroupWasTried() {
        NodeAddress a = node(1, 1, 1), b = node(2, 1, 1), c = node(3, 1, 0), d = node(4, 1, -5);
        Balancer bal = new EndpointSlot("u", new NodeAddress[] {a, b, c, d}, Balancers.ROUNDROBIN, null, null, null)
                .current().newBalancer();
        BalancerInput in = new BalancerInput();
        NodeAddress first = bal.pick(null, null, in);
        long tried = bal.markTried(0, first);
        NodeAddress second = bal.pickExcluding(null, null, in, tried);
        assertTrue(second != first && second.priority == 1, "the other node of priority 1 first");
        tried = bal.markTried(tried, second);
        assertSame(c, bal.pickExcluding(null, null, in, tried), "then priority 0");
        tried = bal.markTried(tried, c);
        assertSame(d, bal.pickExcluding(null, null, in, tried), "then priority -5");
        tried = bal.markTried(tried, d);
        assertNull(bal.pickExcluding(null, null, in, tried), "every node tried");
    }

    @Test
    void downNodesAreLeftOutAndAWholeDownPriorityFailsOver() {
        NodeAddress a = node(1, 1, 1), b = node(2, 1, 1), c = node(3, 1, 0);
        EndpointSlot slot = new EndpointSlot("u", new NodeAddress[] {a, b, c}, Balancers.ROUNDROBIN, null, null, null);
        Endpoints before = slot.current();
        slot.health(a.address, "127.0.0.1", false).join();
        Endpoints e1 = slot.current();
        assertTrue(e1 != before && e1.generation > before.generation);
        assertFalse(e1.isUp(0));
        assertEquals(Map.of(2, 50), picks(e1.newBalancer(), 50));
        slot.health(b.address, "127.0.0.1", false).join();
        assertEquals(Map.of(3, 50), picks(slot.current().newBalancer(), 50), "priority 1 down: the backup takes all");
        slot.health(c.address, "127.0.0.1", false).join();
        Endpoints all = slot.current();
        assertTrue(all.allDown);
        assertEquals(3, all.available(), "nothing healthy: every node is used (APISIX)");
        assertEquals(Map.of(1, 25, 2, 25), picks(all.newBalancer(), 50), "by priority again");
        slot.health(a.address, "127.0.0.1", true).join();
        assertEquals(Map.of(1, 50), picks(slot.current().newBalancer(), 50));
        // A verdict that changes nothing publishes nothing.
        Endpoints same = slot.current();
        slot.health(a.address, "127.0.0.1", true).join();
        assertSame(same, slot.current());
    }

    @Test
    void healthIsKeptAcrossNodeEditsAndDiscoveredNodesJoinTheSet() {
        NodeAddress a = node(1, 1, 0), b = node(2, 1, 0);
        EndpointSlot slot = new EndpointSlot("u", new NodeAddress[] {a, b}, Balancers.ROUNDROBIN, null, null, null);
        slot.health(a.address, "127.0.0.1", false).join();
        NodeAddress a2 = node(1, 5, 0), c = node(3, 1, 0);
        slot.configured(new NodeAddress[] {a2, c}).join();
        assertEquals(Map.of(3, 20), picks(slot.current().newBalancer(), 20), "a is still down after the edit");
        NodeAddress d = node(4, 1, 0);
        slot.discovered("svc.test", new NodeAddress[] {d}).join();
        assertEquals(3, slot.current().nodes.length);
        assertEquals(Map.of(3, 10, 4, 10), picks(slot.current().newBalancer(), 20));
        slot.discovered("svc.test", null).join();
        assertEquals(2, slot.current().nodes.length);
    }

    @Test
    void chashKeepsTheKeyWhenARetryMovesToALowerPriority() {
        NodeAddress a = node(1, 1, 1), b = node(2, 1, 0), c = node(3, 1, 0), d = node(4, 1, 0);
        Balancer bal = new EndpointSlot("u", new NodeAddress[] {a, b, c, d}, Balancers.CHASH, "vars", "remote_addr",
                null).current().newBalancer();
        for (int i = 0; i < 50; i++) {
            BalancerInput in = new BalancerInput();
            in.remoteAddr(("10.0.0." + i).getBytes(StandardCharsets.US_ASCII));
            NodeAddress first = bal.pick(null, null, in);
            assertSame(a, first);
            NodeAddress retry = bal.pickExcluding(null, null, in, bal.markTried(0, first));
            // the same key as a fresh pick over the backup group alone would give
            Balancer backup = Balancers.create(Balancers.CHASH, new NodeAddress[] {b, c, d}, "vars", "remote_addr");
            BalancerInput in2 = new BalancerInput();
            in2.remoteAddr(("10.0.0." + i).getBytes(StandardCharsets.US_ASCII));
            assertSame(backup.pick(null, null, in2), retry, "key " + i);
        }
    }

    @Test
    void aRebuiltBalancerKeepsTheRotationOfTheNodesItKeeps() {
        NodeAddress a = node(1, 5, 0), b = node(2, 1, 0), c = node(3, 1, 0);
        EndpointSlot slot = new EndpointSlot("u", new NodeAddress[] {a, b, c}, Balancers.ROUNDROBIN, null, null, null);
        Balancer first = slot.current().newBalancer();
        StringBuilder seq = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            seq.append(first.pick(null, null, new BalancerInput()).address.getPort());
        }
        // A verdict that changes nothing about these nodes' membership (another node joins, down): a new Endpoints.
        NodeAddress d = node(4, 1, 0);
        slot.configured(new NodeAddress[] {a, b, c, d}).join();
        slot.health(d.address, "127.0.0.1", false).join();
        Balancer next = slot.current().newBalancer();
        next.inherit(first);
        for (int i = 0; i < 4; i++) {
            seq.append(next.pick(null, null, new BalancerInput()).address.getPort());
        }
        assertEquals("1121311", seq.toString(), "nginx's 5,1,1 sequence a a b a c a a continues across the rebuild");
    }
}
