package io.turnpike.engine.health;

import com.sun.management.ThreadMXBean;
import io.turnpike.config.model.HealthChecks;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The checker's cost at scale (issue 13): {@code --upstreams} upstreams x {@code --nodes} nodes on consecutive
 * loopback ports from {@code --base-port} (listeners someone else runs: scripts/health-load.sh starts nginx), active
 * checks every second, measured over {@code --seconds} after a warm-up: CPU time of the {@code turnpike-health}
 * thread (ThreadMXBean), bytes it allocated, probes made, and sockets open in this process (sampled every 50 ms from
 * /proc/self/fd). Prints one line per figure.
 *
 * <pre>java -cp ... io.turnpike.engine.health.HealthLoad --upstreams 1000 --nodes 3 --base-port 20000 --seconds 20
 *      [--type http|tcp] [--warmup 5] [--transport auto|epoll|nio]</pre>
 */
public final class HealthLoad {

    public static void main(String[] args) throws Exception {
        int upstreams = 1000;
        int nodes = 3;
        int basePort = 20000;
        int seconds = 20;
        int warmup = 5;
        String type = "http";
        String transport = "auto";
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--upstreams" -> upstreams = Integer.parseInt(args[i + 1]);
                case "--nodes" -> nodes = Integer.parseInt(args[i + 1]);
                case "--base-port" -> basePort = Integer.parseInt(args[i + 1]);
                case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
                case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
                case "--type" -> type = args[i + 1];
                case "--transport" -> transport = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        HealthChecks.Active d = HealthChecks.Active.defaults();
        HealthChecks checks = new HealthChecks(new HealthChecks.Active(type, d.timeout(), d.concurrency(), null, 0,
                d.httpMethod(), "/", "", true, List.of(), d.healthy(), d.unhealthy()), null);
        AtomicLong changes = new AtomicLong();
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (HealthChecker checker = new HealthChecker((k, t, h) -> changes.incrementAndGet(),
                io.turnpike.engine.server.Transport.select(transport))) {
            InetAddress lo = InetAddress.getLoopbackAddress();
            for (int u = 0; u < upstreams; u++) {
                List<HealthTarget> targets = new ArrayList<>();
                for (int n = 0; n < nodes; n++) {
                    targets.add(new HealthTarget(new InetSocketAddress(lo, basePort + u * nodes + n), "127.0.0.1"));
                }
                checker.watch("upstreams/" + u, checks, targets);
            }
            long tid = healthThread(mx);
            Thread.sleep(warmup * 1000L);
            long cpu0 = mx.getThreadCpuTime(tid);
            long user0 = mx.getThreadUserTime(tid);
            long alloc0 = mx.getThreadAllocatedBytes(tid);
            long probes0 = checker.probesStarted();
            long wall0 = System.nanoTime();
            long end = wall0 + seconds * 1_000_000_000L;
            int maxSockets = 0;
            long sumSockets = 0;
            int samples = 0;
            int maxInFlight = 0;
            while (System.nanoTime() < end) {
                int s = sockets();
                maxSockets = Math.max(maxSockets, s);
                sumSockets += s;
                samples++;
                maxInFlight = Math.max(maxInFlight, checker.probesInFlight());
                Thread.sleep(50);
            }
            double wall = (System.nanoTime() - wall0) / 1e9;
            long cpu = mx.getThreadCpuTime(tid) - cpu0;
            long user = mx.getThreadUserTime(tid) - user0;
            long alloc = mx.getThreadAllocatedBytes(tid) - alloc0;
            long probes = checker.probesStarted() - probes0;
            int unhealthy = 0;
            for (var e : checker.status().properties()) {
                for (var n : e.getValue().get("nodes")) {
                    if (!"healthy".equals(n.get("status").asText())) {
                        unhealthy++;
                    }
                }
            }
            System.out.printf(Locale.ROOT, "targets: %d upstreams x %d nodes, %s probes (%s), intervals 1 s,"
                    + " %.1f s measured after %d s%n", upstreams, nodes, type, transport, wall, warmup);
            System.out.printf(Locale.ROOT, "probes: %d (%.0f/s)%n", probes, probes / wall);
            System.out.printf(Locale.ROOT, "turnpike-health CPU: %.1f ms/s (%.1f %% of one core), %.1f us per probe%n",
                    cpu / 1e6 / wall, cpu / 1e7 / wall, probes == 0 ? 0 : cpu / 1e3 / probes);
            System.out.printf(Locale.ROOT, "  of which user %.1f us, system (syscalls, loopback TCP) %.1f us per"
                    + " probe%n", probes == 0 ? 0 : user / 1e3 / probes, probes == 0 ? 0 : (cpu - user) / 1e3 / probes);
            System.out.printf(Locale.ROOT, "turnpike-health allocation: %.1f MB/s, %.0f bytes per probe%n",
                    alloc / 1e6 / wall, probes == 0 ? 0 : (double) alloc / probes);
            System.out.printf(Locale.ROOT, "sockets open in the process: mean %.1f, max %d (probes in flight: max"
                    + " %d)%n", samples == 0 ? 0 : (double) sumSockets / samples, maxSockets, maxInFlight);
            System.out.println("probe results since the start: " + checker.probeResults());
            System.out.printf(Locale.ROOT, "nodes not fully healthy at the end: %d; listener calls: %d%n", unhealthy,
                    changes.get());
        }
    }

    private static long healthThread(ThreadMXBean mx) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            for (ThreadInfo ti : mx.getThreadInfo(mx.getAllThreadIds())) {
                if (ti != null && ti.getThreadName().startsWith("turnpike-health-")) {
                    return ti.getThreadId();
                }
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("no turnpike-health thread");
    }

    private static int sockets() throws IOException {
        int n = 0;
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                try {
                    if (Files.readSymbolicLink(p).toString().startsWith("socket:")) {
                        n++;
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        return n;
    }
}
