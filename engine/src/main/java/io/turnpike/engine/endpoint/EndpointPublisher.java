package io.turnpike.engine.endpoint;

import io.turnpike.engine.loop.LoopContext;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tells every event loop that an upstream's endpoints changed, and reports when all of them applied the change (the
 * DNS refresh answers only then). Each loop rebuilds that upstream's balancer and retires the pools of nodes that
 * left; a loop would pick the change up on its next request anyway (the slot is read per pick), the message makes it
 * eager and measurable. Called from background threads; never blocks.
 */
public final class EndpointPublisher {
    private final List<LoopContext> loops;
    private final AtomicLong published = new AtomicLong();
    private volatile long lastApplyNs = -1;

    public EndpointPublisher(List<LoopContext> loops) {
        this.loops = List.copyOf(loops);
    }

    public CompletableFuture<Void> publish(EndpointSlot slot, Endpoints prev, Endpoints next) {
        published.incrementAndGet();
        if (loops.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        long start = System.nanoTime();
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicInteger remaining = new AtomicInteger(loops.size());
        for (LoopContext loop : loops) {
            loop.eventLoop.execute(() -> {
                try {
                    loop.endpointsChanged(slot, prev, next);
                } catch (Throwable t) {
                    done.completeExceptionally(t);
                    return;
                }
                if (remaining.decrementAndGet() == 0) {
                    lastApplyNs = System.nanoTime() - start;
                    done.complete(null);
                }
            });
        }
        return done;
    }

    /** Endpoint changes published so far. */
    public long publishedCount() {
        return published.get();
    }

    /** Nanoseconds from publishing the last endpoint change to its application on every loop; -1 before. */
    public long lastApplyNs() {
        return lastApplyNs;
    }
}
