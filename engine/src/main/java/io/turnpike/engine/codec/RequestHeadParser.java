package io.turnpike.engine.codec;

import static io.turnpike.engine.codec.HttpChars.SP;

import io.netty.buffer.ByteBuf;

/**
 * Zero-allocation, incremental HTTP/1.1 request head parser working on absolute {@link ByteBuf} indexes (the buffer's
 * reader and writer indexes are never modified).
 *
 * <p>One instance per connection, confined to the connection's event loop (not thread-safe). Call
 * {@link #parse(ByteBuf, RequestHead)} whenever bytes arrive, with the head's first byte at the reader index and the
 * same {@link RequestHead} until it returns a non-zero value:
 * <ul>
 *   <li>{@code > 0}: a complete head was parsed; the value is the number of bytes consumed from the reader index
 *       (leading empty lines, which RFC 9112 lets a server skip, plus the head itself; the head proper starts at
 *       {@code head.headStart}). The parser is then ready for the next head without {@link #reset()}.</li>
 *   <li>{@link #NEED_MORE}: incomplete and no limit exceeded yet. The next call re-uses a resume hint (relative to the
 *       reader index, so the caller may discard read bytes in between; recorded indexes are shifted accordingly); it
 *       never rescans completed lines, and rescans a partial line only once a CR or LF arrived.</li>
 *   <li>{@link #ERROR}: {@code head.error} says why; the error is sticky until {@link #reset()}.</li>
 * </ul>
 * Call {@link #reset()} to abandon a partially parsed head (for example after an error or when the connection is reused
 * for something else).
 *
 * <p>Limits: the request line (counting any leading empty lines and its CRLF) must end within
 * {@code maxRequestLineBytes} ({@link HttpParseError#URI_TOO_LONG}, detected as soon as that many bytes arrived without
 * a line end); the whole head including the final empty line within {@code maxHeaderSectionBytes}
 * ({@link HttpParseError#HEADER_SECTION_TOO_LARGE}); at most {@code maxHeaders} fields
 * ({@link HttpParseError#TOO_MANY_HEADERS}, sized by the {@link RequestHead} given).
 *
 * <p>Rules (see docs/codec.md): methods are llhttp's list minus PRI; only HTTP/1.0 and HTTP/1.1; keep-alive is the
 * HTTP/1.1 default unless {@code Connection: close}, and for HTTP/1.0 only with {@code Connection: keep-alive}; a
 * request with a Transfer-Encoding must end its codings with a single chunked, uses only known codings, and is not
 * HTTP/1.0.
 */
public final class RequestHeadParser extends AbstractHeadParser<RequestHead> {
    public static final int NEED_MORE = 0, ERROR = -1;

    private final boolean requireHost;

    /**
     * @param maxRequestLineBytes   e.g. 8192
     * @param maxHeaderSectionBytes e.g. 65536
     * @param maxHeaders            e.g. 100; informational: the capacity of the {@link RequestHead} arrays is the limit
     * @param requireHost           HTTP/1.1 requests without Host are rejected ({@link HttpParseError#MISSING_HOST});
     *                              more than one Host is always rejected
     */
    public RequestHeadParser(int maxRequestLineBytes, int maxHeaderSectionBytes, int maxHeaders, boolean requireHost) {
        super(maxRequestLineBytes, maxHeaderSectionBytes);
        if (maxHeaders < 1) throw new IllegalArgumentException("maxHeaders < 1");
        this.requireHost = requireHost;
    }

    /** Parses a request head starting at {@code buf.readerIndex()}; see the class Javadoc for the return values. */
    public int parse(ByteBuf buf, RequestHead head) {
        return parse0(buf, head);
    }

    @Override
    public void reset() {
        super.reset();
    }

    @Override
    HttpParseError startLineTooLong() {
        return HttpParseError.URI_TOO_LONG;
    }

    // ---- methods (llhttp's HTTP method list, without PRI) ----
    private static final boolean[] METHOD_CHAR = new boolean[256];
    private static final int MAX_METHOD = 11;
    private static final byte[][][] METHODS_BY_LEN = new byte[MAX_METHOD + 1][][];
    private static final int[][] CODES_BY_LEN = new int[MAX_METHOD + 1][];

