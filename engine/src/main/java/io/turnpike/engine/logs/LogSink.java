package io.turnpike.engine.logs;

/**
 * Where log entries go: the access log file, a file-logger path, an http-logger batch. Called on the log writer
 * thread only ({@link LogWriter}); implementations may block briefly on file writes, never on the network (the
 * http-logger hands batches to its sender thread).
 */
public interface LogSink {
    /** Formats and writes (or batches) one entry. The slot is reused after this returns: copy what is kept. */
    void write(LogSlot slot);

    /** The writer is idle or stopping: push buffered bytes out (flush a file, close an inactive batch). */
    default void flush(long nowMs) {
    }

    /** SIGUSR1: reopen the file by its path (logrotate renamed it). */
    default void reopen() {
    }
}
