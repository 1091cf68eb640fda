package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.turnpike.engine.codec.HttpHead;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.RequestHeadParser;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.codec.ResponseHeadParser;
import io.turnpike.engine.loop.EngineSettings;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The header conversions of an exchange to a {@code scheme: grpc} upstream: the request head the exchange wrote for
 * HTTP/1 (so pass_host, X-Forwarded-* and the plugins' edits apply as for any upstream) becomes the HTTP/2 stream's
 * header list; the upstream's response header list becomes an HTTP/1 head for the plugins' header filters and the
 * client stream (which turns it back into HEADERS). One per exchange, reused; confined to its event loop.
 */
final class GrpcHeads {
    private static final AsciiString TE = AsciiString.cached("te");
    private static final AsciiString TRAILERS = AsciiString.cached("trailers");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");
    private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    private static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    private static final byte[] HTTP11 = "HTTP/1.1 ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] GRPC_TIMEOUT = "grpc-timeout".getBytes(StandardCharsets.US_ASCII);

    private final RequestHeadParser requestParser;
    private final RequestHead requestHead;
    private final ResponseHeadParser responseParser;
    /** The last converted response head (spans into the buffer {@link #responseHead(Http2Headers, ByteBufAllocator)} returned). */
    final ResponseHead responseHead;

    GrpcHeads(EngineSettings settings) {
        requestParser = new RequestHeadParser(Integer.MAX_VALUE / 4, Integer.MAX_VALUE / 4, settings.maxHeaders() + 64,
                true);
        requestHead = new RequestHead(settings.maxHeaders() + 64);
        responseParser = new ResponseHeadParser(Integer.MAX_VALUE / 4, settings.maxHeaders() + 64);
        responseHead = new ResponseHead(settings.maxHeaders() + 64);
    }

    /** The HTTP/2 request header list of an HTTP/1 request head; null if it does not parse (it is our own output). */
    Http2Headers request(ByteBuf http1, boolean tls) {
        RequestHead h = requestHead;
        requestParser.reset();
        h.reset();
        int from = http1.readerIndex();
        if (requestParser.parse(http1, h) <= 0) {
            http1.readerIndex(from);
            return null;
        }
        http1.readerIndex(from);
        DefaultHttp2Headers out = new DefaultHttp2Headers(false, h.headerCount + 5);
        out.method(ascii(http1, h.methodStart, h.methodEnd));
        out.scheme(tls ? HTTPS : HTTP);
        out.path(ascii(http1, h.targetStart, h.targetEnd));
        if (h.hostIndex >= 0) {
            out.authority(ascii(http1, h.valueStart[h.hostIndex], h.valueEnd[h.hostIndex]));
        }
        for (int i = 0; i < h.headerCount; i++) {
            byte k = h.kind[i];
            if (h.hopByHop[i] || k == HttpHead.H_HOST || k == HttpHead.H_TRANSFER_ENCODING
                    || k == HttpHead.H_CONTENT_LENGTH) {
                continue; // HTTP/2 frames the body itself; a content-length could disagree with a chunked source
            }
            out.add(lower(http1, h.nameStart[i], h.nameEnd[i]), ascii(http1, h.valueStart[i], h.valueEnd[i]));
        }
        out.set(TE, TRAILERS); // gRPC servers require it (the client's te was hop-by-hop)
        return out;
    }

    /**
     * The HTTP/1 head of an HTTP/2 response header list, parsed into {@link #responseHead}; the caller releases the
     * buffer. Null if the list does not make a valid head.
     */
    ByteBuf responseHead(Http2Headers headers, ByteBufAllocator alloc) {
        CharSequence status = headers.status();
        if (status == null) {
            return null;
        }
        ByteBuf b = alloc.heapBuffer(256);
        b.writeBytes(HTTP11);
        write(b, status);
        b.writeBytes(" OK\r\n".getBytes(StandardCharsets.US_ASCII), 0, 5);
        for (Map.Entry<CharSequence, CharSequence> e : headers) {
            CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                continue;
            }
            CharSequence value = e.getValue();
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c == '\r' || c == '\n' || c == 0) {
                    b.release();
                    return null; // would be a line of its own in the HTTP/1 head
                }
            }
            write(b, name);
            b.writeByte(':').writeByte(' ');
            write(b, value);
            b.writeByte('\r').writeByte('\n');
        }
        b.writeByte('\r').writeByte('\n');
        responseParser.reset();
        responseHead.reset();
        if (responseParser.parse(b, responseHead) <= 0) {
            b.release();
            return null;
        }
        b.readerIndex(0);
        return b;
    }

    /** Trailers (or a Trailers-Only answer) with a gRPC status. */
    static Http2Headers status(int code, String message) {
        DefaultHttp2Headers h = new DefaultHttp2Headers(false, 2);
        h.add(GRPC_STATUS, AsciiString.of(Integer.toString(code)));
        h.add(GRPC_MESSAGE, AsciiString.of(message.replace(" ", "%20")));
        return h;
    }

    /**
     * The request's {@code grpc-timeout} (1 to 8 digits and a unit H M S m u n) in nanoseconds; 0 when absent or
     * malformed (then the upstream's timeouts apply alone).
     */
    static long grpcTimeoutNs(ByteBuf src, RequestHead h) {
        for (int i = 0; i < h.headerCount; i++) {
            int ns = h.nameStart[i];
            if (h.nameEnd[i] - ns != GRPC_TIMEOUT.length) {
                continue;
            }
            boolean match = true;
            for (int k = 0; k < GRPC_TIMEOUT.length && match; k++) {
                byte c = src.getByte(ns + k);
                match = (c >= 'A' && c <= 'Z' ? c + 32 : c) == GRPC_TIMEOUT[k];
            }
            if (!match) {
                continue;
            }
            int s = h.valueStart[i];
            int e = h.valueEnd[i];
            if (e - s < 2 || e - s > 9) {
                return 0;
            }
            long v = 0;
            for (int k = s; k < e - 1; k++) {
                byte c = src.getByte(k);
                if (c < '0' || c > '9') {
                    return 0;
                }
                v = v * 10 + (c - '0');
            }
            return switch (src.getByte(e - 1)) {
                case 'H' -> v * 3_600_000_000_000L;
                case 'M' -> v * 60_000_000_000L;
                case 'S' -> v * 1_000_000_000L;
                case 'm' -> v * 1_000_000L;
                case 'u' -> v * 1_000L;
                case 'n' -> v;
                default -> 0;
            };
        }
        return 0;
    }

    private static AsciiString ascii(ByteBuf b, int s, int e) {
        byte[] a = new byte[e - s];
        b.getBytes(s, a);
        return new AsciiString(a, false);
    }

    private static AsciiString lower(ByteBuf b, int s, int e) {
        byte[] a = new byte[e - s];
        b.getBytes(s, a);
        for (int i = 0; i < a.length; i++) {
            if (a[i] >= 'A' && a[i] <= 'Z') {
                a[i] += 32;
            }
        }
        return new AsciiString(a, false);
    }

    private static void write(ByteBuf b, CharSequence s) {
        if (s instanceof AsciiString a) {
            b.writeBytes(a.array(), a.arrayOffset(), a.length());
        } else {
            for (int i = 0; i < s.length(); i++) {
                b.writeByte(s.charAt(i));
            }
        }
    }
}
