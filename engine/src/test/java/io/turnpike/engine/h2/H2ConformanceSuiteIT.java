package io.turnpike.engine.h2;

import io.turnpike.engine.testing.H2ConformanceRunner;
import io.turnpike.engine.testing.H2ConformanceRunner.CaseResult;
import io.turnpike.engine.testing.H2ConformanceRunner.Result;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Proves the HTTP/2 conformance suite (scripts/h2-conformance, docs/http2-conformance.md) itself: against nghttpd,
 * nghttp2's reference server, over h2c and TLS (ALPN h2) every case passes except those listed in
 * {@code nghttpd.expected-failures}; and the suite can fail: every case fails against an HTTP/1.1-only server
 * (Netty's codec in {@link TestBackend}) or against {@code lax_h2_server.py}, an HTTP/2 server that checks nothing.
 * The IT for Turnpike's own HTTP/2 listener runs the same {@link H2ConformanceRunner}.
 */
class H2ConformanceSuiteIT {
    @TempDir
    static Path dir;

    private static final List<Process> started = new ArrayList<>();

    @BeforeAll
    static void prerequisites() throws Exception {
        assertNull(H2ConformanceRunner.missingPrerequisite());
        Path docs = Files.createDirectories(dir.resolve("htdocs"));
        StringBuilder page = new StringBuilder("<!doctype html><title>h2 conformance</title>\n");
        for (int i = 0; page.length() < 4096; i++) {
            page.append("<p>line ").append(i).append(" of the conformance page</p>\n");
        }
        Files.writeString(docs.resolve("index.html"), page);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        for (Process p : started) {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void nghttpdOverCleartextPassesEveryCaseButTheListedOnes() throws Exception {
        assertConforms(startNghttpd(false), false);
    }

    @Test
    void nghttpdOverTlsPassesEveryCaseButTheListedOnes() throws Exception {
        assertConforms(startNghttpd(true), true);
    }

    /** Every case ran; nghttpd fails exactly the cases nghttpd.expected-failures lists (each one does fail). */
    private static void assertConforms(int port, boolean tls) throws Exception {
        Path file = H2ConformanceRunner.scriptDir().resolve("nghttpd.expected-failures");
        Set<String> listed = new TreeSet<>();
        for (String line : Files.readAllLines(file)) {
            String id = line.split("#", 2)[0].strip();
            if (!id.isEmpty()) {
                listed.add(id);
            }
        }
        Result r = new H2ConformanceRunner("127.0.0.1", port).tls(tls).authority(tls ? "localhost" : null)
                .expectedFailures(file).run();
        assertTrue(r.unexpectedFailures().isEmpty(), r.describeUnexpectedFailures());
        assertEquals(0, r.exitCode(), r.output());
        assertEquals(H2ConformanceRunner.listCases(), r.cases().stream().map(CaseResult::id).toList(),
                "every case of the suite ran, in order");
        assertEquals(listed, r.expectedFailures().stream().map(CaseResult::id)
                .collect(Collectors.toCollection(TreeSet::new)), "listed cases that nghttpd no longer fails\n"
                + r.output());
        assertTrue(r.staleExpectedFailures().isEmpty(), r.output());
    }

    @Test
    void everyCaseFailsAgainstAnHttp11OnlyServerOrALaxHttp2Server() throws Exception {
        List<String> all = H2ConformanceRunner.listCases();
        Result http1;
        try (TestBackend backend = new TestBackend()) {
            http1 = new H2ConformanceRunner("127.0.0.1", backend.port()).caseTimeoutSeconds(1.0).run();
        }
        assertEquals(1, http1.exitCode(), http1.output());
        CaseResult handshake = http1.byId("3.4/1");
        assertFalse(handshake.passed(), http1.output());
        assertTrue(handshake.reason().startsWith("handshake"), handshake.reason());
        for (CaseResult c : http1.cases()) {
            if (c.id().startsWith("generic/") || c.id().startsWith("8.1/") || c.id().startsWith("6.7/")) {
                assertFalse(c.passed(), c.id() + " passed against an HTTP/1.1 server\n" + http1.output());
            }
        }

        int laxPort = startLax();
        Result lax = new H2ConformanceRunner("127.0.0.1", laxPort).caseTimeoutSeconds(1.0).run();
        assertEquals(1, lax.exitCode(), lax.output());
        // the lax server answers well-formed requests, so the cases that need an answer pass there ...
        assertTrue(lax.byId("8.1/1").passed(), lax.output());
        // ... and each case that needs the server to refuse something fails
        assertFalse(lax.byId("5.1.1/1").passed(), lax.output());
        assertFalse(lax.byId("6.9.1/1").passed(), lax.output());
        assertFalse(lax.byId("dos/1").passed(), lax.output());

        Set<String> neverFailed = new TreeSet<>(all);
        http1.failed().forEach(c -> neverFailed.remove(c.id()));
        lax.failed().forEach(c -> neverFailed.remove(c.id()));
        assertTrue(neverFailed.isEmpty(), "cases that passed against both broken servers: " + neverFailed
                + "\n--- HTTP/1.1 ---\n" + http1.output() + "\n--- lax ---\n" + lax.output());
    }

    // -- servers -------------------------------------------------------------------------------------------------

    private static String nghttpd() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"));
        for (String d : dirs) {
            File f = new File(d, "nghttpd");
            if (!d.isEmpty() && f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static int startNghttpd(boolean tls) throws Exception {
        String bin = nghttpd();
        assumeTrue(bin != null, "nghttpd not installed (Debian package nghttp2-server): the HTTP/2 conformance "
                + "suite is proven against it; CI installs it");
        int port = freePort();
        List<String> cmd = new ArrayList<>(List.of(bin, "-a", "127.0.0.1", "-d", dir.resolve("htdocs").toString()));
        if (!tls) {
            cmd.add("--no-tls");
        }
        cmd.add(Integer.toString(port));
        if (tls) {
            Path key = dir.resolve("nghttpd.key");
            Path cert = dir.resolve("nghttpd.crt");
            if (!Files.exists(cert)) {
                run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost", "-days", "2");
            }
            cmd.add(key.toString());
            cmd.add(cert.toString());
        }
        Path log = dir.resolve("nghttpd-" + port + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(new File("/dev/null")).start();
        started.add(p);
        awaitListening(p, port, log);
        return port;
    }

    private static int startLax() throws Exception {
        Path log = dir.resolve("lax.log");
        Process p = new ProcessBuilder(H2ConformanceRunner.python(),
                H2ConformanceRunner.scriptDir().resolve("lax_h2_server.py").toString(), "--port", "0")
                .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(new File("/dev/null")).start();
        started.add(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline && p.isAlive()) {
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                if (line.startsWith("LISTENING ")) {
                    int port = Integer.parseInt(line.substring(10).strip());
                    awaitListening(p, port, log);
                    return port;
                }
            }
            Thread.sleep(50);
        }
        throw new IOException("lax_h2_server.py did not start: " + Files.readString(log));
    }

    private static void awaitListening(Process p, int port, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("server exited " + p.exitValue() + ": " + Files.readString(log));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IOException("server not listening on " + port + " after 15 s: " + Files.readString(log));
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(new File("/dev/null")).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
    }
}
