package io.turnpike.engine.codec;

/**
 * A parsed HTTP/1.x response head (absolute indexes into the parsed buffer). Filled by {@link ResponseHeadParser};
 * mutable, reused per upstream connection and confined to its event loop.
 */
public final class ResponseHead extends HttpHead {
    /** Status code, 100..599. */
    public int status;
    /** Reason-phrase span (may be empty). */
    public int reasonStart, reasonEnd;

    public ResponseHead(int maxHeaders) {
        super(maxHeaders);
    }

    @Override
    public void reset() {
        super.reset();
        status = 0;
        reasonStart = reasonEnd = 0;
    }

    @Override
    void shiftStartLine(int delta) {
        reasonStart += delta;
        reasonEnd += delta;
    }
}
