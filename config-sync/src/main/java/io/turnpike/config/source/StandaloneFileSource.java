package io.turnpike.config.source;

import io.turnpike.config.standalone.LoadResult;
import io.turnpike.config.standalone.StandaloneFileLoader;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Serves the standalone file: loads it once on {@link #start} and delivers {@code onConfig} or
 * {@code onRejected}. {@link #reload()} re-reads and delivers again, which is what a file watcher (a later
 * issue; APISIX re-checks every second) will call. Deliveries are serialized by this object's lock.
 */
public final class StandaloneFileSource implements ConfigSource {

    private final Path file;
    private ConfigListener listener;
    private boolean closed;

    public StandaloneFileSource(Path file) {
        this.file = Objects.requireNonNull(file, "file");
    }

    public Path file() {
        return file;
    }

    @Override
    public synchronized void start(ConfigListener listener) {
        if (this.listener != null) {
            throw new IllegalStateException("already started");
        }
        this.listener = Objects.requireNonNull(listener, "listener");
        reload();
    }

    /**
     * Attaches a listener without loading: for callers that already loaded (and validated) the file themselves and
     * only want later changes delivered by {@link #reload()}.
     */
    public synchronized void attach(ConfigListener listener) {
        if (this.listener != null) {
            throw new IllegalStateException("already started");
        }
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /** Re-reads the file and delivers the outcome; returns it too. No-op (null) before start or after close. */
    public synchronized LoadResult reload() {
        if (listener == null || closed) {
            return null;
        }
        LoadResult r = StandaloneFileLoader.load(file);
        if (r.ok()) {
            listener.onConfig(r.config());
        } else {
            listener.onRejected(r.problems());
        }
        return r;
    }

    @Override
    public synchronized void close() {
        closed = true;
    }
}
