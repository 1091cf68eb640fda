package io.turnpike.engine.ops;

import io.turnpike.engine.TurnpikeMain;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real gateway process for tests: {@code java -cp <test class path> TurnpikeMain start -c FILE -p PREFIX}, output in
 * a log file. Closing it kills it if it still runs.
 */
final class GatewayProcess implements AutoCloseable {
    final Process process;
    final Path log;

    private GatewayProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Starts and waits (up to 30 s) for "started" and the PID line in the log. */
    static GatewayProcess start(Path config, Path prefix, Path log) throws Exception {
        return start(config, prefix, log, List.of());
    }

    /** The same, the JVM's command line behind {@code wrapper} (e.g. {@code nohup}). */
    static GatewayProcess start(Path config, Path prefix, Path log, List<String> wrapper) throws Exception {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-exports");
        cmd.add("java.base/jdk.internal.misc=ALL-UNNAMED");
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(TurnpikeMain.class.getName());
        cmd.add("start");
        cmd.add("-c");
        cmd.add(config.toString());
        cmd.add("-p");
        cmd.add(prefix.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        GatewayProcess g = new GatewayProcess(p, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!g.log().contains("turnpike: pid ") && System.nanoTime() < deadline && p.isAlive()) {
            Thread.sleep(50);
        }
        if (!g.log().contains("turnpike: pid ")) {
            p.destroyForcibly();
            throw new AssertionError("gateway did not start:\n" + g.log());
        }
        return g;
    }

    long pid() {
        return process.pid();
    }

    String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** Waits up to {@code ms} for {@code text} in the log. */
    boolean awaitLog(String text, long ms) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (System.nanoTime() < deadline) {
            if (log().contains(text)) {
                return true;
            }
            Thread.sleep(50);
        }
        return log().contains(text);
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
