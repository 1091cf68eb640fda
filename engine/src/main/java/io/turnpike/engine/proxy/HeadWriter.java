package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.plugin.HeaderEdits;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.upstream.NodeAddress;
import io.turnpike.engine.upstream.UpstreamTarget;

import java.nio.charset.StandardCharsets;

/**
 * Writes the heads Turnpike forwards: unchanged header lines are copied byte for byte from the received buffer,
 * hop-by-hop headers are dropped, and the proxy headers are spliced in. Stateless and allocation-free.
 *
 * <p>The request line always says {@code HTTP/1.1}: an intermediary sends its own protocol version (RFC 9110 §6.2),
 * which is what lets upstream connections be kept alive for HTTP/1.0 clients.
 */
final class HeadWriter {
    private static final byte[] HTTP11_CRLF = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP11_SP = "HTTP/1.1 ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] COLON_SP = {':', ' '};
    private static final byte[] COMMA_SP = {',', ' '};
    private static final byte[] XF_HOST = "X-Forwarded-Host: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HOST = "Host: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTENT_LENGTH = "Content-Length: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONNECTION_CLOSE = "Connection: close\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONNECTION_KEEP_ALIVE = "Connection: keep-alive\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONNECTION_UPGRADE = "Connection: upgrade\r\n".getBytes(StandardCharsets.US_ASCII);

    private HeadWriter() {
    }

