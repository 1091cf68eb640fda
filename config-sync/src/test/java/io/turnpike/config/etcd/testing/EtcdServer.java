package io.turnpike.config.etcd.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real {@code etcd} process for tests: free loopback client and peer ports picked at start, a temporary data dir,
 * {@code --max-request-bytes 8388608} (8 MiB values), {@code --logger zap --log-level error}, auto-compaction off.
 *
 * <pre>{@code
 * try (EtcdServer etcd = EtcdServer.startNew()) {
 *     String endpoint = etcd.endpoint();   // http://127.0.0.1:<port>
 *     etcd.stop();                          // SIGTERM, waits; data kept
 *     etcd.start();                         // same ports, same data dir
 * }                                         // kills and deletes the data dir
 * }</pre>
 *
 * <p>{@link #cluster(int)} starts an n-member cluster on loopback. The etcd binary is {@code /usr/bin/etcd}, or the
 * system property {@code turnpike.etcd.binary} / environment variable {@code ETCD_BIN}; when it is missing the start
 * fails with a message saying how to install it (Debian: {@code apt-get install etcd-server}).
 *
 * <p>Not thread-safe: drive one instance from one test thread.
 */
public final class EtcdServer implements AutoCloseable {

    /** 8 MiB: etcd's default (1.5 MiB) would refuse the 6 MiB values the tests store. */
    public static final int MAX_REQUEST_BYTES = 8 * 1024 * 1024;
    private static final long START_TIMEOUT_MS = 30_000;

    private final String name;
    private final int clientPort;
    private final int peerPort;
    private final Path baseDir;
    private final Path dataDir;
    private final Path logFile;
    private final String initialCluster;
    private final List<String> extraArgs;
    private volatile Process process;
    private boolean startedOnce;

    private EtcdServer(String name, int clientPort, int peerPort, Path baseDir, String initialCluster,
                       List<String> extraArgs) {
        this.name = name;
        this.clientPort = clientPort;
        this.peerPort = peerPort;
        this.baseDir = baseDir;
        this.dataDir = baseDir.resolve(name + ".etcd");
        this.logFile = baseDir.resolve(name + ".log");
        this.initialCluster = initialCluster;
        this.extraArgs = List.copyOf(extraArgs);
    }

    /** Starts a single-member etcd and waits until it answers {@code /health}. */
    public static EtcdServer startNew(String... extraArgs) {
        Path dir = tempDir();
        int[] ports = freePorts(2);
        String name = "etcd0";
        EtcdServer s = new EtcdServer(name, ports[0], ports[1], dir, name + "=" + peerUrl(ports[1]),
                List.of(extraArgs));
        try {
            s.start();
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** Starts an {@code n}-member cluster on loopback and waits until every member is healthy. */
    public static List<EtcdServer> cluster(int n, String... extraArgs) {
        Path dir = tempDir();
        int[] ports = freePorts(2 * n);
        StringBuilder ic = new StringBuilder();
        for (int i = 0; i < n; i++) {
            ic.append(i == 0 ? "" : ",").append("etcd").append(i).append('=').append(peerUrl(ports[2 * i + 1]));
        }
        List<EtcdServer> members = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                EtcdServer s = new EtcdServer("etcd" + i, ports[2 * i], ports[2 * i + 1], dir, ic.toString(),
                        List.of(extraArgs));
                members.add(s);
                s.launch();
            }
            for (EtcdServer s : members) {
                s.awaitHealthy();
            }
        } catch (RuntimeException e) {
            members.forEach(EtcdServer::close);
            throw e;
        }
        return members;
    }

    /** The comma-joined client endpoints of a cluster, as jetcd and {@code deployment.etcd.host} take them. */
    public static List<String> endpoints(List<EtcdServer> members) {
        List<String> out = new ArrayList<>();
        members.forEach(m -> out.add(m.endpoint()));
        return out;
    }

    /** {@code http://127.0.0.1:<clientPort>}. */
    public String endpoint() {
        return "http://127.0.0.1:" + clientPort;
    }

    public int clientPort() {
        return clientPort;
    }

    public String name() {
        return name;
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** (Re)starts the process on the same ports and data dir; waits until healthy. No-op when running. */
    public void start() {
        if (isRunning()) {
            return;
        }
        launch();
        awaitHealthy();
    }

    /** SIGTERM, then waits for the process to exit (SIGKILL after 10 s). The data dir is kept. */
    public void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        waitExit(10_000);
    }

    /** SIGKILL, then waits. The data dir is kept. */
    public void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        waitExit(10_000);
    }

    /** Kills the process and deletes the data dir (the shared base dir once empty). */
    @Override
    public void close() {
        kill();
        deleteTree(dataDir);
        try {
            Files.deleteIfExists(logFile);
            try (Stream<Path> s = Files.list(baseDir)) {
                if (s.findAny().isEmpty()) {
                    Files.deleteIfExists(baseDir);
                }
            }
        } catch (IOException ignored) {
            // best effort: a temp dir
        }
    }

    /** The last lines etcd wrote (zap JSON at level error), for assertion messages. */
    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private void launch() {
        String bin = binary();
        List<String> cmd = new ArrayList<>(List.of(bin,
                "--name", name,
                "--data-dir", dataDir.toString(),
                "--listen-client-urls", endpoint(),
                "--advertise-client-urls", endpoint(),
                "--listen-peer-urls", peerUrl(peerPort),
                "--initial-advertise-peer-urls", peerUrl(peerPort),
                "--initial-cluster", initialCluster,
                "--initial-cluster-state", "new",
                "--initial-cluster-token", "turnpike-test-" + baseDir.getFileName(),
                "--max-request-bytes", Integer.toString(MAX_REQUEST_BYTES),
                "--auto-compaction-retention", "0",
                "--logger", "zap",
                "--log-level", "error"));
        cmd.addAll(extraArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start etcd (" + bin + "): " + e.getMessage(), e);
        }
        if (!startedOnce) {
            // A test JVM that exits without close() (failure, Ctrl-C) must not leave etcd running.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                Process p = process;
                if (p != null) {
                    p.destroyForcibly();
                }
            }, "etcd-reaper-" + name));
        }
        startedOnce = true;
    }

    private void awaitHealthy() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("etcd " + name + " exited with " + process.exitValue()
                        + " on " + endpoint() + ":\n" + logTail());
            }
            if (healthy()) {
                return;
            }
            sleep(50);
        }
        throw new IllegalStateException("etcd " + name + " not healthy on " + endpoint() + " after "
                + START_TIMEOUT_MS + " ms:\n" + logTail());
    }

    /** True when {@code GET /health} answers {@code "health":"true"}. */
    public boolean healthy() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(endpoint() + "/health").toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(2000);
            // No keep-alive: a cached connection would show up in the tests that count sockets to etcd.
            c.setRequestProperty("Connection", "close");
            try {
                if (c.getResponseCode() != 200) {
                    return false;
                }
                String body = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                return body.contains("\"health\":\"true\"");
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    /** True when this member is the raft leader ({@code POST /v3/maintenance/status} via etcd's gRPC gateway). */
    public boolean isLeader() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(endpoint() + "/v3/maintenance/status").toURL()
                    .openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(2000);
            c.setRequestProperty("Connection", "close");
            c.setRequestMethod("POST");
            c.setDoOutput(true);
            c.getOutputStream().write("{}".getBytes(StandardCharsets.UTF_8));
            try {
                String body = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                String member = jsonField(body, "member_id");
                String leader = jsonField(body, "leader");
                return member != null && member.equals(leader);
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    private static String jsonField(String body, String name) {
        int i = body.indexOf("\"" + name + "\":\"");
        if (i < 0) {
            return null;
        }
        int start = i + name.length() + 4;
        int end = body.indexOf('"', start);
        return end < 0 ? null : body.substring(start, end);
    }

    private void waitExit(long ms) {
        try {
            if (!process.waitFor(ms, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(ms, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String binary() {
        String p = System.getProperty("turnpike.etcd.binary");
        if (p == null || p.isBlank()) {
            p = System.getenv("ETCD_BIN");
        }
        if (p == null || p.isBlank()) {
            p = "/usr/bin/etcd";
        }
        if (!Files.isExecutable(Paths.get(p))) {
            throw new IllegalStateException("etcd binary not found at " + p + ": install Debian's etcd-server "
                    + "(apt-get install -y etcd-server) or set -Dturnpike.etcd.binary=/path/to/etcd or ETCD_BIN");
        }
        return p;
    }

    /** True when the etcd binary is present (for tests that prefer to skip rather than fail). */
    public static boolean available() {
        try {
            binary();
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private static String peerUrl(int port) {
        return "http://127.0.0.1:" + port;
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("turnpike-etcd-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Distinct free loopback ports (bound together, then released, so they differ from each other). */
    static int[] freePorts(int n) {
        ServerSocket[] sockets = new ServerSocket[n];
        int[] ports = new int[n];
        try {
            for (int i = 0; i < n; i++) {
                sockets[i] = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                ports[i] = sockets[i].getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : sockets) {
                if (s != null) {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // released
                    }
                }
            }
        }
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for etcd", e);
        }
    }

    @Override
    public String toString() {
        return "EtcdServer[" + name + " " + endpoint() + (isRunning() ? " running" : startedOnce ? " stopped" : "")
                + "]";
    }
}
