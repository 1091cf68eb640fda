package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.metrics.GatewayError;

/**
 * What the upstream side talks to: the {@link Exchange} an {@link UpstreamConnection} is bound to. The upstream parses
 * the response and hands it here piece by piece; it never sees the client connection (HTTP/1 today, an HTTP/2 stream
 * later).
 *
 * <p>Called on the event loop both connections live on. Ownership: {@code src} is borrowed for the duration of the call
 * (copy what is kept); a body slice passed to {@link #onResponseBody} is retained and its ownership passes to the
 * sink.
 */
interface ExchangeSink {
    /** A 1xx response other than 101 (relayed unless the client cannot take it). */
    void onInterimResponse(ByteBuf src, ResponseHead rh);

    /**
     * @param untilClose the upstream delimits the body by closing, so must the client side
     * @param dechunked  a chunked body relayed without its framing (HTTP/1.0 client): delimited by our close
     */
    void onResponseHead(ByteBuf src, ResponseHead rh, boolean untilClose, boolean dechunked);

    /**
     * A response whose whole body arrived with its head: a Content-Length body of at most
     * {@link UpstreamConnection#INLINE_BODY_MAX} bytes, already in {@code src} at [{@code bodyStart},
     * {@code bodyStart + bodyLength}). It is relayed with the head in one buffer (one write, one iovec) instead of a
     * head buffer and a retained slice of the body; no {@link #onResponseBody} follows. {@code src} is borrowed, as
     * for the head.
     */
    void onResponseHeadAndBody(ByteBuf src, ResponseHead rh, int bodyStart, int bodyLength);

    void onResponseBody(ByteBuf slice);

    /**
     * {@code 101 Switching Protocols} to a forwarded upgrade: the head is relayed and the connections become the two
     * sides of the returned {@link Tunnel}; null when the exchange ended otherwise (a plugin replaced the answer: the
     * connection {@code uc} was closed).
     */
    Tunnel onSwitchingProtocols(UpstreamConnection uc, ByteBuf src, ResponseHead rh);

    /** The response ended; {@code reusable}: the connection may go back to its pool. */
    void onResponseComplete(UpstreamConnection uc, boolean reusable);

    /** The upstream failed (reset, timeout, invalid response); the connection is closed already. */
    void onUpstreamFailed(UpstreamConnection uc, GatewayError error);

    void upstreamWritabilityChanged(boolean writable);

    /** End of an upstream read burst: flush what was written to the client. */
    void flushDownstream();
}