    /**
     * Request head toward the upstream. {@code fwd} holds the client connection's proxy lines (made once per
     * connection); {@code px} the plugins' edits (null when the route has no plugins): method, URI and Host rewritten,
     * header lines removed, replaced and added, all in this one pass. {@code upgrade}: a WebSocket upgrade the route
     * forwards (docs/websocket.md): the client's {@code Upgrade} lines are kept and {@code Connection: upgrade} is sent
     * (nginx's {@code proxy_set_header Upgrade $http_upgrade; Connection "upgrade"}); otherwise both are hop-by-hop
     * and dropped.
     */
    static void writeRequest(ByteBuf src, RequestHead h, ByteBuf out, ForwardedLines fwd, UpstreamTarget target,
                             NodeAddress node, PluginContext px, boolean upgrade) {
        HeaderEdits edits = px == null || px.requestEdits.isEmpty() ? null : px.requestEdits;
        byte[] hostOverride = px == null ? null : px.host();
        boolean newMethod = px != null && px.method() != null;
        boolean newUri = px != null && px.uri() != null;
        long run = NO_RUN; // verbatim bytes of src not yet written (see copyLine)
        if (!newMethod && !newUri && h.targetStart == h.methodEnd + 1
                && src.getLong(h.targetEnd + 1) == HTTP_1_1) {
            // "METHOD SP target SP HTTP/1.1 CRLF" as received (the parser allows nothing else between them): the
            // whole request line starts the run. The version bytes are checked, not the parsed version: an HTTP/2
            // stream's head says HTTP/2.0 there for the logs.
            run = ((long) h.methodStart << 32) | (h.targetEnd + 11);
        } else if (!newMethod && !newUri && h.targetStart == h.methodEnd + 1) {
            out.writeBytes(src, h.methodStart, h.targetEnd - h.methodStart); // "METHOD SP target" as received
            out.writeBytes(HTTP11_CRLF);
        } else {
            if (newMethod) {
                out.writeBytes(px.method());
            } else {
                out.writeBytes(src, h.methodStart, h.methodEnd - h.methodStart);
            }
            out.writeByte(' ');
            if (newUri) {
                out.writeBytes(px.uri(), px.uriOffset(), px.uriLength());
            } else {
                out.writeBytes(src, h.targetStart, h.targetEnd - h.targetStart);
            }
            out.writeBytes(HTTP11_CRLF);
        }
        int lastXff = -1;
        for (int i = 0; i < h.headerCount; i++) {
            if (h.kind[i] == RequestHead.H_X_FORWARDED_FOR) {
                lastXff = i;
            }
        }
        for (int i = 0; i < h.headerCount; i++) {
            byte kind = h.kind[i];
            if (kind == RequestHead.H_TRANSFER_ENCODING) {
                // The body is forwarded with its chunked framing as received, so its coding header travels with it.
                run = copyLine(src, h.nameStart[i], h.valueEnd[i], out, run);
                continue;
            }
            if (h.hopByHop[i]) {
                if (upgrade && kind == RequestHead.H_UPGRADE) {
                    run = copyLine(src, h.nameStart[i], h.valueEnd[i], out, run);
                }
                continue;
            }
            if (edits != null && kind != RequestHead.H_CONTENT_LENGTH && kind != RequestHead.H_HOST
                    && edits.drops(src, h.nameStart[i], h.nameEnd[i])) {
                continue;
            }
            switch (kind) {
                case RequestHead.H_EXPECT, RequestHead.H_X_FORWARDED_PROTO, RequestHead.H_X_FORWARDED_HOST,
                        RequestHead.H_X_FORWARDED_PORT, RequestHead.H_X_REAL_IP -> {
                    // Expect is answered by the gateway itself; the X-Forwarded-* set below replace client-sent ones.
                }
                case RequestHead.H_HOST -> {
                    if (hostOverride != null) {
                        run = flush(src, run, out);
                        out.writeBytes(HOST);
                        out.writeBytes(hostOverride);
                        out.writeBytes(CRLF);
                    } else if (target.passHost == UpstreamTarget.PASS_HOST_PASS) {
                        run = copyLine(src, h.nameStart[i], h.valueEnd[i], out, run);
                    } else {
                        run = flush(src, run, out);
                        out.writeBytes(HOST);
                        out.writeBytes(target.passHost == UpstreamTarget.PASS_HOST_NODE
                                ? node.hostHeader : target.rewriteHost);
                        out.writeBytes(CRLF);
                    }
                }
                case RequestHead.H_X_FORWARDED_FOR -> {
                    if (i == lastXff) {
                        run = flush(src, run, out);
                        copyLine(src, h.nameStart[i], h.valueEnd[i], out, false);
                        out.writeBytes(COMMA_SP);
                        out.writeBytes(fwd.clientIp);
                        out.writeBytes(CRLF);
                    } else {
                        run = copyLine(src, h.nameStart[i], h.valueEnd[i], out, run);
                    }
                }
                default -> run = copyLine(src, h.nameStart[i], h.valueEnd[i], out, run);
            }
        }
        flush(src, run, out);
        if (h.hostIndex < 0 && (hostOverride != null || target.passHost != UpstreamTarget.PASS_HOST_PASS)) {
            out.writeBytes(HOST);
            out.writeBytes(hostOverride != null ? hostOverride
                    : target.passHost == UpstreamTarget.PASS_HOST_NODE ? node.hostHeader : target.rewriteHost);
            out.writeBytes(CRLF);
        }
        if (edits != null) {
            edits.writeLines(out);
        }
        if (upgrade) {
            out.writeBytes(CONNECTION_UPGRADE);
        }
        // The connection's proxy lines, each block in one write (ForwardedLines); X-Forwarded-Host is the request's.
        byte[] lines = fwd.lines;
        int from = lastXff < 0 ? 0 : fwd.realIpAt;
        out.writeBytes(lines, from, lines.length - from);
        if (h.hostIndex >= 0) {
            out.writeBytes(XF_HOST);
            out.writeBytes(src, h.valueStart[h.hostIndex], h.valueEnd[h.hostIndex] - h.valueStart[h.hostIndex]);
            out.writeBytes(CRLF);
        }
        out.writeBytes(fwd.portAndEnd);
    }

