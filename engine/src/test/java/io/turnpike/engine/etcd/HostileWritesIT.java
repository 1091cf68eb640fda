package io.turnpike.engine.etcd;

import io.turnpike.config.ConfigLimits;
import io.turnpike.config.etcd.testing.EtcdServer;
import io.turnpike.engine.TurnpikeMain;
import io.turnpike.engine.testing.LauncherRun;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16, big configuration writes: the launcher's memory flags ({@code bin/turnpike}, read by running it with a
 * stand-in {@code java}) and the gateway started with exactly those flags, with a real etcd and the Admin API, while
 * one value at the size limit exists and 8 writers change small routes; a prober checks the data plane answers
 * throughout. The latency figures for the 50 ms target come from {@code scripts/big-write-stall.sh} (a timed
 * assertion that tight is noise on the shared 2-core test box); this test's bound catches the failure the issue
 * reported (stalls of 1 to 7 s while a growing heap was pre-touched inside GC pauses).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class HostileWritesIT {
    static final String KEY = EtcdGatewayIT.KEY;
    /** The bound for one probe while the attack runs: generous (shared 2-core box), far below the seconds seen. */
    static final long PROBE_BOUND_MS = 500;

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** The JVM flags {@code bin/turnpike start} passes (everything before {@code -jar}), with {@code env} set. */
    private List<String> launcherFlags(Map<String, String> env) throws Exception {
        Path jar = dir.resolve("turnpike.jar");
        Files.write(jar, new byte[0]);
        return LauncherRun.start(dir, LauncherRun.standInJdk(dir, null), jar, env).jvmFlags();
    }

    /** Final flag values of a JVM started with {@code flags}, as the JVM itself reports them. */
    private static String finalFlags(List<String> flags) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.add("-XX:+PrintFlagsFinal");
        cmd.add("-version");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /** The value column of {@code name}'s line in {@code -XX:+PrintFlagsFinal} output. */
    private static String flagValue(String printFlagsFinal, String name) {
        for (String line : printFlagsFinal.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 4 && f[1].equals(name)) {
                return f[3];
            }
        }
        throw new AssertionError(name + " not in the JVM's flags");
    }

    private static double doubleFlag(String printFlagsFinal, String name) {
        return Double.parseDouble(flagValue(printFlagsFinal, name));
    }

    private static long flag(String printFlagsFinal, String name) {
        return Long.parseLong(flagValue(printFlagsFinal, name));
    }

    @Test
    void launcherBoundsTheHeapAndTheJvmAcceptsItsFlags() throws Exception {
        List<String> flags = launcherFlags(Map.of());
        assertTrue(flags.contains("-Xmx1g"), flags.toString());
        assertTrue(flags.contains("-XX:MaxDirectMemorySize=512m"), flags.toString());
        assertFalse(flags.contains("-XX:+AlwaysPreTouch"), "a growing heap must not be pre-touched in GC pauses");
        String jvm = finalFlags(flags);
        assertEquals(1L << 30, flag(jvm, "MaxHeapSize"));
        assertEquals(128L << 20, flag(jvm, "InitialHeapSize"));
        assertEquals(512L << 20, flag(jvm, "MaxDirectMemorySize"));
        assertEquals(256L << 20, flag(jvm, "MaxMetaspaceSize"));
        assertEquals(15_000, flag(jvm, "G1PeriodicGCInterval"));
        // docs/tail-latency.md: the periodic GC only on a quiet host; JVM threads never outrank the event loops
        assertTrue(doubleFlag(jvm, "G1PeriodicGCSystemLoadThreshold") >= 0.5, "a periodic-GC load threshold");
        assertEquals(0, flag(jvm, "JavaPriority9_To_OSPriority"));
        assertEquals(0, flag(jvm, "JavaPriority10_To_OSPriority"));
        assertEquals(30, flag(jvm, "MaxHeapFreeRatio"));

        List<String> custom = launcherFlags(Map.of("TURNPIKE_HEAP_MAX", "384m", "TURNPIKE_HEAP_MIN", "64m",
                "TURNPIKE_DIRECT_MAX", "128m"));
        String jvm2 = finalFlags(custom);
        assertEquals(384L << 20, flag(jvm2, "MaxHeapSize"));
        assertEquals(64L << 20, flag(jvm2, "InitialHeapSize"));
        assertEquals(128L << 20, flag(jvm2, "MaxDirectMemorySize"));

        // A maximum below the default minimum, alone: the heap starts at the maximum (no "initial > max" failure).
        String jvm3 = finalFlags(launcherFlags(Map.of("TURNPIKE_HEAP_MAX", "64m")));
        assertEquals(64L << 20, flag(jvm3, "MaxHeapSize"));
        assertEquals(64L << 20, flag(jvm3, "InitialHeapSize"));
    }

    private HttpResponse<String> put(int adminPort, String id, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/apisix/admin/routes/"
                        + id)).header("X-API-KEY", KEY).timeout(java.time.Duration.ofSeconds(30))
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /**
     * A route over the value limit is refused (413); one just under it (an inline upstream of ~80,000 nodes) is stored,
     * then 8 writers PUT small routes for 4 s (bounded: 4,000 writes). A probe every 10 ms on a kept-alive connection,
     * from before the big write to the end, is answered within {@link #PROBE_BOUND_MS}, and resident memory stays
     * under the launcher's bound.
     */
    @Test
    void smallWritesNextToABigValueDoNotStallTheLoops() throws Exception {
        try (EtcdServer etcd = EtcdServer.startNew(); TestBackend backend = new TestBackend()) {
            int port = EtcdGatewayIT.freePort();
            int statusPort = EtcdGatewayIT.freePort();
            int adminPort = EtcdGatewayIT.freePort();
            Files.writeString(dir.resolve("config.yaml"), ""
                    + "apisix:\n  ssl:\n    enable: false\n  node_listen:\n    - ip: 127.0.0.1\n      port: " + port + "\n"
                    + "deployment:\n  role: traditional\n  role_traditional:\n    config_provider: etcd\n"
                    + "  etcd:\n    host:\n      - \"" + etcd.endpoint() + "\"\n    prefix: /apisix\n    timeout: 5\n"
                    + "  admin:\n    admin_key:\n      - name: admin\n        key: " + KEY + "\n        role: admin\n"
                    + "    admin_listen:\n      ip: 127.0.0.1\n      port: " + adminPort + "\n"
                    + "turnpike:\n  event_loops: 2\n  status_listen:\n    ip: 127.0.0.1\n    port: " + statusPort + "\n");
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(launcherFlags(Map.of()));
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TurnpikeMain.class.getName(),
                    "start", "-c", dir.resolve("config.yaml").toString()));
            Path log = dir.resolve("gateway.log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (status(statusPort) != 200) {
                    assertTrue(System.nanoTime() < deadline && p.isAlive(), Files.readString(log));
                    Thread.sleep(100);
                }
                String upstream = "{\"nodes\":{\"127.0.0.1:" + backend.port() + "\":1}}";
                assertTrue(put(adminPort, "probe", "{\"uri\":\"/probe\",\"upstream\":" + upstream + "}").statusCode()
                        < 300);
                int limit = ConfigLimits.maxValueBytes();
                // Over the limit: refused with a clear message, nothing stored.
                HttpResponse<String> over = put(adminPort, "over", bigRoute(limit + 1024));
                assertEquals(413, over.statusCode(), over.body());
                assertTrue(over.body().contains("error_msg") && over.body().contains("larger than"), over.body());

                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (EtcdGatewayIT.dataStatus(port, "/probe") != 200) {
                    assertTrue(System.nanoTime() < deadline, "the probe route is served");
                    Thread.sleep(20);
                }
                Prober prober = new Prober(port);
                prober.start();
                try {
                    // Just under the limit: stored, compiled and applied on every loop while the prober runs.
                    HttpResponse<String> big = put(adminPort, "big", bigRoute(limit - 4096));
                    assertEquals(201, big.statusCode(), big.body());
                    AtomicInteger writes = new AtomicInteger();
                    Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
                    long stopAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
                    List<Thread> writers = new ArrayList<>();
                    for (int w = 0; w < 8; w++) {
                        int id = w;
                        Thread t = new Thread(() -> {
                            for (int n = 0; System.nanoTime() < stopAt && writes.incrementAndGet() <= 4000; n++) {
                                try {
                                    int s = put(adminPort, "w" + id, "{\"uri\":\"/w" + id + "/" + n + "\",\"upstream\":"
                                            + upstream + "}").statusCode();
                                    statuses.merge(s, 1, Integer::sum);
                                } catch (Exception e) {
                                    statuses.merge(-1, 1, Integer::sum);
                                }
                            }
                        }, "writer-" + w);
                        t.start();
                        writers.add(t);
                    }
                    long peakRssKb = 0;
                    while (writers.stream().anyMatch(Thread::isAlive)) {
                        peakRssKb = Math.max(peakRssKb, rssKb(p.pid()));
                        Thread.sleep(50);
                    }
                    for (Thread t : writers) {
                        t.join();
                    }
                    prober.stopAndJoin();
                    String summary = prober.probes + " probes, worst " + prober.worstNs / 1_000_000 + " ms, failures "
                            + prober.failures + "; " + writes.get() + " writes " + statuses + "; peak RSS "
                            + peakRssKb / 1024 + " MB";
                    System.out.println("HostileWritesIT: " + summary);
                    int ok = statuses.getOrDefault(200, 0) + statuses.getOrDefault(201, 0);
                    assertTrue(ok > 50, summary);
                    assertEquals(ok, statuses.values().stream().mapToInt(Integer::intValue).sum(), summary);
                    assertTrue(prober.probes > 100 && prober.failures.isEmpty(), summary);
                    assertTrue(prober.worstNs < TimeUnit.MILLISECONDS.toNanos(PROBE_BOUND_MS), summary);
                    // The launcher's bound: heap 1 GiB + direct 512 MiB + metaspace and code ~0.5 GiB (docs/config.md).
                    assertTrue(peakRssKb < 2L * 1024 * 1024, summary);
                } finally {
                    prober.stopAndJoin();
                }
                p.destroy();
                assertTrue(p.waitFor(20, TimeUnit.SECONDS));
                assertEquals(0, p.exitValue(), Files.readString(log));
            } finally {
                p.destroyForcibly();
            }
        }
    }

    /**
     * A valid route of about {@code bytes} bytes that stays valid under every per-field bound: an inline upstream with
     * many nodes (IP literals on unused ports: nothing to resolve, never requested).
     */
    static String bigRoute(int bytes) {
        StringBuilder sb = new StringBuilder("{\"uri\":\"/big\",\"upstream\":{\"type\":\"roundrobin\",\"nodes\":{");
        int i = 0;
        while (sb.length() < bytes - 40) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append("\"127.").append(1 + (i >> 16 & 0xff)).append('.').append(i >> 8 & 0xff).append('.')
                    .append(i & 0xff).append(":9\":1");
            i++;
        }
        return sb.append("}}}").toString();
    }

    /** A plain request every 10 ms on one kept-alive connection; the worst latency seen. */
    static final class Prober extends Thread {
        final int port;
        volatile boolean running = true;
        volatile long worstNs;
        volatile int probes;
        final List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();

        Prober(int port) {
            super("prober");
            this.port = port;
            setDaemon(true);
        }

        @Override
        public void run() {
            try (RawHttpClient c = new RawHttpClient(port, 10_000)) {
                while (running) {
                    long t0 = System.nanoTime();
                    int s = c.exchange("GET /probe HTTP/1.1\r\nHost: x\r\n\r\n").status();
                    long ns = System.nanoTime() - t0;
                    if (s != 200) {
                        failures.add("status " + s);
                    }
                    worstNs = Math.max(worstNs, ns);
                    probes++;
                    Thread.sleep(10);
                }
            } catch (Exception e) {
                failures.add(e.toString());
            }
        }

        void stopAndJoin() throws InterruptedException {
            running = false;
            join(15_000);
        }
    }

    private int status(int statusPort) throws Exception {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statusPort + "/status/ready"))
                    .timeout(java.time.Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return -1;
        }
    }
}
