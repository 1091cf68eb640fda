package io.turnpike.engine.limit.redis;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} on a free loopback port (no persistence), started and killed by tests; optionally a
 * cluster node. {@code redis-server} and {@code redis-cli} must be on PATH.
 */
final class RedisProcess implements AutoCloseable {
    final int port;
    private final boolean clusterNode;
    private final Path dir;
    private Process process;

    private RedisProcess(int port, boolean clusterNode) throws IOException {
        this.port = port;
        this.clusterNode = clusterNode;
        this.dir = Files.createTempDirectory("turnpike-redis-" + port);
    }

    static RedisProcess start() throws Exception {
        RedisProcess r = new RedisProcess(freePort(), false);
        r.restart();
        return r;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Starts (again) on the same port; waits (bounded) until it answers PING. */
    void restart() throws Exception {
        List<String> cmd = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(),
                "--protected-mode", "no"));
        if (clusterNode) {
            cmd.addAll(List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes-" + port + ".conf",
                    "--cluster-node-timeout", "2000"));
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (cli("PING").contains("PONG")) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("redis-server on " + port + " did not answer: "
                + Files.readString(dir.resolve("redis.log")));
    }

    /** Kills the server (SIGKILL: a crash, nothing saved). */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            process = null;
        }
    }

    /** Runs redis-cli against this server (bounded) and returns its output. */
    String cli(String... args) throws IOException, InterruptedException {
        return run(port, args);
    }

    static String run(int port, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("redis-cli timed out: " + cmd);
        }
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    /** Sends a command without waiting for its answer (DEBUG SLEEP). */
    Process cliAsync(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    @Override
    public void close() throws Exception {
        kill();
    }

    /** A 3-master cluster (no replicas), bounded in time. */
    static final class Cluster implements AutoCloseable {
        final List<RedisProcess> nodes = new ArrayList<>();

        static Cluster start() throws Exception {
            Cluster c = new Cluster();
            try {
                List<String> create = new ArrayList<>(List.of("--cluster", "create"));
                for (int i = 0; i < 3; i++) {
                    RedisProcess r = new RedisProcess(freePort(), true);
                    r.restart();
                    c.nodes.add(r);
                    create.add("127.0.0.1:" + r.port);
                }
                create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
                String out = run(c.nodes.get(0).port, create.toArray(String[]::new));
                if (!out.contains("All 16384 slots covered")) {
                    throw new IllegalStateException("cluster create failed: " + out);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                for (RedisProcess r : c.nodes) {
                    while (!r.cli("CLUSTER", "INFO").contains("cluster_state:ok")) {
                        if (System.nanoTime() > deadline) {
                            throw new IllegalStateException("cluster not ok on " + r.port);
                        }
                        Thread.sleep(100);
                    }
                }
                return c;
            } catch (Exception e) {
                c.close();
                throw e;
            }
        }

        List<String> seeds() {
            List<String> s = new ArrayList<>();
            for (RedisProcess r : nodes) {
                s.add("127.0.0.1:" + r.port);
            }
            return s;
        }

        @Override
        public void close() throws Exception {
            for (RedisProcess r : nodes) {
                r.kill();
            }
        }
    }
}
