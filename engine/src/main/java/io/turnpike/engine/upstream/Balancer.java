package io.turnpike.engine.upstream;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

/**
 * Picks an upstream node of one target for one request. One instance per event loop per target per snapshot
 * ({@link BalancerSpec#newBalancer()}); confined to its loop (no locks, no atomics) and allocation-free per pick and
 * per callback.
 *
 * <p>Protocol for the proxy, per request:
 * <ol>
 *   <li>{@code node = pick(buf, head, in)}; null means no node can take it (empty target, all weights 0): answer 503.</li>
 *   <li>{@link #onRequestStart(NodeAddress)} when the request is committed to that node (before connect / write).</li>
 *   <li>Exactly one {@link #onRequestEnd(NodeAddress, long, boolean)} per start, on the <em>same instance</em> (keep
 *       the reference: the loop may have applied a newer snapshot in between), with the latency and whether it failed
 *       (connect failure, reset, timeout, 5xx from a dead node).</li>
 *   <li>On a retry: {@code tried = markTried(tried, node)}, then {@code pickExcluding(buf, head, in, tried)}, which never
 *       returns a tried node and returns null when every pickable node was tried.</li>
 * </ol>
 *
 * <p>Tried masks use one bit per node <em>position</em> in {@link #nodes()} ({@code 1L << position}, so positions 64
 * and above alias onto bit {@code position & 63}: with more than 64 nodes a tried bit also excludes its aliases,
 * which can only end a retry sequence early, never repeat a node).
 */
public interface Balancer {
    /** The target's nodes in configuration order (positions index the tried mask). Do not modify. */
    NodeAddress[] nodes();

    /** APISIX {@code type}: roundrobin, chash, least_conn or ewma. */
    String type();

    /**
     * First pick for a request. {@code buf}/{@code head} are the parsed request head (absolute spans into buf); only
     * chash reads them (and may record the key hash in {@code in} for retries); the others accept nulls.
     */
    default NodeAddress pick(ByteBuf buf, RequestHead head, BalancerInput in) {
        return pickExcluding(buf, head, in, 0L);
    }

    /**
     * Pick avoiding every node whose bit is set in {@code triedMask}; null when none is left. With a non-zero mask,
     * chash re-uses the key hash the first pick recorded in {@code in} (the head's bytes may be gone by then), so
     * buf/head may be null on retries.
     */
    NodeAddress pickExcluding(ByteBuf buf, RequestHead head, BalancerInput in, long triedMask);

    /** {@code triedMask} with {@code node}'s bit set (a node not of this target leaves the mask unchanged). */
    default long markTried(long triedMask, NodeAddress node) {
        int p = positionOf(node);
        return p < 0 ? triedMask : triedMask | (1L << p);
    }

    /** Position of {@code node} in {@link #nodes()} (identity), or -1. */
    int positionOf(NodeAddress node);

    /** The request was committed to {@code node}. least_conn and ewma count it in flight. */
    default void onRequestStart(NodeAddress node) {
    }

    /**
     * The request started on {@code node} ended (response complete, or failed). ewma records the latency (time to the
     * complete response, or to the failure) and penalises failures; least_conn and ewma drop the in-flight count.
     */
    default void onRequestEnd(NodeAddress node, long latencyNs, boolean failed) {
    }

    /**
     * Takes over what {@code previous} (this loop's balancer of the same upstream before its endpoints changed) knew
     * of the nodes both have, matched by pool key: the round-robin position, so a node change, a health verdict or a
     * DNS answer does not restart the rotation. In-flight counts are not carried (those requests end on the previous
     * instance). Default: nothing. Called on the loop, once per rebuild.
     */
    default void inherit(Balancer previous) {
    }
}
