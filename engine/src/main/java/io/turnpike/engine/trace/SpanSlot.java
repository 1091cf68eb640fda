package io.turnpike.engine.trace;

import io.turnpike.engine.router.CompiledRoute;

/**
 * One finished server span's facts, in a preallocated, reusable slot: written by its event loop (the log phase), read
 * by the exporter thread after the slot was handed over through the ring's queue (whose release/acquire ordering makes
 * the plain fields visible). Variable-length fields are copied into fixed arrays and cut at their capacity.
 */
public final class SpanSlot {
    public static final int MAX_HOST = 256;
    public static final int MAX_TARGET = 1024;
    public static final int MAX_USER_AGENT = 256;
    public static final int MAX_METHOD = 32;

    public long traceHi;
    public long traceLo;
    public long spanId;
    /** The remote parent's span id; 0 for a root span. */
    public long parentSpanId;
    public boolean parentSampled;
    /** {@code System.nanoTime()} at the request head and at the end of the response. */
    public long startNs;
    public long endNs;
    /** The status sent to the client, and the upstream's (0 when none answered). */
    public int status;
    public int upstreamStatus;
    public boolean https;
    public boolean aborted;
    /** The matched route (immutable, shared): id, name, service id, uri. */
    public CompiledRoute route;

    public final byte[] method = new byte[MAX_METHOD];
    public int methodLength;
    public final byte[] host = new byte[MAX_HOST];
    public int hostLength;
    public final byte[] target = new byte[MAX_TARGET];
    public int targetLength;
    public final byte[] userAgent = new byte[MAX_USER_AGENT];
    /** -1: the request had no User-Agent. */
    public int userAgentLength;
}
