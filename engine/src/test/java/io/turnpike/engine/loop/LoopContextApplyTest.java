package io.turnpike.engine.loop;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.turnpike.engine.router.RouteTable;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.upstream.Balancer;
import io.turnpike.engine.upstream.Balancers;
import io.turnpike.engine.upstream.NodeAddress;
import io.turnpike.engine.upstream.NodePool;
import io.turnpike.engine.upstream.UpstreamTarget;
import io.turnpike.tls.TlsTable;
import io.turnpike.engine.upstream.UpstreamTls;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LoopContext#apply}: a snapshot derived from the one the loop serves updates only its changed slots and node
 * indexes (unchanged balancers keep their state, unchanged pools their connections); anything else applies whole.
 */
class LoopContextApplyTest {
    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoop loop = group.next();
    private final LoopContext ctx = new LoopContext(0, loop, EngineSettings.defaults(), NioSocketChannel.class,
            PooledByteBufAllocator.DEFAULT);
    private final RouteTable emptyRoutes = new RouteTable.Builder().build();

    @AfterEach
    void down() throws Exception {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private static NodeAddress node(int port, int index) {
        String key = "127.0.0.1:" + port;
        return new NodeAddress(key, new InetSocketAddress("127.0.0.1", port), key.getBytes(StandardCharsets.US_ASCII),
                1, index);
    }

    private static UpstreamTarget target(String id, int slot, NodeAddress... nodes) {
        return new UpstreamTarget(id, slot, nodes, UpstreamTarget.PASS_HOST_PASS, null, 1000, 1_000_000_000L, 4,
                1_000_000_000L, 100, Balancers.compile("roundrobin", nodes, null, null, null), 0);
    }

    private Snapshot snapshot(long version, UpstreamTarget[] targets, NodeAddress[] nodes, long base, int[] slots,
                              int[] indexes) {
        return new Snapshot(version, emptyRoutes, targets, nodes, TlsTable.EMPTY, UpstreamTls.Contexts.EMPTY, base,
                slots, indexes);
    }

    private <T> T onLoop(Callable<T> c) throws Exception {
        return loop.submit(c).get(10, TimeUnit.SECONDS);
    }

    @Test
    void incrementalSnapshotTouchesOnlyChangedSlotsAndNodes() throws Exception {
        NodeAddress n0 = node(1980, 0);
        NodeAddress n1 = node(1981, 1);
        UpstreamTarget a = target("a", 0, n0);
        UpstreamTarget b = target("b", 1, n1);
        Snapshot s1 = snapshot(1, new UpstreamTarget[]{a, b}, new NodeAddress[]{n0, n1}, -1, null, null);
        onLoop(() -> {
            ctx.apply(s1);
            return null;
        });
        Balancer balA = onLoop(() -> ctx.balancer(a));
        Balancer balB = onLoop(() -> ctx.balancer(b));
        NodePool<?> pool0 = onLoop(() -> ctx.pool(n0));
        NodePool<?> pool1 = onLoop(() -> ctx.pool(n1));

        // v2 from v1: b freed (and its node 1), c added in a new slot 2 on a new node at index 2.
        NodeAddress n2 = node(1982, 2);
        UpstreamTarget c = target("c", 2, n2);
        Snapshot s2 = snapshot(2, new UpstreamTarget[]{a, null, c}, new NodeAddress[]{n0, null, n2}, 1,
                new int[]{1, 2}, new int[]{1, 2});
        onLoop(() -> {
            ctx.apply(s2);
            return null;
        });
        assertSame(balA, onLoop(() -> ctx.balancer(a)), "unchanged target keeps its balancer (and its state)");
        assertSame(pool0, onLoop(() -> ctx.pool(n0)), "unchanged node keeps its pool");
        assertNotNull(onLoop(() -> ctx.balancer(c)));
        NodePool<?> pool2 = onLoop(() -> ctx.pool(n2));
        assertNotNull(pool2);
        assertTrue(pool1.isRetired(), "the freed node's pool is retired");
        assertFalse(pool0.isRetired());

        // v3 reuses the freed slot 1 and index 1 for a different node: new balancer, new pool.
        NodeAddress n3 = node(1983, 1);
        UpstreamTarget d = target("d", 1, n3);
        Snapshot s3 = snapshot(3, new UpstreamTarget[]{a, d, c}, new NodeAddress[]{n0, n3, n2}, 2,
                new int[]{1}, new int[]{1});
        onLoop(() -> {
            ctx.apply(s3);
            return null;
        });
        Balancer balD = onLoop(() -> ctx.balancer(d));
        assertNotNull(balD);
        assertNotSame(balB, balD);
        NodePool<?> pool3 = onLoop(() -> ctx.pool(n3));
        assertNotSame(pool1, pool3);
        assertFalse(pool3.isRetired());
        assertSame(pool2, onLoop(() -> ctx.pool(n2)));

        // A snapshot derived from a version this loop does not serve is applied whole.
        Snapshot s5 = snapshot(5, new UpstreamTarget[]{a}, new NodeAddress[]{n0}, 4, new int[0], new int[0]);
        onLoop(() -> {
            ctx.apply(s5);
            return null;
        });
        assertNotSame(balA, onLoop(() -> ctx.balancer(a)), "whole apply: fresh balancers");
        assertSame(pool0, onLoop(() -> ctx.pool(n0)), "whole apply keeps pools of nodes still configured");
        assertTrue(pool2.isRetired() && pool3.isRetired());
        assertNull(onLoop(() -> ctx.snapshot().targets.length > 1 ? ctx.snapshot().targets[1] : null));
    }
    /**
     * An exchange keeps the nodes of the snapshot it pinned; a later snapshot may renumber them. Looking a pinned node
     * up must give that node's pool (or a retired stand-in when the node is gone), never the pool now at its index.
     */
    @Test
    void poolLookupByAPinnedNodeSurvivesRenumbering() throws Exception {
        NodeAddress a0 = node(1990, 0);
        NodeAddress b1 = node(1991, 1);
        UpstreamTarget t1 = target("t", 0, a0, b1);
        Snapshot s1 = snapshot(1, new UpstreamTarget[]{t1}, new NodeAddress[]{a0, b1}, -1, null, null);
        onLoop(() -> {
            ctx.apply(s1);
            return null;
        });
        NodePool<?> poolA = onLoop(() -> ctx.pool(a0));
        // v2 (whole): b gone, c takes index 0 and a moves to index 1.
        NodeAddress c0 = node(1992, 0);
        NodeAddress a1 = node(1990, 1);
        UpstreamTarget t2 = target("t", 0, c0, a1);
        Snapshot s2 = snapshot(2, new UpstreamTarget[]{t2}, new NodeAddress[]{c0, a1}, -1, null, null);
        onLoop(() -> {
            ctx.apply(s2);
            return null;
        });
        assertSame(poolA, onLoop(() -> ctx.pool(a0)), "pinned node a (old index 0) still maps to a's pool");
        assertSame(poolA, onLoop(() -> ctx.pool(a1)));
        NodePool<?> forB = onLoop(() -> ctx.pool(b1));
        assertNotNull(forB, "a node no longer configured still gets a pool");
        assertTrue(forB.key.equals(b1.poolKey) && forB.isRetired(),
                "a removed node's stand-in pool has its key and is retired (its connections close on release)");
        // v3 (whole): a single node at index 0; an exchange pinned to v2's a (index 1) is past the end of the table.
        Snapshot s3 = snapshot(3, new UpstreamTarget[]{target("t", 0, c0)}, new NodeAddress[]{c0}, -1, null, null);
        onLoop(() -> {
            ctx.apply(s3);
            return null;
        });
        NodePool<?> forA = onLoop(() -> ctx.pool(a1));
        assertTrue(forA.key.equals(a1.poolKey) && forA.isRetired());
    }

    /**
     * Issue 16: an upstream of 90,000 nodes used to cost each loop a pool and a map entry per node when applied (140 ms
     * per loop, a stall of every request on it). Pools are now created on first use: applying creates none, a used
     * node gets one pool (the same on every use), and removing the upstream retires only the pools that exist.
     */
    @Test
    void aHugeUpstreamIsAppliedWithoutCreatingAPoolPerNode() throws Exception {
        int n = 90_000;
        NodeAddress[] small = {node(1980, 0)};
        UpstreamTarget a = target("a", 0, small);
        onLoop(() -> {
            ctx.apply(snapshot(1, new UpstreamTarget[]{a}, small, -1, null, null));
            return null;
        });
        NodeAddress[] nodes = new NodeAddress[n + 1];
        nodes[0] = small[0];
        NodeAddress[] bigNodes = new NodeAddress[n];
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            String key = "127.1." + (i >> 8 & 0xff) + "." + (i & 0xff) + ":" + (1000 + (i >> 16));
            nodes[i + 1] = new NodeAddress(key, new InetSocketAddress("127.0.0.1", 1000 + i % 5000),
                    key.getBytes(StandardCharsets.US_ASCII), 1, i + 1);
            bigNodes[i] = nodes[i + 1];
            idx[i] = i + 1;
        }
        UpstreamTarget big = target("big", 1, bigNodes);
        Snapshot s2 = snapshot(2, new UpstreamTarget[]{a, big}, nodes, 1, new int[]{1}, idx);
        long ns = onLoop(() -> {
            long t0 = System.nanoTime();
            ctx.apply(s2);
            return System.nanoTime() - t0;
        });
        System.out.println("apply of an upstream of " + n + " nodes on the loop: " + ns / 1_000_000.0 + " ms");
        assertEquals(0, (int) onLoop(ctx::poolCount), "no pool is created by applying");
        NodePool<?> p5 = onLoop(() -> ctx.pool(bigNodes[5]));
        assertSame(p5, onLoop(() -> ctx.pool(bigNodes[5])));
        assertEquals(bigNodes[5].poolKey, p5.key);
        assertEquals(1, (int) onLoop(ctx::poolCount));
        assertNotNull(onLoop(() -> ctx.balancer(big)));

        // The upstream goes: its one pool is retired; a node of the old snapshot (a retry across the update) gets a
        // retired pool that is not kept.
        Snapshot s3 = snapshot(3, new UpstreamTarget[]{a, null}, java.util.Arrays.copyOf(nodes, 1), 2, new int[]{1},
                new int[0]);
        onLoop(() -> {
            ctx.apply(s3);
            return null;
        });
        assertTrue(p5.isRetired());
        NodePool<?> stale = onLoop(() -> ctx.pool(bigNodes[7]));
        assertTrue(stale.isRetired());
        assertEquals(0, (int) onLoop(ctx::poolCount));
    }
}
