package io.turnpike.engine.codec;

/**
 * Why an HTTP/1.1 message head or body was rejected. {@link #status} is the status code a server answers a bad
 * <em>request</em> with; {@link #reason} is a short human text (used as {@code {"error_msg": reason}}).
 * For errors found in an upstream <em>response</em> the proxy answers 502 whatever {@link #status} says.
 */
public enum HttpParseError {
    INVALID_METHOD(400, "invalid method"),
    INVALID_REQUEST_TARGET(400, "invalid request target"),
    INVALID_VERSION(400, "invalid HTTP version"),
    UNSUPPORTED_VERSION(505, "HTTP version not supported"),
    URI_TOO_LONG(414, "request line too long"),
    HEADER_SECTION_TOO_LARGE(431, "header section too large"),
    TOO_MANY_HEADERS(431, "too many header fields"),
    INVALID_HEADER_NAME(400, "invalid header field name"),
    WHITESPACE_BEFORE_COLON(400, "whitespace between header field name and colon"),
    INVALID_HEADER_VALUE(400, "invalid header field value"),
    OBS_FOLD(400, "obsolete line folding is not allowed"),
    BARE_CR_OR_LF(400, "bare CR or LF"),
    INVALID_CONTENT_LENGTH(400, "invalid Content-Length"),
    DUPLICATE_CONTENT_LENGTH(400, "duplicate Content-Length"),
    CONTENT_LENGTH_AND_TRANSFER_ENCODING(400, "Content-Length and Transfer-Encoding together"),
    TRANSFER_ENCODING_NOT_CHUNKED(400, "Transfer-Encoding must end with chunked"),
    TRANSFER_ENCODING_IN_HTTP10(400, "Transfer-Encoding in an HTTP/1.0 request"),
    UNKNOWN_TRANSFER_CODING(501, "unknown transfer coding"),
    MISSING_HOST(400, "missing Host header"),
    DUPLICATE_HOST(400, "duplicate Host header"),
    INVALID_CHUNK_SIZE(400, "invalid chunk size"),
    INVALID_CHUNK_EXTENSION(400, "invalid chunk extension"),
    INVALID_CHUNK_DATA_TERMINATOR(400, "chunk data not followed by CRLF"),
    INVALID_TRAILER(400, "invalid trailer section"),
    BODY_TOO_LARGE(413, "request body too large"),
    EXPECTATION_FAILED(417, "unsupported expectation"),
    INVALID_STATUS_LINE(502, "invalid status line");

    /** HTTP status code to answer with (requests); 502 for {@link #INVALID_STATUS_LINE}. */
    public final int status;
    /** Short human-readable reason, no trailing punctuation. */
    public final String reason;

    HttpParseError(int status, String reason) {
        this.status = status;
        this.reason = reason;
    }
}
