package io.turnpike.tls.keyless;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProtocols;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Gateway side of the keyless protocol: a few persistent mutual-TLS connections to one key server, pipelining
 * requests (responses matched by id), with reconnect and exponential backoff, a per-request timeout, and counters.
 *
 * <p>{@link #sign} never blocks: it returns a future completed on the client's own I/O thread. While the key server is
 * unreachable (the last connect failed and we are backing off), requests fail at once with {@link
 * KeylessException.Reason#UNAVAILABLE}; while a first connect or reconnect is in progress they wait for it, bounded by
 * the request timeout.
 */
public final class KeylessClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KeylessClient.class.getName());

    private final InetSocketAddress remote;
    private final String serverName;
    private final SslContext sslContext;
    private final boolean ownsSslContext;
    private final EventLoopGroup group;
    private final long requestTimeoutNanos;
    private final int connectTimeoutMillis;
    private final long backoffMinMillis;
    private final long backoffMaxMillis;
    private final int maxWaiting;
    private final Connection[] connections;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong();
    private volatile boolean closed;

    // counters
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong successes = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong timeouts = new AtomicLong();
    private final AtomicLong unavailable = new AtomicLong();
    private final AtomicLong serverErrors = new AtomicLong();
    private final AtomicLong inFlight = new AtomicLong();
    private final AtomicLong latencyTotalNanos = new AtomicLong();
    private final AtomicLong latencyMaxNanos = new AtomicLong();
    private final AtomicLong connects = new AtomicLong();
    private final AtomicLong connectFailures = new AtomicLong();
    private final AtomicLong disconnects = new AtomicLong();

    private KeylessClient(Builder b) {
        this.remote = b.remote;
        this.serverName = b.serverName != null ? b.serverName : b.remote.getHostString();
        this.sslContext = b.sslContext;
        this.ownsSslContext = b.ownsSslContext;
        this.requestTimeoutNanos = b.requestTimeout.toNanos();
        this.connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, b.connectTimeout.toMillis());
        this.backoffMinMillis = b.backoffMin.toMillis();
        this.backoffMaxMillis = b.backoffMax.toMillis();
        this.maxWaiting = b.maxWaiting;
        this.group = new MultiThreadIoEventLoopGroup(b.connections, new DefaultThreadFactory("keyless-client", true),
                NioIoHandler.newFactory());
        this.connections = new Connection[b.connections];
        for (int i = 0; i < connections.length; i++) {
            connections[i] = new Connection(i, group.next());
        }
        for (Connection c : connections) {
            c.loop.execute(c::connect);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public InetSocketAddress remoteAddress() {
        return remote;
    }

    /**
     * Asks the key server to sign {@code data} (the message, not a digest) with the key {@code keyId} under the TLS
     * signature scheme {@code scheme}. Never blocks; never throws: failures complete the future with a {@link
     * KeylessException}.
     */
    public Future<byte[]> sign(KeyId keyId, int scheme, byte[] data) {
        return submit(KeylessProtocol.OP_SIGN, keyId, scheme, data);
    }

    private Future<byte[]> submit(int op, KeyId keyId, int scheme, byte[] data) {
        requests.incrementAndGet();
        if (closed) {
            failures.incrementAndGet();
            return ImmediateEventExecutor.INSTANCE.newFailedFuture(
                    new KeylessException(KeylessException.Reason.CLOSED, "keyless client is closed"));
        }
        KeylessRequest req;
        try {
            req = new KeylessRequest(ids.incrementAndGet(), op, keyId, scheme, data);
        } catch (RuntimeException e) {
            failures.incrementAndGet();
            return ImmediateEventExecutor.INSTANCE.newFailedFuture(
                    new KeylessException(KeylessException.Reason.INTERNAL, -1, e.getMessage(), e));
        }
        Connection c = pick();
        // Listeners run on the completing thread (this client's event loop, or the caller's when it fails at once);
        // netty's listener only hands the result to the handshake and reschedules it on the channel's own loop.
        Promise<byte[]> promise = ImmediateEventExecutor.INSTANCE.newPromise();
        inFlight.incrementAndGet();
        Pending p = new Pending(req, promise, System.nanoTime());
        if (c.loop.inEventLoop()) {
            c.submit(p);
        } else {
            try {
                c.loop.execute(() -> c.submit(p));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                fail(p, new KeylessException(KeylessException.Reason.CLOSED, "keyless client is closed"));
            }
        }
        return promise;
    }

    private Connection pick() {
        int start = next.getAndIncrement() & Integer.MAX_VALUE;
        for (int i = 0; i < connections.length; i++) {
            Connection c = connections[(start + i) % connections.length];
            if (c.ready) {
                return c;
            }
        }
        return connections[start % connections.length];
    }

    /** True when at least one connection to the key server is established (TLS handshake done). */
    public boolean isConnected() {
        for (Connection c : connections) {
            if (c.ready) {
                return true;
            }
        }
        return false;
    }

    /**
     * Waits until a connection is up, for start-up and tests. Blocks: never call it on an event loop.
     *
     * @return whether a connection came up in time
     */
    public boolean awaitConnected(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isConnected()) {
            if (System.nanoTime() - deadline > 0 || closed) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /** Counters for the status endpoint. */
    public Snapshot snapshot() {
        int up = 0;
        for (Connection c : connections) {
            if (c.ready) {
                up++;
            }
        }
        long ok = successes.get();
        return new Snapshot(remote.getHostString() + ":" + remote.getPort(), up, connections.length,
                requests.get(), successes.get(), failures.get(), timeouts.get(), unavailable.get(),
                serverErrors.get(), inFlight.get(), ok == 0 ? 0 : latencyTotalNanos.get() / ok / 1000,
                latencyMaxNanos.get() / 1000, connects.get(), connectFailures.get(), disconnects.get());
    }

    /**
     * Counters. {@code failures} counts every request that did not get a signature (timeouts, unavailable, server
     * errors, lost connections included); latency is over successful requests.
     */
    public record Snapshot(String keyServer, int connectionsUp, int connections, long requests, long successes,
                           long failures, long timeouts, long unavailable, long serverErrors, long inFlight,
                           long latencyAvgMicros, long latencyMaxMicros, long connects, long connectFailures,
                           long disconnects) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key_server", keyServer);
            m.put("connections_up", connectionsUp);
            m.put("connections", connections);
            m.put("requests", requests);
            m.put("successes", successes);
            m.put("failures", failures);
            m.put("timeouts", timeouts);
            m.put("unavailable", unavailable);
            m.put("server_errors", serverErrors);
            m.put("in_flight", inFlight);
            m.put("latency_avg_us", latencyAvgMicros);
            m.put("latency_max_us", latencyMaxMicros);
            m.put("connects", connects);
            m.put("connect_failures", connectFailures);
            m.put("disconnects", disconnects);
            return m;
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Future<?>> done = new ArrayList<>();
        for (Connection c : connections) {
            done.add(c.loop.submit(c::shutdown));
        }
        for (Future<?> f : done) {
            f.awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        if (ownsSslContext) {
            ReferenceCountUtil.release(sslContext);
        }
    }

    // Counters are updated before the promise completes: its listeners (the handshake) run synchronously, and whoever
    // observes the handshake's outcome must already see it counted. A pending request is completed by one thread only
    // (its connection's event loop, or the submitting thread before it was handed over).

    private void complete(Pending p, byte[] signature) {
        if (p.done) {
            return;
        }
        p.done = true;
        long nanos = System.nanoTime() - p.startNanos;
        inFlight.decrementAndGet();
        successes.incrementAndGet();
        latencyTotalNanos.addAndGet(nanos);
        latencyMaxNanos.accumulateAndGet(nanos, Math::max);
        p.promise.trySuccess(signature);
    }

    private void fail(Pending p, KeylessException e) {
        if (p.done) {
            return;
        }
        p.done = true;
        inFlight.decrementAndGet();
        failures.incrementAndGet();
        switch (e.reason()) {
            case TIMEOUT -> timeouts.incrementAndGet();
            case UNAVAILABLE -> unavailable.incrementAndGet();
            case KEY_SERVER_ERROR -> serverErrors.incrementAndGet();
            default -> {
            }
        }
        p.promise.tryFailure(e);
    }

    private static final class Pending {
        final KeylessRequest req;
        final Promise<byte[]> promise;
        final long startNanos;
        ScheduledFuture<?> timeout;
        boolean done;

        Pending(KeylessRequest req, Promise<byte[]> promise, long startNanos) {
            this.req = req;
            this.promise = promise;
            this.startNanos = startNanos;
        }
    }

    /** One persistent connection; all its state is touched only on {@link #loop}. */
    private final class Connection {
        final int index;
        final EventLoop loop;
        final Map<Long, Pending> inflight = new HashMap<>();
        final ArrayDeque<Pending> waiting = new ArrayDeque<>();
        Channel channel;
        boolean connecting;
        boolean down;
        long backoffMillis;
        ScheduledFuture<?> reconnect;
        volatile boolean ready;

        Connection(int index, EventLoop loop) {
            this.index = index;
            this.loop = loop;
            this.backoffMillis = backoffMinMillis;
        }

        void submit(Pending p) {
            if (closed) {
                fail(p, new KeylessException(KeylessException.Reason.CLOSED, "keyless client is closed"));
                return;
            }
            if (channel != null) {
                armTimeout(p);
                send(p);
            } else if (down && !connecting) {
                fail(p, new KeylessException(KeylessException.Reason.UNAVAILABLE,
                        "key server " + remote + " is unreachable; next connect attempt pending"));
            } else if (waiting.size() >= maxWaiting) {
                fail(p, new KeylessException(KeylessException.Reason.OVERLOADED,
                        waiting.size() + " requests already waiting for a connection to " + remote));
            } else {
                armTimeout(p);
                waiting.add(p);
                if (!connecting) {
                    connect();
                }
            }
        }

        void armTimeout(Pending p) {
            long remaining = requestTimeoutNanos - (System.nanoTime() - p.startNanos);
            p.timeout = loop.schedule(() -> {
                inflight.remove(p.req.id());
                waiting.remove(p);
                fail(p, new KeylessException(KeylessException.Reason.TIMEOUT,
                        "no answer from key server " + remote + " within "
                                + TimeUnit.NANOSECONDS.toMillis(requestTimeoutNanos) + " ms"));
            }, Math.max(0, remaining), TimeUnit.NANOSECONDS);
        }

        void send(Pending p) {
            Channel ch = channel;
            inflight.put(p.req.id(), p);
            ch.writeAndFlush(p.req).addListener(f -> {
                if (!f.isSuccess() && inflight.remove(p.req.id()) != null) {
                    cancelTimeout(p);
                    fail(p, new KeylessException(KeylessException.Reason.CONNECTION_LOST, -1,
                            "write to key server failed: " + f.cause(), f.cause()));
                }
            });
        }

        void onResponse(Channel ch, KeylessResponse resp) {
            Pending p = inflight.remove(resp.id());
            if (p == null) {
                return; // timed out already
            }
            cancelTimeout(p);
            if (resp.isOk()) {
                complete(p, resp.payload());
            } else {
                fail(p, new KeylessException(KeylessException.Reason.KEY_SERVER_ERROR, resp.status(),
                        resp.errorText(), null));
            }
        }

        void cancelTimeout(Pending p) {
            if (p.timeout != null) {
                p.timeout.cancel(false);
            }
        }

        void connect() {
            if (closed || connecting || channel != null) {
                return;
            }
            connecting = true;
            reconnect = null;
            Bootstrap b = new Bootstrap()
                    .group(loop)
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.SO_KEEPALIVE, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            SslHandler ssl = sslContext.newHandler(ch.alloc(), serverName, remote.getPort());
                            ssl.setHandshakeTimeoutMillis(connectTimeoutMillis);
                            ch.pipeline().addLast("tls", ssl);
                            KeylessCodec.addClientCodec(ch.pipeline());
                            ch.pipeline().addLast("keyless-client", new ResponseHandler(Connection.this));
                        }
                    });
            ChannelFuture cf = b.connect(remote);
            cf.addListener(f -> {
                if (!f.isSuccess()) {
                    connectFailed(f.cause());
                    return;
                }
                Channel ch = cf.channel();
                ch.pipeline().get(SslHandler.class).handshakeFuture().addListener(hf -> {
                    if (!hf.isSuccess()) {
                        ch.close();
                        connectFailed(hf.cause());
                    } else if (closed) {
                        ch.close();
                    } else {
                        connected(ch);
                    }
                });
            });
        }

        void connected(Channel ch) {
            connecting = false;
            down = false;
            backoffMillis = backoffMinMillis;
            channel = ch;
            ready = true;
            connects.incrementAndGet();
            ch.closeFuture().addListener(f -> disconnected(ch));
            LOG.log(System.Logger.Level.DEBUG, "keyless connection {0} to {1} up", index, remote);
            Pending p;
            while ((p = waiting.poll()) != null) {
                if (!p.done) {
                    send(p);
                }
            }
        }

        void connectFailed(Throwable cause) {
            connecting = false;
            down = true;
            connectFailures.incrementAndGet();
            LOG.log(System.Logger.Level.DEBUG, "keyless connect to {0} failed: {1}", remote, String.valueOf(cause));
            Pending p;
            while ((p = waiting.poll()) != null) {
                cancelTimeout(p);
                fail(p, new KeylessException(KeylessException.Reason.UNAVAILABLE, -1,
                        "cannot connect to key server " + remote + ": " + cause, cause));
            }
            scheduleReconnect();
        }

        void disconnected(Channel ch) {
            if (channel != ch) {
                return;
            }
            channel = null;
            ready = false;
            disconnects.incrementAndGet();
            List<Pending> lost = new ArrayList<>(inflight.values());
            inflight.clear();
            for (Pending p : lost) {
                cancelTimeout(p);
                fail(p, new KeylessException(KeylessException.Reason.CONNECTION_LOST,
                        "connection to key server " + remote + " closed with the request in flight"));
            }
            if (!closed) {
                // reconnect at once the first time (a key server restart), then back off if that fails
                connect();
            }
        }

        void scheduleReconnect() {
            if (closed || reconnect != null) {
                return;
            }
            long delay = backoffMillis + ThreadLocalRandom.current().nextLong(backoffMillis / 4 + 1);
            backoffMillis = Math.min(backoffMaxMillis, backoffMillis * 2);
            reconnect = loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
        }

        void shutdown() {
            ready = false;
            if (reconnect != null) {
                reconnect.cancel(false);
            }
            KeylessException e = new KeylessException(KeylessException.Reason.CLOSED, "keyless client is closed");
            List<Pending> all = new ArrayList<>(inflight.values());
            all.addAll(waiting);
            inflight.clear();
            waiting.clear();
            for (Pending p : all) {
                cancelTimeout(p);
                fail(p, e);
            }
            if (channel != null) {
                channel.close();
            }
        }
    }

    private static final class ResponseHandler extends SimpleChannelInboundHandler<KeylessResponse> {
        private final Connection connection;

        ResponseHandler(Connection connection) {
            this.connection = connection;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, KeylessResponse msg) {
            connection.onResponse(ctx.channel(), msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.DEBUG, "keyless connection error: {0}", cause.toString());
            ctx.close();
        }
    }

    /** Configuration of a {@link KeylessClient}. */
    public static final class Builder {
        private InetSocketAddress remote;
        private String serverName;
        private SslContext sslContext;
        private boolean ownsSslContext;
        private int connections = 1;
        private Duration requestTimeout = Duration.ofSeconds(2);
        private Duration connectTimeout = Duration.ofSeconds(2);
        private Duration backoffMin = Duration.ofMillis(100);
        private Duration backoffMax = Duration.ofSeconds(5);
        private int maxWaiting = 4096;

        /** The key server (resolved once). */
        public Builder remote(InetSocketAddress address) {
            this.remote = Objects.requireNonNull(address);
            return this;
        }

        public Builder remote(String host, int port) {
            return remote(new InetSocketAddress(host, port));
        }

        /** Name the key server's certificate must match (defaults to the host given to {@link #remote}). */
        public Builder serverName(String name) {
            this.serverName = name;
            return this;
        }

        /** A client context: this gateway's certificate and key, and the trust anchors for the key server. */
        public Builder sslContext(SslContext context) {
            if (!context.isClient()) {
                throw new IllegalArgumentException("keyless client needs a client SslContext");
            }
            this.sslContext = context;
            this.ownsSslContext = false;
            return this;
        }

        /**
         * Builds the client context: the gateway's client certificate chain and key (PEM) presented to the key server,
         * and the CA the key server's certificate must chain to (its name is verified too).
         */
        public Builder tls(Path clientCertChainPem, Path clientKeyPem, Path keyServerCaPem) throws IOException {
            this.sslContext = clientSslContext(clientCertChainPem, clientKeyPem, keyServerCaPem);
            this.ownsSslContext = true;
            return this;
        }

        public Builder connections(int n) {
            if (n < 1 || n > 64) {
                throw new IllegalArgumentException("connections must be 1..64: " + n);
            }
            this.connections = n;
            return this;
        }

        public Builder requestTimeout(Duration d) {
            this.requestTimeout = positive(d);
            return this;
        }

        public Builder connectTimeout(Duration d) {
            this.connectTimeout = positive(d);
            return this;
        }

        public Builder backoff(Duration min, Duration max) {
            this.backoffMin = positive(min);
            this.backoffMax = positive(max);
            if (max.compareTo(min) < 0) {
                throw new IllegalArgumentException("backoff max < min");
            }
            return this;
        }

        public Builder maxWaiting(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxWaiting must be positive");
            }
            this.maxWaiting = n;
            return this;
        }

        /** Starts connecting (asynchronously) and returns the client. */
        public KeylessClient start() {
            if (remote == null || sslContext == null) {
                throw new IllegalStateException("keyless client needs remote() and tls()/sslContext()");
            }
            return new KeylessClient(this);
        }

        private static Duration positive(Duration d) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("must be positive: " + d);
            }
            return d;
        }
    }

    /** The client context {@link Builder#tls} builds: TLS 1.3/1.2, client certificate, key server name verified. */
    public static SslContext clientSslContext(Path certChainPem, Path keyPem, Path caPem) throws IOException {
        return SslContextBuilder.forClient()
                .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                .protocols(SslProtocols.TLS_v1_3, SslProtocols.TLS_v1_2)
                .keyManager(certChainPem.toFile(), keyPem.toFile())
                .trustManager(caPem.toFile())
                .endpointIdentificationAlgorithm("HTTPS")
                .build();
    }
}
