package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.snapshot.SnapshotCompiler;
import io.turnpike.engine.upstream.NodeAddress;
import io.turnpike.engine.upstream.NodePool;

import java.util.ArrayList;

/**
 * The real proxy handlers on two {@link EmbeddedChannel}s sharing one loop, with no network: a downstream channel
 * running {@link Http1ServerConnection} and a pooled upstream channel running {@link UpstreamConnection}. Bytes written
 * into the downstream come out of {@link #upstream()} as the forwarded request; bytes written into the upstream come
 * out of {@link #downstream()} as the relayed response. Used by the JMH pipeline benchmark (the gateway's own cost per
 * request with the network excluded) and by handler tests.
 *
 * <p>Single-threaded, like everything on a loop. Every buffer read back from either channel is owned by the caller.
 */
public final class EmbeddedProxy implements AutoCloseable {
    private final EmbeddedChannel downstream;
    private final EmbeddedChannel upstream;
    private final LoopContext loop;

    /**
     * @param config a configuration whose routes all point at nodes of one upstream; the first node gets the embedded
     *               upstream connection in its pool
     */
    public EmbeddedProxy(ConfigSet config, EngineSettings settings) {
        this(config, settings, null);
    }

    /**
     * @param channelTicker the clock of the two channels' embedded event loops, null for the system clock. An
     *                      {@link EmbeddedChannel} runs its loop's due scheduled tasks after every write, flush and
     *                      inbound flush, and reads that clock each time (about seven readings per proxied exchange).
     *                      Nothing of the proxy is scheduled there (the sweeper is not started), so those readings
     *                      are the harness's own cost: the JMH pipeline benchmarks pass a frozen
     *                      {@code Ticker.newMockTicker()} to leave them out. The handlers' own clock
     *                      ({@link io.turnpike.engine.loop.DispatchClock}) reads {@link System#nanoTime()} either way.
     */
    public EmbeddedProxy(ConfigSet config, EngineSettings settings, io.netty.util.concurrent.Ticker channelTicker) {
        downstream = channel(channelTicker);
        downstream.config().setOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT);
        loop = new LoopContext(0, downstream.eventLoop(), settings, NioSocketChannel.class,
                PooledByteBufAllocator.DEFAULT);
        Snapshot snapshot = new SnapshotCompiler(settings).compile(config, new ArrayList<>());
        loop.apply(snapshot);
        NodeAddress node = snapshot.nodes[0];
        NodePool<UpstreamConnection> pool = loop.pool(node);
        UpstreamConnection uc = new UpstreamConnection(loop, pool, snapshot.targets[0].readTimeoutNs,
                snapshot.targets[0].sendTimeoutNs,
                snapshot.targets[0].idleTimeoutNs, Integer.MAX_VALUE);
        upstream = channel(channelTicker);
        upstream.config().setOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT);
        upstream.pipeline().addLast(uc);
        // EmbeddedChannels are active before handlers are added: replay the activation the handlers rely on.
        upstream.pipeline().fireChannelActive();
        pool.release(uc, System.nanoTime());
        downstream.pipeline().addLast(new Http1ServerConnection(loop));
        downstream.pipeline().fireChannelActive();
    }

    private static EmbeddedChannel channel(io.netty.util.concurrent.Ticker ticker) {
        return ticker == null ? new EmbeddedChannel() : EmbeddedChannel.builder().ticker(ticker).build();
    }

    public EmbeddedChannel downstream() {
        return downstream;
    }

    public EmbeddedChannel upstream() {
        return upstream;
    }

    public LoopContext loop() {
        return loop;
    }

    /** Client bytes in (ownership passes to the proxy). */
    public void clientWrites(ByteBuf bytes) {
        // writeOneInbound + flushInbound: writeInbound(Object...) would allocate a varargs array per call.
        downstream.writeOneInbound(bytes, downstream.voidPromise());
        if (downstream.isOpen()) {
            downstream.flushInbound(); // fires channelReadComplete; on a closed channel it would record an error
        }
    }

    /** Upstream bytes in (ownership passes to the proxy). */
    public void upstreamWrites(ByteBuf bytes) {
        upstream.writeOneInbound(bytes, upstream.voidPromise());
        if (upstream.isOpen()) {
            upstream.flushInbound();
        }
    }

    @Override
    public void close() {
        downstream.finishAndReleaseAll();
        upstream.finishAndReleaseAll();
    }
}
