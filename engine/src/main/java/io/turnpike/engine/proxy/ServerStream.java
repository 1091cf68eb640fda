package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.plugin.PluginContext;

/**
 * The client side of one {@link Exchange}: what the exchange asks of the connection type that carries it. An HTTP/1
 * connection's current request ({@link Http1ServerConnection}) today; an HTTP/2 stream is the second implementation
 * to come, writing HEADERS and DATA frames where HTTP/1 writes a head and body bytes.
 *
 * <p>Confined to the event loop of the connection. Writes are buffered until {@link #flush}; ownership of every
 * ByteBuf passed in moves to the stream.
 */
interface ServerStream {
    /** Reasons to pause reading the client's request bytes (a bit set; reads resume when none is left). */
    int PAUSE_UPSTREAM_UNWRITABLE = 1;
    int PAUSE_CONNECTING = 4;
    int PAUSE_PLUGIN = 8;

    ByteBufAllocator alloc();

    /** The client can take more bytes now (else the exchange stops reading the upstream). */
    boolean isWritable();

    void pauseReads(int reason);

    /** Reads are paused for {@code reason} now. */
    boolean readsPaused(int reason);

    void resumeReads(int reason);

    /** {@code 100 Continue}: the request announced a body and waits for the go-ahead. */
    void writeContinue();

    /** A 1xx interim response, relayed as the upstream sent it. */
    void writeInterim(ByteBuf src, ResponseHead rh);

    /**
     * The upstream's response head, rewritten for the client.
     *
     * @param mustClose   the response can only be delimited by closing (or the request body was not consumed)
     * @param px          the plugins' response edits (status, headers, replaced body), null when none
     * @param headRequest the request was HEAD (a replaced body is not sent)
     */
    void writeResponseHead(ByteBuf src, ResponseHead rh, boolean mustClose, PluginContext px, boolean headRequest);

    void writeResponseBody(ByteBuf slice);

    /**
     * The response head (as {@link #writeResponseHead}) and its whole body, {@code src} [{@code bodyStart},
     * {@code bodyStart + bodyLength}) (borrowed): an HTTP/1 connection writes both from one buffer. By default the body
     * goes as a retained slice after the head.
     */
    default void writeResponseHeadAndBody(ByteBuf src, ResponseHead rh, boolean mustClose, PluginContext px,
                                          boolean headRequest, int bodyStart, int bodyLength) {
        writeResponseHead(src, rh, mustClose, px, headRequest);
        writeResponseBody(src.retainedSlice(bodyStart, bodyLength));
    }

    /**
     * Trailers that end the response (a gRPC upstream's {@code grpc-status}); only HTTP/2 streams carry them (gRPC
     * routes refuse HTTP/1 clients).
     */
    void writeTrailers(io.netty.handler.codec.http2.Http2Headers trailers);

    /**
     * The upstream switched protocols (a 101 to a forwarded WebSocket upgrade): write the 101 head (with the plugins'
     * edits {@code px}, null when none) and turn this connection and {@code upstream} into a raw two-way
     * {@link Tunnel}. The exchange ends when the tunnel closes.
     */
    Tunnel switchProtocols(UpstreamConnection upstream, ByteBuf src, ResponseHead rh, PluginContext px);

    void flush();

    /** The upstream connection the exchange waited for is attached: continue with the buffered request bytes. */
    void upstreamAttached();

    /** The response is complete; {@code requestComplete}: the whole request body went up. */
    void exchangeComplete(boolean requestComplete);

    /** A plugin that had paused the exchange answered it itself (the request head was consumed already). */
    void pluginReplied(io.turnpike.engine.plugin.LocalReply reply, io.turnpike.engine.plugin.HeaderEdits headers);

    /** The exchange failed before any response byte went out: answer {@code error} (a local reply). */
    void failBeforeResponse(GatewayError error);

    /** The exchange failed after the response started: the only honest signal left is ending the stream. */
    void abortResponse(GatewayError error);
}
