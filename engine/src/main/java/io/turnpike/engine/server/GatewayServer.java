package io.turnpike.engine.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.PlatformDependent;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.proxy.Http1ServerConnection;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.snapshot.SnapshotPublisher;
import io.turnpike.engine.tls.HttpsListen;
import io.turnpike.tls.TlsHandshakeCounters;
import io.turnpike.tls.TlsSniHandler;
import io.turnpike.tls.TlsTable;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The data plane: one event loop per core (configurable), each with its own {@link LoopContext}; with epoll, every
 * loop binds its own {@code SO_REUSEPORT} listener on every HTTP port, so the kernel spreads connections across loops
 * and a connection lives on the loop that accepted it, together with the upstream connections it opens.
 * With NIO, one acceptor spreads connections round robin.
 *
 * <p>Lifecycle: {@link #start} → serve → {@link #drain} (stop accepting, let in-flight exchanges finish up to a bound,
 * close idle keep-alive connections) → closed.
 */
public final class GatewayServer implements AutoCloseable {
    private final EngineSettings settings;
    private final List<InetSocketAddress> listen;
    private final Transport transport;
    private final MultiThreadIoEventLoopGroup group;
    private final List<LoopContext> loops = new ArrayList<>();
    private final Map<EventLoop, LoopContext> loopsByEventLoop = new IdentityHashMap<>();
    private final List<Channel> listeners = new ArrayList<>();
    private final List<HttpsListen> httpsListen;
    private final java.util.Set<InetSocketAddress> h2c;
    /** HTTPS listeners, in {@link #httpsListen} order (one per loop per port with SO_REUSEPORT). */
    private final List<Channel> httpsListeners = new ArrayList<>();
    private final SnapshotPublisher publisher;
    private final ByteBufAllocator allocator = PooledByteBufAllocator.DEFAULT;
    /** Per loop (index = {@link LoopContext#id}): downstream TLS handshake outcomes, and its TLS table supplier. */
    private final TlsHandshakeCounters[] tlsCounters;
    private final List<Supplier<TlsTable>> tlsTables = new ArrayList<>();

    public GatewayServer(EngineSettings settings, List<InetSocketAddress> listen, int eventLoops, Transport transport) {
        this(settings, listen, List.of(), eventLoops, transport);
    }

    /**
     * {@code https}: the HTTPS listeners ({@code apisix.ssl.listen} when {@code apisix.ssl.enable}); their certificates
     * come from each loop's current snapshot ({@link Snapshot#tls}).
     */
    public GatewayServer(EngineSettings settings, List<InetSocketAddress> listen, List<HttpsListen> https,
                         int eventLoops, Transport transport) {
        this(settings, listen, https, eventLoops, transport, java.util.Set.of());
    }

    /**
     * {@code h2c}: the addresses of {@code listen} (as configured) that also take HTTP/2 with prior knowledge
     * ({@code node_listen[].enable_http2}). HTTP/2 over TLS follows ALPN (the TLS defaults say whether h2 is offered).
     */
    public GatewayServer(EngineSettings settings, List<InetSocketAddress> listen, List<HttpsListen> https,
                         int eventLoops, Transport transport, java.util.Set<InetSocketAddress> h2c) {
        this.h2c = java.util.Set.copyOf(h2c);
        this.settings = settings;
        this.listen = List.copyOf(listen);
        this.httpsListen = List.copyOf(https);
        this.transport = transport;
        int n = eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
        this.group = new MultiThreadIoEventLoopGroup(n, new DefaultThreadFactory("turnpike-loop", true),
                transport.ioHandlerFactory());
        int id = 0;
        for (EventExecutor e : group) {
            EventLoop loop = (EventLoop) e;
            LoopContext ctx = new LoopContext(id++, loop, settings, transport.socketChannel(), allocator);
            loops.add(ctx);
            loopsByEventLoop.put(loop, ctx);
            tlsTables.add(() -> tlsTable(ctx));
        }
        this.tlsCounters = new TlsHandshakeCounters[loops.size()];
        for (int i = 0; i < tlsCounters.length; i++) {
            tlsCounters[i] = new TlsHandshakeCounters();
        }
        this.publisher = new SnapshotPublisher(loops);
        this.endpointPublisher = new io.turnpike.engine.endpoint.EndpointPublisher(loops);
    }

