package io.turnpike.engine.logs;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The process's one log writer thread ({@code turnpike-log-writer}, daemon): drains every loop's {@link LogRing},
 * hands each entry to its {@link LogSink} (formatting, JSON and file writes happen here, never on a loop), flushes
 * the sinks when the rings are empty, and reopens files on request (SIGUSR1). It polls the rings (1 ms, backing off
 * to 10 ms when idle), so a loop never wakes it. Started on first use.
 */
public final class LogWriter {
    private static final LogWriter INSTANCE = new LogWriter();

    private final List<LogRing> rings = new CopyOnWriteArrayList<>();
    /** Sinks written since their last flush (writer thread only). */
    private final Map<LogSink, Boolean> dirty = new IdentityHashMap<>();
    /** Sinks that asked to be flushed periodically (batches with timeouts); writer thread only. */
    private final Map<LogSink, Boolean> ticking = new IdentityHashMap<>();
    private final List<LogSink> reopenable = new CopyOnWriteArrayList<>();
    private volatile boolean reopenRequested;
    private volatile long flushRequests;
    private volatile long flushesDone;
    private volatile long droppedByDeadRings;
    private Thread thread;

    private LogWriter() {
    }

    public static LogWriter get() {
        INSTANCE.ensureStarted();
        return INSTANCE;
    }

    private synchronized void ensureStarted() {
        if (thread == null) {
            Thread t = new Thread(this::run, "turnpike-log-writer");
            t.setDaemon(true);
            thread = t;
            t.start();
        }
    }

    void register(LogRing ring) {
        rings.add(ring);
    }

    /** A sink that reopens its file on SIGUSR1 (registered once per file). */
    public void reopenable(LogSink sink) {
        reopenable.add(sink);
    }

    public void forget(LogSink sink) {
        reopenable.remove(sink);
    }

    /** SIGUSR1: every file sink reopens its path on the writer thread (logrotate's {@code postrotate}). */
    public void requestReopen() {
        reopenRequested = true;
        LockSupport.unpark(thread);
    }

    /** {@link #flush} when the writer was ever started (nothing to write otherwise). */
    public static boolean flushIfStarted(long timeoutMs) {
        synchronized (INSTANCE) {
            if (INSTANCE.thread == null) {
                return true;
            }
        }
        return INSTANCE.flush(timeoutMs);
    }

    /**
     * Writes out everything published so far and flushes every sink; waits up to {@code timeoutMs}. Called on drain
     * and stop (and by tests). Returns false on timeout.
     */
    public boolean flush(long timeoutMs) {
        long target;
        synchronized (this) {
            target = ++flushRequests;
        }
        LockSupport.unpark(thread);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (flushesDone < target) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            LockSupport.parkNanos(200_000);
        }
        return true;
    }

    /** {@link #drops} (0 when the writer never started). */
    public static long dropsIfStarted() {
        synchronized (INSTANCE) {
            if (INSTANCE.thread == null) {
                return 0;
            }
        }
        return INSTANCE.drops();
    }

    /** Entries dropped by every ring because the writer was behind (read racily). */
    public long drops() {
        long d = droppedByDeadRings;
        for (LogRing r : rings) {
            d += r.drops();
        }
        return d;
    }

    /** A sink with a time-based flush (http-logger's inactive_timeout): called on the writer thread. */
    void tick(LogSink sink) {
        ticking.put(sink, Boolean.TRUE);
    }

    private void run() {
        int idle = 0;
        long lastDropReport = 0;
        long reportedDrops = 0;
        long lastFlush = 0;
        while (true) {
            try {
                long requested = flushRequests;
                if (reopenRequested) {
                    reopenRequested = false;
                    for (LogSink s : reopenable) {
                        s.reopen();
                    }
                }
                int n = drainOnce();
                long now = System.currentTimeMillis();
                if (n == 0 || requested != flushesDone || now - lastFlush >= 200) {
                    lastFlush = now;
                    if (requested != flushesDone) {
                        while (drainOnce() > 0) {
                            // everything published before the request
                        }
                    }
                    flushAll(now, requested != flushesDone);
                    flushesDone = requested;
                }
                if (now - lastDropReport >= 10_000) {
                    long d = drops();
                    if (d != reportedDrops) {
                        System.err.println("turnpike: log entries dropped (writer behind): " + (d - reportedDrops)
                                + " in the last " + (now - lastDropReport) / 1000 + " s, " + d + " in all");
                        reportedDrops = d;
                    }
                    lastDropReport = now;
                }
                if (n == 0) {
                    idle = Math.min(idle + 1, 10);
                    LockSupport.parkNanos(idle * 1_000_000L);
                } else {
                    idle = 0;
                }
            } catch (Throwable t) {
                System.err.println("turnpike: log writer: " + t);
                LockSupport.parkNanos(10_000_000L);
            }
        }
    }

    private int drainOnce() {
        int n = 0;
        List<LogRing> dead = null;
        for (LogRing r : rings) {
            LogSlot s;
            int k = 0;
            while (k < 4096 && (s = r.poll()) != null) {
                LogSink sink = s.sink;
                try {
                    sink.write(s);
                } catch (RuntimeException e) {
                    System.err.println("turnpike: log sink " + sink + ": " + e);
                }
                dirty.put(sink, Boolean.TRUE);
                r.recycle(s);
                k++;
            }
            n += k;
            if (k == 0 && !r.owner.isAlive() && r.isEmpty()) {
                if (dead == null) {
                    dead = new ArrayList<>();
                }
                dead.add(r);
            }
        }
        if (dead != null) {
            for (LogRing r : dead) {
                droppedByDeadRings += r.drops();
            }
            rings.removeAll(dead);
        }
        return n;
    }

    private void flushAll(long now, boolean all) {
        for (LogSink s : dirty.keySet()) {
            s.flush(now);
        }
        dirty.clear();
        if (!ticking.isEmpty()) {
            for (LogSink s : new ArrayList<>(ticking.keySet())) {
                if (!(s instanceof TimedSink t) || t.tick(now, all)) {
                    ticking.remove(s);
                }
            }
        }
    }

    /** A sink with pending work that ends by time (a batch's inactive_timeout / buffer_duration). */
    public interface TimedSink extends LogSink {
        /** Writer thread: flush what is due ({@code all}: everything); true when nothing is pending any more. */
        boolean tick(long nowMs, boolean all);
    }
}
