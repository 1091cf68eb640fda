package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.AsciiString;
import io.turnpike.engine.codec.HttpHead;
import io.turnpike.engine.codec.HttpParseError;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.RequestHeadParser;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.codec.ResponseHeadParser;
import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.observe.ExchangeObserver;
import io.turnpike.engine.observe.ExchangeRecord;
import io.turnpike.engine.plugin.HeaderEdits;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.snapshot.Snapshot;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * One request stream of an {@link Http2ServerConnection}: the {@link ServerStream} its {@link Exchange} talks to.
 *
 * <p>The request's header list becomes an HTTP/1.1 head ({@code :method :path HTTP/1.1}, {@code Host} from
 * {@code :authority}, the regular fields, {@code Cookie} fields joined with "; " as RFC 9113 8.2.3 says, and
 * {@code Transfer-Encoding: chunked} when the stream has a body without {@code content-length}), parsed by the HTTP/1
 * parser (the same field validation as an HTTP/1 request) and handed to the exchange: routing, plugins, balancers, the
 * upstream pools are the HTTP/1 path's. DATA frames go up as the body (chunk-framed when needed). The exchange writes
 * HTTP/1 heads; they become HEADERS frames (hop-by-hop fields dropped, names lower-cased); a chunked upstream body is
 * relayed without its framing.
 *
 * <p>Flow control: received DATA is given back to the client's window ({@link Http2ServerConnection#consumed}) only
 * once it went to an upstream connection that is writable, so a slow upstream stops the client at its window.
 *
 * <p>Reused for the next streams of the connection once its exchange ended. Confined to the connection's event loop.
 * Ownership: {@link #pending} (framed body bytes not yet handed to the exchange) is owned here.
 */
final class Http2ServerStream implements ServerStream {
    private static final byte[] HTTP11_CRLF = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP2_VERSION = "HTTP/2.0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HOST = "host: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] COOKIE = "cookie: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CHUNKED = "transfer-encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final AsciiString COOKIE_NAME = AsciiString.cached("cookie");
    private static final AsciiString HOST_NAME = AsciiString.cached("host");
    private static final AsciiString TE_NAME = AsciiString.cached("te");
    private static final AsciiString CONTENT_LENGTH_NAME = AsciiString.cached("content-length");
    private static final AsciiString[] STATUS = new AsciiString[1000];

    static {
        for (int i = 100; i < STATUS.length; i++) {
            STATUS[i] = AsciiString.cached(Integer.toString(i));
        }
    }

    private final Http2ServerConnection conn;
    private final Exchange exchange;
    private final RequestHead head;

    /** The codec's stream while the exchange is in flight; null once released. */
    private Http2Stream ns;
    int activeIndex = -1;
    boolean upstreamDirty;
    private int pauseBits;
    /** Framed request body bytes the exchange cannot take yet. */
    private ByteBuf pending;
    /** The request body is sent chunked (no content-length). */
    private boolean chunked;
    /** The terminating chunk went up. */
    private boolean lastChunkSent;
    /** The client ended its side (END_STREAM seen). */
    private boolean requestEnded;
    /** The exchange was told that the request body is complete. */
    private boolean bodyCompleteSignalled;
    /** Received DATA bytes not yet given back to the client's window. */
    private int uncredited;
    private long bodyBytes;
    private boolean headRequest;
    private boolean responseStarted;
    /** END_STREAM (or RST_STREAM) was written: nothing more goes out on this stream. */
    private boolean ended;
    private boolean busy;
    private long stalledSinceNs;
    /** The response head's header list, reused (see {@link #toHttp2}). */
    private final DefaultHttp2Headers responseHeaders = new DefaultHttp2Headers(false, 16);
    /** The exchange found this stream unwritable (and blocked its upstream reads) and waits to hear otherwise. */
    private boolean wantWritable;

    Http2ServerStream(Http2ServerConnection conn) {
        this.conn = conn;
        this.head = new RequestHead(conn.settings.maxHeaders() + 8);
        this.exchange = new Exchange(conn.loop, this, conn.forwarded, conn.remoteAddress, true);
    }

    // ---------------------------------------------------------------- request side (called by the connection)

    void open(Http2Stream stream, Http2Headers headers, boolean endOfStream) {
        ns = stream;
        pauseBits = 0;
        chunked = false;
        lastChunkSent = false;
        requestEnded = endOfStream;
        bodyCompleteSignalled = false;
        uncredited = 0;
        bodyBytes = 0;
        responseStarted = false;
        ended = false;
        stalledSinceNs = 0;
        wantWritable = false;
        CharSequence method = headers.method();
        CharSequence path = headers.path();
        CharSequence scheme = headers.scheme();
        if (method == null || scheme == null || path == null || path.length() == 0) {
            // RFC 9113 8.3.1: a request without :method, :scheme or a non-empty :path is malformed (CONNECT, which
            // has neither :scheme nor :path, is refused below as on HTTP/1).
            if (method == null || !AsciiString.contentEquals(method, "CONNECT")) {
                malformed();
                return;
            }
        }
        ExchangeRecord r = exchange.record;
        ByteBufAllocator alloc = conn.ctx.alloc();
        ByteBuf buf = alloc.heapBuffer(256 + headers.size() * 48);
        try {
            int written = writeHead(buf, headers, method, path, endOfStream);
            if (written < 0) {
                buf.release();
                buf = null;
                malformed();
                return;
            }
            boolean hasContentLength = written == 1;
            RequestHeadParser parser = conn.requestParser;
            parser.reset();
            head.reset();
            int n = parser.parse(buf, head);
            if (n <= 0) {
                HttpParseError error = head.error != null ? head.error : HttpParseError.HEADER_SECTION_TOO_LARGE;
                beginRecord(buf, null, 0);
                conn.loop.counters.parseError(error.ordinal());
                r.status = error.status;
                writeWhole(ErrorResponses.parse(error));
                finish();
                return;
            }
            // The parser takes HTTP/1.x only; once parsed, the request line says what the client spoke, for the logs'
            // $server_protocol and the $request line (nothing re-parses it; the upstream head has its own version).
            buf.setBytes(head.targetEnd + 1, HTTP2_VERSION);
            beginRecord(buf, head, n);
            headRequest = head.method == RequestHead.METHOD_HEAD;
            Snapshot snapshot = conn.loop.snapshot();
            if (snapshot == null) {
                refuse(GatewayError.SERVICE_UNAVAILABLE);
                return;
            }
            if (conn.settings.maxBodyBytes() > 0 && head.contentLength > conn.settings.maxBodyBytes()) {
                conn.loop.counters.parseError(HttpParseError.BODY_TOO_LARGE.ordinal());
                r.status = HttpParseError.BODY_TOO_LARGE.status;
                writeWhole(ErrorResponses.parse(HttpParseError.BODY_TOO_LARGE));
                finish();
                return;
            }
            if (head.method == RequestHead.METHOD_CONNECT) {
                refuse(GatewayError.METHOD_NOT_ALLOWED);
                return;
            }
            boolean complete = endOfStream || hasContentLength && head.contentLength == 0;
            if (complete) {
                bodyCompleteSignalled = true;
            }
            int started = exchange.start(snapshot, buf, head, false, complete);
            if (started == Exchange.REFUSED) {
                refuse(exchange.refusal());
            } else if (started == Exchange.REPLIED) {
                replyLocal(exchange.localReply(), exchange.localReplyHeaders());
            } else {
                conn.upstreamDirty(this); // a pooled connection got the head: flushed at the end of the read burst
            }
        } finally {
            if (buf != null) {
                buf.release(); // a paused exchange retained it
            }
        }
    }

    /**
     * Writes the HTTP/1.1 head of the request; returns 1 when it has a content-length, 0 when not, -1 when a field is
     * malformed (RFC 9113 8.2.1: a name that is not a lower-case token, a value with NUL, CR or LF or with leading or
     * trailing whitespace). Checked here because the fields become HTTP/1 lines: a CR LF in a value would be a field
     * of its own upstream.
     */
    private int writeHead(ByteBuf buf, Http2Headers headers, CharSequence method, CharSequence path,
                          boolean endOfStream) {
        if (!validValue(method) || !validValue(path) || headers.authority() != null && !validValue(headers.authority())) {
            return -1;
        }
        writeChars(buf, method);
        buf.writeByte(' ');
        writeChars(buf, path == null ? "/" : path);
        buf.writeBytes(HTTP11_CRLF);
        CharSequence authority = headers.authority();
        if (authority != null) {
            buf.writeBytes(HOST);
            writeChars(buf, authority);
            buf.writeByte('\r').writeByte('\n');
        }
        boolean hasContentLength = false;
        int cookies = 0;
        for (Map.Entry<CharSequence, CharSequence> e : headers) {
            CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                continue;
            }
            if (!validName(name) || !validValue(e.getValue())) {
                return -1;
            }
            if (AsciiString.contentEquals(name, COOKIE_NAME)) {
                cookies++;
                continue;
            }
            if (authority != null && AsciiString.contentEquals(name, HOST_NAME)) {
                continue; // :authority wins (RFC 9113 8.3.1)
            }
            if (AsciiString.contentEquals(name, TE_NAME)) {
                continue; // only "trailers" is allowed (the codec checked): hop-by-hop on HTTP/1
            }
            if (AsciiString.contentEquals(name, CONTENT_LENGTH_NAME)) {
                hasContentLength = true;
            }
            writeChars(buf, name);
            buf.writeByte(':').writeByte(' ');
            writeChars(buf, e.getValue());
            buf.writeByte('\r').writeByte('\n');
        }
        if (cookies > 0) {
            buf.writeBytes(COOKIE);
            boolean first = true;
            for (CharSequence c : headers.getAll(COOKIE_NAME)) {
                if (!first) {
                    buf.writeByte(';').writeByte(' ');
                }
                first = false;
                writeChars(buf, c);
            }
            buf.writeByte('\r').writeByte('\n');
        }
        if (!endOfStream && !hasContentLength) {
            buf.writeBytes(CHUNKED);
            chunked = true;
        }
        buf.writeByte('\r').writeByte('\n');
        return hasContentLength ? 1 : 0;
    }

    /** RFC 9110 token characters, lower case only (RFC 9113 8.2.1). */
    private static boolean validName(CharSequence name) {
        int n = name.length();
        if (n == 0) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z' || c > 126 || c <= 32 || "\"(),/:;<=>?@[\\]{}".indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean validValue(CharSequence v) {
        int n = v.length();
        if (n > 0 && (isWs(v.charAt(0)) || isWs(v.charAt(n - 1)))) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = v.charAt(i);
            if (c == 0 || c == '\r' || c == '\n') {
                return false;
            }
        }
        return true;
    }

    private static boolean isWs(char c) {
        return c == ' ' || c == '\t';
    }

    private static void writeChars(ByteBuf buf, CharSequence s) {
        if (s instanceof AsciiString a) {
            buf.writeBytes(a.array(), a.arrayOffset(), a.length());
        } else {
            for (int i = 0; i < s.length(); i++) {
                buf.writeByte(s.charAt(i));
            }
        }
    }

    private void beginRecord(ByteBuf buf, RequestHead h, int headLength) {
        conn.loop.counters.increment(LoopCounters.REQUESTS);
        ExchangeRecord r = exchange.record;
        r.begin(conn.loop.clock.nanoTime(), h == null ? 0 : h.method, headLength);
        ExchangeObserver[] obs = conn.loop.observers();
        for (int i = 0; i < obs.length; i++) {
            obs[i].onRequest(r, buf, h);
        }
        setBusy(true);
    }

    /** DATA for this stream; returns the bytes to give back to the client's window now (the rest later). */
    int onData(ByteBuf data, boolean endOfStream) {
        int n = data.readableBytes();
        if (ended || bodyCompleteSignalled && !requestEnded) {
            // The answer went out already, or the body is complete by its content-length (the codec checks the rest).
            if (endOfStream) {
                requestEnded = true;
            }
            return n;
        }
        bodyBytes += n;
        long max = conn.settings.maxBodyBytes();
        if (max > 0 && bodyBytes > max) {
            bodyTooLarge();
            return n;
        }
        if (n > 0) {
            if (pending == null) {
                pending = conn.ctx.alloc().directBuffer(n);
            }
            pending.writeBytes(data, data.readerIndex(), n);
        }
        if (endOfStream) {
            requestEnded = true;
        }
        uncredited += n;
        pump();
        return 0;
    }

    /** Trailers ended the request (their fields are not forwarded). */
    void onRequestEnd() {
        if (ended || requestEnded) {
            requestEnded = true;
            return;
        }
        requestEnded = true;
        pump();
    }

    /** {@code data} as one chunk (and the last chunk after it when {@code last}); {@code data} is released. */
    private ByteBuf chunk(ByteBuf data, boolean last) {
        int n = data.readableBytes();
        ByteBuf out = conn.ctx.alloc().directBuffer(n + 16 + (last ? LAST_CHUNK.length : 0));
        writeHex(out, n);
        out.writeByte('\r').writeByte('\n');
        out.writeBytes(data);
        out.writeByte('\r').writeByte('\n');
        if (last) {
            out.writeBytes(LAST_CHUNK);
        }
        data.release();
        return out;
    }

    private static void writeHex(ByteBuf out, int n) {
        int shift = 28;
        while (shift > 0 && (n >>> shift) == 0) {
            shift -= 4;
        }
        for (; shift >= 0; shift -= 4) {
            out.writeByte("0123456789abcdef".charAt((n >>> shift) & 0xF));
        }
    }

    /** Hands buffered body bytes to the exchange when it takes them, and gives window back when nothing holds it. */
    private void pump() {
        if (ns == null) {
            return;
        }
        if (pending != null && exchange.acceptsBody()) {
            ByteBuf b = pending;
            pending = null;
            exchange.record.requestBytes += b.readableBytes();
            if (chunked && !exchange.grpc()) {
                b = chunk(b, requestEnded);
                lastChunkSent = requestEnded;
            }
            exchange.forwardBody(b);
            conn.upstreamDirty(this);
        }
        if (requestEnded && chunked && !lastChunkSent && pending == null && exchange.acceptsBody()
                && !exchange.grpc()) {
            lastChunkSent = true;
            ByteBuf last = conn.ctx.alloc().directBuffer(LAST_CHUNK.length);
            last.writeBytes(LAST_CHUNK);
            exchange.forwardBody(last);
            conn.upstreamDirty(this);
        }
        if (requestEnded && pending == null && !bodyCompleteSignalled && exchange.acceptsBody()) {
            bodyCompleteSignalled = true;
            exchange.requestBodyComplete();
            conn.upstreamDirty(this); // a gRPC upstream got END_STREAM
        }
        if (uncredited > 0 && pauseBits == 0 && pending == null) {
            int n = uncredited;
            uncredited = 0;
            conn.consumed(ns, n);
        }
    }

    void flushUpstream() {
        exchange.flushUpstream();
    }

    // ---------------------------------------------------------------- ServerStream (called by the exchange)

    @Override
    public ByteBufAllocator alloc() {
        return conn.ctx.alloc();
    }

    @Override
    public boolean isWritable() {
        boolean w = ns != null && conn.isWritable(ns);
        if (!w && !wantWritable) {
            // The exchange stops reading its upstream now: told again once the windows open (recheckWritability).
            wantWritable = true;
            stalledSinceNs = System.nanoTime();
        }
        return w;
    }

    @Override
    public void pauseReads(int reason) {
        pauseBits |= reason;
    }

    @Override
    public boolean readsPaused(int reason) {
        return (pauseBits & reason) != 0;
    }

    @Override
    public void resumeReads(int reason) {
        int before = pauseBits;
        pauseBits &= ~reason;
        if (before != 0 && pauseBits == 0) {
            pump();
        }
    }

    @Override
    public void writeContinue() {
        if (ended || ns == null) {
            return;
        }
        DefaultHttp2Headers h = new DefaultHttp2Headers(false, 1);
        h.status(STATUS[100]);
        writeHeaders(h, false);
    }

    @Override
    public void writeInterim(ByteBuf src, ResponseHead rh) {
        if (ended || ns == null) {
            return;
        }
        ByteBuf tmp = conn.ctx.alloc().heapBuffer(rh.headLength);
        try {
            tmp.writeBytes(src, rh.headStart, rh.headLength);
            Http2Headers h = toHttp2(tmp);
            if (h != null) {
                writeHeaders(h, false);
            }
        } finally {
            tmp.release();
        }
    }

    @Override
    public void writeResponseHead(ByteBuf src, ResponseHead rh, boolean mustClose, PluginContext px,
                                  boolean headRequest) {
        if (ended || ns == null) {
            return;
        }
        responseStarted = true;
        byte[] body = px == null ? null : px.responseBody();
        int extra = px == null ? 0 : px.responseEdits.linesBytes() + 64;
        ByteBuf tmp = conn.ctx.alloc().heapBuffer(rh.headLength + 32 + extra);
        Http2Headers h;
        try {
            HeadWriter.writeResponse(src, rh, tmp, false, false, px, headRequest);
            exchange.record.responseBytes += tmp.readableBytes();
            conn.loop.counters.add(LoopCounters.BYTES_OUT, tmp.readableBytes());
            h = toHttp2(tmp);
        } finally {
            tmp.release();
        }
        if (h == null) {
            abortResponse(GatewayError.UPSTREAM_INVALID_RESPONSE);
            return;
        }
        int status = px != null && px.statusOverride() != 0 ? px.statusOverride() : rh.status;
        boolean noBody = headRequest || status == 204 || status == 304
                || body == null && rh.contentLength == 0 && !rh.chunked || exchange.responseEndsWithHead();
        if (body != null && !headRequest) {
            writeHeaders(h, false);
            exchange.record.responseBodyBytes += body.length;
            writeData(Unpooled.wrappedBuffer(body), true);
        } else {
            writeHeaders(h, noBody);
        }
    }

    @Override
    public void writeResponseBody(ByteBuf slice) {
        if (ended || ns == null) {
            slice.release();
            return;
        }
        int n = slice.readableBytes();
        conn.loop.counters.add(LoopCounters.BYTES_OUT, n);
        exchange.record.responseBytes += n;
        exchange.record.responseBodyBytes += n;
        writeData(slice, false);
    }

    @Override
    public void writeTrailers(Http2Headers trailers) {
        if (ended || ns == null) {
            return;
        }
        writeHeaders(trailers, true);
    }

    @Override
    public Tunnel switchProtocols(UpstreamConnection upstream, ByteBuf src, ResponseHead rh, PluginContext px) {
        // Unreachable: an HTTP/2 request is never forwarded as an upgrade (no Connection/Upgrade fields on HTTP/2).
        upstream.closeQuietly();
        abortResponse(GatewayError.UPSTREAM_INVALID_RESPONSE);
        return null;
    }

    @Override
    public void flush() {
        conn.flush();
    }

    @Override
    public void upstreamAttached() {
        pump();
        exchange.flushUpstream();
        conn.flush();
    }

    @Override
    public void exchangeComplete(boolean requestComplete) {
        if (!ended && ns != null) {
            writeData(Unpooled.EMPTY_BUFFER, true);
        }
        finish();
    }

    @Override
    public void pluginReplied(LocalReply reply, HeaderEdits headers) {
        conn.loop.counters.increment(LoopCounters.PLUGIN_REPLIES);
        replyLocalBytes(reply, headers);
        finish();
    }

    @Override
    public void failBeforeResponse(GatewayError error) {
        conn.loop.counters.error(error);
        exchange.record.status = error.status;
        exchange.record.error = error;
        if (exchange.grpc()) {
            writeGrpcError(error);
        } else {
            writeWhole(ErrorResponses.gateway(error, false));
        }
        finish();
    }

    private static final AsciiString CONTENT_TYPE = AsciiString.cached("content-type");
    private static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");

    /**
     * A gateway error on a gRPC call: Trailers-Only ({@code :status 200}, {@code grpc-status}, {@code grpc-message}),
     * so gRPC clients see a status rather than an HTTP error: DEADLINE_EXCEEDED (4) for a timeout, UNAVAILABLE (14)
     * for an upstream that could not be reached or failed, UNKNOWN (2) otherwise.
     */
    private void writeGrpcError(GatewayError error) {
        if (ended || ns == null) {
            return;
        }
        int code = switch (error) {
            case UPSTREAM_TIMEOUT -> 4;
            case UPSTREAM_CONNECT_FAILED, UPSTREAM_TLS_HANDSHAKE_FAILED, UPSTREAM_RESET, NO_AVAILABLE_NODE,
                    SERVICE_UNAVAILABLE -> 14;
            default -> 2;
        };
        Http2Headers h = GrpcHeads.status(code, error.message);
        h.status(STATUS[200]);
        h.set(CONTENT_TYPE, APPLICATION_GRPC);
        responseStarted = true;
        writeHeaders(h, true);
    }

    @Override
    public void abortResponse(GatewayError error) {
        // Part of the response went out: RST_STREAM is HTTP/2's honest signal (HTTP/1 closes the connection).
        conn.loop.counters.error(error);
        if (!ended && ns != null) {
            ended = true;
            conn.resetStream(ns, Http2Error.INTERNAL_ERROR);
            conn.flush();
        }
        abortExchange();
    }

    // ---------------------------------------------------------------- endings

    /** The exchange refused the request before starting it (no route, no configuration, CONNECT). */
    private void refuse(GatewayError error) {
        conn.loop.counters.error(error);
        exchange.record.status = error.status;
        exchange.record.error = error;
        writeWhole(ErrorResponses.gateway(error, false));
        finish();
    }

    private void replyLocal(LocalReply reply, HeaderEdits headers) {
        conn.loop.counters.increment(LoopCounters.PLUGIN_REPLIES);
        replyLocalBytes(reply, headers);
        finish();
    }

    private void replyLocalBytes(LocalReply reply, HeaderEdits headers) {
        ByteBuf out = conn.ctx.alloc().heapBuffer(reply.bytes() + headers.linesBytes());
        try {
            reply.write(out, headers, false, headRequest);
            exchange.record.status = reply.status;
            exchange.record.responseBodyBytes += headRequest ? 0 : reply.bodyBytes();
            writeWhole(out);
        } finally {
            out.release();
        }
    }

    /** A request the codec accepted but HTTP says is malformed: RST_STREAM PROTOCOL_ERROR (RFC 9113 8.1.1). */
    private void malformed() {
        conn.loop.counters.increment(LoopCounters.HTTP2_STREAM_ERRORS);
        ended = true;
        conn.resetStream(ns, Http2Error.PROTOCOL_ERROR);
        Http2Stream s = ns;
        ns = null;
        releasePending();
        conn.released(this, s);
    }

    private void bodyTooLarge() {
        conn.loop.counters.parseError(HttpParseError.BODY_TOO_LARGE.ordinal());
        exchange.abortUpstream();
        if (!responseStarted) {
            exchange.record.status = HttpParseError.BODY_TOO_LARGE.status;
            writeWhole(ErrorResponses.parse(HttpParseError.BODY_TOO_LARGE));
            exchange.clientGone();
            finish();
        } else {
            abortResponse(GatewayError.UPSTREAM_RESET);
        }
    }

    /** The exchange ended normally (answered): record, observers, and the stream goes back to the free list. */
    private void finish() {
        Http2Stream s = ns;
        if (s == null) {
            return;
        }
        if (!requestEnded && !ended) {
            ended = true;
        }
        if (!requestEnded) {
            // RFC 9113 8.1: a complete response before the whole request: the rest of the request is not wanted.
            conn.resetStream(s, Http2Error.NO_ERROR);
        }
        ExchangeRecord r = exchange.record;
        r.endNs = System.nanoTime();
        exchange.reset();
        complete(r);
        ns = null;
        releasePending();
        conn.released(this, s);
        conn.flush();
    }

    /**
     * The codec closed the stream: reset by the client or by a stream error. If our side had ended (END_STREAM
     * written) the exchange still completes on its own (its upstream connection then goes back to its pool);
     * otherwise it is aborted.
     */
    void streamGone() {
        if (ns == null || ended) {
            return;
        }
        ended = true;
        abortExchange();
    }

    /** The connection went away: whatever is still in flight is aborted. */
    void connectionGone() {
        if (ns == null) {
            return;
        }
        ended = true;
        abortExchange();
    }

    private void abortExchange() {
        Http2Stream s = ns;
        if (s == null) {
            return;
        }
        ns = null;
        exchange.clientGone();
        ExchangeRecord r = exchange.record;
        r.aborted = true;
        if (r.endNs == 0) {
            r.endNs = System.nanoTime();
        }
        complete(r);
        releasePending();
        conn.released(this, s);
    }

    private void complete(ExchangeRecord r) {
        setBusy(false);
        ExchangeObserver[] obs = conn.loop.observers();
        for (int i = 0; i < obs.length; i++) {
            obs[i].onComplete(r);
        }
    }

    private void releasePending() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
        uncredited = 0;
    }

    private void setBusy(boolean b) {
        if (b != busy) {
            busy = b;
            conn.loop.busy(b ? 1 : -1);
        }
    }

    // ---------------------------------------------------------------- flow control, deadlines

    /**
     * The windows or the channel may have opened: a stream whose exchange found it unwritable resumes its upstream.
     * (Not left to the codec's per-stream writability events alone: a stream that was never marked writable by the
     * codec, e.g. created while the connection window was spent, gets no event when the connection window opens.)
     */
    void recheckWritability() {
        if (wantWritable && ns != null && conn.isWritable(ns)) {
            wantWritable = false;
            stalledSinceNs = 0;
            exchange.downstreamWritabilityChanged(true);
        }
    }

    void sweep(long nowNs) {
        if (ns == null) {
            return;
        }
        exchange.sweepGrpc(nowNs);
        if (ns == null) {
            return;
        }
        int phase = exchange.phase();
        if (phase == Exchange.CONNECTING || phase == Exchange.PLUGIN_PAUSED) {
            exchange.sweep(nowNs);
            return;
        }
        if (wantWritable && nowNs - stalledSinceNs - conn.settings.keepaliveTimeoutNs() >= 0
                && !conn.isWritable(ns)) {
            // The client stopped taking the response: give the upstream connection back after keepalive_timeout.
            ended = true;
            conn.resetStream(ns, Http2Error.CANCEL);
            conn.flush();
            abortExchange();
        }
    }

    // ---------------------------------------------------------------- frames

    private void writeHeaders(Http2Headers h, boolean endStream) {
        if (endStream) {
            ended = true;
        }
        conn.encoder().writeHeaders(conn.ctx, ns.id(), h, 0, endStream, conn.ctx.voidPromise());
        conn.wrote();
    }

    private void writeData(ByteBuf data, boolean endStream) {
        if (endStream) {
            ended = true;
        }
        conn.encoder().writeData(conn.ctx, ns.id(), data, 0, endStream, conn.ctx.voidPromise());
        conn.wrote();
    }

    /** A whole HTTP/1 response (head and body, as the local replies are encoded) as HEADERS and DATA. */
    private void writeWhole(byte[] response) {
        ByteBuf b = Unpooled.wrappedBuffer(response);
        try {
            writeWhole(b); // the body goes out as a retained slice of it
        } finally {
            b.release();
        }
    }

    private void writeWhole(ByteBuf response) {
        if (ended || ns == null) {
            return;
        }
        Http2Headers h = toHttp2(response);
        if (h == null) {
            return;
        }
        int headLength = conn.responseHead.headLength;
        int bodyStart = response.readerIndex() + headLength;
        int bodyLength = response.writerIndex() - bodyStart;
        responseStarted = true;
        conn.loop.counters.add(LoopCounters.BYTES_OUT, response.readableBytes());
        exchange.record.responseBytes += response.readableBytes();
        if (bodyLength > 0 && !headRequest) {
            writeHeaders(h, false);
            writeData(response.retainedSlice(bodyStart, bodyLength), true);
        } else {
            writeHeaders(h, true);
        }
    }

    /**
     * An HTTP/1 response head (at the reader index of {@code http1}) as an HTTP/2 header list: {@code :status}, the
     * fields with lower-cased names, hop-by-hop fields dropped. Null if it does not parse (it is our own output).
     */
    private Http2Headers toHttp2(ByteBuf http1) {
        ResponseHeadParser p = conn.responseParser;
        ResponseHead rh = conn.responseHead;
        p.reset();
        rh.reset();
        if (p.parse(http1, rh) <= 0) {
            return null;
        }
        // The stream's own header list is reused when the codec encodes it at once (nothing of this stream queued by
        // flow control: the case of every response head); otherwise the list may be kept by the queue: a new one.
        DefaultHttp2Headers h;
        if (ns != null && !conn.encoder().flowController().hasFlowControlled(ns)) {
            h = responseHeaders;
            h.clear();
        } else {
            h = new DefaultHttp2Headers(false, rh.headerCount + 1);
        }
        int status = rh.status;
        h.status(status >= 100 && status < STATUS.length ? STATUS[status] : AsciiString.of(Integer.toString(status)));
        for (int i = 0; i < rh.headerCount; i++) {
            if (rh.hopByHop[i] || rh.kind[i] == HttpHead.H_TRANSFER_ENCODING || rh.kind[i] == HttpHead.H_CONNECTION
                    || rh.kind[i] == HttpHead.H_KEEP_ALIVE || rh.kind[i] == HttpHead.H_PROXY_CONNECTION
                    || rh.kind[i] == HttpHead.H_UPGRADE) {
                continue;
            }
            h.add(conn.names.get(http1, rh.nameStart[i], rh.nameEnd[i], true),
                    conn.values.get(http1, rh.valueStart[i], rh.valueEnd[i], false));
        }
        return h;
    }
}
