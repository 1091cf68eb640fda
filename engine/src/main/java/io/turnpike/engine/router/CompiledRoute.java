package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.upstream.UpstreamTarget;

/**
 * One route of a snapshot, with its match conditions pre-encoded as bytes. Immutable; shared by all loops.
 */
public final class CompiledRoute {
    public final String id;
    /** Lower-case exact host names; null or empty means any host. */
    private final byte[][] exactHosts;
    /** Lower-case wildcard suffixes including the leading dot (".example.com" for "*.example.com"). */
    private final byte[][] wildcardSuffixes;
    /** Bit per RequestHead.METHOD_* id; 0 means any method. */
    private final int methodMask;
    public final int priority;
    public final UpstreamTarget upstream;
    /** Position in the snapshot's route list, used to keep the file order as the final tie-breaker. */
    public final int order;

    public CompiledRoute(String id, byte[][] exactHosts, byte[][] wildcardSuffixes, int methodMask, int priority,
                         UpstreamTarget upstream, int order) {
        this.id = id;
        this.exactHosts = exactHosts;
        this.wildcardSuffixes = wildcardSuffixes;
        this.methodMask = methodMask;
        this.priority = priority;
        this.upstream = upstream;
        this.order = order;
    }

    /** Host and method conditions. Host value span is [hostStart, hostEnd) without the port; -1 when absent. */
    boolean accepts(ByteBuf buf, RequestHead head, int hostStart, int hostEnd) {
        if (methodMask != 0 && (methodMask & (1 << head.method)) == 0) {
            return false;
        }
        if (exactHosts.length == 0 && wildcardSuffixes.length == 0) {
            return true;
        }
        if (hostStart < 0) {
            return false;
        }
        int len = hostEnd - hostStart;
        for (byte[] h : exactHosts) {
            if (h.length == len && ByteMatch.equalsIgnoreCase(buf, hostStart, h, 0, len)) {
                return true;
            }
        }
        for (byte[] s : wildcardSuffixes) {
            // "*.example.com" needs at least one label before the suffix.
            if (len > s.length && ByteMatch.equalsIgnoreCase(buf, hostEnd - s.length, s, 0, s.length)) {
                return true;
            }
        }
        return false;
    }
}
