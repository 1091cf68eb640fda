package io.turnpike.engine.tls;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.H2ConformanceRunner;
import io.turnpike.engine.testing.H2ConformanceRunner.CaseResult;
import io.turnpike.engine.testing.H2ConformanceRunner.Result;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static io.turnpike.engine.tls.TlsTestSupport.ssl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP/2 conformance suite (scripts/h2-conformance, docs/http2-conformance.md: RFC 9113 section by section, and
 * the flood cases) against Turnpike's own HTTP/2 listeners, h2c with prior knowledge and TLS with ALPN h2, proxying to
 * the HTTP/1.1 test backend. Every case must pass except those listed in {@code turnpike.expected-failures}, each with
 * its reason; a listed case that starts passing fails the test too (the list stays true).
 */
class Http2ConformanceIT {
    @TempDir
    static Path dir;
    static TlsTestSupport.Pair ca;
    static TlsTestSupport.Pair leaf;

    @BeforeAll
    static void prerequisites() throws Exception {
        assertNull(H2ConformanceRunner.missingPrerequisite());
        ca = TlsTestSupport.ca(dir);
        leaf = TlsTestSupport.leaf(dir, "h2", "ec", "/CN=h2.example.com");
    }

    @Test
    void cleartextPriorKnowledgeConforms() throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port()),
                     "  ssl:\n    enable: false\n", "", new PrintStream(new ByteArrayOutputStream()), true)) {
            assertConforms(new H2ConformanceRunner("127.0.0.1", gw.port).path("/conformance"));
        }
    }

    @Test
    void tlsWithAlpnConforms() throws Exception {
        String routes = GatewayFixture.catchAllRoute(0).replace(":0\"", ":PORT\"");
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, routes.replace("PORT", Integer.toString(backend.port()))
                             + "ssls:\n" + ssl("h2", List.of("h2.example.com"), leaf, List.of(), ""),
                     "  enable_http2: true\n", "")) {
            int port = gw.httpsPorts().get(0);
            assertConforms(new H2ConformanceRunner("127.0.0.1", port).tls(true)
                    .authority("h2.example.com").path("/conformance"));
            // curl negotiates h2 by ALPN (and still gets http/1.1 when it asks for it only).
            assertTrue(curl("--http2", port).startsWith("HTTP/2 200"));
            assertTrue(curl("--http1.1", port).startsWith("HTTP/1.1 200"));
        }
    }

    private static String curl(String version, int port) throws Exception {
        Process p = new ProcessBuilder("curl", "-sS", "-i", "-k", version,
                "--resolve", "h2.example.com:" + port + ":127.0.0.1", "https://h2.example.com:" + port + "/alpn")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.endsWith("ok:/alpn"), out);
        return out;
    }

    private static void assertConforms(H2ConformanceRunner runner) throws Exception {
        Path file = H2ConformanceRunner.scriptDir().resolve("turnpike.expected-failures");
        Set<String> listed = new TreeSet<>();
        Set<String> timing = new TreeSet<>(); // may pass or fail, depending on when the backend's answer comes
        for (String line : Files.readAllLines(file)) {
            String[] parts = line.split("#", 2);
            String id = parts[0].strip();
            if (!id.isEmpty()) {
                listed.add(id);
                if (parts.length > 1 && parts[1].strip().startsWith("[timing]")) {
                    timing.add(id);
                }
            }
        }
        Result r = runner.expectedFailures(file).run();
        assertTrue(r.unexpectedFailures().isEmpty(), r.describeUnexpectedFailures());
        assertEquals(0, r.exitCode(), r.output());
        assertEquals(H2ConformanceRunner.listCases(), r.cases().stream().map(CaseResult::id).toList(),
                "every case of the suite ran, in order");
        Set<String> failed = r.expectedFailures().stream().map(CaseResult::id)
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> mustFail = new TreeSet<>(listed);
        mustFail.removeAll(timing);
        failed.removeAll(timing);
        assertEquals(mustFail, failed, "listed cases that now pass\n" + r.output());
    }
}
