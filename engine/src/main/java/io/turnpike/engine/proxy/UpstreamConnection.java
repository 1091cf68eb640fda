package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.turnpike.engine.codec.BodyFramer;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.codec.ResponseHeadParser;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.loop.Swept;
import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.upstream.NodePool;

/**
 * One keep-alive connection to an upstream node, opened on the same event loop as the downstream connection that
 * first needed it and pooled on that loop afterwards. Parses responses with the project's own parser and streams them
 * to the {@link ExchangeSink} (the {@link Exchange}) that currently owns the connection.
 *
 * <p>Confined to its event loop. Ownership: the connection is either idle in its {@link NodePool} ({@code owner ==
 * null}) or bound to exactly one downstream exchange. Every inbound ByteBuf is owned here until it is either released
 * or handed downstream as a retained slice.
 */
final class UpstreamConnection extends ChannelInboundHandlerAdapter implements NodePool.Pooled, Swept {
    private static final int S_IDLE = 0;
    private static final int S_HEAD = 1;
    private static final int S_BODY = 2;
    private static final int S_CLOSED = 3;
    /** Switched protocols (101 to an upgrade): bytes go raw through {@link #tunnel}; never pooled again. */
    private static final int S_TUNNEL = 4;

    private final LoopContext loop;
    /**
     * The largest Content-Length body relayed in the same buffer as its head when it arrived with it (JSON replies,
     * health checks): copying up to 1 KiB costs less than a second buffer, its reference count and its iovec.
     */
    static final int INLINE_BODY_MAX = 1024;
    private final NodePool<UpstreamConnection> pool;
    private final ResponseHead head;
    private final ResponseHeadParser parser;
    private final BodyFramer body;
    /** Of the exchange bound now (a pooled connection serves routes with different timeouts). */
    private long readTimeoutNs;
    private long sendTimeoutNs;
    private final long idleTimeoutNs;
    private final int maxRequests;

    private Channel channel;
    private ExchangeSink owner;
    private ByteBuf cumulation;
    private int state = S_IDLE;
    private int requests;
    private boolean requestIsHead;
    /** The bound request asked for a protocol upgrade the route forwards: a 101 switches to a tunnel. */
    private boolean upgradeRequested;
    private Tunnel tunnel;
    private boolean untilClose;
    /** The owner is an HTTP/1.0 client: a chunked response body is relayed without its framing. */
    private boolean clientIsHttp10;
    private boolean dechunk;
    private int dcState;
    private long dcRemaining;
    /** Reads are paused by back-pressure from the client side; the read timeout does not run meanwhile. */
    private boolean readsBlocked;
    /**
     * The upstream stopped accepting the request (channel unwritable) during an exchange: the deadline is the send
     * timeout (nginx's {@code proxy_send_timeout}, between two successive writes), and only a writability change
     * moves it. A slow but steady reader turns the channel writable again each time it takes the low-water mark's
     * worth of bytes, so the send timeout bounds how long it may take for that much.
     */
    private boolean sendStalled;
    private long deadlineNs;
    private int sweepIndex = -1;
    /** {@code scheme: https}: the client TLS handler (added before this one), null for plain HTTP. */
    private SslHandler tls;
    /** The SNI host this TLS connection was opened for (lower case, no port): pooled reuse requires the same host. */
    private byte[] sni;
    /** Connect + handshake must finish by then (the connect timeout); enforced by {@link #sweep}. */
    private long handshakeDeadlineNs;

    UpstreamConnection(LoopContext loop, NodePool<UpstreamConnection> pool, long readTimeoutNs, long sendTimeoutNs,
                       long idleTimeoutNs, int maxRequests) {
        this.loop = loop;
        this.pool = pool;
        this.readTimeoutNs = readTimeoutNs;
        this.sendTimeoutNs = sendTimeoutNs;
        this.idleTimeoutNs = idleTimeoutNs;
        this.maxRequests = maxRequests;
        this.head = new ResponseHead(loop.settings.maxHeaders());
        this.parser = new ResponseHeadParser(loop.settings.maxHeaderBytes(), loop.settings.maxHeaders());
        this.body = new BodyFramer(0);
    }

    Channel channel() {
        return channel;
    }

    NodePool<UpstreamConnection> pool() {
        return pool;
    }

    /** Makes this a TLS connection; call before the connect. */
    void tls(SslHandler handler, byte[] sniHost, long handshakeDeadlineNs) {
        this.tls = handler;
        this.sni = sniHost;
        this.handshakeDeadlineNs = handshakeDeadlineNs;
    }

    /** The TLS handler, or null for plain HTTP. */
    SslHandler tlsHandler() {
        return tls;
    }

