package io.turnpike.engine.logs;

import io.turnpike.engine.observe.ExchangeRecord;

/**
 * One log entry in a {@link LogRing}: the fixed fields of an ended exchange, copied on its event loop, formatted on
 * the log writer thread. Preallocated (a ring holds a fixed number); a slot belongs to the loop while it fills it and
 * to the writer from its publication until it is given back. References are to immutable objects (route id,
 * consumer name, node key), so copying them costs no allocation.
 */
public final class LogSlot {
    /** Who formats and writes this entry (on the writer thread). */
    public LogSink sink;
    /** Wall-clock milliseconds of the request's start. */
    public long startEpochMs;
    /** Nanoseconds from the request head to the end of the response. */
    public long requestTimeNs;
    /** Nanoseconds from the upstream request to its response head; -1 when none. */
    public long upstreamTimeNs;
    public int status;
    public int upstreamStatus;
    public long requestBytes;
    public long responseBytes;
    public long responseBodyBytes;
    public boolean aborted;
    public boolean https;
    public String routeId;
    public String serviceId;
    public String consumer;
    public String upstreamAddr;
    public String error;
    public final byte[] clientIp = new byte[64];
    public int clientIpLength;
    /** The connection's local port (ASCII; the connection's own array, never modified). */
    public byte[] serverPort;
    public final byte[] traceId = new byte[16];
    public boolean hasTraceId;
    /** The request head's bytes (request line and headers), at most the ring's bound. */
    public final byte[] head;
    public int headLength;
    public boolean headTruncated;

    LogSlot(int maxHeadBytes) {
        this.head = new byte[maxHeadBytes];
    }

    /** Copies the record's fields (runs on the event loop; no allocation). */
    void fill(LogSink sink, ExchangeRecord r, long nowEpochMs) {
        this.sink = sink;
        long total = r.endNs - r.startNs;
        requestTimeNs = total < 0 ? 0 : total;
        startEpochMs = nowEpochMs - requestTimeNs / 1_000_000;
        upstreamTimeNs = r.upstreamTimeNs();
        status = r.status;
        upstreamStatus = r.upstreamStatus;
        requestBytes = r.requestBytes;
        responseBytes = r.responseBytes;
        responseBodyBytes = r.responseBodyBytes;
        aborted = r.aborted;
        https = r.https;
        routeId = r.route == null ? null : r.route.id;
        serviceId = null;
        consumer = r.consumer == null ? null : r.consumer.username;
        upstreamAddr = r.node == null ? null : r.node.key;
        error = r.error == null ? null : r.error.name();
        byte[] ip = r.clientIp;
        int n = ip == null ? 0 : Math.min(ip.length, clientIp.length);
        if (n > 0) {
            System.arraycopy(ip, 0, clientIp, 0, n);
        }
        clientIpLength = n;
        serverPort = r.serverPort;
        hasTraceId = r.hasTraceId;
        if (hasTraceId) {
            System.arraycopy(r.traceId, 0, traceId, 0, 16);
        }
        int h = Math.min(r.request.length(), head.length);
        if (h > 0) {
            System.arraycopy(r.request.bytes(), 0, head, 0, h);
        }
        headLength = h;
        headTruncated = r.request.truncated() || h < r.request.length();
    }

    /** Drops references once written (the writer thread). */
    void clear() {
        sink = null;
        routeId = null;
        serviceId = null;
        consumer = null;
        upstreamAddr = null;
        error = null;
        serverPort = null;
    }
}