    private final io.turnpike.engine.endpoint.EndpointPublisher endpointPublisher;

    public SnapshotPublisher publisher() {
        return publisher;
    }

    /** Tells the loops about upstream endpoint changes (nodes, health, DNS) made apart from snapshots. */
    public io.turnpike.engine.endpoint.EndpointPublisher endpointPublisher() {
        return endpointPublisher;
    }

    public List<LoopContext> loops() {
        return loops;
    }

    public Transport transport() {
        return transport;
    }

    /** Downstream TLS handshake counters, one per loop (written by that loop only; read racily). */
    public List<TlsHandshakeCounters> tlsCounters() {
        return List.of(tlsCounters);
    }

    /** Binds the listeners. Blocks until bound; throws if a port cannot be bound. */
    public void start() throws InterruptedException {
        for (LoopContext ctx : loops) {
            ctx.start();
        }
        for (InetSocketAddress address : listen) {
            if (transport.reusePort()) {
                InetSocketAddress bindTo = address;
                for (LoopContext ctx : loops) {
                    Channel ch = bootstrap(ctx.eventLoop, ctx.eventLoop, null, h2c.contains(address))
                            .option(UnixChannelOption.SO_REUSEPORT, true)
                            .bind(bindTo).sync().channel();
                    listeners.add(ch);
                    if (bindTo.getPort() == 0) {
                        // Port 0: the other loops join the port the kernel chose for the first one.
                        bindTo = new InetSocketAddress(address.getAddress(), ((InetSocketAddress) ch.localAddress()).getPort());
                    }
                }
            } else {
                listeners.add(bootstrap(loops.get(0).eventLoop, group, null, h2c.contains(address))
                        .bind(address).sync().channel());
            }
        }
        for (HttpsListen https : httpsListen) {
            InetSocketAddress address = https.address();
            if (transport.reusePort()) {
                InetSocketAddress bindTo = address;
                for (LoopContext ctx : loops) {
                    Channel ch = bootstrap(ctx.eventLoop, ctx.eventLoop, https)
                            .option(UnixChannelOption.SO_REUSEPORT, true)
                            .bind(bindTo).sync().channel();
                    httpsListeners.add(ch);
                    if (bindTo.getPort() == 0) {
                        bindTo = new InetSocketAddress(address.getAddress(), ((InetSocketAddress) ch.localAddress()).getPort());
                    }
                }
            } else {
                httpsListeners.add(bootstrap(loops.get(0).eventLoop, group, https).bind(address).sync().channel());
            }
        }
    }


    /**
     * No TLS timers per connection (netty's SNI and handshake timeouts, one scheduled task each): the connection
     * sweeper already closes a connection that has no complete request head {@code header_timeout_ms} after it was
     * accepted, which bounds the wait for the ClientHello and the handshake as well.
     */
    private static final long TLS_HANDSHAKE_TIMEOUT_MS = 0;

    /** {@code https} null: a plain HTTP listener. */
    private ServerBootstrap bootstrap(EventLoop acceptor, io.netty.channel.EventLoopGroup children, HttpsListen https) {
        return bootstrap(acceptor, children, https, false);
    }

