package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.turnpike.engine.codec.RequestHeadParser;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.codec.ResponseHeadParser;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.loop.Swept;
import io.turnpike.engine.metrics.LoopCounters;

import java.net.InetAddress;
import java.util.ArrayDeque;

/**
 * One HTTP/2 client connection (ALPN {@code h2} on an HTTPS listener, or prior-knowledge h2c on a {@code node_listen}
 * port with {@code enable_http2}): Netty's connection-level HTTP/2 codec ({@link Http2ConnectionHandler}: framing,
 * HPACK, stream states, flow control, SETTINGS/PING/GOAWAY/RST_STREAM, and the flood limits below), with one
 * {@link Http2ServerStream} per request stream, each driving its own {@link Exchange}: routing, plugins, balancers,
 * retries and the HTTP/1.1 upstream pools are the HTTP/1 path's, unchanged. No child channel per stream (docs/http2.md
 * says why).
 *
 * <p>Limits (RFC 9113 section 10.5 and the floods of 2019/2023/2024): {@value #MAX_CONCURRENT_STREAMS} concurrent
 * streams (more are refused by the codec), the header list bounded by {@code max_header_bytes}, rapid reset
 * (CVE-2023-44487) by Netty's RST_STREAM budget of {@value #MAX_RST_PER_WINDOW} per {@value #RST_WINDOW_SECONDS} s
 * (then GOAWAY ENHANCE_YOUR_CALM), CONTINUATION floods by the header list bound and Netty's small-CONTINUATION limit,
 * empty DATA frames by Netty's consecutive-empty-frames limit, SETTINGS/PING floods by the bound on queued control
 * frames. Request bodies are flow controlled end to end: a DATA frame's bytes are given back to the client's window only
 * once they were handed to a writable upstream connection.
 *
 * <p>Deadlines ({@link #sweep}): a connection without any request is closed after {@code header_timeout}, an idle one
 * after {@code keepalive_timeout} (with GOAWAY); a stream whose client stops taking the response is reset after
 * {@code keepalive_timeout}. A drain sends GOAWAY and closes once the streams in flight are done.
 *
 * <p>Confined to its event loop.
 */
public final class Http2ServerConnection extends Http2ConnectionHandler implements Http2FrameListener, Swept {
    /** As nginx's {@code http2_max_concurrent_streams}. */
    static final int MAX_CONCURRENT_STREAMS = 128;
    /** Per stream; the connection's receive window is {@link #CONNECTION_WINDOW}. */
    static final int STREAM_WINDOW = 256 * 1024;
    static final int CONNECTION_WINDOW = 4 * 1024 * 1024;
    static final int MAX_RST_PER_WINDOW = 200;
    static final int RST_WINDOW_SECONDS = 30;

    final LoopContext loop;
    final EngineSettings settings;
    final boolean https;
    final byte[] clientIp;
    final byte[] localPort;
    /** The proxy header lines of this connection, shared by its streams' exchanges. */
    final ForwardedLines forwarded;
    final InetAddress remoteAddress;
    private final Http2Connection.PropertyKey streamKey;
    /** Shared by the streams: a head is parsed in one call. */
    final RequestHeadParser requestParser;
    /** Converts the HTTP/1 response heads the exchange writes into HTTP/2 header lists (one at a time). */
    final ResponseHeadParser responseParser;
    final ResponseHead responseHead;
    /** Response field names and short values, reused from one response to the next (no allocation on a hit). */
    final AsciiCache names = new AsciiCache();
    final AsciiCache values = new AsciiCache();

    ChannelHandlerContext ctx;
    /** The streams with an exchange in flight (for the sweeper, and flushes); unordered. */
    private Http2ServerStream[] active = new Http2ServerStream[8];
    private int activeCount;
    /** Streams that wrote request bytes upstream during this read burst (flushed at its end). */
    private Http2ServerStream[] upstreamDirty = new Http2ServerStream[8];
    private int upstreamDirtyCount;
    private boolean flushingUpstreams;
    /** Finished streams, reused for the next requests of this connection. */
    private final ArrayDeque<Http2ServerStream> free = new ArrayDeque<>();
    private int lastRequestStreamId;
    private boolean needsFlush;
    private boolean reading;
    private int sweepIndex = -1;
    /** Since when no stream was in flight (0 while one is). */
    private long idleSinceNs;
    private boolean anyRequest;
    private boolean closing;
    private boolean inactive;

