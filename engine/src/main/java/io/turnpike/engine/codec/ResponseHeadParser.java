package io.turnpike.engine.codec;

import static io.turnpike.engine.codec.HttpChars.CR;
import static io.turnpike.engine.codec.HttpChars.SP;

import io.netty.buffer.ByteBuf;

/**
 * Zero-allocation, incremental HTTP/1.x response head parser (upstream side). Same contract as
 * {@link RequestHeadParser}: one per upstream connection, confined to its event loop; returns the number of bytes
 * consumed (> 0), {@link #NEED_MORE} or {@link #ERROR} (with {@code head.error}); never modifies buffer indexes.
 *
 * <p>Status line: {@code HTTP/1.0} or {@code HTTP/1.1}, SP, three digits 100..599, then an optional SP and reason phrase
 * (HTAB, SP, VCHAR, obs-text). Start-line errors are {@link HttpParseError#INVALID_STATUS_LINE}; header errors use the
 * same codes as requests (the proxy answers 502 for any of them).
 *
 * <p>Framing: Content-Length and Transfer-Encoding together, duplicate or invalid Content-Length are errors. A
 * Transfer-Encoding whose final coding is not a single chunked makes the body delimited by connection close
 * (RFC 9112 6.3) and clears {@code keepAlive}; use {@link BodyFramer#bodyModeForResponse(ResponseHead, int)}.
 */
public final class ResponseHeadParser extends AbstractHeadParser<ResponseHead> {
    public static final int NEED_MORE = 0, ERROR = -1;

    /**
     * @param maxHeaderSectionBytes limit for the whole head (status line included)
     * @param maxHeaders            informational: the capacity of the {@link ResponseHead} arrays is the limit
     */
    public ResponseHeadParser(int maxHeaderSectionBytes, int maxHeaders) {
        super(maxHeaderSectionBytes, maxHeaderSectionBytes);
        if (maxHeaders < 1) throw new IllegalArgumentException("maxHeaders < 1");
    }

    /** Parses a response head starting at {@code buf.readerIndex()}. */
    public int parse(ByteBuf buf, ResponseHead head) {
        return parse0(buf, head);
    }

    @Override
    public void reset() {
        super.reset();
    }

    @Override
    HttpParseError startLineTooLong() {
        return HttpParseError.HEADER_SECTION_TOO_LARGE;
    }

    @Override
    int parseStartLine(ByteBuf buf, int pos, int scanEnd, ResponseHead head) {
        int i = parseVersion(buf, pos, scanEnd, head, HttpParseError.INVALID_STATUS_LINE,
                HttpParseError.INVALID_STATUS_LINE);
        if (i < 0) return i;
        if (i >= scanEnd) return LINE_NEED;
        if (buf.getByte(i) != SP) return lineErr(head, HttpParseError.INVALID_STATUS_LINE);
        int status = 0;
        for (int k = 1; k <= 3; k++) {
            if (i + k >= scanEnd) return LINE_NEED;
            int d = buf.getByte(i + k) - '0';
            if (d < 0 || d > 9) return lineErr(head, HttpParseError.INVALID_STATUS_LINE);
            status = status * 10 + d;
        }
        if (status < 100 || status > 599) return lineErr(head, HttpParseError.INVALID_STATUS_LINE);
        head.status = status;
        i += 4;
        if (i >= scanEnd) return LINE_NEED;
        byte b = buf.getByte(i);
        int rs = i;
        if (b == SP) {
            rs = ++i;
            if (i >= scanEnd) return LINE_NEED;
            i = HttpChars.skipFieldValue(buf, i, scanEnd);
            if (i >= scanEnd) return LINE_NEED;
        } else if (b != CR) {
            return lineErr(head, HttpParseError.INVALID_STATUS_LINE);
        }
        head.reasonStart = rs;
        head.reasonEnd = i;
        return expectCrlf(buf, i, scanEnd, head, HttpParseError.INVALID_STATUS_LINE);
    }

    @Override
    boolean onHeader(ByteBuf buf, ResponseHead head, int index, byte kind) {
        return true;
    }

    @Override
    boolean finish(ByteBuf buf, ResponseHead head) {
        finishCommon(buf, head);
        if (teSeen) {
            if (!teInvalid && teCodings > 0 && teLastChunked && teChunkedCount == 1) {
                head.chunked = true;
            } else {
                head.keepAlive = false; // body delimited by close
            }
            if (head.versionMinor == 0) head.keepAlive = false; // RFC 9112 6.1: close after an HTTP/1.0 message with TE
        }
        return true;
    }
}