    byte[] sni() {
        return sni;
    }

    /** Binds this connection to a downstream exchange; the request head is written by the caller right after. */
    void bind(ExchangeSink downstream, boolean headRequest, boolean http10Client) {
        bind(downstream, headRequest, http10Client, false);
    }

    /** {@code upgrade}: the request is a forwarded WebSocket upgrade (a 101 is then expected, not an error). */
    void bind(ExchangeSink downstream, boolean headRequest, boolean http10Client, boolean upgrade) {
        bind(downstream, headRequest, http10Client, upgrade, readTimeoutNs, sendTimeoutNs);
    }

    /** With the exchange's own read and send timeouts (its route's, else its upstream's). */
    void bind(ExchangeSink downstream, boolean headRequest, boolean http10Client, boolean upgrade, long readTimeoutNs,
              long sendTimeoutNs) {
        this.readTimeoutNs = readTimeoutNs;
        this.sendTimeoutNs = sendTimeoutNs;
        owner = downstream;
        upgradeRequested = upgrade;
        requestIsHead = headRequest;
        clientIsHttp10 = http10Client;
        dechunk = false;
        state = S_HEAD;
        head.reset();
        parser.reset();
        sendStalled = false;
        deadlineNs = loop.clock.nanoTime() + readTimeoutNs;
        requests++;
    }

