package io.turnpike.engine.observe;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

/**
 * Sees every exchange of a loop, whether proxied, answered by a plugin or refused by the gateway (404, 503, parse
 * errors). Installed per loop at start-up ({@code LoopContext#observers}); called on the loop, so an implementation is
 * loop-confined or hands copies to its own thread through a bounded queue. No blocking, no locks, no allocation in the
 * steady state, no logging.
 */
public interface ExchangeObserver {
    /**
     * A request head was parsed; its spans in {@code src} are valid only during this call: copy what is needed later
     * (the request line for an access log). {@code head} is null for a request refused as malformed before its head
     * was complete.
     */
    default void onRequest(ExchangeRecord record, ByteBuf src, RequestHead head) {
    }

    /** The exchange ended: {@code record} is complete (and is reused after this returns). */
    void onComplete(ExchangeRecord record);
}