    static {
        for (int c = 'A'; c <= 'Z'; c++) METHOD_CHAR[c] = true;
        METHOD_CHAR['-'] = true;
        String[] names = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
                "ACL", "BIND", "CHECKOUT", "COPY", "LINK", "LOCK", "M-SEARCH", "MERGE", "MKACTIVITY", "MKCALENDAR",
                "MKCOL", "MOVE", "NOTIFY", "PROPFIND", "PROPPATCH", "PURGE", "QUERY", "REBIND", "REPORT", "SEARCH",
                "SOURCE", "SUBSCRIBE", "UNBIND", "UNLINK", "UNLOCK", "UNSUBSCRIBE"};
        int[] codes = new int[names.length];
        for (int i = 0; i < 9; i++) codes[i] = i + 1;
        for (int len = 0; len <= MAX_METHOD; len++) {
            int n = 0;
            for (String s : names) if (s.length() == len) n++;
            METHODS_BY_LEN[len] = new byte[n][];
            CODES_BY_LEN[len] = new int[n];
            int k = 0;
            for (int i = 0; i < names.length; i++) {
                if (names[i].length() == len) {
                    METHODS_BY_LEN[len][k] = HttpChars.ascii(names[i]);
                    CODES_BY_LEN[len][k++] = codes[i];
                }
            }
        }
    }

    /** Method code for buf[s, e), or -1 when the method is not accepted. Case-sensitive. */
    static int methodCode(ByteBuf buf, int s, int e) {
        int len = e - s;
        if (len > MAX_METHOD) return -1;
        byte[][] cands = METHODS_BY_LEN[len];
        outer:
        for (int c = 0; c < cands.length; c++) {
            byte[] m = cands[c];
            for (int i = 0; i < len; i++) {
                if (buf.getByte(s + i) != m[i]) continue outer;
            }
            return CODES_BY_LEN[len][c];
        }
        return -1;
    }

    @Override
    int parseStartLine(ByteBuf buf, int pos, int scanEnd, RequestHead head) {
        int i = pos;
        byte b = buf.getByte(i);
        while (METHOD_CHAR[b & 0xff]) {
            if (++i - pos > MAX_METHOD) return lineErr(head, HttpParseError.INVALID_METHOD);
            if (i >= scanEnd) return LINE_NEED;
            b = buf.getByte(i);
        }
        if (b != SP || i == pos) return lineErr(head, HttpParseError.INVALID_METHOD);
        int m = methodCode(buf, pos, i);
        if (m < 0) return lineErr(head, HttpParseError.INVALID_METHOD);
        head.method = m;
        head.methodStart = pos;
        head.methodEnd = i;
        final int ts = ++i;
        if (i >= scanEnd) return LINE_NEED;
        long scan = HttpChars.scanTarget(buf, i, scanEnd);
        i = HttpChars.targetEnd(scan);
        if (i >= scanEnd) return LINE_NEED;
        int pe = HttpChars.targetQuery(scan);
        b = buf.getByte(i);
        if (b != SP) {
            // "GET /\r\n" is an HTTP/0.9 simple request
            return lineErr(head, i > ts && (b == HttpChars.CR || b == HttpChars.LF)
                    ? HttpParseError.UNSUPPORTED_VERSION : HttpParseError.INVALID_REQUEST_TARGET);
        }
        if (i == ts) return lineErr(head, HttpParseError.INVALID_REQUEST_TARGET);
        head.targetStart = ts;
        head.targetEnd = i;
        head.pathEnd = pe < 0 ? i : pe;
        if (!validForm(buf, m, ts, i)) return lineErr(head, HttpParseError.INVALID_REQUEST_TARGET);
        int r = parseVersion(buf, i + 1, scanEnd, head, HttpParseError.INVALID_VERSION,
                HttpParseError.UNSUPPORTED_VERSION);
        if (r < 0) return r;
        return expectCrlf(buf, r, scanEnd, head, HttpParseError.INVALID_VERSION);
    }

    /**
     * origin-form ('/'), asterisk-form ("*", only OPTIONS and the extension methods), absolute-form (starts with a
     * letter); CONNECT takes authority-form (anything non-empty made of VCHARs, not starting with '/').
     */
    private static boolean validForm(ByteBuf buf, int method, int s, int e) {
        byte first = buf.getByte(s);
        if (method == RequestHead.METHOD_CONNECT) return first != '/' && first != '*';
        if (first == '/') return true;
        if (first == '*') return e - s == 1 && (method == RequestHead.METHOD_OPTIONS || method == RequestHead.METHOD_OTHER);
        return (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z');
    }

    @Override
    boolean onHeader(ByteBuf buf, RequestHead head, int index, byte kind) {
        if (kind == HttpHead.H_HOST) {
            if (head.hostIndex >= 0) {
                head.error = HttpParseError.DUPLICATE_HOST;
                return false;
            }
            head.hostIndex = index;
        }
        return true;
    }

    private static final byte[] V_100_CONTINUE = HttpChars.ascii("100-continue");

    @Override
    boolean finish(ByteBuf buf, RequestHead head) {
        if (teSeen) {
            HttpParseError e = null;
            if (head.versionMinor == 0) e = HttpParseError.TRANSFER_ENCODING_IN_HTTP10;
            else if (teInvalid || teCodings == 0) e = HttpParseError.TRANSFER_ENCODING_NOT_CHUNKED;
            else if (teUnknown) e = HttpParseError.UNKNOWN_TRANSFER_CODING;
            else if (!teLastChunked || teChunkedCount != 1) e = HttpParseError.TRANSFER_ENCODING_NOT_CHUNKED;
            if (e != null) {
                head.error = e;
                return false;
            }
            head.chunked = true;
        }
        if (requireHost && head.versionMinor == 1 && head.hostIndex < 0) {
            head.error = HttpParseError.MISSING_HOST;
            return false;
        }
        if (head.versionMinor == 1) {
            // RFC 9110 10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored; so are other Expect values
            int n = head.headerCount;
            for (int i = 0; i < n; i++) {
                if (head.kind[i] != HttpHead.H_EXPECT) continue;
                if (!HttpChars.equalsLower(buf, head.valueStart[i], head.valueEnd[i], V_100_CONTINUE)) {
                    head.error = HttpParseError.EXPECTATION_FAILED;
                    return false;
                }
                head.expectContinue = true;
            }
        }
        finishCommon(buf, head);
        return true;
    }
}
