package io.turnpike.engine.limit.redis;

import io.turnpike.engine.TurnpikeMain;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two real gateways sharing one real Redis: this JVM's ({@link GatewayFixture}) and a second gateway process
 * ({@code TurnpikeMain start}), each with its own Redis connection and leases. Clients hammer both at once; the fleet
 * answers exactly {@code count} 200s per window, the rest 503. Also: degradation with Redis unreachable, and the
 * /status section.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RedisLimitGatewaysIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    static RedisProcess redis;
    static GatewayFixture local;
    static Process remote;
    static int remotePort;
    static int remoteStatusPort;

    static String routes(int backendPort, int redisPort, int deadPort) {
        String up = "    upstream:\n      nodes:\n        \"127.0.0.1:" + backendPort + "\": 1\n";
        String redisConf = "        policy: redis\n        redis_host: 127.0.0.1\n        redis_port: " + redisPort
                + "\n        redis_timeout: 1000\n";
        String deadConf = "        policy: redis\n        redis_host: 127.0.0.1\n        redis_port: " + deadPort
                + "\n        redis_timeout: 300\n";
        return "routes:\n"
                + "  - id: fleet\n    uri: /fleet\n    plugins:\n      limit-count:\n        count: 150\n"
                + "        time_window: 60\n        key_type: constant\n        key: all\n" + redisConf + up
                + "  - id: conn\n    uri: /slow\n    plugins:\n      limit-conn:\n        conn: 3\n        burst: 1\n"
                + "        default_conn_delay: 0.01\n        only_use_default_delay: true\n        key: remote_addr\n"
                + redisConf + up
                + "  - id: strict\n    uri: /strict\n    plugins:\n      limit-count:\n        count: 10\n"
                + "        time_window: 60\n        allow_degradation: false\n" + deadConf + up
                + "  - id: lenient\n    uri: /lenient\n    plugins:\n      limit-count:\n        count: 10\n"
                + "        time_window: 60\n        allow_degradation: true\n" + deadConf + up;
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @BeforeAll
    static void up() throws Exception {
        backend = new TestBackend();
        redis = RedisProcess.start();
        int dead = freePort();
        String yaml = routes(backend.port(), redis.port, dead);
        Path a = Files.createDirectories(dir.resolve("a"));
        local = GatewayFixture.start(a, yaml, "  event_loops: 2\n");

        Path b = Files.createDirectories(dir.resolve("b"));
        remotePort = freePort();
        remoteStatusPort = freePort();
        Files.writeString(b.resolve("config.yaml"), ""
                + "apisix:\n  ssl:\n    enable: false\n  node_listen:\n    - ip: 127.0.0.1\n      port: " + remotePort
                + "\ndeployment:\n  role: data_plane\n  role_data_plane:\n    config_provider: yaml\n"
                + "turnpike:\n  event_loops: 2\n  status_listen:\n    ip: 127.0.0.1\n    port: " + remoteStatusPort
                + "\n");
        Files.writeString(b.resolve("apisix.yaml"), yaml + "#END\n");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), TurnpikeMain.class.getName(), "start", "-c",
                b.resolve("config.yaml").toString()));
        Path log = b.resolve("gateway.log");
        remote = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log).contains("started") && System.nanoTime() < deadline && remote.isAlive()) {
            Thread.sleep(50);
        }
        assertTrue(Files.readString(log).contains("started"), Files.readString(log));
        // Both gateways connected to Redis (a cold JVM loads Lettuce for seconds; requests meanwhile would wait).
        String connected = "\"nodes\":\"127.0.0.1:" + redis.port + "\",\"connected\":true";
        for (int port : new int[]{local.statusPort, remoteStatusPort}) {
            String st = "";
            while (System.nanoTime() < deadline && !(st = redisStatus(port)).contains(connected)) {
                Thread.sleep(100);
            }
            assertTrue(st.contains(connected), st);
        }
    }

    @AfterAll
    static void down() throws Exception {
        if (remote != null) {
            remote.destroyForcibly();
            remote.waitFor(10, TimeUnit.SECONDS);
        }
        if (local != null) {
            local.close();
        }
        if (redis != null) {
            redis.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    /** {@code clients} keep-alive clients per gateway, {@code perGateway} GETs to each, all at once. */
    static ConcurrentHashMap<Integer, AtomicInteger> hammer(String path, int clients, int perGateway) throws Exception {
        ConcurrentHashMap<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(clients * 2);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> fs = new ArrayList<>();
        for (int port : new int[]{local.port, remotePort}) {
            AtomicInteger left = new AtomicInteger(perGateway);
            for (int c = 0; c < clients; c++) {
                fs.add(pool.submit(() -> {
                    go.await();
                    try (RawHttpClient cl = new RawHttpClient(port, 10_000)) {
                        while (left.getAndDecrement() > 0) {
                            RawHttpClient.Response r = cl.exchange("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
                            statuses.computeIfAbsent(r.status(), k -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
        }
        go.countDown();
        for (Future<?> f : fs) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdownNow();
        return statuses;
    }

    static String redisStatus(int port) throws Exception {
        try (RawHttpClient c = new RawHttpClient(port)) {
            String s = new String(c.exchange("GET /status HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").body());
            int i = s.indexOf("\"limits\"");
            return i < 0 ? s : s.substring(i);
        }
    }

    static int count(ConcurrentHashMap<Integer, AtomicInteger> m, int status) {
        AtomicInteger a = m.get(status);
        return a == null ? 0 : a.get();
    }

    @Test
    void twoGatewaysAdmitExactlyTheLimitPerWindow() throws Exception {
        var s = hammer("/fleet", 6, 400);
        assertEquals(150, count(s, 200), s.toString());
        assertEquals(650, count(s, 503), s.toString());
        try (RawHttpClient c = local.client()) {
            String status = new String(new RawHttpClient(local.statusPort).exchange(
                    "GET /status HTTP/1.1\r\nHost: a\r\n\r\n").body());
            assertTrue(status.contains("\"redis\":[{\"policy\":\"redis\""), status);
        }
    }

    @Test
    void connAcrossTwoGateways() throws Exception {
        // While both gateways are hammered, sample the fleet's holdings in Redis (slots held >= requests in flight).
        java.util.concurrent.atomic.AtomicInteger maxHeld = new java.util.concurrent.atomic.AtomicInteger(-1);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread sampler = new Thread(() -> {
            try {
                while (!stop.get()) {
                    for (String key : redis.cli("--scan", "--pattern", "tp:ln:*:h").split("\n")) {
                        if (key.isBlank()) {
                            continue;
                        }
                        int sum = 0;
                        for (String v : redis.cli("HVALS", key.trim()).split("\n")) {
                            if (!v.isBlank()) {
                                sum += Integer.parseInt(v.trim());
                            }
                        }
                        maxHeld.accumulateAndGet(sum, Math::max);
                    }
                    Thread.sleep(20);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        sampler.start();
        ConcurrentHashMap<Integer, AtomicInteger> s;
        try {
            s = hammer("/slow?ms=50", 4, 40);
        } finally {
            stop.set(true);
            sampler.join(10_000);
        }
        assertTrue(maxHeld.get() >= 1 && maxHeld.get() <= 4, "fleet holdings sampled in Redis: max " + maxHeld);
        // At most conn + burst = 4 in flight across both gateways: some are rejected, some pass.
        String status = redisStatus(local.statusPort) + " REMOTE " + redisStatus(remoteStatusPort);
        assertEquals(80, count(s, 200) + count(s, 503), s + " " + status);
        assertTrue(count(s, 200) > 0 && count(s, 503) > 0, s.toString());
    }

    @Test
    void redisUnreachableDegradesAsConfigured() throws Exception {
        try (RawHttpClient c = local.client()) {
            RawHttpClient.Response r = c.exchange("GET /strict HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(500, r.status());
            assertTrue(r.bodyText().contains("failed to limit count"), r.bodyText());
            r = c.exchange("GET /lenient HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(200, r.status());
        }
    }
}