    /** Detaches from a downstream that went away mid-exchange; the connection cannot be reused. */
    void abort() {
        owner = null;
        closeQuietly();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // Before the connect promise completes: the connect listener writes through this channel.
        channel = ctx.channel();
        if (tls != null) {
            // Before this handler, so that the request head written by the owner is encrypted; it starts the
            // handshake when the channel becomes active.
            ctx.pipeline().addBefore(ctx.name(), "tls", tls);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        loop.sweeper.add(this);
        loop.counters.increment(LoopCounters.UPSTREAM_CONNECTIONS_OPENED);
        if (tls != null && owner == null) {
            // The handshake runs now, unowned (the downstream waits for its future): the sweeper closes the channel
            // at the connect deadline, which fails the handshake.
            deadlineNs = handshakeDeadlineNs;
        }
        ctx.fireChannelActive();
    }

    /** The read timeout of this connection's upstream (the tunnel's idle timeout). */
    long readTimeoutNs() {
        return readTimeoutNs;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        loop.clock.enter();
        try {
            read(ctx, (ByteBuf) msg);
        } finally {
            loop.clock.exit();
        }
    }

    private void read(ChannelHandlerContext ctx, ByteBuf in) {
        if (tunnel != null) {
            tunnel.fromUpstream(in);
            return;
        }
        if (owner == null || state == S_CLOSED) {
            // Bytes on an idle keep-alive connection are a protocol error by the upstream; never reuse it.
            in.release();
            closeQuietly();
            return;
        }
        if (cumulation == null) {
            cumulation = in;
        } else {
            cumulation = Cumulation.append(ctx.alloc(), cumulation, in);
        }
        if (!sendStalled) {
            deadlineNs = loop.clock.nanoTime() + readTimeoutNs;
        }
        process();
        if (cumulation != null && !cumulation.isReadable()) {
            cumulation.release();
            cumulation = null;
        }
    }

    private void process() {
        while (cumulation != null && cumulation.isReadable() && owner != null) {
            if (state == S_HEAD) {
                int n = parser.parse(cumulation, head);
                if (n == ResponseHeadParser.NEED_MORE) {
                    return;
                }
                if (n == ResponseHeadParser.ERROR) {
                    fail(GatewayError.UPSTREAM_INVALID_RESPONSE);
                    return;
                }
                int status = head.status;
                if (status >= 100 && status < 200) {
                    if (status == 101) {
                        if (!upgradeRequested) {
                            // Upgrade was not forwarded (docs/websocket.md), so a switch is a protocol violation.
                            fail(GatewayError.UPSTREAM_INVALID_RESPONSE);
                            return;
                        }
                        switchProtocols(n);
                        return;
                    }
                    owner.onInterimResponse(cumulation, head);
                    cumulation.skipBytes(n);
                    head.reset();
                    parser.reset();
                    continue;
                }
                int mode = BodyFramer.bodyModeForResponse(head,
                        requestIsHead ? RequestHead.METHOD_HEAD : RequestHead.METHOD_GET);
                body.start(mode, head.contentLength);
                untilClose = mode == BodyFramer.MODE_UNTIL_CLOSE;
                // HTTP/1.0 clients do not know chunked (RFC 9112 7.1): strip the framing, delimit by close instead.
                dechunk = clientIsHttp10 && mode == BodyFramer.MODE_CHUNKED;
                dcState = DC_SIZE;
                dcRemaining = 0;
                int bodyStart = cumulation.readerIndex() + n;
                long inline = mode == BodyFramer.MODE_LENGTH && head.contentLength <= INLINE_BODY_MAX
                        && cumulation.writerIndex() - bodyStart >= head.contentLength ? head.contentLength : 0;
                if (inline > 0) {
                    // The whole (small) body came with the head: one buffer toward the client, no body slice.
                    owner.onResponseHeadAndBody(cumulation, head, bodyStart, (int) inline);
                    if (body.consume(cumulation, bodyStart, bodyStart + (int) inline) != inline) {
                        throw new IllegalStateException("a Content-Length body framer took less than its length");
                    }
                } else {
                    owner.onResponseHead(cumulation, head, untilClose, dechunk);
                }
                cumulation.skipBytes(n + (int) inline);
                parser.reset();
                state = S_BODY;
                if (body.isComplete()) {
                    complete();
                    return;
                }
            } else if (state == S_BODY) {
                int from = cumulation.readerIndex();
                int n = body.consume(cumulation, from, cumulation.writerIndex());
                if (n < 0) {
                    fail(GatewayError.UPSTREAM_INVALID_RESPONSE);
                    return;
                }
                if (n > 0) {
                    if (dechunk) {
                        relayDechunked(from, from + n);
                    } else {
                        owner.onResponseBody(cumulation.retainedSlice(from, n));
                    }
                    cumulation.skipBytes(n);
                }
                if (body.isComplete()) {
                    complete();
                    return;
                }
                if (n == 0) {
                    return;
                }
            } else {
                return;
            }
        }
    }

    /**
     * The upstream switched protocols ({@code 101} to a forwarded upgrade): the exchange relays the head, then the
     * connection becomes one side of a {@link Tunnel}; bytes after the head (the upstream's first frames) go through
     * it. Never pooled again.
     */
    private void switchProtocols(int headLength) {
        ExchangeSink o = owner;
        owner = null;
        deadlineNs = 0; // the tunnel's idle timeout replaces the response deadlines
        Tunnel t = o.onSwitchingProtocols(this, cumulation, head);
        ByteBuf rest = cumulation;
        cumulation = null;
        rest.skipBytes(headLength);
        if (t == null) {
            state = S_CLOSED; // not switched (a plugin answered otherwise): the exchange closed this connection
            rest.release();
            return;
        }
        state = S_TUNNEL;
        tunnel = t;
        if (rest.isReadable()) {
            t.fromUpstream(rest);
        } else {
            rest.release();
        }
    }

    private static final int DC_SIZE = 0, DC_EXT = 1, DC_DATA = 2, DC_DATA_CRLF = 3, DC_DATA_LF = 4,
            DC_TRAILER_START = 5, DC_TRAILER_LINE = 6, DC_FINAL_LF = 7;

    /**
     * Relays only the chunk data of {@code [from, to)}, which {@link BodyFramer} has already validated (so the framing
     * here is well-formed and the machine can be lenient): sizes, extensions, CRLFs and trailers are dropped.
     */
    private void relayDechunked(int from, int to) {
        ByteBuf buf = cumulation;
        int i = from;
        while (i < to && owner != null) {
            switch (dcState) {
                case DC_SIZE -> {
                    byte b = buf.getByte(i++);
                    int d = hexValue(b);
                    if (d >= 0) {
                        dcRemaining = (dcRemaining << 4) | d;
                    } else if (b == ';') {
                        dcState = DC_EXT;
                    } else if (b == '\n') {
                        dcState = dcRemaining == 0 ? DC_TRAILER_START : DC_DATA;
                    }
                }
                case DC_EXT -> {
                    if (buf.getByte(i++) == '\n') { // extensions (quoted strings included) never contain LF
                        dcState = dcRemaining == 0 ? DC_TRAILER_START : DC_DATA;
                    }
                }
                case DC_DATA -> {
                    int k = (int) Math.min(dcRemaining, to - i);
                    owner.onResponseBody(buf.retainedSlice(i, k));
                    i += k;
                    dcRemaining -= k;
                    if (dcRemaining == 0) {
                        dcState = DC_DATA_CRLF;
                    }
                }
                case DC_DATA_CRLF -> {
                    i++;
                    dcState = DC_DATA_LF;
                }
                case DC_DATA_LF -> {
                    i++;
                    dcState = DC_SIZE;
                }
                case DC_TRAILER_START -> {
                    dcState = buf.getByte(i++) == '\r' ? DC_FINAL_LF : DC_TRAILER_LINE;
                }
                case DC_TRAILER_LINE -> {
                    if (buf.getByte(i++) == '\n') {
                        dcState = DC_TRAILER_START;
                    }
                }
                default -> i++; // DC_FINAL_LF: the body ends here (BodyFramer reports completion)
            }
        }
    }

    private static int hexValue(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }

    /** Request body bytes went up: the exchange makes progress, so the read timeout restarts. */
    void requestProgress() {
        if (!sendStalled) {
            deadlineNs = loop.clock.nanoTime() + readTimeoutNs;
        }
    }

    private void complete() {
        ExchangeSink o = owner;
        owner = null;
        boolean reusable = head.keepAlive && !untilClose && requests < maxRequests
                && (cumulation == null || !cumulation.isReadable());
        state = reusable ? S_IDLE : S_CLOSED;
        o.onResponseComplete(this, reusable);
    }

    private void fail(GatewayError error) {
        ExchangeSink o = owner;
        owner = null;
        closeQuietly();
        if (o != null) {
            o.onUpstreamFailed(this, error);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (tunnel != null) {
            tunnel.upstreamReadComplete();
            return;
        }
        if (owner != null) {
            owner.flushDownstream();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (tunnel != null) {
            tunnel.upstreamWritabilityChanged(ctx.channel().isWritable());
            return;
        }
        if (owner != null) {
            boolean writable = ctx.channel().isWritable();
            if (!writable) {
                sendStalled = true;
                deadlineNs = loop.clock.nanoTime() + sendTimeoutNs;
            } else if (sendStalled) {
                sendStalled = false;
                deadlineNs = loop.clock.nanoTime() + readTimeoutNs;
            }
            owner.upstreamWritabilityChanged(writable);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        loop.sweeper.remove(this);
        loop.counters.increment(LoopCounters.UPSTREAM_CONNECTIONS_CLOSED);
        int was = state;
        state = S_CLOSED;
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
        if (tunnel != null) {
            tunnel.upstreamClosed();
            return;
        }
        ExchangeSink o = owner;
        if (o == null) {
            pool.remove(this);
            return;
        }
        owner = null;
        if (was == S_BODY && untilClose) {
            o.onResponseComplete(this, false);
        } else {
            o.onUpstreamFailed(this, GatewayError.UPSTREAM_RESET);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (tls != null && owner != null && state == S_HEAD && requests == 1 && isTlsFailure(cause)) {
            // A TLS alert before the first response: with TLS 1.3 the server checks our certificate (or its absence)
            // after our side of the handshake completed, so this is the handshake failing as the server sees it.
            fail(GatewayError.UPSTREAM_TLS_HANDSHAKE_FAILED);
            return;
        }
        // Connection resets and the like: channelInactive reports them to the owner.
        closeQuietly();
    }

    private static boolean isTlsFailure(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void sweep(long nowNs) {
        if (state == S_CLOSED || tunnel != null || deadlineNs == 0 || nowNs - deadlineNs < 0) {
            return;
        }
        if (owner != null) {
            if (readsBlocked && !sendStalled) {
                // We stopped reading because the client does not take the response: not the upstream's fault. The
                // client side bounds this with its own stall timeout.
                deadlineNs = nowNs + readTimeoutNs;
                return;
            }
            ExchangeSink o = owner;
            owner = null;
            closeQuietly();
            o.onUpstreamFailed(this, GatewayError.UPSTREAM_TIMEOUT);
        } else {
            closeQuietly(); // idle too long in the pool
        }
    }

    @Override
    public int sweepIndex() {
        return sweepIndex;
    }

    @Override
    public void sweepIndex(int index) {
        sweepIndex = index;
    }

    // NodePool.Pooled

    @Override
    public boolean isReusable() {
        return state == S_IDLE && channel != null && channel.isActive();
    }

    @Override
    public void closeQuietly() {
        state = S_CLOSED;
        if (channel != null) {
            channel.close();
        }
    }

    @Override
    public void markIdle(long nowNs) {
        deadlineNs = nowNs + idleTimeoutNs;
        readsBlocked = false;
        sendStalled = false;
        if (channel != null && !channel.config().isAutoRead()) {
            // An idle connection must keep reading, so that a close (or stray bytes) by the upstream is noticed.
            channel.config().setAutoRead(true);
        }
    }

    void blockReads(boolean block) {
        if (block == readsBlocked) {
            return;
        }
        readsBlocked = block;
        if (!block && !sendStalled) {
            deadlineNs = loop.clock.nanoTime() + readTimeoutNs; // the wait for the upstream starts again now
        }
        if (channel != null) {
            channel.config().setAutoRead(!block);
        }
    }
}
