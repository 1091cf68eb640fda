package io.turnpike.engine.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.turnpike.config.codec.Decoded;
import io.turnpike.config.codec.ResourceCodec;
import io.turnpike.config.model.HealthChecks;
import io.turnpike.config.model.Upstream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checker against real backends on 127.0.0.1 (JDK HTTP and HTTPS servers, a plain TCP listener), with APISIX's
 * smallest intervals (1 s): nodes going down and coming back, passive reports from several threads, state kept across
 * {@code watch}, {@code unwatch} stopping the probes, certificate verification on and off.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HealthCheckerIT {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private HealthChecker checker;

    @BeforeEach
    void start() {
        checker = new HealthChecker((key, target, healthy) -> {
            boolean checkerThread = Thread.currentThread().getName().startsWith("turnpike-health-");
            events.add((checkerThread ? "" : "WRONG THREAD ") + key + " " + target.address().getPort() + " "
                    + (healthy ? "healthy" : "unhealthy"));
        });
    }

    @AfterEach
    void stop() throws Exception {
        checker.close();
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    static HealthChecks checks(String json) {
        Decoded<Upstream> d = new ResourceCodec().decodeUpstream("u", jsonNode(
                "{\"nodes\":{\"127.0.0.1:1\":1},\"checks\":" + json.replace('\'', '"') + "}"));
        assertTrue(d.ok(), () -> d.errors().toString());
        return d.value().checks();
    }

    private static JsonNode jsonNode(String s) {
        try {
            return MAPPER.readTree(s);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private String next(long seconds) throws InterruptedException {
        return events.poll(seconds, TimeUnit.SECONDS);
    }

    /** An HTTP backend answering {@code status}; records each request's line and headers. */
    final class Backend implements AutoCloseable {
        final HttpServer server;
        final AtomicInteger status = new AtomicInteger(200);
        final List<String> requests = new CopyOnWriteArrayList<>();

        Backend() throws IOException {
            this(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50));
        }

        Backend(HttpServer s) {
            server = s;
            server.createContext("/", this::handle);
            server.start();
            closing.add(this);
        }

        private void handle(HttpExchange ex) throws IOException {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            requests.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " host=" + ex.getRequestHeaders()
                    .getFirst("Host") + " x-probe=" + ex.getRequestHeaders().getFirst("X-Probe") + " body="
                    + new String(body, StandardCharsets.UTF_8));
            ex.sendResponseHeaders(status.get(), -1);
            ex.close();
        }

        int port() {
            return server.getAddress().getPort();
        }

        HealthTarget target(String host) {
            return new HealthTarget(new InetSocketAddress(InetAddress.getLoopbackAddress(), port()), host);
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    /** A TCP listener that accepts and closes, counting connections. */
    final class Listener implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicInteger accepted = new AtomicInteger();

        Listener() throws IOException {
            Thread t = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (Socket s = socket.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "test-tcp-listener");
            t.setDaemon(true);
            t.start();
            closing.add(this);
        }

        HealthTarget target() {
            return new HealthTarget(new InetSocketAddress(InetAddress.getLoopbackAddress(), socket.getLocalPort()),
                    "127.0.0.1");
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void await(String what, long seconds, java.util.function.BooleanSupplier cond)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void httpNodeGoesDownAfterFailuresAndComesBackAfterSuccesses() throws Exception {
        Backend b = new Backend();
        HealthTarget t = b.target("svc.example");
        checker.watch("upstreams/1", checks("{'active':{'http_path':'/healthz?full=1','req_headers':['X-Probe: yes'],"
                + "'http_method':'POST','http_req_body':'ping',"
                + "'healthy':{'interval':1,'successes':2},'unhealthy':{'interval':1,'http_failures':2}}}"),
                List.of(t));
        await("a probe", 5, () -> !b.requests.isEmpty());
        assertEquals("POST /healthz?full=1 host=svc.example x-probe=yes body=ping", b.requests.get(0));
        assertTrue(checker.isHealthy("upstreams/1", t));
        assertNull(checker.passive("upstreams/1", t), "no passive checks");

        b.status.set(500);
        assertEquals("upstreams/1 " + b.port() + " unhealthy", next(10));
        assertFalse(checker.isHealthy("upstreams/1", t));
        JsonNode node = checker.status().get("upstreams/1").get("nodes").get(0);
        assertEquals("unhealthy", node.get("status").asText());
        assertEquals(2, node.get("counter").get("http_failure").asInt());
        assertEquals("svc.example", node.get("hostname").asText());
        assertEquals("127.0.0.1", node.get("ip").asText());

        b.status.set(200);
        assertEquals("upstreams/1 " + b.port() + " healthy", next(10));
        assertTrue(checker.isHealthy("upstreams/1", t));
        assertNull(next(1), "transitions only: " + events);
    }

    @Test
    void aStoppedNodeIsUnhealthyByTcpFailuresAndUnwatchStopsProbes() throws Exception {
        Listener up = new Listener();
        Listener down = new Listener();
        HealthChecks tcp = checks("{'active':{'type':'tcp','timeout':0.5,'unhealthy':{'tcp_failures':1}}}");
        checker.watch("upstreams/tcp", tcp, List.of(up.target(), down.target()));
        await("probes of both nodes", 5, () -> up.accepted.get() > 0 && down.accepted.get() > 0);
        down.close();
        assertEquals("upstreams/tcp " + down.socket.getLocalPort() + " unhealthy", next(5));
        assertTrue(checker.isHealthy("upstreams/tcp", up.target()));
        assertEquals(1, checker.status().get("upstreams/tcp").get("nodes").get(1).get("counter")
                .get("tcp_failure").asInt());
        await("more probes", 5, () -> up.accepted.get() >= 2);

        checker.unwatch("upstreams/tcp");
        Thread.sleep(1200); // a probe already in flight completes
        int after = up.accepted.get();
        Thread.sleep(2500);
        assertEquals(after, up.accepted.get(), "no probe after unwatch");
        assertTrue(checker.isHealthy("upstreams/tcp", down.target()), "not watched: every node is used");
        assertEquals(0, checker.status().size());
        assertEquals(0, checker.probesInFlight());
    }

    /** A listener that answers each request with {@code reply} and closes (null: holds it open, silent). */
    final class RawServer implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<Socket> held = new CopyOnWriteArrayList<>();

        RawServer(byte[] reply) throws IOException {
            Thread t = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket s = socket.accept();
                        if (reply == null) {
                            held.add(s);
                        } else {
                            try (s) {
                                s.getInputStream().read(new byte[4096]); // the request (one small packet)
                                s.getOutputStream().write(reply);
                            }
                        }
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "test-raw-server");
            t.setDaemon(true);
            t.start();
            closing.add(this);
        }

        HealthTarget target() {
            return new HealthTarget(new InetSocketAddress(InetAddress.getLoopbackAddress(), socket.getLocalPort()),
                    "127.0.0.1");
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    void aSilentNodeCountsTimeoutsAndGarbageCountsAsHttpFailures() throws Exception {
        RawServer silent = new RawServer(null);
        RawServer garbage = new RawServer("SSH-2.0-OpenSSH\r\n".getBytes(StandardCharsets.US_ASCII));
        checker.watch("upstreams/t", checks("{'active':{'timeout':0.3,'unhealthy':{'timeouts':2,'http_failures':2,"
                + "'tcp_failures':2}}}"), List.of(silent.target(), garbage.target()));
        List<String> got = List.of(next(6), next(6));
        assertTrue(got.contains("upstreams/t " + silent.socket.getLocalPort() + " unhealthy"), got.toString());
        assertTrue(got.contains("upstreams/t " + garbage.socket.getLocalPort() + " unhealthy"), got.toString());
        JsonNode nodes = checker.status().get("upstreams/t").get("nodes");
        assertEquals(2, nodes.get(0).get("counter").get("timeout_failure").asInt());
        assertEquals(0, nodes.get(0).get("counter").get("http_failure").asInt());
        assertEquals(2, nodes.get(1).get("counter").get("http_failure").asInt());
        assertEquals(0, nodes.get(1).get("counter").get("tcp_failure").asInt());
    }

    @Test
    void frequentWatchCallsDoNotPostponeProbes() throws Exception {
        Listener l = new Listener();
        HealthChecks tcp = checks("{'active':{'type':'tcp'}}");
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3200);
        while (System.nanoTime() < end) { // a config or DNS change every 200 ms, the node set unchanged
            checker.watch("upstreams/busy", tcp, List.of(l.target()));
            Thread.sleep(200);
        }
        assertTrue(l.accepted.get() >= 2, "probes in 3.2 s at interval 1 s: " + l.accepted.get());
    }

    @Test
    void passiveReportsFromSeveralThreadsMarkUnhealthyAndActiveChecksBringTheNodeBack() throws Exception {
        Backend b = new Backend();
        HealthTarget t = b.target("127.0.0.1");
        HealthChecks c = checks("{'active':{'healthy':{'interval':100,'successes':2}},"
                + "'passive':{'unhealthy':{'http_failures':40}}}");
        checker.watch("upstreams/p", c, List.of(t));
        PassiveReporter r = checker.passive("upstreams/p", t);
        assertNotNull(r);

        // (no probe while the node is healthy: healthy.interval 100 s) a success resets the failure streak
        for (int i = 0; i < 39; i++) {
            r.httpStatus(500);
        }
        r.httpStatus(200);
        for (int i = 0; i < 39; i++) {
            r.httpStatus(503);
        }
        r.httpStatus(404); // in neither list: counts for nothing
        assertTrue(checker.isHealthy("upstreams/p", t));
        r.httpStatus(204);

        int threads = 4;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int j = 0; j < 10; j++) {
                    r.httpStatus(500);
                }
            });
            th.start();
            ts.add(th);
        }
        go.countDown();
        for (Thread th : ts) {
            th.join();
        }
        assertFalse(checker.isHealthy("upstreams/p", t), "40 failures from 4 threads");
        assertEquals(40, checker.status().get("upstreams/p").get("nodes").get(0).get("counter")
                .get("http_failure").asInt());
        assertEquals("upstreams/p " + b.port() + " unhealthy", next(5));
        // the backend answers 200 to probes: the active checks bring it back (APISIX: passive checks cannot)
        assertEquals("upstreams/p " + b.port() + " healthy", next(10));
        assertSame(r, checker.passive("upstreams/p", t), "stable reporter");
    }

    @Test
    void passiveReportsAllocateNothing() {
        HealthTarget t = new HealthTarget(new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), "x");
        checker.watch("upstreams/a", checks("{'active':{'healthy':{'interval':100},'unhealthy':{'interval':100}},"
                + "'passive':{'unhealthy':{'http_failures':3,'tcp_failures':3,'timeouts':3}}}"), List.of(t));
        PassiveReporter r = checker.passive("upstreams/a", t);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        for (int round = 0; round < 3; round++) { // warm up, then measure
            long before = mx.getThreadAllocatedBytes(id);
            for (int i = 0; i < 100_000; i++) {
                r.httpStatus(i % 7 == 0 ? 500 : 200);
                r.tcpFailure();
                r.httpStatus(200);
                r.timeout();
                r.httpStatus(i % 3 == 0 ? 201 : 502);
            }
            long allocated = mx.getThreadAllocatedBytes(id) - before;
            if (round == 2) {
                // the crossings queue one pre-built task on the checker's thread; nothing is allocated here
                assertTrue(allocated < 4096, "bytes allocated by 500,000 passive reports: " + allocated);
            }
        }
    }

    @Test
    void stateIsKeptAcrossWatchUnlessTheProbeChanges() throws Exception {
        Backend b = new Backend();
        b.status.set(502);
        HealthTarget t = b.target("127.0.0.1");
        checker.watch("upstreams/k", checks("{'active':{'unhealthy':{'http_failures':1}}}"), List.of(t));
        assertEquals("upstreams/k " + b.port() + " unhealthy", next(5));

        // new thresholds, a passive part and a new node: the old node keeps its state, the new one starts healthy
        Backend other = new Backend();
        HealthTarget t2 = other.target("127.0.0.1");
        checker.watch("upstreams/k", checks("{'active':{'unhealthy':{'http_failures':2}},'passive':{}}"),
                List.of(t2, t));
        assertFalse(checker.isHealthy("upstreams/k", t));
        assertTrue(checker.isHealthy("upstreams/k", t2));
        assertNotNull(checker.passive("upstreams/k", t));
        // the same address under another host name is another node
        assertTrue(checker.isHealthy("upstreams/k", b.target("other.example")));

        // passive dropped: reporters go quiet
        PassiveReporter r = checker.passive("upstreams/k", t2);
        checker.watch("upstreams/k", checks("{'active':{'unhealthy':{'http_failures':2}}}"), List.of(t2, t));
        assertNull(checker.passive("upstreams/k", t2));
        for (int i = 0; i < 10; i++) {
            r.tcpFailure();
        }
        assertTrue(checker.isHealthy("upstreams/k", t2));

        // an unresolved target is refused, and nothing changes
        HealthChecks pathX = checks("{'active':{'http_path':'/x'}}");
        List<HealthTarget> withUnresolved = List.of(t, new HealthTarget(
                InetSocketAddress.createUnresolved("node.example", 80), "node.example"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> checker.watch("upstreams/k", pathX, withUnresolved));
        assertFalse(checker.isHealthy("upstreams/k", t));

        // another probe (http_path): the node starts again, healthy, and the listener hears it
        checker.watch("upstreams/k", checks("{'active':{'http_path':'/other','unhealthy':{'http_failures':5}}}"),
                List.of(t, t2));
        assertEquals("upstreams/k " + b.port() + " healthy", next(5));
        assertTrue(checker.isHealthy("upstreams/k", t));
    }

    @Test
    void httpsProbesVerifyTheCertificateUnlessToldNotTo(@TempDir Path dir) throws Exception {
        File ks = dir.resolve("server.p12").toFile();
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-keystore", ks.getPath(), "-storetype", "PKCS12", "-storepass", "secret",
                "-keypass", "secret", "-alias", "s", "-keyalg", "EC", "-dname", "CN=localhost",
                "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool");
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks.toPath())) {
            store.load(in, "secret".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "secret".toCharArray());
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        HttpsServer hs = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        hs.setHttpsConfigurator(new HttpsConfigurator(ssl));
        Backend b = new Backend(hs);
        HealthTarget t = b.target("localhost");

        checker.watch("upstreams/insecure", checks("{'active':{'type':'https','https_verify_certificate':false,"
                + "'unhealthy':{'tcp_failures':1,'http_failures':1}}}"), List.of(t));
        checker.watch("upstreams/verified", checks("{'active':{'type':'https','unhealthy':{'tcp_failures':1}}}"),
                List.of(t));
        // a self-signed certificate: the verifying probe fails its handshake (a TCP failure, as in APISIX)
        assertEquals("upstreams/verified " + b.port() + " unhealthy", next(5));
        await("probes over TLS", 5, () -> b.requests.size() >= 2);
        assertEquals("GET / host=localhost x-probe=null body=", b.requests.get(0));
        assertTrue(checker.isHealthy("upstreams/insecure", t));
        assertEquals("https", checker.status().get("upstreams/verified").get("type").asText());
        assertNull(next(1), "no other change: " + events);
    }
}
