package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
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
import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.router.MatchScratch;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.upstream.Balancer;
import io.turnpike.engine.upstream.BalancerInput;
import io.turnpike.engine.upstream.NodeAddress;
import io.turnpike.engine.upstream.NodePool;
import io.turnpike.engine.upstream.UpstreamTarget;
import io.turnpike.engine.upstream.UpstreamTls;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The proxy side of one client connection: decodes request heads with the project's parser, routes on the loop's
 * pinned snapshot, takes an upstream connection of this loop's pool (or opens one on this loop), and streams the
 * request body up and the response down without aggregating either.
 *
 * <pre>
 *   HEAD ──head parsed──▶ CONNECTING ──connected──▶ BODY ──body complete──▶ AWAIT_RESPONSE
 *    ▲                        │ (pooled connection: straight to BODY)              │
 *    └────────────── response complete (keep-alive): next pipelined request ◀──────┘
 * </pre>
 *
 * <p>Pipelined requests are served strictly in order: while an exchange is in flight, further bytes stay in the
 * cumulation (reads pause beyond {@link EngineSettings#pipelineBufferLimitBytes()}) and are parsed when the response
 * completes.
 *
 * <p>Back-pressure: reads on one side stop while the opposite channel is not writable ({@link #readBlockers}).
 *
 * <p>Confined to its event loop; no locks, no allocation per request in the steady state (pooled buffers, void
 * promises, reused parser state). ByteBuf ownership: the cumulation is owned here; body bytes leave as retained slices
 * whose ownership passes to the upstream channel's outbound buffer.
 */
public final class DownstreamHandler extends ChannelInboundHandlerAdapter implements Swept {
    private static final int S_HEAD = 0;
    private static final int S_CONNECTING = 1;
    private static final int S_BODY = 2;
    private static final int S_AWAIT_RESPONSE = 3;
    private static final int S_CLOSED = 4;

    private static final int BLOCK_UPSTREAM_UNWRITABLE = 1;
    private static final int BLOCK_PIPELINE = 2;
    private static final int BLOCK_CONNECTING = 4;

    private static final byte[] CONTINUE_100 = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final LoopContext loop;
    private final EngineSettings settings;
    private final RequestHead head;
    private final RequestHeadParser parser;
    private final BodyFramer body;

    private ChannelHandlerContext ctx;
    private Channel channel;
    private byte[] clientIp;
    private byte[] localPort;
    /** The connection is TLS (an HTTPS listener): X-Forwarded-Proto https. */
    private final boolean https;

    private ByteBuf cumulation;
    private int state = S_HEAD;
    private int readBlockers;
    private boolean downstreamNeedsFlush;
    private boolean upstreamNeedsFlush;

    // The exchange in flight.
    private Snapshot pinned;
    private UpstreamConnection upstream;
    private ByteBuf pendingHead;
    private boolean requestComplete;
    private boolean responseStarted;
    private boolean expectContinue;
    private boolean clientKeepAlive = true;
    private boolean clientIsHttp10;
    private boolean closeAfterResponse;
    // Routing and balancing state of the exchange in flight (reused per connection).
    private final MatchScratch routeScratch = new MatchScratch();
    private final BalancerInput balancerInput = new BalancerInput();
    private Balancer balancer;
    private NodeAddress node;
    private UpstreamTarget target;
    private long triedNodes;
    private int attempts;
    private long requestStartNs;
    private boolean busy;
    /** TLS upstream with pass_host pass: the SNI of the exchange (the client's Host, no port) once it connected. */
    private String exchangeSni;
    /** Picks pooled TLS connections opened for the request's host (lazily created: TLS upstreams only). */
    private SniMatcher sniMatcher;

    private long deadlineNs;
    private boolean deadlineIsHead;
    /** When the client stopped accepting bytes (channel unwritable) during an exchange, 0 if it is writable. */
    private long stalledSinceNs;
    /** process() is on the stack: finishExchange must not re-enter it (the outer loop continues instead). */
    private boolean processing;
    private int sweepIndex = -1;

    public DownstreamHandler(LoopContext loop) {
        this(loop, false);
    }

    public DownstreamHandler(LoopContext loop, boolean https) {
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

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // Once per connection: the proxy headers are written from these bytes on every request.
        clientIp = (channel.remoteAddress() instanceof InetSocketAddress remote && remote.getAddress() != null
                ? remote.getAddress().getHostAddress() : "unknown").getBytes(StandardCharsets.US_ASCII);
        localPort = Integer.toString(channel.localAddress() instanceof InetSocketAddress local ? local.getPort() : 0)
                .getBytes(StandardCharsets.US_ASCII);
        routeScratch.remoteAddress(channel.remoteAddress() instanceof InetSocketAddress remote
                ? remote.getAddress() : null);
        balancerInput.remoteAddr(clientIp);
        loop.sweeper.add(this);
        loop.downstreamOpened();
        loop.counters.increment(LoopCounters.DOWNSTREAM_CONNECTIONS_OPENED);
        armHeadDeadline(System.nanoTime(), true);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        if (state == S_CLOSED) {
            in.release();
            return;
        }
        loop.counters.add(LoopCounters.BYTES_IN, in.readableBytes());
        cumulation = cumulation == null ? in : Cumulation.append(ctx.alloc(), cumulation, in);
        process();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushUpstream();
        flushDownstream();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = channel.isWritable();
        stalledSinceNs = writable ? 0 : System.nanoTime();
        if (upstream != null) {
            upstream.blockReads(!writable);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        int was = state;
        state = S_CLOSED;
        loop.sweeper.remove(this);
        loop.downstreamClosed();
        loop.counters.increment(LoopCounters.DOWNSTREAM_CONNECTIONS_CLOSED);
        setBusy(false);
        endBalancer(true);
        if (upstream != null) {
            upstream.abort();
            upstream = null;
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
                    armHeadDeadline(System.nanoTime(), true); // first bytes of the next request on a kept-alive connection
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
            } else if (state == S_BODY) {
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
        CompiledRoute route = snapshot.routes.match(cumulation, head, routeScratch);
        if (route == null) {
            respondError(GatewayError.ROUTE_NOT_FOUND, hasBody, headLength);
            return;
        }
        UpstreamTarget target = route.upstream;
        Balancer bal = loop.balancer(target);
        balancerInput.resetRequest();
        NodeAddress node = bal.pick(cumulation, head, balancerInput); // before skipBytes: chash reads head spans
        if (node == null) {
            respondError(GatewayError.NO_AVAILABLE_NODE, hasBody, headLength);
            return;
        }
        bal.onRequestStart(node);
        this.balancer = bal;
        this.node = node;
        this.target = target;
        triedNodes = 0;
        attempts = 0;
        requestStartNs = System.nanoTime();
        pinned = snapshot;
        ByteBuf out = ctx.alloc().directBuffer(HeadWriter.estimateRequestHeadBytes(head, clientIp));
        HeadWriter.writeRequest(cumulation, head, out, clientIp, localPort, https, target, node);
        boolean isHeadMethod = head.method == RequestHead.METHOD_HEAD;
        expectContinue = head.expectContinue && !clientIsHttp10;
        if (head.chunked) {
            body.startChunked();
        } else if (head.contentLength > 0) {
            body.startContentLength(head.contentLength);
        } else {
            body.startNone();
        }
        cumulation.skipBytes(headLength);
        parser.reset();
        requestComplete = body.isComplete();
        responseStarted = false;
        closeAfterResponse = false;

        NodePool<UpstreamConnection> pool = loop.pool(node);
        exchangeSni = null;
        UpstreamConnection pooled;
        if (target.tls != null && target.passHost == UpstreamTarget.PASS_HOST_PASS) {
            // The SNI followed the Host of the request that opened the connection: reuse only for the same host.
            SniMatcher m = sniMatcher();
            if (head.hostIndex >= 0) {
                m.span(cumulation, head.valueStart[head.hostIndex], head.valueEnd[head.hostIndex]);
            } else {
                m.bytes(node.hostHeader);
            }
            pooled = pool.acquire(m);
            m.clear();
            if (pooled == null && head.hostIndex >= 0) {
                exchangeSni = UpstreamTls.hostOf(cumulation, head.valueStart[head.hostIndex],
                        head.valueEnd[head.hostIndex]);
            }
        } else {
            pooled = pool.acquire();
        }
        if (pooled != null) {
            loop.counters.increment(LoopCounters.UPSTREAM_CONNECTIONS_REUSED);
            attach(pooled, out, isHeadMethod);
        } else {
            state = S_CONNECTING;
            pendingHead = out;
            block(BLOCK_CONNECTING);
            connect(target, node, pool, isHeadMethod);
        }
    }

    private SniMatcher sniMatcher() {
        if (sniMatcher == null) {
            sniMatcher = new SniMatcher();
        }
        return sniMatcher;
    }

    /** A pooled TLS connection matches when its SNI is the host of the request's Host value (no allocation). */
    private static final class SniMatcher implements NodePool.Matcher<UpstreamConnection> {
        private ByteBuf buf;
        private int start;
        private int end;

        void span(ByteBuf b, int s, int e) {
            buf = b;
            start = s;
            end = e;
        }

        void bytes(byte[] hostPort) {
            span(io.netty.buffer.Unpooled.wrappedBuffer(hostPort), 0, hostPort.length);
        }

        void clear() {
            buf = null;
        }

        @Override
        public boolean matches(UpstreamConnection c) {
            return UpstreamTls.sameHost(c.sni(), buf, start, end);
        }
    }

    private void connect(UpstreamTarget target, NodeAddress node, NodePool<UpstreamConnection> pool,
                         boolean isHeadMethod) {
        UpstreamConnection uc = new UpstreamConnection(loop, pool, target.readTimeoutNs, target.idleTimeoutNs,
                target.maxRequestsPerConnection);
        // Not the steady state (pooled connections are): the clone, the option, the TLS handler and the listeners are
        // per new connection.
        if (target.tls != null) {
            String sni = target.sni(node, exchangeSni);
            uc.tls(target.tls.newHandler(ctx.alloc(), sni, node.address.getPort()),
                    sni.getBytes(StandardCharsets.ISO_8859_1),
                    System.nanoTime() + target.connectTimeoutMs * 1_000_000L);
        }
        ChannelFuture f = loop.upstreamBootstrap().clone().handler(uc)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, target.connectTimeoutMs))
                .connect(node.address);
        f.addListener((ChannelFutureListener) future -> {
            if (!future.isSuccess()) {
                if (state == S_CONNECTING) {
                    connectFailed(GatewayError.UPSTREAM_CONNECT_FAILED, isHeadMethod);
                }
                return;
            }
            if (uc.tlsHandler() == null) {
                connected(uc, pool, isHeadMethod);
                return;
            }
            // CONNECTING lasts until the handshake is done: the request head waits in pendingHead meanwhile.
            uc.tlsHandler().handshakeFuture().addListener(hs -> {
                if (hs.isSuccess()) {
                    connected(uc, pool, isHeadMethod);
                    return;
                }
                uc.closeQuietly();
                if (state == S_CONNECTING) {
                    connectFailed(GatewayError.UPSTREAM_TLS_HANDSHAKE_FAILED, isHeadMethod);
                }
            });
        });
    }

    /** A new upstream connection is ready (connected, and for TLS the handshake is done). */
    private void connected(UpstreamConnection uc, NodePool<UpstreamConnection> pool, boolean isHeadMethod) {
        if (state != S_CONNECTING) {
            // The client went away while we were connecting; keep the fresh connection for the next request.
            pool.release(uc, System.nanoTime());
            return;
        }
        unblock(BLOCK_CONNECTING);
        attach(uc, pendingHead, isHeadMethod);
        pendingHead = null;
        process();
        flushUpstream();
        flushDownstream();
    }

    /** Connect or TLS handshake failed: retry on another node, else answer 502 with {@code error}. */
    private void connectFailed(GatewayError error, boolean isHeadMethod) {
        if (!retryConnect(isHeadMethod)) {
            pendingHead.release();
            pendingHead = null;
            unblock(BLOCK_CONNECTING);
            failBeforeResponse(error);
        }
    }

    /**
     * Connect failed: try another node of the same target (up to its {@code retries}), never one already tried. Safe
     * because nothing of the request has left the gateway yet (the head waits in {@code pendingHead} and body bytes
     * stay in the cumulation while connecting). With {@code pass_host: node} the pending head names the failed node's
     * host, so such targets are not retried.
     */
    private boolean retryConnect(boolean isHeadMethod) {
        Balancer bal = balancer;
        NodeAddress failed = node;
        endBalancer(true);
        if (bal == null || target == null || attempts >= target.retries
                || target.passHost == UpstreamTarget.PASS_HOST_NODE) {
            return false;
        }
        triedNodes = bal.markTried(triedNodes, failed);
        NodeAddress next = bal.pickExcluding(null, null, balancerInput, triedNodes);
        if (next == null) {
            return false;
        }
        attempts++;
        loop.counters.increment(LoopCounters.UPSTREAM_RETRIES);
        balancer = bal;
        node = next;
        bal.onRequestStart(next);
        NodePool<UpstreamConnection> pool = loop.pool(next);
        UpstreamConnection pooled;
        if (target.tls != null && target.passHost == UpstreamTarget.PASS_HOST_PASS) {
            SniMatcher m = sniMatcher();
            m.bytes(exchangeSni != null ? exchangeSni.getBytes(StandardCharsets.ISO_8859_1) : next.hostHeader);
            pooled = pool.acquire(m);
            m.clear();
        } else {
            pooled = pool.acquire();
        }
        if (pooled != null) {
            loop.counters.increment(LoopCounters.UPSTREAM_CONNECTIONS_REUSED);
            unblock(BLOCK_CONNECTING);
            ByteBuf h = pendingHead;
            pendingHead = null;
            attach(pooled, h, isHeadMethod);
            process();
            flushUpstream();
            flushDownstream();
        } else {
            connect(target, next, pool, isHeadMethod);
        }
        return true;
    }

    /** Reports the end of the balanced request exactly once, to the balancer instance that started it. */
    private void endBalancer(boolean failed) {
        Balancer b = balancer;
        if (b != null) {
            balancer = null;
            b.onRequestEnd(node, System.nanoTime() - requestStartNs, failed);
        }
    }

    private void attach(UpstreamConnection uc, ByteBuf requestHead, boolean isHeadMethod) {
        upstream = uc;
        uc.bind(this, isHeadMethod, clientIsHttp10);
        uc.channel().write(requestHead, uc.channel().voidPromise());
        upstreamNeedsFlush = true;
        state = requestComplete ? S_AWAIT_RESPONSE : S_BODY;
        if (expectContinue && !requestComplete) {
            writeDownstream(CONTINUE_100);
        }
        if (!uc.channel().isWritable()) {
            block(BLOCK_UPSTREAM_UNWRITABLE);
        }
        if (!channel.isWritable()) {
            uc.blockReads(true);
        }
    }

    /** Forwards what is buffered of the request body. Returns false when more input is needed. */
    private boolean forwardBody() {
        int from = cumulation.readerIndex();
        int n = body.consume(cumulation, from, cumulation.writerIndex());
        if (n < 0) {
            HttpParseError error = body.error();
            UpstreamConnection uc = upstream;
            upstream = null;
            if (uc != null) {
                uc.abort();
            }
            if (responseStarted) {
                close();
            } else {
                rejectRequest(error);
            }
            return false;
        }
        if (n > 0) {
            Channel up = upstream.channel();
            up.write(cumulation.retainedSlice(from, n), up.voidPromise());
            cumulation.skipBytes(n);
            upstreamNeedsFlush = true;
            if (!up.isWritable()) {
                block(BLOCK_UPSTREAM_UNWRITABLE);
            }
            upstream.requestProgress();
        }
        if (body.isComplete()) {
            requestComplete = true;
            state = S_AWAIT_RESPONSE;
            return true;
        }
        return n > 0;
    }

    // ---------------------------------------------------------------- response side (called by UpstreamConnection)

    void onInterimResponse(ByteBuf src, ResponseHead rh) {
        if (clientIsHttp10 || expectContinue) {
            return; // 1.0 clients do not understand 1xx; a 100 was already sent by the gateway
        }
        ByteBuf out = ctx.alloc().directBuffer(rh.headLength);
        out.writeBytes(src, rh.headStart, rh.headLength);
        ctx.write(out, ctx.voidPromise());
        downstreamNeedsFlush = true;
    }

    /**
     * @param untilClose the upstream delimits the body by closing, so must we
     * @param dechunked  a chunked body relayed without its framing to an HTTP/1.0 client: delimited by our close
     */
    void onResponseHead(ByteBuf src, ResponseHead rh, boolean untilClose, boolean dechunked) {
        responseStarted = true;
        if (untilClose || dechunked || !requestComplete || !clientKeepAlive || loop.isDraining()) {
            closeAfterResponse = true;
        }
        ByteBuf out = ctx.alloc().directBuffer(rh.headLength + 32);
        HeadWriter.writeResponse(src, rh, out, closeAfterResponse, clientIsHttp10);
        loop.counters.add(LoopCounters.BYTES_OUT, out.readableBytes());
        ctx.write(out, ctx.voidPromise());
        downstreamNeedsFlush = true;
    }

    void onResponseBody(ByteBuf slice) {
        loop.counters.add(LoopCounters.BYTES_OUT, slice.readableBytes());
        ctx.write(slice, ctx.voidPromise());
        downstreamNeedsFlush = true;
        if (!channel.isWritable() && upstream != null) {
            upstream.blockReads(true);
        }
    }

    void onResponseComplete(UpstreamConnection uc, boolean reusable) {
        endBalancer(false);
        loop.counters.increment(LoopCounters.RESPONSES);
        upstream = null;
        if (reusable && requestComplete) {
            uc.pool().release(uc, System.nanoTime());
        } else {
            uc.closeQuietly();
        }
        if (!requestComplete) {
            // The upstream answered before the request body ended: the rest of the body cannot be framed away safely.
            closeAfterResponse = true;
        }
        finishExchange();
    }

    void onUpstreamFailed(UpstreamConnection uc, GatewayError error) {
        endBalancer(true);
        upstream = null;
        if (error == GatewayError.UPSTREAM_TIMEOUT && !requestComplete && (readBlockers & BLOCK_UPSTREAM_UNWRITABLE) == 0) {
            error = GatewayError.REQUEST_BODY_TIMEOUT; // the client, not the upstream, stopped sending the body
        }
        if (responseStarted) {
            // Part of the response went out already; the only honest signal left is closing the connection.
            loop.counters.error(error);
            flushDownstream();
            close();
            return;
        }
        failBeforeResponse(error);
    }

    private void failBeforeResponse(GatewayError error) {
        loop.counters.error(error);
        boolean close = !requestComplete || !clientKeepAlive;
        if (!requestComplete) {
            state = S_CLOSED; // stop forwarding body bytes
        }
        writeDownstream(ErrorResponses.gateway(error, close));
        closeAfterResponse = close;
        finishExchange();
    }

    private void finishExchange() {
        endBalancer(false);
        pinned = null;
        setBusy(false);
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
        unblock(BLOCK_PIPELINE | BLOCK_UPSTREAM_UNWRITABLE);
        armHeadDeadline(System.nanoTime(), false);
        if (!processing && cumulation != null && cumulation.isReadable()) {
            process(); // the next pipelined request, which may already be complete in the cumulation
            flushUpstream();
        }
        flushDownstream();
    }

    void flushDownstream() {
        if (downstreamNeedsFlush) {
            downstreamNeedsFlush = false;
            ctx.flush();
        }
    }

    private void flushUpstream() {
        if (upstreamNeedsFlush) {
            upstreamNeedsFlush = false;
            if (upstream != null) {
                upstream.channel().flush();
            }
        }
    }

    void upstreamWritabilityChanged(boolean writable) {
        if (writable) {
            unblock(BLOCK_UPSTREAM_UNWRITABLE);
        } else {
            block(BLOCK_UPSTREAM_UNWRITABLE);
        }
    }

    // ---------------------------------------------------------------- errors, timeouts, close

    /** Answers a request the gateway will not proxy. The connection stays open only if no body bytes follow. */
    private void respondError(GatewayError error, boolean requestHasBody, int headLength) {
        loop.counters.error(error);
        boolean close = requestHasBody || !clientKeepAlive;
        cumulation.skipBytes(headLength);
        parser.reset();
        writeDownstream(ErrorResponses.gateway(error, close));
        requestComplete = true;
        responseStarted = true;
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
        state = S_CLOSED;
        writeDownstream(ErrorResponses.parse(error));
        closeAfterFlush();
    }

    private void writeDownstream(byte[] bytes) {
        ByteBuf out = ctx.alloc().directBuffer(bytes.length);
        out.writeBytes(bytes);
        loop.counters.add(LoopCounters.BYTES_OUT, bytes.length);
        ctx.write(out, ctx.voidPromise());
        downstreamNeedsFlush = true;
    }

    private void armHeadDeadline(long nowNs, boolean headTimeout) {
        deadlineIsHead = headTimeout;
        deadlineNs = nowNs + (headTimeout ? settings.headerTimeoutNs() : settings.keepaliveTimeoutNs());
    }

    @Override
    public void sweep(long nowNs) {
        if (state == S_CLOSED) {
            // Closing after a flush that the client does not take: do not wait for it forever.
            if (deadlineNs != 0 && nowNs - deadlineNs >= 0) {
                deadlineNs = 0;
                channel.close();
            }
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
        if (loop.isDraining() && (cumulation == null || !cumulation.isReadable())) {
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
        deadlineNs = System.nanoTime() + settings.keepaliveTimeoutNs(); // linger bound, enforced by sweep
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
        if (pendingHead != null) {
            pendingHead.release();
            pendingHead = null;
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
