package io.turnpike.engine.logs;

import io.netty.util.concurrent.FastThreadLocal;
import io.turnpike.engine.observe.ExchangeRecord;
import org.jctools.queues.SpscArrayQueue;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One event loop's log entries on their way to the {@link LogWriter} thread: a fixed number of preallocated
 * {@link LogSlot}s cycling through two single-producer single-consumer queues (JCTools): {@code free} (writer to
 * loop) and {@code full} (loop to writer). Bounded memory: {@code entries} slots of {@code maxHeadBytes} each. When
 * the writer is behind and no slot is free, the entry is dropped and counted; the loop never waits.
 *
 * <p>One per event-loop thread ({@link #current()}, a Netty {@code FastThreadLocal}): {@link #publish} runs on that
 * thread only; the writer thread drains it. The drop counter is written by the loop and read racily by others.
 */
public final class LogRing {
    private static volatile int defaultEntries = 4096;
    private static volatile int defaultMaxHeadBytes = 1024;

    private static final FastThreadLocal<LogRing> CURRENT = new FastThreadLocal<>() {
        @Override
        protected LogRing initialValue() {
            LogRing r = new LogRing(Thread.currentThread(), defaultEntries, defaultMaxHeadBytes);
            LogWriter.get().register(r);
            return r;
        }
    };

    final Thread owner;
    private final SpscArrayQueue<LogSlot> free;
    private final SpscArrayQueue<LogSlot> full;
    private final int maxHeadBytes;
    private final AtomicLong drops = new AtomicLong();
    private final int entries;

    LogRing(Thread owner, int entries, int maxHeadBytes) {
        this.owner = owner;
        this.entries = entries;
        this.maxHeadBytes = maxHeadBytes;
        this.free = new SpscArrayQueue<>(entries);
        this.full = new SpscArrayQueue<>(entries);
        for (int i = 0; i < entries; i++) {
            free.offer(new LogSlot(maxHeadBytes));
        }
    }

    /**
     * Sizes of the rings created from now on (set at start-up from {@code turnpike.access_log}; loops create their
     * ring on first use).
     */
    public static void configure(int entries, int maxHeadBytes) {
        defaultEntries = entries;
        defaultMaxHeadBytes = maxHeadBytes;
    }

    /** The request head bytes worth copying for a ring of the current configuration. */
    public static int maxHeadBytes() {
        return defaultMaxHeadBytes;
    }

    /** This thread's ring (created and registered with the writer on first use). */
    public static LogRing current() {
        return CURRENT.get();
    }

    /**
     * Copies {@code r} into a free slot for {@code sink} and hands it to the writer; counts a drop when no slot is
     * free. On the owning loop; no allocation, no lock, no wait.
     */
    public boolean publish(LogSink sink, ExchangeRecord r) {
        LogSlot s = free.relaxedPoll();
        if (s == null) {
            drops.lazySet(drops.get() + 1);
            return false;
        }
        s.fill(sink, r, System.currentTimeMillis());
        full.offer(s); // cannot fail: the slot came from this ring (the writer polls: no wake-up per entry)
        return true;
    }

    /** Entries dropped because the writer was behind (read racily). */
    public long drops() {
        return drops.get();
    }

    public int entries() {
        return entries;
    }

    int maxHead() {
        return maxHeadBytes;
    }

    /** Writer thread: the next published slot, or null. */
    LogSlot poll() {
        return full.relaxedPoll();
    }

    /** Writer thread: gives a written slot back to the loop. */
    void recycle(LogSlot s) {
        s.clear();
        free.offer(s);
    }

    boolean isEmpty() {
        return full.isEmpty();
    }
}
