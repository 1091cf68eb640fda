package io.turnpike.engine.plugin;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * A response a plugin answers itself (401 of an auth plugin, a CORS preflight, a redirect), encoded once when the
 * plugin is compiled: the status line and fixed headers, the Content-Length line and the body. Per-request header lines
 * (a redirect's {@code Location}, CORS origin echo) come from the exchange's response {@link HeaderEdits} and are
 * spliced in by {@link #write}. Immutable; shared by all loops.
 */
public final class LocalReply {
    private static final byte[] CONNECTION_CLOSE = Bytes.ascii("Connection: close\r\n");

    public final int status;
    private final byte[] head;
    private final byte[] contentLength;
    private final byte[] body;

    /**
     * @param headers extra {@code Name: value} lines, each ending in CRLF (may be empty)
     * @param body    the body bytes (may be empty)
     */
    public LocalReply(int status, String contentType, String headers, byte[] body) {
        this.status = status;
        this.head = ("HTTP/1.1 " + status + ' ' + reasonPhrase(status) + "\r\nServer: turnpike\r\n"
                + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n") + headers)
                .getBytes(StandardCharsets.ISO_8859_1);
        this.contentLength = ("Content-Length: " + body.length + "\r\n").getBytes(StandardCharsets.US_ASCII);
        this.body = body;
    }

    /** APISIX's error body: {@code {"message":"..."}} with a JSON content type. */
    public static LocalReply message(int status, String message) {
        return new LocalReply(status, "text/plain; charset=utf-8", "",
                ("{\"message\":\"" + jsonEscape(message) + "\"}\n").getBytes(StandardCharsets.UTF_8));
    }

    public static LocalReply empty(int status) {
        return new LocalReply(status, null, "", new byte[0]);
    }

    /** The body's length (what a GET gets; a HEAD request gets none). */
    public int bodyBytes() {
        return body.length;
    }

    /** Bytes {@link #write} writes at most, besides the edits' own lines. */
    public int bytes() {
        return head.length + contentLength.length + CONNECTION_CLOSE.length + 2 + body.length;
    }

    /** The whole response; {@code headRequest}: the body is not sent (Content-Length still says its size). */
    public void write(ByteBuf out, HeaderEdits edits, boolean close, boolean headRequest) {
        out.writeBytes(head);
        if (edits != null) {
            edits.writeLines(out);
        }
        out.writeBytes(contentLength);
        if (close) {
            out.writeBytes(CONNECTION_CLOSE);
        }
        out.writeByte('\r');
        out.writeByte('\n');
        if (!headRequest) {
            out.writeBytes(body);
        }
    }

    public static String jsonEscape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    public static String reasonPhrase(int status) {
        return switch (status) {
            case 100 -> "Continue";
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 301 -> "Moved Permanently";
            case 302 -> "Moved Temporarily";
            case 303 -> "See Other";
            case 307 -> "Temporary Redirect";
            case 308 -> "Permanent Redirect";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 411 -> "Length Required";
            case 413 -> "Payload Too Large";
            case 414 -> "URI Too Long";
            case 417 -> "Expectation Failed";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            case 505 -> "HTTP Version Not Supported";
            default -> status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
        };
    }
}
