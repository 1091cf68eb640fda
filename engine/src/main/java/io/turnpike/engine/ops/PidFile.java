package io.turnpike.engine.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The PID file ({@code turnpike.pid_file}, default {@code <prefix>/logs/turnpike.pid}, like APISIX's
 * {@code logs/nginx.pid}): written at start, removed at exit only while it still names this process (a second
 * process taking over the ports overwrites it; the first one, draining, then leaves it alone). Stateless; any thread.
 */
public final class PidFile {
    private PidFile() {
    }

    /** Writes {@code pid} (atomically: a temporary file moved into place), creating the folder when missing. */
    public static void write(Path file, long pid) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".turnpike-pid", ".tmp");
        try {
            Files.writeString(tmp, pid + "\n", StandardCharsets.US_ASCII);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The PID in {@code file}; empty when the file is absent. Throws when it does not hold a number. */
    public static Optional<Long> read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        try {
            long pid = Long.parseLong(text);
            if (pid <= 0) {
                throw new NumberFormatException();
            }
            return Optional.of(pid);
        } catch (NumberFormatException e) {
            throw new IOException(file + ": expected a process id, got \"" + text + "\"");
        }
    }

    /** Removes {@code file} when it still names {@code pid}; true when removed. Never throws. */
    public static boolean removeIfOwned(Path file, long pid) {
        try {
            Optional<Long> p = read(file);
            if (p.isPresent() && p.get() == pid) {
                Files.deleteIfExists(file);
                return true;
            }
        } catch (IOException | RuntimeException ignored) {
            // not ours, or unreadable: leave it
        }
        return false;
    }
}