    /**
     * Response head toward the client: our own version, the upstream's status code and reason, its end-to-end headers,
     * and an explicit Connection header when the client's default would be wrong.
     */
    static void writeResponse(ByteBuf src, ResponseHead h, ByteBuf out, boolean close, boolean clientIsHttp10) {
        writeResponse(src, h, out, close, clientIsHttp10, null, false);
    }

    /**
     * With the plugins' edits ({@code px}, null when none): the status replaced, header lines removed, replaced and
     * added; with a replaced body ({@code px.responseBody()}) the upstream's framing headers give way to its
     * Content-Length ({@code headRequest}: a HEAD response announces the length of the body it does not carry).
     */
    static void writeResponse(ByteBuf src, ResponseHead h, ByteBuf out, boolean close, boolean clientIsHttp10,
                              PluginContext px, boolean headRequest) {
        writeResponse(src, h, out, close, clientIsHttp10, px, headRequest, false);
    }

    /**
     * {@code upgrade}: the upstream's {@code 101 Switching Protocols} to a forwarded upgrade: its {@code Upgrade} lines
     * are kept and {@code Connection: upgrade} replaces the connection's own Connection header.
     */
    static void writeResponse(ByteBuf src, ResponseHead h, ByteBuf out, boolean close, boolean clientIsHttp10,
                              PluginContext px, boolean headRequest, boolean upgrade) {
        HeaderEdits edits = px == null || px.responseEdits.isEmpty() ? null : px.responseEdits;
        byte[] body = px == null ? null : px.responseBody();
        int status = px == null ? 0 : px.statusOverride();
        if (status > 0) {
            out.writeBytes(HTTP11_SP);
            writeDecimal(out, status);
            out.writeByte(' ');
            out.writeBytes(reason(status));
            out.writeBytes(CRLF);
        }
        long run = NO_RUN; // verbatim bytes of src not yet written (see copyLine)
        if (status <= 0) {
            if (src.getLong(h.headStart) == HTTP_1_1) {
                // "HTTP/1.1 SSS reason CRLF" as received: the status line starts the run.
                run = ((long) h.headStart << 32) | (h.reasonEnd + 2);
            } else {
                // Status line: skip "HTTP/1.x " and copy "SSS reason\r\n" (the parser checked that CR LF follows).
                int lineStart = h.headStart + 9;
                out.writeBytes(HTTP11_SP);
                out.writeBytes(src, lineStart, h.reasonEnd + 2 - lineStart);
            }
        }
        for (int i = 0; i < h.headerCount; i++) {
            if (body != null && (h.kind[i] == RequestHead.H_TRANSFER_ENCODING
                    || h.kind[i] == RequestHead.H_CONTENT_LENGTH)) {
                continue; // replaced by the new body's Content-Length
            }
            if (edits != null && h.kind[i] != RequestHead.H_TRANSFER_ENCODING
                    && h.kind[i] != RequestHead.H_CONTENT_LENGTH && edits.drops(src, h.nameStart[i], h.nameEnd[i])) {
                continue;
            }
            if (h.kind[i] == RequestHead.H_TRANSFER_ENCODING) {
                // Kept with the raw body it frames, except toward HTTP/1.0 clients, which get the chunked body
                // without its framing (RFC 9112 6.1: no Transfer-Encoding in a response to an HTTP/1.0 request).
                if (!clientIsHttp10) {
                    run = copyLine(src, h.nameStart[i], h.valueEnd[i], out, run);
                }
                continue;
            }
            if (h.hopByHop[i]) {
                if (upgrade && h.kind[i] == RequestHead.H_UPGRADE) {
                    run = copyLine(src, h.nameStart[i], h.valueEnd[i], out, run);
                }
                continue;
            }
            run = copyLine(src, h.nameStart[i], h.valueEnd[i], out, run);
        }
        if (edits == null && body == null && !upgrade && !close && !clientIsHttp10 && run != NO_RUN
                && (int) run + 2 == h.headStart + h.headLength) {
            // Nothing is added after the headers and the run reaches the head's last line: the blank line that ends
            // the head follows it in src, so it goes with the run.
            flush(src, run + 2, out);
            return;
        }
        flush(src, run, out);
        if (edits != null) {
            edits.writeLines(out);
        }
        if (body != null) {
            out.writeBytes(CONTENT_LENGTH);
            writeDecimal(out, body.length);
            out.writeBytes(CRLF);
        }
        if (upgrade) {
            out.writeBytes(CONNECTION_UPGRADE);
        } else if (close) {
            out.writeBytes(CONNECTION_CLOSE);
        } else if (clientIsHttp10) {
            out.writeBytes(CONNECTION_KEEP_ALIVE);
        }
        out.writeBytes(CRLF);
    }

