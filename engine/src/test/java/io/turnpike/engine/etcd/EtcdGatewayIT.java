package io.turnpike.engine.etcd;

import io.turnpike.config.etcd.testing.EtcdServer;
import io.turnpike.config.process.ProcessConfigLoader;
import io.turnpike.config.process.ProcessConfigResult;
import io.turnpike.engine.TurnpikeMain;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway with etcd as its configuration provider, end to end: a real etcd process, the real CLI in a child JVM,
 * the Admin API writing, the data plane serving, and the kernel's socket table counting etcd connections.
 */
class EtcdGatewayIT {
    static final String KEY = "edd1c9f034335f136f87ad84b625c8f1";

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private String config(int port, int statusPort, int adminPort, String etcdEndpoint, int loops) throws java.io.IOException {
        return ""
                + "apisix:\n  ssl:\n    enable: false\n  node_listen:\n    - ip: 127.0.0.1\n      port: " + port + "\n"
                + "deployment:\n  role: traditional\n  role_traditional:\n    config_provider: etcd\n"
                + "  etcd:\n    host:\n      - \"" + etcdEndpoint + "\"\n    prefix: /apisix\n    timeout: 5\n"
                + "  admin:\n    admin_key:\n      - name: admin\n        key: " + KEY + "\n        role: admin\n"
                + "    admin_listen:\n      ip: 127.0.0.1\n      port: " + adminPort + "\n"
                + "plugin_attr:\n  prometheus:\n    export_addr:\n      ip: 127.0.0.1\n      port: " + freePort() + "\n"
                + "turnpike:\n  event_loops: " + loops + "\n"
                + "  status_listen:\n    ip: 127.0.0.1\n    port: " + statusPort + "\n";
    }

    private int status(String url) throws Exception {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(java.time.Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        }
    }

    private HttpResponse<String> putRoute(int adminPort, String id, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/apisix/admin/routes/" + id))
                .header("X-API-KEY", KEY).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> putUpstream(int adminPort, String id, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/apisix/admin/upstreams/"
                        + id)).header("X-API-KEY", KEY).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static int dataStatus(int port, String path) throws Exception {
        try (RawHttpClient c = new RawHttpClient(port)) {
            return c.exchange("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").status();
        }
    }

