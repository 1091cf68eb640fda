package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.turnpike.engine.codec.BodyFramer;
import io.turnpike.engine.codec.HttpParseError;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.RequestHeadParser;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.loop.Swept;
import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.plugin.HeaderEdits;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.snapshot.Snapshot;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP/1.1 client connection: the codec (request heads with the project's parser, request bodies framed by
 * {@link BodyFramer}), in-order pipelining, back-pressure and the connection's deadlines. Each request is handed to
 * this connection's {@link Exchange} (routing, balancing, the upstream connection, the response relay), which talks
 * back through {@link ServerStream}; the HTTP/2 connection type to come feeds the same {@code Exchange}.
 *
 * <pre>
 *   HEAD ──head parsed──▶ EXCHANGE (the exchange: CONNECTING ▶ BODY ▶ AWAIT_RESPONSE) ──response complete──┐
 *    ▲                                                                                                   │
 *    └──────────────────────── keep-alive: the next pipelined request ◀──────────────────────────────────┘
 * </pre>
 *
 * <p>Pipelined requests are served strictly in order: while an exchange is in flight, further bytes stay in the
 * cumulation (reads pause beyond {@link EngineSettings#pipelineBufferLimitBytes()}) and are parsed when the response
 * completes.
 *
 * <p>Back-pressure: reads on one side stop while the opposite channel is not writable ({@link #readBlockers}).
 *
 * <p>Confined to its event loop; no locks, no allocation per request in the steady state (pooled buffers, void
 * promises, reused parser state and exchange). ByteBuf ownership: the cumulation is owned here; body bytes leave as
 * retained slices whose ownership passes to the upstream channel's outbound buffer.
 */
public final class Http1ServerConnection extends ChannelInboundHandlerAdapter implements ServerStream, Swept {
    private static final int S_HEAD = 0;
    private static final int S_EXCHANGE = 1;
    /** Switched protocols (a WebSocket): bytes pass raw through {@link #tunnel} until either side closes. */
    private static final int S_TUNNEL = 3;
    private static final int S_CLOSED = 4;

    /** Reads pause while pipelined bytes beyond the limit wait (besides {@link ServerStream}'s reasons). */
    private static final int BLOCK_PIPELINE = 2;

    private static final byte[] CONTINUE_100 = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final LoopContext loop;
    private final EngineSettings settings;
    private final RequestHead head;
    private final RequestHeadParser parser;
    private final BodyFramer body;

    private ChannelHandlerContext ctx;
    private Channel channel;
    /** The connection is TLS (an HTTPS listener): X-Forwarded-Proto https. */
    private final boolean https;

    private ByteBuf cumulation;
    private int state = S_HEAD;
    /** Sniff the HTTP/2 connection preface on the first bytes (h2c with prior knowledge). */
    private boolean h2c;
    /** Kept from channelActive for a handover to HTTP/2. */
    private byte[] clientIpBytes;
    private byte[] localPortBytes;
    private int readBlockers;
    private boolean downstreamNeedsFlush;

    /** The request in flight (one at a time on HTTP/1; reused for every request of the connection). */
    private Exchange exchange;
    /** After a 101 to a forwarded upgrade: the tunnel to the upstream (the connection never serves HTTP again). */
    private Tunnel tunnel;
    private boolean clientKeepAlive = true;
    private boolean clientIsHttp10;
    private boolean closeAfterResponse;
    private boolean busy;

    private long deadlineNs;
    private boolean deadlineIsHead;
    /** When the client stopped accepting bytes (channel unwritable) during an exchange, 0 if it is writable. */
    private long stalledSinceNs;
    /** process() is on the stack: finishExchange must not re-enter it (the outer loop continues instead). */
    private boolean processing;
    private int sweepIndex = -1;
    /** An exchange's record began and its observers have not been told it ended yet. */
    private boolean recordOpen;

    public Http1ServerConnection(LoopContext loop) {
        this(loop, false);
    }

    public Http1ServerConnection(LoopContext loop, boolean https) {
        this(loop, https, false);
    }

    /**
     * {@code h2c}: a plain listener with {@code enable_http2}: a connection that opens with the HTTP/2 preface is handed
     * to an {@link Http2ServerConnection} (prior knowledge, RFC 9113 3.3). On TLS listeners the handover follows ALPN
     * ({@code h2} negotiated), whatever this flag says.
     */
    public Http1ServerConnection(LoopContext loop, boolean https, boolean h2c) {
        this.h2c = h2c;
        this.https = https;
        this.loop = loop;
        this.settings = loop.settings;
        this.head = new RequestHead(settings.maxHeaders());
        this.parser = new RequestHeadParser(settings.maxRequestLineBytes(), settings.maxHeaderBytes(),
                settings.maxHeaders(), true);
        this.body = new BodyFramer(settings.maxBodyBytes());
    }

    // ---------------------------------------------------------------- channel events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.channel = ctx.channel();
    }

    /**
     * The client address as X-Forwarded-For / X-Real-IP write it: an IPv4 address in dotted decimal, made straight from
     * its four bytes (what {@link java.net.InetAddress#getHostAddress()} gives, without its String and builder); any
     * other address through getHostAddress. Once per connection.
     */
    static byte[] addressText(java.net.InetAddress address) {
        if (!(address instanceof java.net.Inet4Address)) {
            return address.getHostAddress().getBytes(StandardCharsets.US_ASCII);
        }
        byte[] a = address.getAddress();
        int len = 3;
        for (byte b : a) {
            int v = b & 0xff;
            len += v >= 100 ? 3 : v >= 10 ? 2 : 1;
        }
        byte[] text = new byte[len];
        int n = 0;
        for (int i = 0; i < 4; i++) {
            if (i > 0) {
                text[n++] = '.';
            }
            int v = a[i] & 0xff;
            if (v >= 100) {
                text[n++] = (byte) ('0' + v / 100);
            }
            if (v >= 10) {
                text[n++] = (byte) ('0' + v / 10 % 10);
            }
            text[n++] = (byte) ('0' + v % 10);
        }
        return text;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // Once per connection: the proxy headers are written from these bytes on every request.
        byte[] clientIp = channel.remoteAddress() instanceof InetSocketAddress remote && remote.getAddress() != null
                ? addressText(remote.getAddress()) : "unknown".getBytes(StandardCharsets.US_ASCII);
        byte[] localPort = loop.portText(channel.localAddress() instanceof InetSocketAddress local ? local.getPort() : 0);
        clientIpBytes = clientIp;
        localPortBytes = localPort;
        exchange = new Exchange(loop, this, new ForwardedLines(clientIp, localPort, https),
                channel.remoteAddress() instanceof InetSocketAddress remote ? remote.getAddress() : null);
        loop.sweeper.add(this);
        loop.downstreamOpened();
        loop.counters.increment(LoopCounters.DOWNSTREAM_CONNECTIONS_OPENED);
        armHeadDeadline(loop.clock.nanoTime(), true);
        ctx.fireChannelActive();
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
        if (state == S_CLOSED) {
            in.release();
            return;
        }
        loop.counters.add(LoopCounters.BYTES_IN, in.readableBytes());
        if (state == S_TUNNEL) {
            tunnel.fromClient(in);
            return;
        }
        cumulation = cumulation == null ? in : Cumulation.append(ctx.alloc(), cumulation, in);
        if (h2c) {
            int m = prefaceMatch(cumulation);
            if (m == 0) {
                return; // fewer than 24 bytes, all of them the preface's so far
            }
            h2c = false;
            if (m > 0) {
                switchToHttp2();
                return;
            }
        }
        process();
    }

    private static final byte[] H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** 1: the buffer starts with the HTTP/2 preface; 0: it may (too short to tell); -1: it does not. */
    private static int prefaceMatch(ByteBuf b) {
        int n = Math.min(b.readableBytes(), H2_PREFACE.length);
        int r = b.readerIndex();
        for (int i = 0; i < n; i++) {
            if (b.getByte(r + i) != H2_PREFACE[i]) {
                return -1;
            }
        }
        return n == H2_PREFACE.length ? 1 : 0;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent e && e.isSuccess() && state == S_HEAD
                && cumulation == null) {
            io.netty.handler.ssl.SslHandler ssl = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class);
            if (ssl != null && "h2".equals(ssl.applicationProtocol())) {
                switchToHttp2();
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    /**
     * Hands the connection to an {@link Http2ServerConnection}: it takes this handler's place in the pipeline (and in
     * the sweeper; the connection stays counted as open) and gets the bytes read so far.
     */
    private void switchToHttp2() {
        state = S_CLOSED;
        deadlineNs = 0;
        loop.sweeper.remove(this);
        ByteBuf rest = cumulation;
        cumulation = null;
        Http2ServerConnection h2 = Http2ServerConnection.create(loop, https, clientIpBytes, localPortBytes,
                channel.remoteAddress() instanceof InetSocketAddress remote ? remote.getAddress() : null);
        io.netty.channel.ChannelPipeline p = ctx.pipeline();
        p.addAfter(ctx.name(), "h2", h2);
        p.remove(this);
        if (rest != null) {
            loop.counters.add(LoopCounters.BYTES_IN, -rest.readableBytes()); // counted again by the HTTP/2 side
            ChannelHandlerContext h2ctx = p.context(h2);
            try {
                h2.channelRead(h2ctx, rest);
                h2.channelReadComplete(h2ctx);
            } catch (Exception e) {
                channel.close();
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == S_TUNNEL) {
            tunnel.clientReadComplete();
            return;
        }
        if (exchange != null) {
            exchange.flushUpstream();
        }
        flushDownstream();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = channel.isWritable();
        stalledSinceNs = writable ? 0 : loop.clock.nanoTime();
        if (state == S_TUNNEL) {
            tunnel.clientWritabilityChanged(writable);
        } else if (exchange != null) {
            exchange.downstreamWritabilityChanged(writable);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (tunnel != null && tunnel.isOpen()) {
            // The tunnel's normal end (also after an I/O error, which sets S_CLOSED first): the upstream side is
            // flushed and closed, the exchange completes (not aborted).
            tunnel.clientClosed();
        }
        int was = state;
        state = S_CLOSED;
        loop.sweeper.remove(this);
        loop.downstreamClosed();
        loop.counters.increment(LoopCounters.DOWNSTREAM_CONNECTIONS_CLOSED);
        setBusy(false);
        if (exchange != null) {
            exchange.clientGone();
            if (recordOpen) {
                io.turnpike.engine.observe.ExchangeRecord r = exchange.record;
                r.aborted = true;
                if (r.endNs == 0) {
                    r.endNs = System.nanoTime();
                }
                complete(r);
            }
        }
        releaseBuffers();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // I/O errors (reset by peer and the like): nothing to answer on a broken connection.
        if (https && cause instanceof IOException && !(cause instanceof SSLException)) {
            // The socket itself failed (typically ECONNRESET on read): close it at the transport rather than through
            // the pipeline, whose SslHandler would first try to write a close_notify (and the session tickets
            // BoringSSL defers to the next write) to a peer that is gone: a failed send and a SIGPIPE per connection.
            state = S_CLOSED;
            deadlineNs = 0;
            channel.unsafe().close(channel.voidPromise());
            return;
        }
        close();
    }

    // ---------------------------------------------------------------- request side

    private void process() {
        if (processing) {
            return; // re-entered from finishExchange: the loop below picks up the next request
        }
        processing = true;
        try {
            processLoop();
        } finally {
            processing = false;
        }
        if (cumulation != null && !cumulation.isReadable()) {
            cumulation.release();
            cumulation = null;
        }
    }

    private void processLoop() {
        while (cumulation != null && cumulation.isReadable() && state != S_CLOSED) {
            if (state == S_HEAD) {
                if (!deadlineIsHead) {
                    armHeadDeadline(loop.clock.nanoTime(), true); // first bytes of the next request on a kept-alive connection
                }
                int n = parser.parse(cumulation, head);
                if (n == RequestHeadParser.NEED_MORE) {
                    break;
                }
                if (n == RequestHeadParser.ERROR) {
                    rejectRequest(head.error);
                    return;
                }
                onHead(n);
            } else if (state == S_EXCHANGE && exchange.acceptsBody()) {
                if (!forwardBody()) {
                    break;
                }
            } else {
                // CONNECTING or AWAIT_RESPONSE: a pipelined request waits its turn.
                if (cumulation.readableBytes() > settings.pipelineBufferLimitBytes()) {
                    block(BLOCK_PIPELINE);
                }
                break;
            }
        }
    }

    private void onHead(int headLength) {
        loop.counters.increment(LoopCounters.REQUESTS);
        exchange.record.begin(loop.clock.nanoTime(), head.method, headLength);
        recordOpen = true;
        io.turnpike.engine.observe.ExchangeObserver[] obs = loop.observers();
        for (int i = 0; i < obs.length; i++) {
            obs[i].onRequest(exchange.record, cumulation, head);
        }
        setBusy(true);
        deadlineNs = 0;
        Snapshot snapshot = loop.snapshot();
        clientIsHttp10 = head.versionMinor == 0;
        clientKeepAlive = head.keepAlive && !loop.isDraining();
        boolean hasBody = head.chunked || head.contentLength > 0;
        if (snapshot == null) {
            respondError(GatewayError.SERVICE_UNAVAILABLE, hasBody, headLength);
            return;
        }
        if (settings.maxBodyBytes() > 0 && head.contentLength > settings.maxBodyBytes()) {
            rejectRequest(HttpParseError.BODY_TOO_LARGE);
            return;
        }
        if (head.method == RequestHead.METHOD_CONNECT) {
            // A reverse proxy does not open tunnels; after a 2xx to CONNECT the framing would be gone.
            respondError(GatewayError.METHOD_NOT_ALLOWED, true, headLength);
            return;
        }
        if (head.chunked) {
            body.startChunked();
        } else if (head.contentLength > 0) {
            body.startContentLength(head.contentLength);
        } else {
            body.startNone();
        }
        closeAfterResponse = false;
        state = S_EXCHANGE;
        int started = exchange.start(snapshot, cumulation, head, clientIsHttp10, body.isComplete());
        if (started == Exchange.REFUSED) {
            state = S_HEAD;
            respondError(exchange.refusal(), hasBody, headLength);
            return;
        }
        if (started == Exchange.REPLIED) {
            state = S_HEAD;
            respondLocal(exchange.localReply(), exchange.localReplyHeaders(), hasBody, headLength);
            return;
        }
        cumulation.skipBytes(headLength);
        parser.reset();
    }

    /** Forwards what is buffered of the request body. Returns false when more input is needed. */
    private boolean forwardBody() {
        int from = cumulation.readerIndex();
        int n = body.consume(cumulation, from, cumulation.writerIndex());
        if (n < 0) {
            HttpParseError error = body.error();
            exchange.abortUpstream();
            if (exchange.responseStarted()) {
                close();
            } else {
                rejectRequest(error);
            }
            return false;
        }
        if (n > 0) {
            exchange.record.requestBytes += n;
            exchange.forwardBody(cumulation.retainedSlice(from, n));
            cumulation.skipBytes(n);
        }
        if (body.isComplete()) {
            exchange.requestBodyComplete();
            return true;
        }
        return n > 0;
    }

    // ---------------------------------------------------------------- ServerStream (called by the Exchange)

    @Override
    public ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public boolean readsPaused(int reason) {
        return (readBlockers & reason) != 0;
    }

    @Override
    public void pauseReads(int reason) {
        block(reason);
    }

    @Override
    public void resumeReads(int reason) {
        unblock(reason);
    }

    @Override
    public void writeContinue() {
        writeDownstream(CONTINUE_100);
    }

    @Override
    public void writeInterim(ByteBuf src, ResponseHead rh) {
        ByteBuf out = ctx.alloc().directBuffer(rh.headLength);
        out.writeBytes(src, rh.headStart, rh.headLength);
        ctx.write(out, ctx.voidPromise());
        downstreamNeedsFlush = true;
    }

    @Override
    public void writeResponseHead(ByteBuf src, ResponseHead rh, boolean mustClose, PluginContext px,
                                  boolean headRequest) {
        writeResponseHeadAndBody(src, rh, mustClose, px, headRequest, 0, 0);
    }

    /** The head, and with {@code bodyLength} > 0 the upstream's whole body after it in the same buffer. */
    @Override
    public void writeResponseHeadAndBody(ByteBuf src, ResponseHead rh, boolean mustClose, PluginContext px,
                                         boolean headRequest, int bodyStart, int bodyLength) {
        if (mustClose || !clientKeepAlive || loop.isDraining()) {
            closeAfterResponse = true;
        }
        byte[] body = px == null ? null : px.responseBody();
        int extra = px == null ? 0 : px.responseEdits.linesBytes() + 64 + (body == null ? 0 : body.length);
        ByteBuf out = ctx.alloc().directBuffer(rh.headLength + 32 + extra + bodyLength);
        HeadWriter.writeResponse(src, rh, out, closeAfterResponse, clientIsHttp10, px, headRequest);
        int bodyBytes = 0;
        if (body != null && !headRequest) {
            out.writeBytes(body);
            bodyBytes = body.length;
        } else if (bodyLength > 0) {
            out.writeBytes(src, bodyStart, bodyLength);
            bodyBytes = bodyLength;
        }
        loop.counters.add(LoopCounters.BYTES_OUT, out.readableBytes());
        exchange.record.responseBytes += out.readableBytes();
        exchange.record.responseBodyBytes += bodyBytes;
        ctx.write(out, ctx.voidPromise());
        downstreamNeedsFlush = true;
    }

    @Override
    public void writeResponseBody(ByteBuf slice) {
        loop.counters.add(LoopCounters.BYTES_OUT, slice.readableBytes());
        exchange.record.responseBytes += slice.readableBytes();
        exchange.record.responseBodyBytes += slice.readableBytes();
        ctx.write(slice, ctx.voidPromise());
        downstreamNeedsFlush = true;
    }

    @Override
    public void writeTrailers(io.netty.handler.codec.http2.Http2Headers trailers) {
        // Unreachable: an exchange to a gRPC upstream is refused for HTTP/1 clients (GatewayError.GRPC_NEEDS_HTTP2).
    }

    @Override
    public Tunnel switchProtocols(UpstreamConnection upstream, ByteBuf src, ResponseHead rh, PluginContext px) {
        int extra = px == null ? 0 : px.responseEdits.linesBytes() + 64;
        ByteBuf out = ctx.alloc().directBuffer(rh.headLength + 32 + extra);
        HeadWriter.writeResponse(src, rh, out, false, false, px, false, true);
        loop.counters.add(LoopCounters.BYTES_OUT, out.readableBytes());
        exchange.record.responseBytes += out.readableBytes();
        ctx.write(out, ctx.voidPromise());
        downstreamNeedsFlush = true;
        // Once per WebSocket, not per chunk.
        Tunnel t = new Tunnel(this, channel, upstream, loop.counters, exchange.record, upstream.readTimeoutNs(),
                loop.clock.nanoTime());
        tunnel = t;
        state = S_TUNNEL;
        deadlineNs = 0;
        unblock(BLOCK_PIPELINE);
        if (upstream.channel().isWritable()) {
            unblock(PAUSE_UPSTREAM_UNWRITABLE);
        } else {
            block(PAUSE_UPSTREAM_UNWRITABLE);
        }
        upstream.blockReads(!channel.isWritable());
        flushDownstream();
        // Bytes the client sent after its handshake are the tunnel's first (RFC 6455 says to wait; some do not).
        ByteBuf rest = cumulation;
        cumulation = null;
        if (rest != null) {
            if (rest.isReadable()) {
                t.fromClient(rest);
                t.clientReadComplete();
            } else {
                rest.release();
            }
        }
        return t;
    }

    /**
     * The tunnel closed (either side, or its idle timeout): the exchange completes once, as one request (status 101,
     * the tunnelled bytes in its byte counts), its log phase runs; {@code closeClient}: flush and close this side.
     */
    void tunnelEnded(boolean closeClient) {
        exchange.tunnelEnded();
        io.turnpike.engine.observe.ExchangeRecord r = exchange.record;
        r.endNs = System.nanoTime();
        exchange.reset();
        setBusy(false);
        complete(r);
        if (closeClient) {
            closeAfterFlush();
        } else {
            state = S_CLOSED;
        }
    }

    @Override
    public void upstreamAttached() {
        process();
        exchange.flushUpstream();
        flushDownstream();
    }

    @Override
    public void exchangeComplete(boolean requestComplete) {
        if (!requestComplete) {
            // The upstream answered before the request body ended: the rest of the body cannot be framed away safely.
            closeAfterResponse = true;
        }
        finishExchange();
    }

    @Override
    public void abortResponse(GatewayError error) {
        // Part of the response went out already; the only honest signal left is closing the connection.
        loop.counters.error(error);
        flushDownstream();
        close();
    }

    @Override
    public void pluginReplied(LocalReply reply, HeaderEdits headers) {
        loop.counters.increment(LoopCounters.PLUGIN_REPLIES);
        boolean requestComplete = exchange.requestComplete();
        boolean close = !requestComplete || !clientKeepAlive;
        if (!requestComplete) {
            state = S_CLOSED; // the body was not read: the framing of what follows is unknown
        }
        ByteBuf out = ctx.alloc().directBuffer(reply.bytes() + headers.linesBytes());
        reply.write(out, headers, close, head.method == RequestHead.METHOD_HEAD);
        loop.counters.add(LoopCounters.BYTES_OUT, out.readableBytes());
        exchange.record.status = reply.status;
        exchange.record.responseBytes += out.readableBytes();
        exchange.record.responseBodyBytes += head.method == RequestHead.METHOD_HEAD ? 0 : reply.bodyBytes();
        ctx.write(out, ctx.voidPromise());
        downstreamNeedsFlush = true;
        closeAfterResponse = close;
        finishExchange();
    }

    @Override
    public void failBeforeResponse(GatewayError error) {
        loop.counters.error(error);
        exchange.record.status = error.status;
        exchange.record.error = error;
        boolean requestComplete = exchange.requestComplete();
        boolean close = !requestComplete || !clientKeepAlive;
        if (!requestComplete) {
            state = S_CLOSED; // stop forwarding body bytes
        }
        writeDownstream(ErrorResponses.gateway(error, close));
        closeAfterResponse = close;
        finishExchange();
    }

    private void finishExchange() {
        io.turnpike.engine.observe.ExchangeRecord r = exchange.record;
        r.endNs = System.nanoTime();
        exchange.reset();
        setBusy(false);
        complete(r);
        if (state == S_CLOSED && !closeAfterResponse) {
            return; // the connection is going away (closed by an I/O error meanwhile): nothing more to parse
        }
        if (closeAfterResponse || !clientKeepAlive) {
            closeAfterFlush();
            return;
        }
        state = S_HEAD;
        head.reset();
        parser.reset();
        unblock(BLOCK_PIPELINE | PAUSE_UPSTREAM_UNWRITABLE);
        armHeadDeadline(loop.clock.nanoTime(), false);
        if (!processing && cumulation != null && cumulation.isReadable()) {
            process(); // the next pipelined request, which may already be complete in the cumulation
            exchange.flushUpstream();
        }
        flushDownstream();
    }

    /** Tells the loop's observers that the exchange of {@code r} ended. */
    private void complete(io.turnpike.engine.observe.ExchangeRecord r) {
        recordOpen = false;
        io.turnpike.engine.observe.ExchangeObserver[] obs = loop.observers();
        for (int i = 0; i < obs.length; i++) {
            obs[i].onComplete(r);
        }
    }

    @Override
    public void flush() {
        flushDownstream();
    }

    void flushDownstream() {
        if (downstreamNeedsFlush) {
            downstreamNeedsFlush = false;
            ctx.flush();
        }
    }

    // ---------------------------------------------------------------- errors, timeouts, close

    /** Answers a request the gateway will not proxy. The connection stays open only if no body bytes follow. */
    private void respondError(GatewayError error, boolean requestHasBody, int headLength) {
        loop.counters.error(error);
        exchange.record.status = error.status;
        exchange.record.error = error;
        boolean close = requestHasBody || !clientKeepAlive;
        cumulation.skipBytes(headLength);
        parser.reset();
        writeDownstream(ErrorResponses.gateway(error, close));
        closeAfterResponse = close;
        if (close) {
            state = S_CLOSED;
        }
        finishExchange();
    }

    /** A plugin answered the request itself. As {@link #respondError}: the connection stays open unless a body follows. */
    private void respondLocal(LocalReply reply, HeaderEdits headers, boolean requestHasBody, int headLength) {
        loop.counters.increment(LoopCounters.PLUGIN_REPLIES);
        boolean close = requestHasBody || !clientKeepAlive;
        boolean headRequest = head.method == RequestHead.METHOD_HEAD;
        cumulation.skipBytes(headLength);
        parser.reset();
        ByteBuf out = ctx.alloc().directBuffer(reply.bytes() + headers.linesBytes());
        reply.write(out, headers, close, headRequest);
        loop.counters.add(LoopCounters.BYTES_OUT, out.readableBytes());
        exchange.record.status = reply.status;
        exchange.record.responseBytes += out.readableBytes();
        exchange.record.responseBodyBytes += headRequest ? 0 : reply.bodyBytes();
        ctx.write(out, ctx.voidPromise());
        downstreamNeedsFlush = true;
        closeAfterResponse = close;
        if (close) {
            state = S_CLOSED;
        }
        finishExchange();
    }

    /** A malformed request: answer with the parser's status and close (the framing of what follows is unknown). */
    private void rejectRequest(HttpParseError error) {
        loop.counters.parseError(error.ordinal());
        setBusy(false);
        int was = state;
        state = S_CLOSED;
        io.turnpike.engine.observe.ExchangeRecord r = exchange.record;
        if (was == S_HEAD) {
            // A malformed head: no exchange began; observers still see the refusal (no route, no request line).
            r.begin(loop.clock.nanoTime(), head.method, 0);
            io.turnpike.engine.observe.ExchangeObserver[] obs = loop.observers();
            for (int i = 0; i < obs.length; i++) {
                obs[i].onRequest(r, cumulation, null);
            }
        }
        r.status = error.status;
        writeDownstream(ErrorResponses.parse(error));
        if (was == S_HEAD) {
            r.endNs = System.nanoTime();
            complete(r);
        }
        // A malformed body: the exchange ends when the connection closes (channelInactive completes the record).
        closeAfterFlush();
    }

    /** The body's length in a canned response (the bytes after the head's blank line). */
    private static int bodyLength(byte[] response) {
        for (int i = 3; i < response.length; i++) {
            if (response[i] == '\n' && response[i - 1] == '\r' && response[i - 2] == '\n' && response[i - 3] == '\r') {
                return response.length - i - 1;
            }
        }
        return 0;
    }

    private void writeDownstream(byte[] bytes) {
        ByteBuf out = ctx.alloc().directBuffer(bytes.length);
        out.writeBytes(bytes);
        loop.counters.add(LoopCounters.BYTES_OUT, bytes.length);
        if (exchange != null && !(bytes == CONTINUE_100)) {
            exchange.record.responseBytes += bytes.length;
            exchange.record.responseBodyBytes += bodyLength(bytes);
        }
        ctx.write(out, ctx.voidPromise());
        downstreamNeedsFlush = true;
    }

    private void armHeadDeadline(long nowNs, boolean headTimeout) {
        deadlineIsHead = headTimeout;
        deadlineNs = nowNs + (headTimeout ? settings.headerTimeoutNs() : settings.keepaliveTimeoutNs());
    }

    @Override
    public void sweep(long nowNs) {
        if (state == S_TUNNEL) {
            tunnel.sweep(nowNs);
            return;
        }
        if (state == S_CLOSED) {
            // Closing after a flush that the client does not take: do not wait for it forever.
            if (deadlineNs != 0 && nowNs - deadlineNs >= 0) {
                deadlineNs = 0;
                channel.close();
            }
            return;
        }
        if (state == S_EXCHANGE && (exchange.phase() == Exchange.CONNECTING
                || exchange.phase() == Exchange.PLUGIN_PAUSED)) {
            exchange.sweep(nowNs);
            return;
        }
        if (state != S_HEAD) {
            // During an exchange: a client that stops reading the response (or the 100 Continue) holds the upstream
            // connection through back-pressure; give up after the keep-alive timeout without progress.
            if (stalledSinceNs != 0 && nowNs - stalledSinceNs - settings.keepaliveTimeoutNs() >= 0
                    && !channel.isWritable()) {
                close();
            }
            return;
        }
        if (loop.isDraining() && (cumulation == null || !cumulation.isReadable()) && idleForDrain(nowNs)) {
            close(); // idle keep-alive connection during drain
            return;
        }
        if (deadlineNs == 0 || nowNs - deadlineNs < 0) {
            return;
        }
        if (deadlineIsHead && cumulation != null && cumulation.isReadable()) {
            loop.counters.error(GatewayError.REQUEST_HEAD_TIMEOUT);
            state = S_CLOSED;
            writeDownstream(ErrorResponses.gateway(GatewayError.REQUEST_HEAD_TIMEOUT, true));
            closeAfterFlush();
        } else {
            close(); // idle keep-alive timeout, or a connection that never sent a byte
        }
    }

    /**
     * During a drain, a connection without a request is closed once it has been idle for {@link #DRAIN_IDLE_GRACE_NS}:
     * a client that is about to send its next request on it (or its first, on a connection just accepted) gets that
     * request answered with {@code Connection: close} instead of a connection closed under it; only a connection
     * idle for longer can still meet a request in flight, HTTP/1.1's keep-alive race (docs/operations.md).
     */
    private boolean idleForDrain(long nowNs) {
        if (deadlineNs == 0) {
            return true;
        }
        long idleSinceNs = deadlineNs - (deadlineIsHead ? settings.headerTimeoutNs() : settings.keepaliveTimeoutNs());
        return nowNs - idleSinceNs - DRAIN_IDLE_GRACE_NS >= 0;
    }

    static final long DRAIN_IDLE_GRACE_NS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1000);

    @Override
    public int sweepIndex() {
        return sweepIndex;
    }

    @Override
    public void sweepIndex(int index) {
        sweepIndex = index;
    }

    private void closeAfterFlush() {
        state = S_CLOSED;
        deadlineNs = loop.clock.nanoTime() + settings.keepaliveTimeoutNs(); // linger bound, enforced by sweep
        downstreamNeedsFlush = false;
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void close() {
        state = S_CLOSED;
        deadlineNs = 0;
        channel.close();
    }

    private void releaseBuffers() {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }

    /** Tracks whether an exchange is in flight, for the loop's busy count (drain waits for it to reach zero). */
    private void setBusy(boolean b) {
        if (b != busy) {
            busy = b;
            loop.busy(b ? 1 : -1);
        }
    }

    private void block(int reason) {
        int before = readBlockers;
        readBlockers |= reason;
        if (before == 0) {
            channel.config().setAutoRead(false);
        }
    }

    private void unblock(int reasons) {
        int before = readBlockers;
        readBlockers &= ~reasons;
        if (before != 0 && readBlockers == 0 && state != S_CLOSED) {
            channel.config().setAutoRead(true);
        }
    }

    /** Exposed for tests and the status endpoint. */
    boolean isIdle() {
        return state == S_HEAD && (cumulation == null || !cumulation.isReadable());
    }
}
