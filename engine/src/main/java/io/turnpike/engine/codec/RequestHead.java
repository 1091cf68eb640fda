package io.turnpike.engine.codec;

import io.netty.buffer.ByteBuf;

/**
 * A parsed HTTP/1.x request head: spans (absolute indexes into the parsed {@link ByteBuf}) and the framing facts the
 * proxy needs. Filled by {@link RequestHeadParser}; mutable, reused per connection and confined to its event loop.
 */
public final class RequestHead extends HttpHead {
    public static final int METHOD_OTHER = 0, METHOD_GET = 1, METHOD_HEAD = 2, METHOD_POST = 3, METHOD_PUT = 4,
            METHOD_DELETE = 5, METHOD_CONNECT = 6, METHOD_OPTIONS = 7, METHOD_TRACE = 8, METHOD_PATCH = 9;

    /** One of {@code METHOD_*}; {@code METHOD_OTHER} for the other accepted methods (see {@link #methodStart}). */
    public int method;
    /** Method span {@code [methodStart, methodEnd)}. */
    public int methodStart, methodEnd;
    /** Request-target span; {@code pathEnd} is the index of the first '?' or '#' in it, or {@code targetEnd}. */
    public int targetStart, targetEnd, pathEnd;
    /** Header index of Host, -1 if none. */
    public int hostIndex;
    /** {@code Expect: 100-continue} in an HTTP/1.1 request. */
    public boolean expectContinue;

    public RequestHead(int maxHeaders) {
        super(maxHeaders);
    }

    @Override
    public void reset() {
        super.reset();
        method = METHOD_OTHER;
        methodStart = methodEnd = 0;
        targetStart = targetEnd = pathEnd = 0;
        hostIndex = -1;
        expectContinue = false;
    }

    /** Whether the target has a query (a '?' before any '#'). */
    public boolean hasQuery(ByteBuf buf) {
        return pathEnd < targetEnd && buf.getByte(pathEnd) == '?';
    }

    @Override
    void shiftStartLine(int delta) {
        methodStart += delta;
        methodEnd += delta;
        targetStart += delta;
        targetEnd += delta;
        pathEnd += delta;
    }
}
