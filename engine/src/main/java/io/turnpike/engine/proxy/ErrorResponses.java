package io.turnpike.engine.proxy;

import io.turnpike.engine.codec.HttpParseError;
import io.turnpike.engine.metrics.GatewayError;

import java.nio.charset.StandardCharsets;

/**
 * Pre-encoded error responses: the whole message (status line, headers, {@code {"error_msg": ...}} body) is built once
 * at class load so answering an error on the loop costs one pooled buffer and one copy.
 */
public final class ErrorResponses {
    private static final byte[][] GATEWAY_KEEP_ALIVE = new byte[GatewayError.values().length][];
    private static final byte[][] GATEWAY_CLOSE = new byte[GatewayError.values().length][];
    private static final byte[][] PARSE_CLOSE = new byte[HttpParseError.values().length][];

    static {
        for (GatewayError e : GatewayError.values()) {
            GATEWAY_KEEP_ALIVE[e.ordinal()] = encode(e.status, e.message, false);
            GATEWAY_CLOSE[e.ordinal()] = encode(e.status, e.message, true);
        }
        for (HttpParseError e : HttpParseError.values()) {
            PARSE_CLOSE[e.ordinal()] = encode(e.status, e.reason, true);
        }
    }

    private ErrorResponses() {
    }

    public static byte[] gateway(GatewayError error, boolean close) {
        return close ? GATEWAY_CLOSE[error.ordinal()] : GATEWAY_KEEP_ALIVE[error.ordinal()];
    }

    /** Parse errors always close the connection: the framing of what follows is unknown. */
    public static byte[] parse(HttpParseError error) {
        return PARSE_CLOSE[error.ordinal()];
    }

    static byte[] encode(int status, String message, boolean close) {
        String body = "{\"error_msg\":\"" + jsonEscape(message) + "\"}\n";
        byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + ' ' + reasonPhrase(status) + "\r\n"
                + "Server: turnpike\r\n"
                + "Content-Type: application/json\r\n"
                + "Content-Length: " + bodyBytes.length + "\r\n"
                + (close ? "Connection: close\r\n" : "")
                + "\r\n";
        byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[headBytes.length + bodyBytes.length];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(bodyBytes, 0, all, headBytes.length, bodyBytes.length);
        return all;
    }

    static String jsonEscape(String s) {
        return io.turnpike.engine.plugin.LocalReply.jsonEscape(s);
    }

    public static String reasonPhrase(int status) {
        return io.turnpike.engine.plugin.LocalReply.reasonPhrase(status);
    }
}
