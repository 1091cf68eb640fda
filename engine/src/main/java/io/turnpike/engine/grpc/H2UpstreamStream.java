package io.turnpike.engine.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import io.turnpike.engine.metrics.GatewayError;

/**
 * One HTTP/2 stream to an upstream node, as its owner drives it: the request side ({@link #writeHeaders},
 * {@link #writeData}, {@link #writeTrailers}, {@link #flush}), the response side's back-pressure ({@link #consumed}) and
 * its end ({@link #cancel}, {@link #release}). Confined to the pool's event loop; no locks.
 *
 * <p>A handle is taken with {@link H2UpstreamPool#newStream} and may be written at once: until a connection is ready
 * (connecting, or every connection at the peer's SETTINGS_MAX_CONCURRENT_STREAMS) what is written waits in the handle,
 * and {@link #isWritable()} is false. Handles are recycled by their pool: after {@link #release()} the owner must not
 * touch it again.
 */
public final class H2UpstreamStream {
    static final int S_FREE = 0;
    /** Waiting in the pool's queue for a connection. */
    static final int S_PENDING = 1;
    /** On a connection; its HTTP/2 stream exists once the headers are written. */
    static final int S_BOUND = 2;
    /** Nothing more will be reported (terminal callback made, cancelled, or released). */
    static final int S_DONE = 3;

    final H2UpstreamPool pool;
    H2UpstreamListener listener;
    int state = S_FREE;
    H2UpstreamConnection conn;
    /** Index in {@link H2UpstreamConnection}'s stream array, -1 when not there. */
    int connIndex = -1;
    Http2Stream stream;
    int streamId;
    long readTimeoutNs;
    long sendTimeoutNs;
    /** Read deadline (refreshed by every frame of the stream and every write); 0: none. */
    long deadlineNs;
    long waitDeadlineNs;
    long stalledSinceNs;
    /** DATA bytes handed to the owner and not yet {@link #consumed}. */
    int unconsumed;
    boolean responseStarted;
    boolean localEnded;
    boolean released;
    /** Inside the terminal callback: {@link #release()} only marks, the handle is recycled after the callback. */
    boolean terminating;
    boolean reportedWritable;
    /** Being created by {@link H2UpstreamPool#newStream}: no callback yet. */
    boolean inNewStream;

    // What was written before the HTTP/2 stream existed.
    Http2Headers pendingHeaders;
    boolean pendingHeadersEnd;
    ByteBuf pendingData;
    boolean pendingDataEnd;
    Http2Headers pendingTrailers;
    boolean pendingFlush;

    H2UpstreamStream(H2UpstreamPool pool) {
        this.pool = pool;
    }

    void init(H2UpstreamListener l, long readTimeoutNs, long sendTimeoutNs) {
        this.listener = l;
        this.readTimeoutNs = readTimeoutNs;
        this.sendTimeoutNs = sendTimeoutNs;
        this.released = false;
        this.terminating = false;
        this.responseStarted = false;
        this.localEnded = false;
        this.reportedWritable = false;
        this.unconsumed = 0;
        this.deadlineNs = 0;
        this.stalledSinceNs = 0;
        this.streamId = 0;
    }

    /** The HTTP/2 stream id, 0 before the headers went out. */
    public int streamId() {
        return streamId;
    }

    /**
     * The request HEADERS ({@code :method}, {@code :path}, {@code :scheme}, {@code :authority}, ...). Once. While the
     * stream waits for a connection the object is kept by reference: do not change it until the stream is written.
     */
    public void writeHeaders(Http2Headers headers, boolean endStream) {
        if (state == S_DONE || state == S_FREE || localEnded || stream != null || pendingHeaders != null) {
            return;
        }
        localEnded = endStream;
        pendingHeaders = headers;
        pendingHeadersEnd = endStream;
        if (state == S_BOUND) {
            conn.openPending(this);
        }
    }

    /** A DATA frame (ownership of {@code data} passes: it is released whatever happens). */
    public void writeData(ByteBuf data, boolean endStream) {
        if (state == S_DONE || state == S_FREE || localEnded) {
            data.release();
            return;
        }
        localEnded = endStream;
        if (stream != null) {
            touch();
            conn.writeData(this, data, endStream);
            return;
        }
        pendingDataEnd = endStream;
        if (pendingData == null) {
            pendingData = data;
        } else {
            CompositeByteBuf c;
            if (pendingData instanceof CompositeByteBuf cb) {
                c = cb;
            } else {
                c = data.alloc().compositeBuffer(Integer.MAX_VALUE);
                c.addComponent(true, pendingData);
                pendingData = c;
            }
            c.addComponent(true, data);
        }
    }

