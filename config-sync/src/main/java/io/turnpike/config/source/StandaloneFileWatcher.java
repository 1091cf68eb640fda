package io.turnpike.config.source;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.TimeUnit;

/**
 * The config-sync thread for the standalone file: checks the file every {@code pollIntervalMs} (APISIX re-checks
 * every second; default here 200 ms) and calls {@link StandaloneFileSource#reload()} when its modification time, size
 * or file key changed. Polling coalesces a burst of writes into one reload per tick; a half-written file has no
 * {@code #END} yet and is refused, so the last good configuration keeps serving until the write completes.
 *
 * <p>One thread ({@code turnpike-config-sync}), started by {@link #start}, stopped by {@link #close}.
 */
public final class StandaloneFileWatcher implements AutoCloseable {
    public static final long DEFAULT_POLL_INTERVAL_MS = 200;

    private final StandaloneFileSource source;
    private final long pollIntervalMs;
    private final Thread thread;
    private volatile boolean running = true;
    private Object lastStamp;

    public StandaloneFileWatcher(StandaloneFileSource source, long pollIntervalMs) {
        this.source = source;
        this.pollIntervalMs = pollIntervalMs;
        this.thread = io.turnpike.config.threads.ControlPlaneThreads.lower(new Thread(this::run, "turnpike-config-sync"));
        this.thread.setDaemon(true);
    }

    /** Starts watching; the file's current state counts as already loaded (the caller loaded it via start()). */
    public StandaloneFileWatcher start() {
        lastStamp = stamp(source.file());
        thread.start();
        return this;
    }

    private void run() {
        while (running) {
            try {
                TimeUnit.MILLISECONDS.sleep(pollIntervalMs);
            } catch (InterruptedException e) {
                return;
            }
            Object now = stamp(source.file());
            if (!now.equals(lastStamp)) {
                lastStamp = now;
                try {
                    source.reload();
                } catch (RuntimeException e) {
                    // A listener failure must not end the watch; the next change retries.
                    System.err.println("turnpike: reload of " + source.file() + " failed: " + e);
                }
            }
        }
    }

    private static Object stamp(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return a.lastModifiedTime().to(TimeUnit.NANOSECONDS) + "/" + a.size() + "/" + a.fileKey();
        } catch (NoSuchFileException e) {
            return "missing";
        } catch (IOException e) {
            return "error:" + e.getMessage();
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
