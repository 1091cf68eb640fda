package io.turnpike.engine.metrics;

/**
 * Every error the gateway itself answers (as opposed to statuses relayed from an upstream), with the status code and
 * the {@code error_msg} text of its JSON body. Each is counted per loop in {@link LoopCounters}.
 * Malformed requests are answered with the parser's own {@code HttpParseError} statuses and counted separately.
 */
public enum GatewayError {
    ROUTE_NOT_FOUND(404, "404 Route Not Found"),
    METHOD_NOT_ALLOWED(405, "CONNECT is not supported by this gateway"),
    NO_AVAILABLE_NODE(503, "no available upstream node"),
    UPSTREAM_CONNECT_FAILED(502, "upstream connect failed"),
    UPSTREAM_TLS_HANDSHAKE_FAILED(502, "upstream TLS handshake failed"),
    UPSTREAM_RESET(502, "upstream closed the connection before a complete response"),
    UPSTREAM_INVALID_RESPONSE(502, "invalid upstream response"),
    UPSTREAM_TIMEOUT(504, "upstream timed out"),
    REQUEST_HEAD_TIMEOUT(408, "request head not received within the timeout"),
    SERVICE_UNAVAILABLE(503, "no configuration loaded yet"),
    /** The client stopped sending its request body for the route's read timeout (nginx's client_body_timeout). */
    REQUEST_BODY_TIMEOUT(408, "request body not received within the timeout"),
    /** A route of plugins only whose plugins let the request through (APISIX's wording). */
    MISSING_UPSTREAM(503, "missing upstream configuration in Route or Service"),
    /** A route to a {@code scheme: grpc} upstream reached over HTTP/1 (gRPC needs HTTP/2 end to end: trailers). */
    GRPC_NEEDS_HTTP2(426, "gRPC upstreams are reached over HTTP/2 only");

    public final int status;
    public final String message;

    GatewayError(int status, String message) {
        this.status = status;
        this.message = message;
    }
}
