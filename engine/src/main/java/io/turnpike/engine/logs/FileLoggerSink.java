package io.turnpike.engine.logs;

import java.io.IOException;
import java.nio.file.Path;

/**
 * APISIX {@code file-logger}'s output: one JSON object per line (APISIX's default log entry) appended to its
 * {@code path}. Opened when the plugin is compiled (a path that cannot be written refuses the configuration there);
 * written on the log writer thread; reopened with the other log files on SIGUSR1.
 */
public final class FileLoggerSink implements LogSink {
    private final FileAppender file;
    private final ApisixLogEntry entry = new ApisixLogEntry();
    private final Out out = new Out();

    public FileLoggerSink(Path path) throws IOException {
        this.file = FileAppender.open(path);
    }

    @Override
    public void write(LogSlot slot) {
        out.reset();
        entry.render(slot, out);
        out.ch('\n');
        file.append(out.b, 0, out.n);
    }

    @Override
    public void flush(long nowMs) {
        file.flush(nowMs);
    }

    @Override
    public String toString() {
        return "file-logger " + file.path;
    }
}
