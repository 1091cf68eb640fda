package io.turnpike.engine.grpc;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.turnpike.engine.loop.ConnectionSweeper;
import io.turnpike.engine.loop.Swept;
import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.upstream.UpstreamTarget;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * One loop's HTTP/2 connections to one upstream node ({@code scheme: grpc} / {@code grpcs}): streams are multiplexed
 * over as few connections as the peer allows. One connection normally; another opens only when every open one is at
 * the peer's SETTINGS_MAX_CONCURRENT_STREAMS (or draining after GOAWAY), up to {@link Settings#maxConnections}.
 * Streams that find no room wait in the pool (bounded by the connect timeout).
 *
 * <p>GOAWAY: the connection takes no new stream; its streams above the last-stream-id are reported
 * {@link H2UpstreamListener#onRefused refused} (retryable); it closes when its last stream ends. A connection with no
 * stream closes after the upstream's keep-alive idle timeout.
 *
 * <p>Confined to its event loop (construct it there); timeouts are checked by the loop's {@link ConnectionSweeper}
 * tick, with no timer task per stream. No locks.
 */
public final class H2UpstreamPool implements Swept {
    /**
     * The connection-level settings of a node's pool.
     *
     * @param connectTimeoutMs   connect + TLS + the peer's first SETTINGS; also the longest a stream waits for a slot
     * @param idleTimeoutNs      a connection without streams closes after this (0: never)
     * @param maxConnections     connections at most (draining ones not counted)
     * @param streamWindowBytes  each stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE): the most DATA buffered per
     *                           stream that its owner has not consumed
     */
    public record Settings(long connectTimeoutMs, long idleTimeoutNs, int maxConnections, int streamWindowBytes) {
        public static final int DEFAULT_STREAM_WINDOW = 1 << 20;

        public Settings {
            if (connectTimeoutMs <= 0 || maxConnections < 1 || streamWindowBytes < 65_535) {
                throw new IllegalArgumentException("invalid HTTP/2 pool settings");
            }
        }

        /** From an upstream: its connect timeout, keepalive_pool idle_timeout and size. */
        public static Settings of(UpstreamTarget t) {
            return new Settings(t.connectTimeoutMs, t.idleTimeoutNs, Math.max(1, t.poolSize), DEFAULT_STREAM_WINDOW);
        }
    }

    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final ConnectionSweeper sweeper;
    private final InetSocketAddress address;
    private final SslContext tls;
    private final String sni;
    Settings settings;
    private H2UpstreamConnection[] conns = new H2UpstreamConnection[4];
    private int connCount;
    private final ArrayDeque<H2UpstreamStream> pending = new ArrayDeque<>(16);
    private final ArrayDeque<H2UpstreamStream> free = new ArrayDeque<>(16);
    private int sweepIndex = -1;
    private long connectionsOpened;
    private boolean closed;
    private boolean dispatching;

    /**
     * @param bootstrap the loop's upstream bootstrap ({@code LoopContext.upstreamBootstrap()}); cloned per connection
     * @param tls       {@code grpcs}: a client context that offers ALPN {@code h2}; null for {@code grpc} (h2c with
     *                  prior knowledge)
     * @param sni       with {@code tls}: the SNI and verified name (the upstream host)
     */
    public H2UpstreamPool(EventLoop loop, Bootstrap bootstrap, ConnectionSweeper sweeper, InetSocketAddress address,
                          SslContext tls, String sni, Settings settings) {
        this.loop = loop;
        this.bootstrap = bootstrap;
        this.sweeper = sweeper;
        this.address = address;
        this.tls = tls;
        this.sni = sni;
        this.settings = settings;
        sweeper.add(this);
    }

    /** Later snapshots may change the settings (new connections and timeouts use them). */
    public void settings(Settings s) {
        this.settings = s;
    }

    /**
     * A new stream for {@code listener}: on a connection with room now, or waiting in the pool (writes are kept until
     * it is on one). Timeouts are the route's: {@code readTimeoutNs} between frames (or writes) of the stream,
     * {@code sendTimeoutNs} for request DATA held by the peer's flow control; 0: none.
     */
    public H2UpstreamStream newStream(H2UpstreamListener listener, long readTimeoutNs, long sendTimeoutNs) {
        if (closed) {
            throw new IllegalStateException("H2UpstreamPool for " + address + " is closed");
        }
        H2UpstreamStream h = free.pollLast();
        if (h == null) {
            h = new H2UpstreamStream(this);
        }
        h.init(listener, readTimeoutNs, sendTimeoutNs);
        H2UpstreamConnection c = pick();
        if (c != null && pending.isEmpty()) {
            c.bind(h, false);
        } else {
            h.state = H2UpstreamStream.S_PENDING;
            h.waitDeadlineNs = System.nanoTime() + settings.connectTimeoutMs() * 1_000_000L;
            pending.addLast(h);
            h.inNewStream = true;
            dispatch();
            h.inNewStream = false;
        }
        return h;
    }

    /** Connections now (connecting, ready or draining). */
    public int connectionCount() {
        return connCount;
    }

    /** Connections opened since the pool was made. */
    public long connectionsOpened() {
        return connectionsOpened;
    }

    /** Connections that received GOAWAY and still have streams. */
    int drainingConnections() {
        int n = 0;
        for (int i = 0; i < connCount; i++) {
            n += conns[i].state == H2UpstreamConnection.C_DRAINING ? 1 : 0;
        }
        return n;
    }

    /** Streams waiting for a connection. */
    public int pendingCount() {
        return pending.size();
    }

    /** Streams on connections (with or without their HTTP/2 stream yet). */
    public int activeStreams() {
        int n = 0;
        for (int i = 0; i < connCount; i++) {
            n += conns[i].streamCount();
        }
        return n;
    }

    /**
     * Retires the pool: waiting streams fail ({@link GatewayError#NO_AVAILABLE_NODE}), connections close gracefully
     * (GOAWAY; those with streams close when their streams end).
     */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        H2UpstreamStream h;
        while ((h = pending.pollFirst()) != null) {
            h.terminalFailedPending(GatewayError.NO_AVAILABLE_NODE);
        }
        for (int i = connCount - 1; i >= 0; i--) {
            H2UpstreamConnection c = conns[i];
            if (c.streamCount() == 0) {
                c.close();
            } else if (c.state == H2UpstreamConnection.C_READY) {
                c.state = H2UpstreamConnection.C_DRAINING;
            }
        }
        unregisterWhenEmpty();
    }

    /** A closed pool stays on the sweeper while connections remain: their streams' timeouts still apply. */
    private void unregisterWhenEmpty() {
        if (closed && connCount == 0 && sweepIndex >= 0) {
            sweeper.remove(this);
        }
    }

    /** True once closed and every connection has gone. */
    public boolean isTerminated() {
        return closed && connCount == 0;
    }

    // ------------------------------------------------------------------ connections and streams

    private H2UpstreamConnection pick() {
        for (int i = 0; i < connCount; i++) {
            H2UpstreamConnection c = conns[i];
            if (c.hasCapacity()) {
                return c;
            }
        }
        return null;
    }

    /** Binds waiting streams to connections with room; opens a connection when none has room. */
    void dispatch() {
        if (dispatching) {
            return;
        }
        dispatching = true;
        try {
            H2UpstreamStream h;
            while ((h = pending.peekFirst()) != null) {
                H2UpstreamConnection c = pick();
                if (c == null) {
                    break;
                }
                pending.pollFirst();
                c.bind(h, !h.inNewStream);
            }
            if (!pending.isEmpty() && !closed) {
                int usable = 0;
                for (int i = 0; i < connCount; i++) {
                    H2UpstreamConnection c = conns[i];
                    if (c.state == H2UpstreamConnection.C_CONNECTING) {
                        return; // its SETTINGS will tell how many it takes
                    }
                    if (c.state == H2UpstreamConnection.C_READY) {
                        usable++;
                    }
                }
                if (usable < settings.maxConnections()) {
                    connect();
                }
            }
        } finally {
            dispatching = false;
        }
    }

    private void connect() {
        SslHandler ssl = null;
        if (tls != null) {
            ssl = tls.newHandler(bootstrap.config().options().containsKey(ChannelOption.ALLOCATOR)
                    ? (io.netty.buffer.ByteBufAllocator) bootstrap.config().options().get(ChannelOption.ALLOCATOR)
                    : io.netty.buffer.ByteBufAllocator.DEFAULT, sni, address.getPort());
            ssl.setHandshakeTimeoutMillis(0); // bounded by the connect deadline
        }
        H2UpstreamConnection c = H2UpstreamConnection.create(this, ssl, settings.streamWindowBytes());
        c.connectDeadlineNs = System.nanoTime() + settings.connectTimeoutMs() * 1_000_000L;
        if (connCount == conns.length) {
            conns = java.util.Arrays.copyOf(conns, connCount * 2);
        }
        conns[connCount++] = c;
        connectionsOpened++;
        // Per new connection only (not the steady state): the clone, the option and the listener.
        ChannelFuture f = bootstrap.clone().handler(c)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        settings.connectTimeoutMs()))
                .connect(address);
        f.addListener((ChannelFutureListener) future -> {
            if (!future.isSuccess()) {
                c.failBeforeReady(GatewayError.UPSTREAM_CONNECT_FAILED);
            }
        });
    }

    private void remove(H2UpstreamConnection c) {
        for (int i = 0; i < connCount; i++) {
            if (conns[i] == c) {
                System.arraycopy(conns, i + 1, conns, i, connCount - i - 1);
                conns[--connCount] = null;
                return;
            }
        }
    }

    void connectionReady(H2UpstreamConnection c) {
        if (closed) {
            c.close();
            return;
        }
        dispatch();
    }

    void capacityFreed(H2UpstreamConnection c) {
        if (!pending.isEmpty()) {
            dispatch();
        }
    }

    void connectionDraining(H2UpstreamConnection c, boolean wasConnecting) {
        dispatch();
    }

    void connectionGone(H2UpstreamConnection c) {
        remove(c);
        unregisterWhenEmpty();
    }

    /**
     * A connection failed before it was ready: the waiting streams fail with {@code e} unless another connection is
     * coming. Reported from a task of its own (failure path only): never inside the owner's {@code newStream}.
     */
    void connectFailed(H2UpstreamConnection c, GatewayError e) {
        remove(c);
        unregisterWhenEmpty();
        loop.execute(() -> failPending(e));
    }

    private void failPending(GatewayError e) {
        for (int i = 0; i < connCount; i++) {
            int s = conns[i].state;
            if (s == H2UpstreamConnection.C_CONNECTING || s == H2UpstreamConnection.C_READY) {
                return; // they will be served (or time out) there
            }
        }
        H2UpstreamStream h;
        while ((h = pending.pollFirst()) != null) {
            h.terminalFailedPending(e);
        }
    }

    void requeue(H2UpstreamStream h) {
        if (closed) {
            h.terminalFailedPending(GatewayError.NO_AVAILABLE_NODE);
            return;
        }
        h.state = H2UpstreamStream.S_PENDING;
        h.conn = null;
        h.waitDeadlineNs = System.nanoTime() + settings.connectTimeoutMs() * 1_000_000L;
        pending.addFirst(h);
    }

    void dequeue(H2UpstreamStream h) {
        pending.remove(h);
    }

    void recycle(H2UpstreamStream h) {
        h.clear();
        if (free.size() < 256) {
            free.addLast(h);
        }
    }

    // ------------------------------------------------------------------ Swept

    @Override
    public void sweep(long nowNs) {
        for (int i = connCount - 1; i >= 0; i--) {
            if (i < connCount) {
                conns[i].sweep(nowNs);
            }
        }
        H2UpstreamStream h;
        while ((h = pending.peekFirst()) != null && nowNs - h.waitDeadlineNs >= 0) {
            pending.pollFirst();
            h.terminalFailedPending(GatewayError.UPSTREAM_TIMEOUT);
        }
    }

    @Override
    public int sweepIndex() {
        return sweepIndex;
    }

    @Override
    public void sweepIndex(int index) {
        this.sweepIndex = index;
    }

    EventLoop loop() {
        return loop;
    }
}
