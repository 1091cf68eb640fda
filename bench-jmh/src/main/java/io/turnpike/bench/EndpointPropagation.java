package io.turnpike.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import io.turnpike.config.codec.CompileResult;
import io.turnpike.config.codec.ConfigCompiler;
import io.turnpike.config.codec.ConfigEntry;
import io.turnpike.config.codec.ResourceCodec;
import io.turnpike.config.model.ConfigDelta;
import io.turnpike.engine.endpoint.EndpointPublisher;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.snapshot.SnapshotCompiler;
import io.turnpike.engine.snapshot.SnapshotPublisher;
import io.turnpike.engine.upstream.Balancer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * How long an upstream node change takes from the config-sync thread's hands to "every loop balances over the new
 * nodes", at {@code --routes} routes where the upstream is used by every 20th route (2,500 at 50,000): the
 * incremental configuration, the snapshot compile, its publication to the loops, the endpoint commit and every loop's
 * balancer rebuild (what {@code SnapshotUpdater} does for an etcd event, parsing excluded). The same for a change of the
 * upstream's {@code retries}, which recompiles the routes using it, for comparison. Real event loops (NIO), no sockets.
 *
 * <pre>java -cp bench-jmh/target/benchmarks.jar io.turnpike.bench.EndpointPropagation [--routes 50000] [--loops 2]
 *      [--changes 300]</pre>
 */
public final class EndpointPropagation {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        int routes = 50_000, loopsN = 2, changes = 300;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--routes" -> routes = Integer.parseInt(args[++i]);
                case "--loops" -> loopsN = Integer.parseInt(args[++i]);
                case "--changes" -> changes = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(loopsN, NioIoHandler.newFactory());
        try {
            EngineSettings settings = EngineSettings.defaults();
            List<LoopContext> loops = new ArrayList<>();
            int id = 0;
            for (EventExecutor e : group) {
                loops.add(new LoopContext(id++, (EventLoop) e, settings, NioSocketChannel.class,
                        PooledByteBufAllocator.DEFAULT));
            }
            SnapshotPublisher publisher = new SnapshotPublisher(loops);
            SnapshotCompiler snapshots = new SnapshotCompiler(settings);
            snapshots.endpointPublisher(new EndpointPublisher(loops));
            ConfigCompiler configs = new ConfigCompiler(new ResourceCodec(), true);
            List<ConfigEntry> entries = new ArrayList<>();
            entries.add(entry("upstreams", "u1", "{\"nodes\":{\"127.0.0.1:1981\":1,\"127.0.0.1:1982\":1}}"));
            for (int i = 0; i < routes; i++) {
                String up = i % 20 == 0 ? "\"upstream_id\":\"u1\""
                        : "\"upstream\":{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:1980\":1}}";
                entries.add(entry("routes", String.format("r%06d", i), "{\"uri\":\"/r/" + i + "\"," + up + "}"));
            }
            long version = 1;
            CompileResult result = configs.compile(version, entries);
            Snapshot s = snapshots.compile(result.config(), null, new ArrayList<>());
            publisher.publish(s).get(60, TimeUnit.SECONDS);
            System.out.printf("%d routes, upstream u1 used by %d of them, %d event loops%n", s.routes.size(),
                    (routes + 19) / 20, loopsN);
            for (String kind : new String[] {"nodes", "retries", "nodes"}) {
                long[] ns = new long[changes];
                for (int i = 0; i < changes; i++) {
                    String json = kind.equals("nodes")
                            ? "{\"nodes\":{\"127.0.0.1:" + (2000 + i % 50) + "\":1,\"127.0.0.1:1982\":" + (1 + i % 3)
                            + "}}"
                            : "{\"retries\":" + (1 + i % 2) + ",\"nodes\":{\"127.0.0.1:1983\":1}}";
                    ConfigEntry e = entry("upstreams", "u1", json);
                    long from = version;
                    long t0 = System.nanoTime();
                    CompileResult next = configs.applyChanges(result, ++version, Map.of(), Map.of("u1", e));
                    Snapshot inc = snapshots.compile(next.config(), new ConfigDelta(from, Set.of(), Set.of("u1")),
                            new ArrayList<>());
                    publisher.publish(inc).get(10, TimeUnit.SECONDS);
                    ns[i] = System.nanoTime() - t0;
                    if (inc.baseVersion != from) {
                        throw new IllegalStateException("not incremental");
                    }
                    result = next;
                    check(loops, inc, kind, i);
                }
                Arrays.sort(ns);
                System.out.printf("%-8s change: p50 %.3f ms, p99 %.3f ms, max %.3f ms over %d changes (compile + "
                                + "apply on every loop)%n", kind, ns[changes / 2] / 1e6, ns[changes * 99 / 100] / 1e6,
                        ns[changes - 1] / 1e6, changes);
            }
            System.out.printf("node-only updates without a route recompiled: %d%n", snapshots.nodeOnlyUpdates());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** Every loop balances over the new nodes once the publication completed. */
    private static void check(List<LoopContext> loops, Snapshot s, String kind, int i) throws Exception {
        if (!kind.equals("nodes")) {
            return;
        }
        io.turnpike.engine.upstream.UpstreamTarget t = null;
        for (io.turnpike.engine.upstream.UpstreamTarget x : s.targets) {
            if (x != null && x.id.equals("u1")) {
                t = x;
            }
        }
        io.turnpike.engine.upstream.UpstreamTarget target = t;
        for (LoopContext loop : loops) {
            String first = loop.eventLoop.submit(() -> {
                Balancer b = loop.balancer(target);
                return b.nodes()[0].key;
            }).get(5, TimeUnit.SECONDS);
            if (!first.equals("127.0.0.1:" + (2000 + i % 50))) {
                throw new IllegalStateException("loop " + loop.id + " balances over " + first);
            }
        }
    }

    private static ConfigEntry entry(String resource, String id, String json) throws Exception {
        return new ConfigEntry(resource, id, -1, JSON.readTree(json), "/apisix/" + resource + "/" + id, 0, null);
    }
}
