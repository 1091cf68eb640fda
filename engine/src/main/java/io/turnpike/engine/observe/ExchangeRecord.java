package io.turnpike.engine.observe;

import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.plugin.Consumer;
import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.upstream.NodeAddress;

/**
 * The facts of one exchange that observers (access log, metrics, tracing) and log-phase plugins read once it ends:
 * times, statuses, byte counts, the route, the node and the consumer. One per exchange object, reused: {@link #begin}
 * resets it when a request head arrives. Written and read only on the exchange's event loop; an observer that hands
 * data to another thread copies it first.
 *
 * <p>Times are {@link System#nanoTime()} values; 0 means "did not happen" (no upstream was attempted, no upstream
 * response head arrived).
 */
public final class ExchangeRecord {
    /** The request head was parsed. */
    public long startNs;
    /** The request head was handed to an upstream connection (pooled) or a connect started; 0 if never. */
    public long upstreamStartNs;
    /** The upstream's response head arrived; 0 if none did. */
    public long upstreamResponseNs;
    /** The response was handed to the client's connection in full (or the exchange was aborted). */
    public long endNs;

    /** The status sent to the client (after plugins' overrides); 0 when the connection went away before any. */
    public int status;
    /** The upstream's status; 0 when no upstream answered. */
    public int upstreamStatus;
    /** Request bytes received from the client for this exchange: head plus body as framed on the wire. */
    public long requestBytes;
    /** Response bytes written to the client for this exchange: head plus body. */
    public long responseBytes;
    /** The response body's bytes among {@link #responseBytes} (nginx's {@code $body_bytes_sent}). */
    public long responseBodyBytes;

    /** The matched route; null when none matched (404) or the request was refused before routing. */
    public CompiledRoute route;
    /** The node the response came from (the last one tried); null when no node was picked. */
    public NodeAddress node;
    /** The consumer an auth plugin identified; null when none. */
    public Consumer consumer;
    /** The gateway's own error, when the gateway answered instead of an upstream; null otherwise. */
    public GatewayError error;
    /** The request method ({@code RequestHead.METHOD_*}). */
    public int method;
    /** The client went away, or the response was cut short: {@link #status} may be 0 or what was started. */
    public boolean aborted;
    /** The exchange was served over TLS. */
    public boolean https;
    /** The client's address as ASCII (set once per connection). */
    public byte[] clientIp;
    /** The port the client connected to, as ASCII (set once per connection; never modified). */
    public byte[] serverPort;
    /**
     * The W3C trace id of the exchange (16 bytes) when tracing gave it one ({@link #hasTraceId}): the opentelemetry
     * plugin sets it, the access log's {@code $trace_id} reads it.
     */
    public final byte[] traceId = new byte[16];
    public boolean hasTraceId;
    /** The request head's bytes, copied by an observer or logger plugin that needs them after the exchange ends. */
    public final RequestCopy request = new RequestCopy();

    /** A request head arrived: clears everything of the previous exchange. */
    public void begin(long nowNs, int method, long headBytes) {
        startNs = nowNs;
        upstreamStartNs = 0;
        upstreamResponseNs = 0;
        endNs = 0;
        status = 0;
        upstreamStatus = 0;
        requestBytes = headBytes;
        responseBytes = 0;
        responseBodyBytes = 0;
        route = null;
        node = null;
        consumer = null;
        error = null;
        this.method = method;
        aborted = false;
        hasTraceId = false;
        request.clear();
    }

    /** Nanoseconds from the request head to the end of the response (APISIX's request latency). */
    public long requestTimeNs() {
        return endNs - startNs;
    }

    /** Nanoseconds from handing the request to the upstream to its response head; -1 when there was none. */
    public long upstreamTimeNs() {
        return upstreamResponseNs == 0 || upstreamStartNs == 0 ? -1 : upstreamResponseNs - upstreamStartNs;
    }
}
