package io.turnpike.engine.codec;

import static io.turnpike.engine.codec.HttpChars.CR;
import static io.turnpike.engine.codec.HttpChars.HEX;
import static io.turnpike.engine.codec.HttpChars.LF;
import static io.turnpike.engine.codec.HttpChars.QDTEXT;
import static io.turnpike.engine.codec.HttpChars.TCHAR;
import static io.turnpike.engine.codec.HttpChars.VALUE_CLASS;
import static io.turnpike.engine.codec.HttpChars.V_BAD;

import io.netty.buffer.ByteBuf;

/**
 * Streams one message body without buffering it: tells the caller how many of the bytes it has belong to the current
 * body, validating chunked framing on the way (chunk sizes, extensions, CRLFs and the trailer section are passed
 * through raw, never rewritten). Works on any split of the input; never modifies buffer indexes; allocation-free.
 *
 * <p>Reused for every message of a connection; confined to the connection's event loop (not thread-safe).
 *
 * <p>Chunked rules: chunk-size is 1*HEXDIG (at most 15 significant digits) immediately followed by ';' or CRLF (no
 * whitespace); extensions are {@code ;name[=token|quoted-string]} without whitespace; chunk data must be followed by
 * CRLF; trailer fields are {@code tchar+ ':' value} without obs-fold; bare CR or LF anywhere is an error. A framing line
 * (size + extensions, or one trailer field) may be at most 8 KiB, the trailer section at most 64 KiB.
 */
public final class BodyFramer {
    /** Body modes returned by the {@code bodyMode*} helpers. */
    public static final int MODE_NONE = 0, MODE_LENGTH = 1, MODE_CHUNKED = 2, MODE_UNTIL_CLOSE = 3;

    private static final int MAX_LINE = 8192;
    private static final int MAX_TRAILERS = 65536;

    private static final int S_DONE = 0, S_LENGTH = 1, S_UNTIL_CLOSE = 2, S_SIZE_FIRST = 3, S_SIZE = 4,
            S_EXT_NAME_FIRST = 5, S_EXT_NAME = 6, S_EXT_VAL_FIRST = 7, S_EXT_TOKEN = 8, S_EXT_QUOTED = 9,
            S_EXT_QUOTED_ESC = 10, S_EXT_AFTER_QUOTE = 11, S_SIZE_LF = 12, S_DATA = 13, S_DATA_CR = 14, S_DATA_LF = 15,
            S_TRAILER_START = 16, S_TRAILER_NAME = 17, S_TRAILER_VALUE = 18, S_TRAILER_LF = 19, S_FINAL_LF = 20,
            S_ERROR = 21;

    private final long maxBodyBytes;
    private int state = S_DONE;
    private long remaining;
    private long payload;
    private int lineBytes;
    private int trailerBytes;
    private HttpParseError error;

