package io.turnpike.engine.snapshot;

import io.turnpike.engine.loop.LoopContext;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Publishes a compiled snapshot to every event loop ({@code loop.execute(apply)}): no loop ever reads a half-built
 * structure, and no lock is taken on the request path. The returned future is the barrier: it completes when all loops
 * have applied the snapshot. Envoy's {@code runOnAllThreads} with a completion callback, in Netty terms.
 *
 * <p>Thread-safe; called from the config thread (or main at startup).
 */
public final class SnapshotPublisher {
    private final List<LoopContext> loops;
    private volatile Snapshot latest;
    /** Snapshots published, and the last one's publish-to-all-loops-applied time (for metrics; any thread reads). */
    private volatile long publishedCount;
    private volatile long lastApplyNs = -1;

    /** Commits endpoint changes of published snapshots, in order, off the loops (one daemon thread per process). */
    private static final java.util.concurrent.Executor COMMITS = java.util.concurrent.Executors.newSingleThreadExecutor(
            r -> {
                Thread t = new Thread(r, "turnpike-endpoint-commit");
                t.setDaemon(true);
                return io.turnpike.config.threads.ControlPlaneThreads.lower(t); // yields the core to the loops
            });

    public SnapshotPublisher(List<LoopContext> loops) {
        this.loops = List.copyOf(loops);
    }

    public CompletableFuture<Snapshot> publish(Snapshot snapshot) {
        Snapshot previous = latest;
        latest = snapshot;
        publishedCount++; // one publishing thread at a time (config-sync, or main at start-up)
        long startNs = System.nanoTime();
        CompletableFuture<Snapshot> applied = new CompletableFuture<>();
        AtomicInteger remaining = new AtomicInteger(loops.size());
        for (LoopContext loop : loops) {
            loop.eventLoop.execute(() -> {
                try {
                    loop.apply(snapshot);
                } catch (Throwable t) {
                    applied.completeExceptionally(t);
                    return;
                }
                if (remaining.decrementAndGet() == 0) {
                    // No loop can pick a context from the previous TLS table any more; connections that did hold
                    // their own references (see TlsTable).
                    if (previous != null && previous.tls != snapshot.tls) {
                        previous.tls.release();
                    }
                    if (previous != null && previous.upstreamTls != snapshot.upstreamTls) {
                        previous.upstreamTls.release();
                    }
                    if (snapshot.endpointUpdates.isEmpty()) {
                        lastApplyNs = System.nanoTime() - startNs;
                        applied.complete(snapshot);
                        return;
                    }
                    // Upstreams whose nodes changed without their routes: their endpoints now, every loop knows the
                    // new nodes. Committed off the loops (the slots serialise their writers with a monitor), applied
                    // when every loop rebuilt those balancers.
                    COMMITS.execute(() -> {
                        java.util.concurrent.CompletableFuture<?>[] f =
                                new java.util.concurrent.CompletableFuture<?>[snapshot.endpointUpdates.size()];
                        for (int i = 0; i < f.length; i++) {
                            f[i] = snapshot.endpointUpdates.get(i).get();
                        }
                        java.util.concurrent.CompletableFuture.allOf(f).whenComplete((v, t) -> {
                            lastApplyNs = System.nanoTime() - startNs;
                            if (t != null) {
                                applied.completeExceptionally(t);
                            } else {
                                applied.complete(snapshot);
                            }
                        });
                    });
                }
            });
        }
        return applied;
    }

    /** Snapshots published so far. */
    public long publishedCount() {
        return publishedCount;
    }

    /** Nanoseconds from publishing the last fully applied snapshot to its application on every loop; -1 before. */
    public long lastApplyNs() {
        return lastApplyNs;
    }

    public Snapshot latest() {
        return latest;
    }

    /** True when every loop has applied some snapshot (readiness). */
    public boolean allLoopsReady() {
        for (LoopContext loop : loops) {
            if (loop.appliedVersion() < 0) {
                return false;
            }
        }
        return true;
    }
}
