package io.turnpike.engine.proxy;

import java.nio.charset.StandardCharsets;

/**
 * The proxy header lines that are the same for every request of one client connection, made once per connection:
 * {@code X-Forwarded-For} (when the request has none to extend), {@code X-Real-IP} and {@code X-Forwarded-Proto} as
 * one block, and {@code X-Forwarded-Port} with the blank line that ends the head as another. {@link HeadWriter} writes
 * each block with one write instead of one write per piece (name, address, CRLF); only {@code X-Forwarded-Host},
 * which comes from the request, is still written piece by piece.
 *
 * <p>Immutable, so one instance serves every request of the connection (HTTP/1.1 keep-alive, or every stream of an
 * HTTP/2 connection). {@link #clientIp} and {@link #localPort} are the connection's ASCII address and port text,
 * which the exchange also gives to the plugins, the balancers and the logs.
 */
final class ForwardedLines {
    private static final byte[] XFF = "X-Forwarded-For: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] X_REAL_IP = "X-Real-IP: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] XF_PROTO_HTTP = "X-Forwarded-Proto: http\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] XF_PROTO_HTTPS = "X-Forwarded-Proto: https\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] XF_PORT = "X-Forwarded-Port: ".getBytes(StandardCharsets.US_ASCII);

    final byte[] clientIp;
    final byte[] localPort;
    final boolean https;
    /** {@code X-Forwarded-For: ip CRLF X-Real-IP: ip CRLF X-Forwarded-Proto: http(s) CRLF}. */
    final byte[] lines;
    /** Where {@code X-Real-IP} begins in {@link #lines}: a request with its own X-Forwarded-For skips the first line. */
    final int realIpAt;
    /** {@code X-Forwarded-Port: port CRLF CRLF}: the last proxy header and the end of the head. */
    final byte[] portAndEnd;

    ForwardedLines(byte[] clientIp, byte[] localPort, boolean https) {
        this.clientIp = clientIp;
        this.localPort = localPort;
        this.https = https;
        byte[] proto = https ? XF_PROTO_HTTPS : XF_PROTO_HTTP;
        realIpAt = XFF.length + clientIp.length + 2;
        byte[] l = new byte[realIpAt + X_REAL_IP.length + clientIp.length + 2 + proto.length];
        int p = put(l, 0, XFF);
        p = put(l, p, clientIp);
        p = crlf(l, p);
        p = put(l, p, X_REAL_IP);
        p = put(l, p, clientIp);
        p = crlf(l, p);
        put(l, p, proto);
        lines = l;
        byte[] t = new byte[XF_PORT.length + localPort.length + 4];
        p = put(t, 0, XF_PORT);
        p = put(t, p, localPort);
        crlf(t, crlf(t, p));
        portAndEnd = t;
    }

    private static int put(byte[] to, int at, byte[] what) {
        System.arraycopy(what, 0, to, at, what.length);
        return at + what.length;
    }

    private static int crlf(byte[] to, int at) {
        to[at] = '\r';
        to[at + 1] = '\n';
        return at + 2;
    }
}
