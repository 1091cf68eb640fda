package io.turnpike.bench;

import io.netty.util.concurrent.FastThreadLocalThread;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * JMH's worker pool, made of {@link FastThreadLocalThread}s like Netty's event loops (selected with
 * {@code -Djmh.executor=CUSTOM -Djmh.executor.class=io.turnpike.bench.EventLoopThreads}, see {@link BenchJvm}).
 *
 * <p>NOTE: since Netty 4.2 the {@code Recycler} only pools on threads that will clean up their fast thread-locals
 * ({@code FastThreadLocalThread.currentThreadWillCleanupFastThreadLocals()}); on JMH's plain worker threads every
 * {@code PooledUnsafeDirectByteBuf}, {@code PooledSlicedByteBuf} and {@code ChannelOutboundBuffer.Entry} is a fresh
 * object (about 700 B per proxied request), which the gateway's event loops never pay. Running the benchmark methods
 * on this kind of thread measures what an event loop does.
 */
public final class EventLoopThreads extends ThreadPoolExecutor {
    /** The constructor JMH's CUSTOM executor type calls. */
    public EventLoopThreads(int maxThreads, String prefix) {
        super(maxThreads, maxThreads, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(), factory(prefix));
    }

    private static ThreadFactory factory(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new FastThreadLocalThread(r, prefix + "-jmh-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
