package io.turnpike.engine.logs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One log file, appended to by the writer thread through a buffer; reopened by its path on SIGUSR1 (logrotate renames
 * the file, then the gateway's next write creates a new one). One per path in the process, shared by the access log
 * and file-logger plugins naming that path. Opened by {@link #open} on the thread that configures it (so a path that
 * cannot be written is refused there); written, flushed and reopened only on the log writer thread.
 */
public final class FileAppender implements LogSink {
    private static final ConcurrentHashMap<Path, FileAppender> BY_PATH = new ConcurrentHashMap<>();
    private static final int BUFFER = 64 * 1024;

    public final Path path;
    private FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
    private long failures;

    private FileAppender(Path path) throws IOException {
        this.path = path;
        this.channel = openChannel(path);
    }

    /** The appender of {@code path} (opened, with its folders created, on first use). */
    public static FileAppender open(Path path) throws IOException {
        Path p = path.toAbsolutePath().normalize();
        FileAppender a = BY_PATH.get(p);
        if (a != null) {
            return a;
        }
        synchronized (BY_PATH) {
            a = BY_PATH.get(p);
            if (a == null) {
                a = new FileAppender(p);
                BY_PATH.put(p, a);
                LogWriter.get().reopenable(a);
            }
            return a;
        }
    }

    private static FileChannel openChannel(Path path) throws IOException {
        Path dir = path.getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
    }

    /** Writer thread: appends {@code len} bytes. */
    void append(byte[] b, int off, int len) {
        while (len > 0) {
            if (!buffer.hasRemaining()) {
                flush(0);
            }
            int n = Math.min(len, buffer.remaining());
            buffer.put(b, off, n);
            off += n;
            len -= n;
        }
    }

    @Override
    public void write(LogSlot slot) {
        throw new UnsupportedOperationException("a file is written through its log's formatter");
    }

    @Override
    public synchronized void flush(long nowMs) {
        buffer.flip();
        try {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            if (failures++ % 1000 == 0) {
                System.err.println("turnpike: cannot write log file " + path + ": " + e);
            }
        } finally {
            buffer.clear();
        }
    }

    @Override
    public synchronized void reopen() {
        flush(0);
        try {
            FileChannel old = channel;
            channel = openChannel(path);
            old.close();
        } catch (IOException e) {
            System.err.println("turnpike: cannot reopen log file " + path + ": " + e);
        }
    }
}