    // ---- verbatim runs: consecutive header lines copied with one write ----
    //
    // Most forwarded header lines are copied unchanged, and they lie one after the other in the received buffer. A
    // line whose value ends right at its CR ("name: value\r\n", no trailing whitespace to strip) is already in its
    // forwarded form there, so instead of two writes per line (the line, then CRLF) the writers extend a pending run
    // of such bytes, [start, end) of src packed in a long, and write the run once when a line that is not verbatim
    // (or not adjacent) comes, or at the end. The output is byte for byte what line-by-line copying gives.

    private static final long NO_RUN = -1L;
    /** "HTTP/1.1" as {@link ByteBuf#getLong} reads it (big-endian). */
    private static final long HTTP_1_1 = 0x485454502F312E31L;

    /** Copies header line [start, valueEnd) + CRLF, by extending {@code run} when it can; returns the pending run. */
    private static long copyLine(ByteBuf src, int start, int valueEnd, ByteBuf out, long run) {
        if (src.getByte(valueEnd) == '\r') { // the parser checked that LF follows the CR ending a line
            int end = valueEnd + 2;
            if (run != NO_RUN && (int) run == start) {
                return (run & 0xFFFF_FFFF_0000_0000L) | end;
            }
            flush(src, run, out);
            return ((long) start << 32) | end;
        }
        flush(src, run, out);
        copyLine(src, start, valueEnd, out, true);
        return NO_RUN;
    }

    /** Writes the pending run, if any; returns {@link #NO_RUN}. */
    private static long flush(ByteBuf src, long run, ByteBuf out) {
        if (run != NO_RUN) {
            int start = (int) (run >>> 32);
            out.writeBytes(src, start, (int) run - start);
        }
        return NO_RUN;
    }

    private static void copyLine(ByteBuf src, int start, int valueEnd, ByteBuf out, boolean crlf) {
        out.writeBytes(src, start, valueEnd - start);
        if (crlf) {
            out.writeBytes(CRLF);
        }
    }

    static int estimateRequestHeadBytes(RequestHead h, byte[] clientIp) {
        return h.headLength + 160 + 3 * clientIp.length;
    }

    /** Room for the plugins' request edits on top of {@link #estimateRequestHeadBytes}. */
    static int estimateEditBytes(PluginContext px) {
        if (px == null) {
            return 0;
        }
        return px.requestEdits.linesBytes() + px.uriLength() + (px.host() == null ? 0 : px.host().length + 8)
                + (px.method() == null ? 0 : px.method().length);
    }

    private static void writeDecimal(ByteBuf out, long v) {
        if (v >= 10) {
            writeDecimal(out, v / 10);
        }
        out.writeByte((int) ('0' + v % 10));
    }

    private static final byte[][] REASONS = new byte[600][];

    private static byte[] reason(int status) {
        byte[] r = status < REASONS.length ? REASONS[status] : null;
        return r != null ? r : "Unknown".getBytes(StandardCharsets.US_ASCII);
    }

    static {
        for (int s = 100; s < REASONS.length; s++) {
            REASONS[s] = io.turnpike.engine.plugin.LocalReply.reasonPhrase(s).getBytes(StandardCharsets.US_ASCII);
        }
    }
}