    private Http2ServerConnection(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                  Http2Settings initialSettings, Builder b) {
        super(decoder, encoder, initialSettings);
        this.loop = b.loop;
        this.settings = b.loop.settings;
        this.https = b.https;
        this.clientIp = b.clientIp;
        this.localPort = b.localPort;
        this.forwarded = new ForwardedLines(b.clientIp, b.localPort, b.https);
        this.remoteAddress = b.remoteAddress;
        this.streamKey = connection().newKey();
        this.requestParser = new RequestHeadParser(settings.maxRequestLineBytes(), settings.maxHeaderBytes() + 4096,
                settings.maxHeaders() + 8, true);
        this.responseParser = new ResponseHeadParser(Integer.MAX_VALUE / 2, settings.maxHeaders() + 64);
        this.responseHead = new ResponseHead(settings.maxHeaders() + 64);
        decoder.frameListener(this);
        connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                Http2ServerStream s = stream.getProperty(streamKey);
                if (s != null) {
                    // Reset by the client, reset by the codec (a stream error), or the connection went away.
                    s.streamGone();
                }
            }
        });
        encoder.flowController().listener(stream -> recheckWritability());
    }

    /** A handler for a connection of {@code loop}; add it to the pipeline of an active channel. */
    static Http2ServerConnection create(LoopContext loop, boolean https, byte[] clientIp, byte[] localPort,
                                        InetAddress remoteAddress) {
        Builder b = new Builder();
        b.loop = loop;
        b.https = https;
        b.clientIp = clientIp;
        b.localPort = localPort;
        b.remoteAddress = remoteAddress;
        return b.configured().build();
    }

    static final class Builder extends AbstractHttp2ConnectionHandlerBuilder<Http2ServerConnection, Builder> {
        LoopContext loop;
        boolean https;
        byte[] clientIp;
        byte[] localPort;
        InetAddress remoteAddress;

        Builder configured() {
            EngineSettings s = loop.settings;
            Http2Settings initial = new Http2Settings()
                    .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                    .initialWindowSize(STREAM_WINDOW)
                    .maxHeaderListSize(s.maxHeaderBytes());
            // Responses are written in the order they become ready (RFC 9113 deprecates priorities): the uniform
            // distributor keeps no per-stream priority tree, one allocation per stream less than the weighted default.
            io.netty.handler.codec.http2.DefaultHttp2Connection c =
                    new io.netty.handler.codec.http2.DefaultHttp2Connection(true);
            c.remote().flowController(new io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController(c,
                    new io.netty.handler.codec.http2.UniformStreamByteDistributor(c)));
            return connection(c)
                    .initialSettings(initial)
                    .frameListener(new Http2FrameAdapter()) // replaced by the connection itself
                    .validateHeaders(true)
                    .decoderEnforceMaxRstFramesPerWindow(MAX_RST_PER_WINDOW, RST_WINDOW_SECONDS)
                    .encoderEnforceMaxQueuedControlFrames(10_000)
                    .gracefulShutdownTimeoutMillis(Math.max(1000, s.keepaliveTimeoutNs() / 1_000_000));
        }

        @Override
        protected Http2ServerConnection build() {
            return super.build();
        }

        @Override
        protected Http2ServerConnection build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                              Http2Settings initialSettings) {
            return new Http2ServerConnection(decoder, encoder, initialSettings, this);
        }
    }

    // ---------------------------------------------------------------- channel events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx); // sends our SETTINGS (the channel is active: a connection handed over from HTTP/1)
        Http2Stream c = connection().connectionStream();
        connection().local().flowController().incrementWindowSize(c, CONNECTION_WINDOW - 65_535);
        loop.sweeper.add(this);
        loop.counters.increment(LoopCounters.HTTP2_CONNECTIONS);
        idleSinceNs = System.nanoTime();
        ctx.flush();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf b) {
            loop.counters.add(LoopCounters.BYTES_IN, b.readableBytes());
        }
        reading = true;
        loop.clock.enter();
        try {
            super.channelRead(ctx, msg);
        } finally {
            loop.clock.exit();
            reading = false;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        flushUpstreams();
        needsFlush = false;
        super.channelReadComplete(ctx); // flushes what the codec and the streams wrote
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        inactive = true;
        super.channelInactive(ctx); // closes the codec's streams
        for (int bound = activeCount; activeCount > 0 && bound > 0; bound--) {
            active[activeCount - 1].connectionGone(); // each one leaves the active set
        }
        loop.sweeper.remove(this);
        loop.downstreamClosed();
        loop.counters.increment(LoopCounters.DOWNSTREAM_CONNECTIONS_CLOSED);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        super.channelWritabilityChanged(ctx); // writes what the windows allow
        recheckWritability();
    }

    /** Resumes the upstreams of the streams that can take response bytes again (at most the concurrent streams). */
    private void recheckWritability() {
        for (int i = activeCount - 1; i >= 0; i--) {
            if (i < activeCount) {
                active[i].recheckWritability();
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (Http2CodecUtilAccess.isHttp2(cause)) {
            super.exceptionCaught(ctx, cause); // stream or connection error: RST_STREAM or GOAWAY with its code
            return;
        }
        // I/O errors (reset by peer and the like): nothing to answer on a broken connection.
        ctx.close();
    }

    @Override
    protected void onConnectionError(ChannelHandlerContext ctx, boolean outbound, Throwable cause,
                                     Http2Exception http2Ex) {
        loop.counters.increment(LoopCounters.HTTP2_CONNECTION_ERRORS);
        super.onConnectionError(ctx, outbound, cause, http2Ex);
    }

    @Override
    protected void onStreamError(ChannelHandlerContext ctx, boolean outbound, Throwable cause,
                                 Http2Exception.StreamException streamException) {
        loop.counters.increment(LoopCounters.HTTP2_STREAM_ERRORS);
        super.onStreamError(ctx, outbound, cause, streamException);
    }

    // ---------------------------------------------------------------- frames (Http2FrameListener)

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                              boolean endOfStream) throws Http2Exception {
        Http2Stream ns = connection().stream(streamId);
        if (ns == null) {
            return;
        }
        if (streamId <= lastRequestStreamId) {
            // Trailers (the codec checked they end the stream); their fields are not forwarded to HTTP/1 upstreams.
            Http2ServerStream s = ns.getProperty(streamKey);
            if (s != null && endOfStream) {
                s.onRequestEnd();
            }
            return;
        }
        lastRequestStreamId = streamId;
        anyRequest = true;
        // After our GOAWAY the codec refuses streams above its last-stream-id; those at or below it are served.
        Http2ServerStream s = free.pollFirst();
        if (s == null) {
            s = new Http2ServerStream(this);
        }
        ns.setProperty(streamKey, s);
        addActive(s);
        s.open(ns, headers, endOfStream);
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
                              short weight, boolean exclusive, int padding, boolean endOfStream)
            throws Http2Exception {
        onHeadersRead(ctx, streamId, headers, padding, endOfStream);
    }

    @Override
    public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream)
            throws Http2Exception {
        Http2Stream ns = connection().stream(streamId);
        Http2ServerStream s = ns == null ? null : ns.getProperty(streamKey);
        if (s == null) {
            return data.readableBytes() + padding; // the exchange ended already: the rest is discarded
        }
        return padding + s.onData(data, endOfStream);
    }

    @Override
    public void onPriorityRead(ChannelHandlerContext ctx, int streamId, int streamDependency, short weight,
                               boolean exclusive) {
        // Deprecated by RFC 9113; responses are written in the order they become ready.
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
        loop.counters.increment(LoopCounters.HTTP2_CLIENT_RESETS);
        // The codec closes the stream: onStreamClosed ends its exchange.
    }

    @Override
    public void onSettingsAckRead(ChannelHandlerContext ctx) {
    }

    @Override
    public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {
    }

    @Override
    public void onPingRead(ChannelHandlerContext ctx, long data) {
    }

    @Override
    public void onPingAckRead(ChannelHandlerContext ctx, long data) {
    }

    @Override
    public void onPushPromiseRead(ChannelHandlerContext ctx, int streamId, int promisedStreamId,
                                  Http2Headers headers, int padding) {
    }

    @Override
    public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {
        // The client sends no more streams; those in flight finish, then the client closes.
    }

    @Override
    public void onWindowUpdateRead(ChannelHandlerContext ctx, int streamId, int windowSizeIncrement) {
        recheckWritability(); // the flow controller took the increment already
    }

    @Override
    public void onUnknownFrame(ChannelHandlerContext ctx, byte frameType, int streamId, Http2Flags flags,
                               ByteBuf payload) {
        // RFC 9113 5.5: unknown frame types are ignored.
    }

    // ---------------------------------------------------------------- for the streams

    /** Gives {@code n} bytes of {@code stream}'s received DATA back to the client's windows. */
    void consumed(Http2Stream stream, int n) {
        if (n <= 0 || inactive) {
            return;
        }
        try {
            if (connection().local().flowController().consumeBytes(stream, n)) {
                needsFlush = true; // a WINDOW_UPDATE was written
                if (!reading) {
                    flush();
                }
            }
        } catch (Http2Exception e) {
            onError(ctx, false, e);
        }
    }

    boolean isWritable(Http2Stream stream) {
        return encoder().flowController().isWritable(stream);
    }

    /** Marks that this connection has frames to flush (written at the end of the read burst, or by {@link #flush}). */
    void wrote() {
        needsFlush = true;
    }

    /** Flushes now unless a read burst is in progress (its end flushes). */
    void flush() {
        if (needsFlush && !reading) {
            needsFlush = false;
            try {
                flush(ctx);
            } catch (Exception e) {
                ctx.close();
            }
        }
    }

    /** Writes the flow-controlled frames and flushes, even during a read burst (a response written from upstream). */
    void flushNow() {
        if (needsFlush) {
            needsFlush = false;
            try {
                flush(ctx);
            } catch (Exception e) {
                ctx.close();
            }
        }
    }

    void upstreamDirty(Http2ServerStream s) {
        if (s.upstreamDirty) {
            return;
        }
        s.upstreamDirty = true;
        if (upstreamDirtyCount == upstreamDirty.length) {
            upstreamDirty = java.util.Arrays.copyOf(upstreamDirty, upstreamDirtyCount * 2);
        }
        upstreamDirty[upstreamDirtyCount++] = s;
        if (!reading && !flushingUpstreams) {
            flushUpstreams();
        }
    }

    /**
     * Flushes the upstreams written to. Re-entrant safe: a flush can make an upstream writable again, which resumes
     * a stream whose pump writes and marks it dirty again: it is appended and flushed by this same loop.
     */
    private void flushUpstreams() {
        if (flushingUpstreams) {
            return;
        }
        flushingUpstreams = true;
        try {
            for (int i = 0; i < upstreamDirtyCount; i++) {
                Http2ServerStream s = upstreamDirty[i];
                upstreamDirty[i] = null;
                s.upstreamDirty = false;
                s.flushUpstream();
            }
            upstreamDirtyCount = 0;
        } finally {
            flushingUpstreams = false;
        }
    }

    /** {@code s}'s exchange ended: it no longer receives frames; kept for the next request. */
    void released(Http2ServerStream s, Http2Stream ns) {
        if (ns != null) {
            ns.removeProperty(streamKey);
        }
        removeActive(s);
        if (!inactive && free.size() < MAX_CONCURRENT_STREAMS) {
            free.addFirst(s);
        }
        if (activeCount == 0) {
            idleSinceNs = loop.clock.nanoTime();
        }
    }

    private void addActive(Http2ServerStream s) {
        if (activeCount == active.length) {
            active = java.util.Arrays.copyOf(active, activeCount * 2);
        }
        s.activeIndex = activeCount;
        active[activeCount++] = s;
        idleSinceNs = 0;
    }

    private void removeActive(Http2ServerStream s) {
        int i = s.activeIndex;
        if (i < 0) {
            return;
        }
        Http2ServerStream last = active[--activeCount];
        active[i] = last;
        last.activeIndex = i;
        active[activeCount] = null;
        s.activeIndex = -1;
    }

    void resetStream(Http2Stream ns, Http2Error error) {
        resetStream(ctx, ns.id(), error.code(), ctx.newPromise());
        wrote();
    }

    // ---------------------------------------------------------------- deadlines and drain

    @Override
    public void sweep(long nowNs) {
        if (inactive) {
            return;
        }
        for (int i = activeCount - 1; i >= 0; i--) {
            if (i < activeCount) {
                active[i].sweep(nowNs);
            }
        }
        if (closing) {
            return;
        }
        if (loop.isDraining()) {
            goAwayAndClose(); // GOAWAY now; the channel closes once the streams in flight are done
            return;
        }
        if (activeCount == 0 && idleSinceNs != 0) {
            long limit = anyRequest ? settings.keepaliveTimeoutNs() : settings.headerTimeoutNs();
            if (nowNs - idleSinceNs - limit >= 0) {
                goAwayAndClose();
            }
        }
    }

    private void goAwayAndClose() {
        closing = true;
        // Through this handler's own close (ctx.close() would start below it): GOAWAY NO_ERROR naming the last stream
        // received, then the channel closes once the active streams are done (or after the graceful timeout).
        ctx.channel().close();
    }

    @Override
    public int sweepIndex() {
        return sweepIndex;
    }

    @Override
    public void sweepIndex(int index) {
        sweepIndex = index;
    }

    int activeStreams() {
        return activeCount;
    }

    /** Whether a Throwable comes from the HTTP/2 codec (a protocol error to answer with its code). */
    private static final class Http2CodecUtilAccess {
        static boolean isHttp2(Throwable t) {
            for (Throwable c = t; c != null; c = c.getCause()) {
                if (c instanceof Http2Exception) {
                    return true;
                }
            }
            return false;
        }
    }
}
