package io.turnpike.engine.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2ConnectionDecoder;
import io.netty.handler.codec.http2.DefaultHttp2ConnectionEncoder;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2LocalFlowController;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.turnpike.engine.metrics.GatewayError;

/**
 * One HTTP/2 connection to an upstream node: Netty's connection-level HTTP/2 codec (no child channel per stream) with
 * this class as its frame listener, connection listener and remote flow-control listener. It maps HTTP/2 streams to
 * {@link H2UpstreamStream} handles by a stream property. Confined to its event loop.
 *
 * <p>Received DATA is not consumed automatically: a stream's window reopens only as its owner calls
 * {@link H2UpstreamStream#consumed}; the connection window refills by itself (no stream blocks another).
 */
final class H2UpstreamConnection extends Http2ConnectionHandler
        implements Http2FrameListener, Http2Connection.Listener, Http2RemoteFlowController.Listener {
    static final int C_CONNECTING = 0;
    static final int C_READY = 1;
    /** GOAWAY received: no new stream; closes when its streams end. */
    static final int C_DRAINING = 2;
    static final int C_CLOSED = 3;

    final H2UpstreamPool pool;
    final SslHandler tls;
    private final Http2Connection.PropertyKey key;
    private final int connectionWindow;
    ChannelHandlerContext ctx;
    int state = C_CONNECTING;
    long connectDeadlineNs;
    long idleSinceNs;
    /** Why it closed before it was ready; null: connect failure. */
    GatewayError failure;
    private boolean goAway;
    private int goAwayLastId = Integer.MAX_VALUE;
    private boolean inRead;
    private boolean needsFlush;
    /** The handles on this connection (with or without their HTTP/2 stream yet). */
    private H2UpstreamStream[] streams = new H2UpstreamStream[16];
    private int streamCount;
    /** Handles bound here whose HEADERS are not written yet (they hold a stream slot). */
    private int unopened;

    static H2UpstreamConnection create(H2UpstreamPool pool, SslHandler tls, int streamWindow) {
        DefaultHttp2Connection c = new DefaultHttp2Connection(false);
        // autoRefillConnectionWindow: the connection window refills on receipt; each stream's window waits for its owner.
        c.local().flowController(new DefaultHttp2LocalFlowController(c, 0.5f, true));
        // gRPC sends no priorities: the uniform distributor allocates far less per stream than the default
        // weighted-fair queue (its per-stream priority queue, child lists and events).
        c.remote().flowController(new DefaultHttp2RemoteFlowController(c, new UniformStreamByteDistributor(c)));
        DefaultHttp2ConnectionEncoder enc = new DefaultHttp2ConnectionEncoder(c, new DefaultHttp2FrameWriter());
        DefaultHttp2ConnectionDecoder dec = new DefaultHttp2ConnectionDecoder(c, enc, new DefaultHttp2FrameReader(true));
        Http2Settings s = new Http2Settings().pushEnabled(false).initialWindowSize(streamWindow);
        return new H2UpstreamConnection(pool, tls, dec, enc, s, streamWindow);
    }

    private H2UpstreamConnection(H2UpstreamPool pool, SslHandler tls, DefaultHttp2ConnectionDecoder dec,
                                 DefaultHttp2ConnectionEncoder enc, Http2Settings s, int streamWindow) {
        super(dec, enc, s);
        this.pool = pool;
        this.tls = tls;
        this.key = connection().newKey();
        this.connectionWindow = (int) Math.min(16L << 20, Math.max(1L << 20, 4L * streamWindow));
        dec.frameListener(this);
        connection().addListener(this);
        enc.flowController().listener(this);
        gracefulShutdownTimeoutMillis(-1); // a draining connection waits for its streams (each bounded by its timeouts)
    }

    // ------------------------------------------------------------------ pool side

    boolean hasCapacity() {
        if (state != C_READY) {
            return false;
        }
        Http2Connection.Endpoint<?> local = connection().local();
        return local.numActiveStreams() + unopened < local.maxActiveStreams();
    }

    int streamCount() {
        return streamCount;
    }

    /**
     * Puts {@code h} on this connection (opening its HTTP/2 stream if its HEADERS are written). {@code notify}: report
     * the writability change (false when bound inside {@code newStream}: no callback before the owner has its handle).
     */
    void bind(H2UpstreamStream h, boolean notify) {
        if (streamCount == streams.length) {
            streams = java.util.Arrays.copyOf(streams, streamCount * 2);
        }
        h.connIndex = streamCount;
        streams[streamCount++] = h;
        unopened++;
        h.state = H2UpstreamStream.S_BOUND;
        h.conn = this;
        if (h.pendingHeaders != null) {
            openPending(h);
        }
        if (h.state == H2UpstreamStream.S_BOUND) {
            if (notify) {
                h.reportWritability();
            } else {
                h.reportedWritable = h.isWritable();
            }
        }
    }

    /** Opens the HTTP/2 stream of a bound handle with its pending HEADERS, then writes what else was kept. */
    void openPending(H2UpstreamStream h) {
        Http2Headers headers = h.pendingHeaders;
        h.pendingHeaders = null;
        open(h, headers, h.pendingHeadersEnd);
        if (h.stream == null) {
            return; // refused (finished)
        }
        if (h.pendingData != null) {
            ByteBuf d = h.pendingData;
            h.pendingData = null;
            writeData(h, d, h.pendingDataEnd);
        }
        if (h.pendingTrailers != null) {
            Http2Headers t = h.pendingTrailers;
            h.pendingTrailers = null;
            writeTrailers(h, t);
        }
        if (h.pendingFlush) {
            h.pendingFlush = false;
            flushNow();
        }
    }

    void open(H2UpstreamStream h, Http2Headers headers, boolean endStream) {
        int id = connection().local().incrementAndGetNextStreamId();
        if (id > 0) {
            encoder().writeHeaders(ctx, id, headers, 0, endStream, ctx.voidPromise());
        }
        Http2Stream s = id > 0 ? connection().stream(id) : null;
        if (s == null) {
            // Not created (stream ids exhausted, GOAWAY, the peer's limit): nothing reached the upstream.
            h.terminalRefused();
            return;
        }
        unopened--;
        s.setProperty(key, h);
        h.stream = s;
        h.streamId = id;
        h.touch();
    }

    void writeData(H2UpstreamStream h, ByteBuf data, boolean endStream) {
        encoder().writeData(ctx, h.streamId, data, 0, endStream, ctx.voidPromise());
    }

    void writeTrailers(H2UpstreamStream h, Http2Headers trailers) {
        encoder().writeHeaders(ctx, h.streamId, trailers, 0, true, ctx.voidPromise());
    }

    void flushNow() {
        if (inRead) {
            needsFlush = true;
        } else if (ctx != null) {
            flush(ctx);
        }
    }

    boolean isWritable(H2UpstreamStream h) {
        if (h.stream == null) {
            return ctx != null && ctx.channel().isWritable();
        }
        return encoder().flowController().isWritable(h.stream);
    }

    void consume(H2UpstreamStream h, int bytes) {
        try {
            if (connection().local().flowController().consumeBytes(h.stream, bytes)) {
                flushNow();
            }
        } catch (Http2Exception | IllegalArgumentException e) {
            // More than was received: the owner's accounting is off; the stream's window stays as it is.
        }
    }

    /** Takes {@code h} off this connection; resets its HTTP/2 stream when asked or when the request side is unfinished. */
    void detach(H2UpstreamStream h, boolean reset) {
        int i = h.connIndex;
        if (i >= 0 && i < streamCount && streams[i] == h) {
            H2UpstreamStream last = streams[--streamCount];
            streams[i] = last;
            last.connIndex = i;
            streams[streamCount] = null;
        }
        h.connIndex = -1;
        Http2Stream s = h.stream;
        if (s != null) {
            s.removeProperty(key);
            h.stream = null;
            if (s.state() != Http2Stream.State.CLOSED
                    && (reset || !h.localEnded || encoder().flowController().hasFlowControlled(s))) {
                resetStream(ctx, s.id(), Http2Error.CANCEL.code(), ctx.voidPromise());
                flushNow();
            }
        } else if (h.streamId == 0) {
            unopened--;
            pool.capacityFreed(this);
        }
        if (streamCount == 0) {
            idleSinceNs = System.nanoTime();
            closeIfDrained();
        }
    }

    private void closeIfDrained() {
        if (state == C_DRAINING && streamCount == 0 && connection().numActiveStreams() == 0) {
            close();
        }
    }

    /** Closes the connection now (HTTP/2 GOAWAY then close); the pool forgets it at once. */
    void close() {
        if (state == C_CLOSED) {
            return;
        }
        state = C_CLOSED;
        pool.connectionGone(this);
        if (ctx != null) {
            ctx.close();
        }
    }

    /** Failed before it was ready (connect, TLS, ALPN, timeout): pending streams fail with {@code e}. */
    void failBeforeReady(GatewayError e) {
        if (state != C_CONNECTING) {
            return;
        }
        failure = e;
        state = C_CLOSED;
        pool.connectFailed(this, e);
        if (ctx != null) {
            ctx.close();
        }
    }

    void sweep(long nowNs) {
        if (state == C_CONNECTING) {
            if (nowNs - connectDeadlineNs >= 0) {
                failBeforeReady(GatewayError.UPSTREAM_TIMEOUT);
            }
            return;
        }
        Http2RemoteFlowController fc = encoder().flowController();
        for (int i = streamCount - 1; i >= 0; i--) {
            if (i >= streamCount) {
                continue;
            }
            H2UpstreamStream h = streams[i];
            Http2Stream s = h.stream;
            if (s == null) {
                continue;
            }
            if (h.sendTimeoutNs > 0 && fc.hasFlowControlled(s) && !fc.isWritable(s)) {
                if (h.stalledSinceNs == 0) {
                    h.stalledSinceNs = nowNs;
                } else if (nowNs - h.stalledSinceNs >= h.sendTimeoutNs) {
                    h.terminalFailed(GatewayError.UPSTREAM_TIMEOUT, true);
                    continue;
                }
            } else {
                h.stalledSinceNs = 0;
            }
            if (h.deadlineNs != 0) {
                if (h.unconsumed > 0) {
                    // The upstream waits for our window: the owner's slowness is not the upstream's.
                    h.deadlineNs = nowNs + h.readTimeoutNs;
                } else if (nowNs - h.deadlineNs >= 0) {
                    h.terminalFailed(GatewayError.UPSTREAM_TIMEOUT, true);
                }
            }
        }
        if (state == C_READY && streamCount == 0 && connection().numActiveStreams() == 0
                && pool.settings.idleTimeoutNs() > 0 && nowNs - idleSinceNs >= pool.settings.idleTimeoutNs()) {
            close();
        }
    }

    private H2UpstreamStream handle(int streamId) {
        Http2Stream s = connection().stream(streamId);
        return s == null ? null : s.getProperty(key);
    }

    // ------------------------------------------------------------------ channel events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        if (tls != null) {
            ctx.pipeline().addBefore(ctx.name(), "tls", tls);
        }
        super.handlerAdded(ctx);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        super.channelActive(ctx); // the preface and our SETTINGS
        try {
            int delta = connectionWindow - connection().local().flowController()
                    .initialWindowSize(connection().connectionStream());
            if (delta > 0) {
                connection().local().flowController().incrementWindowSize(connection().connectionStream(), delta);
            }
        } catch (Http2Exception e) {
            // keep the default connection window
        }
        flush(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent hs) {
            if (!hs.isSuccess()) {
                failBeforeReady(GatewayError.UPSTREAM_TLS_HANDSHAKE_FAILED);
            } else if (!ApplicationProtocolNames.HTTP_2.equals(tls.applicationProtocol())) {
                // The upstream does not speak h2 over TLS (ALPN): a gRPC upstream must.
                failBeforeReady(GatewayError.UPSTREAM_TLS_HANDSHAKE_FAILED);
            }
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        inRead = true;
        super.channelRead(ctx, msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        inRead = false;
        needsFlush = false;
        super.channelReadComplete(ctx); // flushes
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        int was = state;
        state = C_CLOSED;
        if (was == C_CONNECTING) {
            failure = failure != null ? failure : GatewayError.UPSTREAM_CONNECT_FAILED;
            pool.connectFailed(this, failure);
        } else if (was != C_CLOSED) {
            pool.connectionGone(this);
        }
        super.channelInactive(ctx); // closes every HTTP/2 stream: onStreamClosed reports them
        // Handles without an HTTP/2 stream go back to the pool; any other still here has lost its connection.
        for (int i = streamCount - 1; i >= 0; i--) {
            if (i >= streamCount) {
                continue;
            }
            H2UpstreamStream h = streams[i];
            if (h.streamId == 0 && h.stream == null) {
                detachForRequeue(h);
                pool.requeue(h);
            } else {
                h.terminalFailed(GatewayError.UPSTREAM_RESET, false);
            }
        }
        pool.dispatch();
    }

    private void detachForRequeue(H2UpstreamStream h) {
        int i = h.connIndex;
        H2UpstreamStream last = streams[--streamCount];
        streams[i] = last;
        last.connIndex = i;
        streams[streamCount] = null;
        h.connIndex = -1;
        unopened--;
    }

    // ------------------------------------------------------------------ Http2Connection.Listener

    @Override
    public void onStreamClosed(Http2Stream stream) {
        H2UpstreamStream h = stream.getProperty(key);
        if (h != null) {
            stream.removeProperty(key);
            h.stream = null;
            if (h.state == H2UpstreamStream.S_BOUND) {
                if (goAway && stream.id() > goAwayLastId && !h.responseStarted) {
                    h.terminalRefused();
                } else if (state == C_CLOSED || ctx == null || !ctx.channel().isActive()) {
                    h.terminalFailed(GatewayError.UPSTREAM_RESET, false);
                } else {
                    h.terminalFailed(GatewayError.UPSTREAM_INVALID_RESPONSE, false);
                }
            }
        }
        if (state == C_READY || state == C_DRAINING) {
            pool.capacityFreed(this);
        }
        closeIfDrained();
    }

    @Override
    public void onGoAwayReceived(int lastStreamId, long errorCode, ByteBuf debugData) {
        goAway = true;
        goAwayLastId = Math.min(goAwayLastId, lastStreamId);
        if (state == C_READY || state == C_CONNECTING) {
            boolean wasConnecting = state == C_CONNECTING;
            state = C_DRAINING;
            // Handles that have not sent their HEADERS move to another connection.
            for (int i = streamCount - 1; i >= 0; i--) {
                if (i >= streamCount) {
                    continue;
                }
                H2UpstreamStream h = streams[i];
                if (h.streamId == 0 && h.stream == null) {
                    detachForRequeue(h);
                    pool.requeue(h);
                }
            }
            pool.connectionDraining(this, wasConnecting);
        }
    }

    @Override
    public void onStreamAdded(Http2Stream stream) {
    }

    @Override
    public void onStreamActive(Http2Stream stream) {
    }

    @Override
    public void onStreamHalfClosed(Http2Stream stream) {
    }

    @Override
    public void onStreamRemoved(Http2Stream stream) {
    }

    @Override
    public void onGoAwaySent(int lastStreamId, long errorCode, ByteBuf debugData) {
    }

    // ------------------------------------------------------------------ Http2RemoteFlowController.Listener

    @Override
    public void writabilityChanged(Http2Stream stream) {
        H2UpstreamStream h = stream.getProperty(key);
        if (h != null) {
            h.reportWritability();
        }
    }

    // ------------------------------------------------------------------ Http2FrameListener

    @Override
    public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
        int n = data.readableBytes();
        H2UpstreamStream h = handle(streamId);
        if (h == null || h.state != H2UpstreamStream.S_BOUND) {
            return n + padding;
        }
        if (!h.responseStarted) {
            h.terminalFailed(GatewayError.UPSTREAM_INVALID_RESPONSE, true);
            return n + padding;
        }
        h.touch();
        h.unconsumed += n;
        if (endOfStream) {
            h.terminalData(data.retain());
        } else {
            h.listener.onData(data.retain(), false);
        }
        return padding;
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                              boolean endOfStream) {
        H2UpstreamStream h = handle(streamId);
        if (h == null || h.state != H2UpstreamStream.S_BOUND) {
            return;
        }
        h.touch();
        if (!h.responseStarted) {
            if (!endOfStream && HttpStatusClass.valueOf(headers.status()) == HttpStatusClass.INFORMATIONAL) {
                return;
            }
            h.responseStarted = true;
            if (endOfStream) {
                h.terminalResponseHeaders(headers);
            } else {
                h.listener.onResponseHeaders(headers, false);
            }
        } else if (endOfStream) {
            h.terminalTrailers(headers);
        } else {
            h.terminalFailed(GatewayError.UPSTREAM_INVALID_RESPONSE, true);
        }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
                              short weight, boolean exclusive, int padding, boolean endOfStream) {
        onHeadersRead(ctx, streamId, headers, padding, endOfStream);
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
        Http2Stream s = connection().stream(streamId);
        H2UpstreamStream h = s == null ? null : s.getProperty(key);
        if (h == null || h.state != H2UpstreamStream.S_BOUND) {
            return;
        }
        s.removeProperty(key); // no RST back: the stream is closed by the peer's
        h.stream = null;
        if (errorCode == Http2Error.REFUSED_STREAM.code() && !h.responseStarted) {
            h.terminalRefused();
        } else {
            h.terminalReset(errorCode);
        }
    }

    @Override
    public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {
        if (state == C_CONNECTING) {
            state = C_READY;
            idleSinceNs = System.nanoTime();
            pool.connectionReady(this);
        } else if (state == C_READY && settings.maxConcurrentStreams() != null) {
            pool.capacityFreed(this);
        }
    }

    @Override
    public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {
        closeIfDrained();
    }

    @Override
    public void onPriorityRead(ChannelHandlerContext ctx, int streamId, int streamDependency, short weight,
                               boolean exclusive) {
    }

    @Override
    public void onSettingsAckRead(ChannelHandlerContext ctx) {
    }

    @Override
    public void onPingRead(ChannelHandlerContext ctx, long data) {
    }

    @Override
    public void onPingAckRead(ChannelHandlerContext ctx, long data) {
    }

    @Override
    public void onPushPromiseRead(ChannelHandlerContext ctx, int streamId, int promisedStreamId, Http2Headers headers,
                                  int padding) {
    }

    @Override
    public void onWindowUpdateRead(ChannelHandlerContext ctx, int streamId, int windowSizeIncrement) {
    }

    @Override
    public void onUnknownFrame(ChannelHandlerContext ctx, byte frameType, int streamId, Http2Flags flags,
                               ByteBuf payload) {
    }
}