    private static void await(String what, long seconds, Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (check.ok()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting for " + what);
    }

    interface Check {
        boolean ok() throws Exception;
    }

    /** Established TCP connections from process {@code pid} to {@code remotePort}, from the kernel's tables. */
    static int establishedFrom(long pid, int remotePort) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Paths.get("/proc/" + pid + "/fd"))) {
            fds.forEach(fd -> {
                try {
                    String t = Files.readSymbolicLink(fd).toString();
                    if (t.startsWith("socket:[")) {
                        inodes.add(t.substring(8, t.length() - 1));
                    }
                } catch (IOException ignored) {
                    // closed meanwhile
                }
            });
        }
        int n = 0;
        for (String table : List.of("/proc/" + pid + "/net/tcp", "/proc/" + pid + "/net/tcp6")) {
            List<String> lines = Files.readAllLines(Paths.get(table));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 10 && "01".equals(f[3])
                        && Integer.parseInt(f[2].substring(f[2].indexOf(':') + 1), 16) == remotePort
                        && inodes.contains(f[9])) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Thread name (the kernel's 15-character comm, suffixed "#tid") -> nice value, from /proc/PID/task/TID/stat. */
    private static Map<String, Integer> niceByThread(long pid) throws Exception {
        Map<String, Integer> out = new java.util.TreeMap<>();
        try (Stream<Path> tasks = Files.list(Paths.get("/proc/" + pid + "/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                String stat;
                try {
                    stat = Files.readString(t.resolve("stat"));
                } catch (java.io.IOException gone) {
                    continue;
                }
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                String comm = stat.substring(open + 1, close);
                String[] f = stat.substring(close + 2).split(" ");
                // After "(comm) ": state is field 3 of stat(5), nice is field 19, so index 19 - 3 = 16 here.
                out.put(comm + "#" + t.getFileName(), Integer.parseInt(f[16]));
            }
        }
        return out;
    }

    @Test
    void eightLoopsOneEtcdConnectionAndAdminWritesAreServed() throws Exception {
        try (EtcdServer etcd = EtcdServer.startNew(); TestBackend backend = new TestBackend()) {
            int port = freePort();
            int statusPort = freePort();
            int adminPort = freePort();
            Files.writeString(dir.resolve("config.yaml"), config(port, statusPort, adminPort, etcd.endpoint(), 8));
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-XX:ThreadPriorityPolicy=1",
                    "-cp", System.getProperty("java.class.path"), TurnpikeMain.class.getName(),
                    "start", "-c", dir.resolve("config.yaml").toString()));
            Path log = dir.resolve("gateway.log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                await("readiness (" + log + ")", 60, () -> status("http://127.0.0.1:" + statusPort + "/status/ready") == 200);
                HttpResponse<String> put = putRoute(adminPort, "1", "{\"uri\":\"/hello\",\"upstream\":{\"type\":\"roundrobin\","
                        + "\"nodes\":{\"127.0.0.1:" + backend.port() + "\":1}}}");
                assertTrue(put.statusCode() == 200 || put.statusCode() == 201, put.statusCode() + " " + put.body());
                await("the route to be served", 10, () -> dataStatus(port, "/hello") == 200);

                // Every one of the 8 loops has the snapshot; requests on many connections all succeed.
                for (int i = 0; i < 32; i++) {
                    assertEquals(200, dataStatus(port, "/hello"));
                }
                int etcdConnections = establishedFrom(p.pid(), etcd.clientPort());
                assertEquals(1, etcdConnections, "8 event loops, one etcd connection (kernel socket table)");

                // Control-plane threads yield the core to the loops: nice values as the kernel sees them.
                Map<String, Integer> nice = niceByThread(p.pid());
                assertEquals(8, nice.entrySet().stream().filter(e -> e.getKey().startsWith("turnpike-loop"))
                        .filter(e -> e.getValue() == 0).count(), nice.toString());
                for (String control : List.of("turnpike-config", "turnpike-admin-", "turnpike-etcd-", "vert.x-eventloo")) {
                    assertTrue(nice.keySet().stream().anyMatch(k -> k.startsWith(control)), control + " in " + nice);
                    nice.forEach((k, v) -> {
                        if (k.startsWith(control)) {
                            assertEquals(4, v, k + " runs at the control-plane priority: " + nice);
                        }
                    });
                }

                HttpResponse<String> bad = putRoute(adminPort, "2", "{\"uri\":42,\"upstream_id\":\"nope\"}");
                assertEquals(400, bad.statusCode(), bad.body());
                assertTrue(bad.body().contains("error_msg"), bad.body());
                assertEquals(200, dataStatus(port, "/hello"));

                // Fail closed: a plugin Turnpike does not implement is refused by the Admin API (APISIX's wording)...
                HttpResponse<String> auth = putRoute(adminPort, "3", "{\"uri\":\"/secret\",\"plugins\":{\"hmac-auth\":{}},"
                        + "\"upstream\":{\"nodes\":{\"127.0.0.1:" + backend.port() + "\":1}}}");
                assertEquals(400, auth.statusCode(), auth.body());
                assertEquals("{\"error_msg\":\"unknown plugin [hmac-auth]\"}", auth.body().trim());
                // ... and, written to etcd by someone else (APISIX's own Admin API), left out and reported, never
                // proxied without its authentication; the other routes keep serving.
                try (io.turnpike.config.etcd.EtcdConfigStore direct = new io.turnpike.config.etcd.EtcdConfigStore(
                        new io.turnpike.config.process.EtcdConfig(List.of(etcd.endpoint()), "/apisix", 5, null, null,
                                null))) {
                    direct.put("/apisix/routes/3", ("{\"uri\":\"/secret\",\"plugins\":{\"hmac-auth\":{}},"
                            + "\"upstream\":{\"nodes\":{\"127.0.0.1:" + backend.port() + "\":1}}}")
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    direct.put("/apisix/routes/4", ("{\"uri\":\"/after\",\"upstream\":{\"nodes\":{\"127.0.0.1:"
                            + backend.port() + "\":1}}}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
                await("the route written after it to be served", 10, () -> dataStatus(port, "/after") == 200);
                await("the refusal to be reported", 10, () -> Files.readString(log).contains("unknown plugin [hmac-auth]"));
                assertEquals(404, dataStatus(port, "/secret"), "not served at all, least of all without auth");
                assertEquals(200, dataStatus(port, "/hello"));

                // An upstream's node edit through etcd reaches every loop without recompiling its routes (endpoints):
                // after it, every request goes to the new node.
                try (TestBackend second = new TestBackend()) {
                    HttpResponse<String> up = putUpstream(adminPort, "u1", "{\"nodes\":{\"127.0.0.1:" + backend.port()
                            + "\":1}}");
                    assertTrue(up.statusCode() == 200 || up.statusCode() == 201, up.body());
                    assertTrue(putRoute(adminPort, "5", "{\"uri\":\"/up\",\"upstream_id\":\"u1\"}").statusCode() < 300);
                    await("the route of u1 to be served", 10, () -> dataStatus(port, "/up") == 200);
                    up = putUpstream(adminPort, "u1", "{\"nodes\":{\"127.0.0.1:" + second.port() + "\":1}}");
                    assertTrue(up.statusCode() == 200, up.body());
                    await("the node edit to be served", 10, () -> {
                        int before = second.requests.get();
                        return dataStatus(port, "/up") == 200 && second.requests.get() > before;
                    });
                    int old = backend.requests.get();
                    for (int i = 0; i < 32; i++) {
                        assertEquals(200, dataStatus(port, "/up"));
                    }
                    assertEquals(old, backend.requests.get(), "every loop balances over the new node only");
                }

                p.destroy();
                assertTrue(p.waitFor(20, TimeUnit.SECONDS));
                assertEquals(0, p.exitValue(), Files.readString(log));
            } finally {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void notReadyUntilEtcdAnswersThenServes() throws Exception {
        try (EtcdServer etcd = EtcdServer.startNew(); TestBackend backend = new TestBackend()) {
            etcd.stop();
            int port = freePort();
            int statusPort = freePort();
            int adminPort = freePort();
            Path cfg = dir.resolve("config.yaml");
            Files.writeString(cfg, config(port, statusPort, adminPort, etcd.endpoint(), 2));
            ProcessConfigResult pr = ProcessConfigLoader.loadExplicit(cfg);
            assertTrue(pr.ok(), pr.errors().toString());
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
            try (TurnpikeMain.Running running = TurnpikeMain.Running.startWithEtcd(pr.config(), quiet, quiet)) {
                Thread.sleep(500);
                assertEquals(503, status("http://127.0.0.1:" + statusPort + "/status/ready"));
                assertEquals(503, dataStatus(port, "/hello"), "no configuration yet: 503");
                assertTrue(metrics(running).contains("\napisix_etcd_reachable 0\n"), "etcd down: unreachable");
                etcd.start();
                await("readiness after etcd started", 30,
                        () -> status("http://127.0.0.1:" + statusPort + "/status/ready") == 200);
                HttpResponse<String> put = putRoute(adminPort, "1", "{\"uri\":\"/hello\",\"upstream\":{"
                        + "\"nodes\":{\"127.0.0.1:" + backend.port() + "\":1}}}");
                assertTrue(put.statusCode() < 300, put.body());
                await("the route to be served", 10, () -> dataStatus(port, "/hello") == 200);
                // APISIX's etcd metrics, from the config-sync thread's state
                String m = metrics(running);
                assertTrue(m.contains("\napisix_etcd_reachable 1\n"), m);
                java.util.regex.Matcher routes = java.util.regex.Pattern
                        .compile("\napisix_etcd_modify_indexes\\{key=\"routes\"} (\\d+)\n").matcher(m);
                assertTrue(routes.find() && Long.parseLong(routes.group(1)) > 0, m);
                java.util.regex.Matcher rev = java.util.regex.Pattern
                        .compile("\napisix_etcd_modify_indexes\\{key=\"x_etcd_index\"} (\\d+)\n").matcher(m);
                assertTrue(rev.find() && Long.parseLong(rev.group(1)) >= Long.parseLong(routes.group(1)), m);
            }
        }
    }

    private String metrics(TurnpikeMain.Running running) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + running.prometheusAddress.getPort()
                + "/apisix/prometheus/metrics")).timeout(java.time.Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /**
     * APISIX's decoupled deployment: a control-plane process (role control_plane: Admin API only, started by the CLI in
     * a child JVM) writes to etcd; a data-plane gateway (role data_plane, no Admin API) serves what it wrote.
     */
    @Test
    void controlPlaneProcessWritesDataPlaneServes() throws Exception {
        try (EtcdServer etcd = EtcdServer.startNew(); TestBackend backend = new TestBackend()) {
            int adminPort = freePort();
            Path cp = dir.resolve("control-plane.yaml");
            Files.writeString(cp, ""
                    + "deployment:\n  role: control_plane\n  role_control_plane:\n    config_provider: etcd\n"
                    + "  etcd:\n    host:\n      - \"" + etcd.endpoint() + "\"\n    prefix: /apisix\n"
                    + "  admin:\n    admin_key:\n      - name: admin\n        key: " + KEY + "\n        role: admin\n"
                    + "    admin_listen:\n      ip: 127.0.0.1\n      port: " + adminPort + "\n");
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), TurnpikeMain.class.getName(),
                    "start", "-c", cp.toString());
            Path log = dir.resolve("control-plane.log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            int port = freePort();
            int statusPort = freePort();
            Path dp = dir.resolve("data-plane.yaml");
            Files.writeString(dp, config(port, statusPort, freePort(), etcd.endpoint(), 2)
                    .replace("role: traditional\n  role_traditional:", "role: data_plane\n  role_data_plane:"));
            ProcessConfigResult pr = ProcessConfigLoader.loadExplicit(dp);
            assertTrue(pr.ok(), pr.errors().toString());
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
            try (TurnpikeMain.Running running = TurnpikeMain.Running.startWithEtcd(pr.config(), quiet, quiet)) {
                assertTrue(running.admin == null, "a data plane serves no Admin API");
                await("control plane admin (" + log + ")", 60, () -> {
                    try {
                        return putRoute(adminPort, "1", "{\"uri\":\"/hello\",\"upstream\":{\"nodes\":{\"127.0.0.1:"
                                + backend.port() + "\":1}}}").statusCode() < 300;
                    } catch (IOException e) {
                        return false;
                    }
                });
                await("the data plane to serve the route", 10, () -> dataStatus(port, "/hello") == 200);
                assertTrue(Files.readString(log).contains("started (control plane)"), Files.readString(log));
                p.destroy();
                assertTrue(p.waitFor(20, TimeUnit.SECONDS));
                assertEquals(0, p.exitValue(), Files.readString(log));
            } finally {
                p.destroyForcibly();
            }
        }
    }
}