    /** @param maxBodyBytes payload limit ({@link HttpParseError#BODY_TOO_LARGE}); {@code <= 0}: unlimited */
    public BodyFramer(long maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    private void begin(int s) {
        state = s;
        remaining = 0;
        payload = 0;
        lineBytes = 0;
        trailerBytes = 0;
        error = null;
    }

    /** No body: complete immediately. */
    public void startNone() {
        begin(S_DONE);
    }

    /**
     * A body of exactly {@code length} bytes. A length above {@code maxBodyBytes} fails at once ({@link #error()} is
     * {@link HttpParseError#BODY_TOO_LARGE}, {@link #consume} returns -1) so a 413 can be sent before reading it.
     */
    public void startContentLength(long length) {
        if (length <= 0) {
            begin(S_DONE);
            return;
        }
        begin(S_LENGTH);
        remaining = length;
        if (maxBodyBytes > 0 && length > maxBodyBytes) fail(HttpParseError.BODY_TOO_LARGE);
    }

    /** A chunked body. */
    public void startChunked() {
        begin(S_SIZE_FIRST);
    }

    /** A response body delimited by the connection closing (never completes; the caller ends it at EOF). */
    public void startUntilClose() {
        begin(S_UNTIL_CLOSE);
    }

    /** Starts the given {@code MODE_*}; {@code contentLength} is only used for {@link #MODE_LENGTH}. */
    public void start(int mode, long contentLength) {
        switch (mode) {
            case MODE_LENGTH: startContentLength(contentLength); break;
            case MODE_CHUNKED: startChunked(); break;
            case MODE_UNTIL_CLOSE: startUntilClose(); break;
            default: startNone(); break;
        }
    }

    /** Request body mode: chunked, Content-Length, or none (requests are never delimited by close). */
    public static int bodyModeForRequest(RequestHead head) {
        if (head.chunked) return MODE_CHUNKED;
        if (head.contentLength > 0) return MODE_LENGTH;
        return MODE_NONE;
    }

    /**
     * Response body mode (RFC 9112 6.3): none for 1xx, 204, 304, responses to HEAD and 2xx responses to CONNECT (after
     * which the connection is a tunnel, as it is after 101); chunked; Content-Length; otherwise until close.
     *
     * @param requestMethod the {@code RequestHead.METHOD_*} of the request this responds to
     */
    public static int bodyModeForResponse(ResponseHead head, int requestMethod) {
        int s = head.status;
        if (s < 200 || s == 204 || s == 304 || requestMethod == RequestHead.METHOD_HEAD) return MODE_NONE;
        if (requestMethod == RequestHead.METHOD_CONNECT && s < 300) return MODE_NONE;
        if (head.chunked) return MODE_CHUNKED;
        if (head.contentLength >= 0) return head.contentLength == 0 ? MODE_NONE : MODE_LENGTH;
        return MODE_UNTIL_CLOSE;
    }

    public boolean isComplete() {
        return state == S_DONE;
    }

    /** Payload bytes seen so far (chunk data only for chunked bodies, not framing). */
    public long payloadBytes() {
        return payload;
    }

    public HttpParseError error() {
        return error;
    }

    private int fail(HttpParseError e) {
        error = e;
        state = S_ERROR;
        return -1;
    }

    /**
     * Consumes bytes {@code [from, to)} of {@code buf}; returns how many of them (counted from {@code from}) belong to
     * this body, all framing included, or -1 on a framing error ({@link #error()}). A return value smaller than
     * {@code to - from} means the body completed and the rest is the next message.
     */
    public int consume(ByteBuf buf, int from, int to) {
        int i = from;
        int st = state;
        while (i < to) {
            switch (st) {
                case S_DONE:
                    state = st;
                    return i - from;
                case S_LENGTH: {
                    long n = Math.min(remaining, (long) (to - i));
                    i += (int) n;
                    payload += n;
                    remaining -= n;
                    if (remaining == 0) st = S_DONE;
                    break;
                }
                case S_UNTIL_CLOSE: {
                    payload += to - i;
                    i = to;
                    if (maxBodyBytes > 0 && payload > maxBodyBytes) return fail(HttpParseError.BODY_TOO_LARGE);
                    break;
                }
                case S_DATA: {
                    long n = Math.min(remaining, (long) (to - i));
                    i += (int) n;
                    payload += n;
                    remaining -= n;
                    if (remaining == 0) st = S_DATA_CR;
                    break;
                }
                case S_SIZE_FIRST: {
                    int d = HEX[buf.getByte(i) & 0xff];
                    if (d < 0) return fail(bad(buf.getByte(i), HttpParseError.INVALID_CHUNK_SIZE));
                    remaining = d;
                    lineBytes = 1;
                    i++;
                    st = S_SIZE;
                    break;
                }
                case S_SIZE: {
                    byte b = buf.getByte(i);
                    int d = HEX[b & 0xff];
                    if (d >= 0) {
                        if (remaining > (Long.MAX_VALUE >>> 5)) return fail(HttpParseError.INVALID_CHUNK_SIZE);
                        remaining = (remaining << 4) | d;
                        if (++lineBytes > MAX_LINE) return fail(HttpParseError.INVALID_CHUNK_SIZE);
                        i++;
                        break;
                    }
                    if (b == ';') {
                        st = S_EXT_NAME_FIRST;
                    } else if (b == CR) {
                        st = S_SIZE_LF;
                    } else {
                        return fail(bad(b, HttpParseError.INVALID_CHUNK_SIZE));
                    }
                    if (maxBodyBytes > 0 && payload + remaining > maxBodyBytes) {
                        return fail(HttpParseError.BODY_TOO_LARGE);
                    }
                    i++;
                    break;
                }
                case S_EXT_NAME_FIRST:
                case S_EXT_NAME: {
                    byte b = buf.getByte(i);
                    if (TCHAR[b & 0xff]) {
                        st = S_EXT_NAME;
                    } else if (st == S_EXT_NAME_FIRST) {
                        return fail(bad(b, HttpParseError.INVALID_CHUNK_EXTENSION));
                    } else if (b == '=') {
                        st = S_EXT_VAL_FIRST;
                    } else if (b == ';') {
                        st = S_EXT_NAME_FIRST;
                    } else if (b == CR) {
                        st = S_SIZE_LF;
                    } else {
                        return fail(bad(b, HttpParseError.INVALID_CHUNK_EXTENSION));
                    }
                    if (++lineBytes > MAX_LINE) return fail(HttpParseError.INVALID_CHUNK_EXTENSION);
                    i++;
                    break;
                }
                case S_EXT_VAL_FIRST:
                case S_EXT_TOKEN: {
                    byte b = buf.getByte(i);
                    if (TCHAR[b & 0xff]) {
                        st = S_EXT_TOKEN;
                    } else if (st == S_EXT_VAL_FIRST) {
                        if (b != '"') return fail(bad(b, HttpParseError.INVALID_CHUNK_EXTENSION));
                        st = S_EXT_QUOTED;
                    } else if (b == ';') {
                        st = S_EXT_NAME_FIRST;
                    } else if (b == CR) {
                        st = S_SIZE_LF;
                    } else {
                        return fail(bad(b, HttpParseError.INVALID_CHUNK_EXTENSION));
                    }
                    if (++lineBytes > MAX_LINE) return fail(HttpParseError.INVALID_CHUNK_EXTENSION);
                    i++;
                    break;
                }
                case S_EXT_QUOTED: {
                    byte b = buf.getByte(i);
                    if (b == '"') {
                        st = S_EXT_AFTER_QUOTE;
                    } else if (b == '\\') {
                        st = S_EXT_QUOTED_ESC;
                    } else if (!QDTEXT[b & 0xff]) {
                        return fail(bad(b, HttpParseError.INVALID_CHUNK_EXTENSION));
                    }
                    if (++lineBytes > MAX_LINE) return fail(HttpParseError.INVALID_CHUNK_EXTENSION);
                    i++;
                    break;
                }
                case S_EXT_QUOTED_ESC: {
                    byte b = buf.getByte(i);
                    if (b != '"' && b != '\\' && !QDTEXT[b & 0xff]) {
                        return fail(bad(b, HttpParseError.INVALID_CHUNK_EXTENSION));
                    }
                    st = S_EXT_QUOTED;
                    if (++lineBytes > MAX_LINE) return fail(HttpParseError.INVALID_CHUNK_EXTENSION);
                    i++;
                    break;
                }
                case S_EXT_AFTER_QUOTE: {
                    byte b = buf.getByte(i);
                    if (b == ';') {
                        st = S_EXT_NAME_FIRST;
                    } else if (b == CR) {
                        st = S_SIZE_LF;
                    } else {
                        return fail(bad(b, HttpParseError.INVALID_CHUNK_EXTENSION));
                    }
                    i++;
                    break;
                }
                case S_SIZE_LF: {
                    if (buf.getByte(i) != LF) return fail(HttpParseError.BARE_CR_OR_LF);
                    i++;
                    st = remaining == 0 ? S_TRAILER_START : S_DATA;
                    lineBytes = 0;
                    break;
                }
                case S_DATA_CR: {
                    byte b = buf.getByte(i);
                    if (b != CR) return fail(HttpParseError.INVALID_CHUNK_DATA_TERMINATOR);
                    i++;
                    st = S_DATA_LF;
                    break;
                }
                case S_DATA_LF: {
                    if (buf.getByte(i) != LF) return fail(HttpParseError.INVALID_CHUNK_DATA_TERMINATOR);
                    i++;
                    st = S_SIZE_FIRST;
                    break;
                }
                case S_TRAILER_START: {
                    byte b = buf.getByte(i);
                    if (b == CR) {
                        st = S_FINAL_LF;
                    } else if (TCHAR[b & 0xff]) {
                        st = S_TRAILER_NAME;
                        lineBytes = 0;
                    } else {
                        return fail(b == LF ? HttpParseError.BARE_CR_OR_LF : HttpParseError.INVALID_TRAILER);
                    }
                    if (++trailerBytes > MAX_TRAILERS) return fail(HttpParseError.INVALID_TRAILER);
                    i++;
                    break;
                }
                case S_TRAILER_NAME: {
                    byte b = buf.getByte(i);
                    if (b == ':') {
                        st = S_TRAILER_VALUE;
                    } else if (!TCHAR[b & 0xff]) {
                        return fail(b == LF || b == CR ? HttpParseError.BARE_CR_OR_LF : HttpParseError.INVALID_TRAILER);
                    }
                    if (++lineBytes > MAX_LINE || ++trailerBytes > MAX_TRAILERS) {
                        return fail(HttpParseError.INVALID_TRAILER);
                    }
                    i++;
                    break;
                }
                case S_TRAILER_VALUE: {
                    byte b = buf.getByte(i);
                    if (b == CR) {
                        st = S_TRAILER_LF;
                    } else if (VALUE_CLASS[b & 0xff] == V_BAD) {
                        return fail(b == LF ? HttpParseError.BARE_CR_OR_LF : HttpParseError.INVALID_TRAILER);
                    }
                    if (++lineBytes > MAX_LINE || ++trailerBytes > MAX_TRAILERS) {
                        return fail(HttpParseError.INVALID_TRAILER);
                    }
                    i++;
                    break;
                }
                case S_TRAILER_LF:
                case S_FINAL_LF: {
                    if (buf.getByte(i) != LF) return fail(HttpParseError.BARE_CR_OR_LF);
                    i++;
                    st = st == S_FINAL_LF ? S_DONE : S_TRAILER_START;
                    break;
                }
                default: // S_ERROR
                    return -1;
            }
        }
        state = st;
        if (st == S_ERROR) return -1;
        return i - from;
    }

    private static HttpParseError bad(byte b, HttpParseError e) {
        return b == LF ? HttpParseError.BARE_CR_OR_LF : e;
    }
}
