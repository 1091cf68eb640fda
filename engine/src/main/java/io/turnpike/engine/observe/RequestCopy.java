package io.turnpike.engine.observe;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

/**
 * A copy of an exchange's request head bytes (request line and header lines, at most a bound), taken while the head
 * is readable for whoever logs the exchange when it ends (the access log, file-logger, http-logger). One per
 * {@link ExchangeRecord}, reused: its array is allocated on first use and grows, rarely, up to the bound. Confined to
 * the exchange's event loop.
 */
public final class RequestCopy {
    private static final byte[] EMPTY = new byte[0];
    private byte[] bytes = EMPTY;
    private int length;
    private boolean copied;
    private boolean truncated;

    /** Forgets the previous exchange's copy. */
    public void clear() {
        copied = false;
        length = 0;
        truncated = false;
    }

    /** Whether this exchange's head was copied already. */
    public boolean copied() {
        return copied;
    }

    /**
     * Copies the head's bytes from {@code src}, at most {@code max} of them (a longer head is cut and marked
     * {@link #truncated}); does nothing when already copied for this exchange.
     */
    public void copy(ByteBuf src, RequestHead head, int max) {
        if (copied) {
            return;
        }
        copied = true;
        int n = head.headLength;
        truncated = n > max;
        if (truncated) {
            n = max;
        }
        if (bytes.length < n) {
            bytes = new byte[Math.min(max, Math.max(n, Math.max(256, bytes.length * 2)))];
        }
        src.getBytes(head.headStart, bytes, 0, n);
        length = n;
    }

    public byte[] bytes() {
        return bytes;
    }

    public int length() {
        return length;
    }

    public boolean truncated() {
        return truncated;
    }
}
