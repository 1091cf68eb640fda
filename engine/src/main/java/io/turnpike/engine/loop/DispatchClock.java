package io.turnpike.engine.loop;

/**
 * The event loop's clock, read at most once per dispatch: the named hot-path trick that keeps {@code clock_gettime}
 * off most of a proxied request.
 *
 * <p>A keep-alive exchange wants "now" about ten times (the head deadline, the request's start, the upstream send and
 * read deadlines, the upstream's answer, the balancer's latency sample, the pool's idle stamp, the next head deadline).
 * Each {@link System#nanoTime()} is a {@code clock_gettime} in the vDSO: 26 ns a call on the paravirtualised
 * {@code kvm-clock} of the development VM (a loop of 20 million calls). There, {@code clock_gettime} was a fifth of
 * the network-excluded pipeline's CPU ({@code ProxyPipelineBenchmark}, perf), about half of it these readings and the
 * rest the benchmark harness's. Nginx reads its clock once per event-loop iteration for the same reason.
 *
 * <p>A dispatch is one call from Netty into a connection handler ({@code channelRead} of a downstream or an upstream
 * connection): the handler calls {@link #enter()} first and {@link #exit()} in a {@code finally}. Inside it, the first
 * {@link #nanoTime()} reads the clock and the later ones return the same reading, so all the stamps of one dispatch
 * are the instant its work began (its bytes had already arrived). Nested dispatches (a handler that synchronously
 * causes another's {@code channelRead}) share the outer reading. Outside any dispatch (timers, connect listeners, the
 * sweeper, another thread's hand-over) {@link #nanoTime()} reads the clock every time, so a forgotten
 * {@code enter()} costs speed, never a stale deadline.
 *
 * <p>What it changes: deadlines are armed up to one dispatch's work (microseconds) earlier than before, and stamps of
 * the same dispatch are equal. The exchange's end ({@code ExchangeRecord.endNs}, the logged and measured latency)
 * is still read from the clock itself.
 *
 * <p>Confined to its loop, like {@link LoopContext}; no field is shared with another thread.
 */
public final class DispatchClock {
    private int depth;
    private long nowNs;
    private boolean read;

    /** A dispatch from the event loop begins; the clock is read lazily, on the first {@link #nanoTime()}. */
    public void enter() {
        if (depth++ == 0) {
            read = false;
        }
    }

    /** The dispatch {@link #enter() entered} ends (call it in a {@code finally}). */
    public void exit() {
        depth--;
    }

    /** {@link System#nanoTime()}, read once per dispatch; every time outside one. */
    public long nanoTime() {
        if (depth == 0) {
            return System.nanoTime();
        }
        if (!read) {
            nowNs = System.nanoTime();
            read = true;
        }
        return nowNs;
    }
}