    /** The trailing HEADERS; ends the request. */
    public void writeTrailers(Http2Headers trailers) {
        if (state == S_DONE || state == S_FREE || localEnded) {
            return;
        }
        localEnded = true;
        if (stream != null) {
            touch();
            conn.writeTrailers(this, trailers);
        } else {
            pendingTrailers = trailers;
        }
    }

    /** Sends what was written (flow control permitting). */
    public void flush() {
        if (state == S_BOUND && stream != null) {
            conn.flushNow();
        } else if (state == S_PENDING || state == S_BOUND) {
            pendingFlush = true;
        }
    }

    /**
     * True when more may be written now: the stream is on a connection, the peer's flow-control window (stream and
     * connection) is open and the channel is writable. {@link H2UpstreamListener#onWritabilityChanged} reports changes.
     */
    public boolean isWritable() {
        if (state != S_BOUND) {
            return false;
        }
        return conn.isWritable(this);
    }

    /**
     * The owner is done with {@code bytes} of received DATA: they return to the upstream's send window (WINDOW_UPDATE
     * once half the stream window is consumed). A no-op once the stream ended (its unconsumed bytes went back to the
     * connection window when it closed).
     */
    public void consumed(int bytes) {
        if (bytes <= 0) {
            return;
        }
        unconsumed = Math.max(0, unconsumed - bytes);
        if (state == S_BOUND && stream != null) {
            conn.consume(this, bytes);
        }
    }

    /** RST_STREAM CANCEL (or a pending stream dropped); nothing more is reported. */
    public void cancel() {
        if (state != S_PENDING && state != S_BOUND) {
            return;
        }
        finish(true);
    }

    /** The owner gives the handle back (cancelling the stream if it is still running). */
    public void release() {
        if (released || state == S_FREE) {
            return;
        }
        released = true;
        if (terminating) {
            return;
        }
        if (state != S_DONE) {
            finish(true);
        }
        pool.recycle(this);
    }

    // ------------------------------------------------------------------ internals (the connection and the pool)

    void touch() {
        if (readTimeoutNs > 0) {
            deadlineNs = System.nanoTime() + readTimeoutNs;
        }
    }

    /** Ends the stream's life on its connection (or in the pool's queue); {@code reset}: RST_STREAM CANCEL if open. */
    void finish(boolean reset) {
        int was = state;
        state = S_DONE;
        if (was == S_PENDING) {
            pool.dequeue(this);
        } else if (was == S_BOUND) {
            conn.detach(this, reset);
        }
        conn = null;
        stream = null;
        dropPending();
    }

    void dropPending() {
        pendingHeaders = null;
        pendingTrailers = null;
        pendingFlush = false;
        if (pendingData != null) {
            ByteBuf d = pendingData;
            pendingData = null;
            d.release();
        }
    }

    /** A terminal event: the listener is called, then the stream is finished (and recycled if already released). */
    void terminalResponseHeaders(Http2Headers h) {
        terminating = true;
        try {
            listener.onResponseHeaders(h, true);
        } finally {
            afterTerminal(false);
        }
    }

    void terminalData(ByteBuf data) {
        terminating = true;
        try {
            listener.onData(data, true);
        } finally {
            afterTerminal(false);
        }
    }

    void terminalTrailers(Http2Headers h) {
        terminating = true;
        try {
            listener.onTrailers(h);
        } finally {
            afterTerminal(false);
        }
    }

    void terminalReset(long code) {
        terminating = true;
        try {
            listener.onReset(code);
        } finally {
            afterTerminal(true);
        }
    }

    void terminalRefused() {
        terminating = true;
        try {
            listener.onRefused();
        } finally {
            afterTerminal(true);
        }
    }

    void terminalFailed(GatewayError e, boolean reset) {
        terminating = true;
        try {
            listener.onFailed(e);
        } finally {
            afterTerminal(reset);
        }
    }

    /** A stream already out of the pool's queue fails before it had a connection. */
    void terminalFailedPending(GatewayError e) {
        state = S_DONE;
        conn = null;
        terminating = true;
        try {
            listener.onFailed(e);
        } finally {
            terminating = false;
            dropPending();
            if (released) {
                pool.recycle(this);
            }
        }
    }

    private void afterTerminal(boolean reset) {
        terminating = false;
        if (state != S_DONE) {
            finish(reset);
        }
        if (released) {
            pool.recycle(this);
        }
    }

    void reportWritability() {
        boolean w = isWritable();
        if (w != reportedWritable && state == S_BOUND) {
            reportedWritable = w;
            listener.onWritabilityChanged(w);
        }
    }

    void clear() {
        listener = null;
        state = S_FREE;
        conn = null;
        stream = null;
        connIndex = -1;
        dropPending();
    }

}