    /** {@code h2c}: a plain listener that also takes HTTP/2 with prior knowledge. */
    private ServerBootstrap bootstrap(EventLoop acceptor, io.netty.channel.EventLoopGroup children, HttpsListen https,
                                      boolean h2c) {
        ServerBootstrap b = new ServerBootstrap()
                .group(acceptor, children)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.ALLOCATOR, allocator)
                .childOption(ChannelOption.ALLOCATOR, allocator)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024));
        if (!PlatformDependent.canEnableTcpNoDelayByDefault()) {
            // Elsewhere netty's socket config already sets TCP_NODELAY when a connection is accepted; setting it
            // again would be a second setsockopt per connection.
            b.childOption(ChannelOption.TCP_NODELAY, true);
        }
        return b.childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        LoopContext loop = loopsByEventLoop.get(ch.eventLoop());
                        if (loop.openDownstream() >= settings.maxConnectionsPerLoop()) {
                            // max_connections_per_loop: close at accept, before any handler or TLS state exists
                            // (like nginx when worker_connections are exhausted); counted for /status.
                            loop.counters.increment(LoopCounters.DOWNSTREAM_CONNECTIONS_REJECTED);
                            ch.close();
                            return;
                        }
                        if (https != null) {
                            // Replaced by the chosen context's SslHandler once the ClientHello is read.
                            ch.pipeline().addLast("sni", new TlsSniHandler(tlsTables.get(loop.id), https.fallbackSni(),
                                    TLS_HANDSHAKE_TIMEOUT_MS, tlsCounters[loop.id]));
                        }
                        ch.pipeline().addLast("proxy", new Http1ServerConnection(loop, https != null, h2c));
                    }
                });
    }

    /** The ports actually bound (useful when configured with port 0). */
    public List<InetSocketAddress> boundAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Channel c : listeners) {
            InetSocketAddress a = (InetSocketAddress) c.localAddress();
            if (!out.contains(a)) {
                out.add(a);
            }
        }
        return out;
    }

    /** Runs on the loop: the TLS table of the snapshot this loop serves now. */
    private static TlsTable tlsTable(LoopContext loop) {
        Snapshot s = loop.snapshot();
        return s == null ? TlsTable.EMPTY : s.tls;
    }

    /** The HTTPS ports actually bound, in configuration order. */
    public List<InetSocketAddress> httpsBoundAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Channel c : httpsListeners) {
            InetSocketAddress a = (InetSocketAddress) c.localAddress();
            if (!out.contains(a)) {
                out.add(a);
            }
        }
        return out;
    }

    /** Sum over loops, read on each loop. */
    public int busyExchanges() {
        int sum = 0;
        for (LoopContext ctx : loops) {
            try {
                sum += ctx.eventLoop.submit(ctx::busyDownstream).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                return -1;
            }
        }
        return sum;
    }

    public int openConnections() {
        int sum = 0;
        for (LoopContext ctx : loops) {
            try {
                sum += ctx.eventLoop.submit(ctx::openDownstream).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                return -1;
            }
        }
        return sum;
    }

    /**
     * Graceful drain: stop accepting, answer in-flight requests (their responses carry {@code Connection: close}),
     * close idle keep-alive connections, and wait up to {@code drainTimeoutMs} for the exchanges in flight.
     * Returns true when everything finished within the bound.
     */
    public boolean drain(long drainTimeoutMs) {
        for (Channel c : listeners) {
            c.close().awaitUninterruptibly();
        }
        for (Channel c : httpsListeners) {
            c.close().awaitUninterruptibly();
        }
        for (LoopContext ctx : loops) {
            ctx.eventLoop.execute(ctx::startDraining);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainTimeoutMs);
        boolean clean = false;
        while (System.nanoTime() < deadline && !drainCutShort) {
            if (openConnections() == 0) {
                clean = true;
                break;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        close();
        return clean;
    }

    private volatile boolean drainCutShort;

    /**
     * Fast stop during a {@link #drain}: stop waiting for the connections still open; the drain then closes them all
     * (any thread).
     */
    public void cutDrainShort() {
        drainCutShort = true;
    }

    @Override
    public void close() {
        for (Channel c : listeners) {
            c.close();
        }
        for (Channel c : httpsListeners) {
            c.close();
        }
        for (LoopContext loop : loops) {
            if (!loop.eventLoop.isShuttingDown()) {
                // Close pooled upstream connections while the loop still runs the deregistration tasks that free
                // their TLS engines; the second task runs after those.
                loop.eventLoop.submit(loop::closeIdleUpstreams).awaitUninterruptibly(1, TimeUnit.SECONDS);
                loop.eventLoop.submit(() -> { }).awaitUninterruptibly(1, TimeUnit.SECONDS);
            }
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        Snapshot last = publisher.latest();
        if (last != null) {
            // Connections are closed by now; their engines gave their references back.
            last.tls.release();
            last.upstreamTls.release();
        }
    }
}
