package io.turnpike.engine.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2Headers;
import io.turnpike.engine.metrics.GatewayError;

/**
 * What an {@link H2UpstreamStream} reports to its owner (the exchange relaying a gRPC call). Every method is called on
 * the pool's event loop. After a terminal call (response headers or data with {@code endStream}, trailers, reset,
 * refused, failed) nothing more is reported for the stream; the owner then gives the handle back with
 * {@link H2UpstreamStream#release()} (it may do so inside the callback).
 */
public interface H2UpstreamListener {
    /**
     * The response HEADERS ({@code :status}, {@code content-type}, ...). {@code endStream}: a trailers-only response
     * (gRPC errors often come this way: {@code grpc-status} is in these headers); terminal.
     */
    void onResponseHeaders(Http2Headers headers, boolean endStream);

    /**
     * A DATA frame's payload. The owner receives one reference to {@code data} and must release it; the bytes count
     * against the stream's receive window until the owner calls {@link H2UpstreamStream#consumed(int)} (back-pressure).
     * {@code endStream}: terminal (a response without trailers).
     */
    void onData(ByteBuf data, boolean endStream);

    /** The trailing HEADERS ({@code grpc-status}, {@code grpc-message}); terminal. */
    void onTrailers(Http2Headers trailers);

    /** The upstream reset the stream (RST_STREAM {@code errorCode}) after a response began, or with a code other than
     * REFUSED_STREAM; terminal. */
    void onReset(long errorCode);

    /**
     * The upstream did not process the stream: GOAWAY with a lower last-stream-id, or RST_STREAM REFUSED_STREAM before
     * any response. Nothing was processed, so the call may be retried (on another connection or node); terminal.
     */
    void onRefused();

    /**
     * The stream failed on the gateway's side: connect failure ({@link GatewayError#UPSTREAM_CONNECT_FAILED}), TLS
     * ({@link GatewayError#UPSTREAM_TLS_HANDSHAKE_FAILED}), connect/read/send timeout
     * ({@link GatewayError#UPSTREAM_TIMEOUT}), the connection lost ({@link GatewayError#UPSTREAM_RESET}) or a protocol
     * error ({@link GatewayError#UPSTREAM_INVALID_RESPONSE}); terminal. When it happens before any response the
     * upstream saw nothing of the request only for connect and TLS failures.
     */
    void onFailed(GatewayError error);

    /** {@link H2UpstreamStream#isWritable()} changed (remote flow-control window or the connection's writability). */
    void onWritabilityChanged(boolean writable);
}
