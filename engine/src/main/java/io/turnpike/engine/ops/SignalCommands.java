package io.turnpike.engine.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code turnpike stop | quit | reload}: find the running gateway through its PID file (or {@code --pid}) and signal
 * it, like {@code apisix stop/quit/reload} and {@code nginx -s}:
 * <ul>
 *   <li>{@code quit}: SIGTERM, the graceful drain; waits for the process to exit</li>
 *   <li>{@code stop}: SIGTERM repeated: the first starts the drain, the next cuts it short (open connections are
 *       closed); waits for the exit</li>
 *   <li>{@code reload}: SIGHUP, then prints the process's report (keys applied, keys that need a restart, errors)</li>
 * </ul>
 * Exit codes: 0 done, 1 not running / refused / timed out, 3 the signal could not be sent. Runs on the CLI's thread.
 */
public final class SignalCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SignalCommands() {
    }

    /** The process a command acts on, checked to be alive and to look like a Turnpike gateway. */
    static ProcessHandle target(Path pidFile, Long pidOverride, PrintStream err) throws IOException {
        long pid;
        if (pidOverride != null) {
            pid = pidOverride;
        } else {
            Optional<Long> p = PidFile.read(pidFile);
            if (p.isEmpty()) {
                err.println("turnpike: no PID file at " + pidFile + " (not running? set turnpike.pid_file or use"
                        + " --pid)");
                return null;
            }
            pid = p.get();
        }
        Optional<ProcessHandle> h = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (h.isEmpty()) {
            err.println("turnpike: process " + pid + (pidOverride == null ? " (from " + pidFile + ")" : "")
                    + " is not running");
            return null;
        }
        Optional<String> cmd = commandLine(h.get());
        if (cmd.isPresent() && !cmd.get().toLowerCase(Locale.ROOT).contains("turnpike")) {
            String c = cmd.get();
            err.println("turnpike: process " + pid + " is not a Turnpike gateway (stale PID file " + pidFile + "?): "
                    + (c.length() > 200 ? c.substring(0, 200) + "..." : c));
            return null;
        }
        return h.get();
    }

    /** The whole command line (/proc/PID/cmdline on Linux: ProcessHandle.Info's may be cut short). */
    static Optional<String> commandLine(ProcessHandle p) {
        try {
            byte[] b = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
            if (b.length > 0) {
                return Optional.of(new String(b, java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' '));
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or gone
        }
        return p.info().commandLine();
    }

    static void signal(ProcessHandle p, String sig) throws IOException {
        Process k = new ProcessBuilder("kill", "-s", sig, Long.toString(p.pid())).redirectErrorStream(true).start();
        try {
            String out = new String(k.getInputStream().readAllBytes()).trim();
            if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
                throw new IOException("kill -s " + sig + " " + p.pid() + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    /** {@code quit}: graceful drain, waits up to {@code waitMs} for the exit. */
    public static int quit(Path pidFile, Long pid, long waitMs, PrintStream out, PrintStream err) throws IOException {
        ProcessHandle p = target(pidFile, pid, err);
        if (p == null) {
            return 1;
        }
        signal(p, "TERM");
        out.println("turnpike: sent SIGTERM to " + p.pid() + " (graceful drain)");
        return awaitExit(p, waitMs, null, out, err);
    }

    /** {@code stop}: the drain cut short; waits up to {@code waitMs} for the exit. */
    public static int stop(Path pidFile, Long pid, long waitMs, PrintStream out, PrintStream err) throws IOException {
        ProcessHandle p = target(pidFile, pid, err);
        if (p == null) {
            return 1;
        }
        signal(p, "TERM");
        out.println("turnpike: sent SIGTERM to " + p.pid() + " (fast stop: repeated until it exits)");
        return awaitExit(p, waitMs, "TERM", out, err);
    }

    private static int awaitExit(ProcessHandle p, long waitMs, String repeat, PrintStream out, PrintStream err)
            throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (p.isAlive() && System.nanoTime() - deadline < 0) {
            try {
                p.onExit().get(200, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                if (repeat != null && p.isAlive()) {
                    try {
                        signal(p, repeat);
                    } catch (IOException gone) {
                        // exited between the check and the signal
                    }
                }
            } catch (Exception e) {
                break;
            }
        }
        if (p.isAlive()) {
            err.println("turnpike: process " + p.pid() + " still running after " + waitMs + " ms");
            return 1;
        }
        out.println("turnpike: process " + p.pid() + " exited");
        return 0;
    }

    /** {@code reload}: SIGHUP, then waits up to {@code waitMs} for the process's report and prints it. */
    public static int reload(Path pidFile, Long pid, long waitMs, PrintStream out, PrintStream err)
            throws IOException {
        ProcessHandle p = target(pidFile, pid, err);
        if (p == null) {
            return 1;
        }
        Path report = ConfigReloader.reportFileFor(pidFile);
        String before = readQuietly(report);
        signal(p, "HUP");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (System.nanoTime() - deadline < 0) {
            String now = readQuietly(report);
            if (now != null && !now.equals(before)) {
                JsonNode r = JSON.readTree(now);
                if (r.path("pid").asLong() == p.pid()) {
                    return print(r, out, err);
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        err.println("turnpike: sent SIGHUP to " + p.pid() + ", but no reload report in " + report + " after "
                + waitMs + " ms (see the gateway's log)");
        return 1;
    }

    private static int print(JsonNode r, PrintStream out, PrintStream err) {
        long pid = r.path("pid").asLong();
        if (!r.path("ok").asBoolean()) {
            err.println("turnpike: reload of " + pid + " refused, nothing changed:");
            r.path("errors").forEach(e -> err.println("  error: " + e.asText()));
            return 1;
        }
        StringBuilder applied = new StringBuilder();
        r.path("applied").forEach(k -> applied.append(applied.length() == 0 ? "" : ", ").append(k.asText()));
        StringBuilder restart = new StringBuilder();
        r.path("restart_required").forEach(k -> restart.append(restart.length() == 0 ? "" : ", ").append(k.asText()));
        out.println("turnpike: reloaded " + pid + ": " + (applied.length() == 0 ? "no live key changed"
                : "applied " + applied));
        if (restart.length() > 0) {
            out.println("turnpike: changed but need a restart (not applied): " + restart);
        }
        return 0;
    }

    private static String readQuietly(Path f) {
        try {
            return Files.readString(f);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            return null;
        }
    }
}
