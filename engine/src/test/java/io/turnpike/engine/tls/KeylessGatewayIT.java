package io.turnpike.engine.tls;

import io.netty.handler.ssl.OpenSsl;
import io.turnpike.engine.TurnpikeMain;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.TestBackend;
import io.turnpike.tls.keyless.KeylessClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.turnpike.engine.tls.TlsTestSupport.block;
import static io.turnpike.engine.tls.TlsTestSupport.run;
import static io.turnpike.engine.tls.TlsTestSupport.sClient;
import static io.turnpike.engine.tls.TlsTestSupport.subject;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Keyless TLS through the whole gateway: ssl objects carrying {@code cert} + {@code key_server} (no key anywhere in the
 * gateway's configuration), the key server ({@code turnpike keyserver ...}) in a child JVM holding the RSA and ECDSA
 * site keys, {@code turnpike.keyless} in config.yaml; real {@code openssl s_client} and {@code curl} clients.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class KeylessGatewayIT {
    @TempDir
    static Path pki;
    @TempDir
    Path dir;

    @BeforeAll
    static void makeCertificates() throws Exception {
        assumeTrue(OpenSsl.isAvailable() && String.valueOf(OpenSsl.versionString()).contains("BoringSSL"),
                "BoringSSL (netty-tcnative) not available");
        TlsTestSupport.ca(pki);
        issue("keyserver", "ec8", "/CN=keyserver.test", "DNS:keyserver.test,IP:127.0.0.1");
        issue("gateway", "ec8", "/CN=gateway", null);
        issue("site-rsa", "rsa", "/O=rsa/CN=site.test", "DNS:site.test");
        issue("site-ec", "ec", "/O=ecdsa/CN=ec.site.test", "DNS:ec.site.test");
        Path keys = Files.createDirectories(pki.resolve("keys"));
        Files.copy(pki.resolve("site-rsa.key"), keys.resolve("site-rsa.key"));
        Files.copy(pki.resolve("site-ec.key"), keys.resolve("site-ec.key"));
    }

    /** A certificate signed by the test CA; key "ec" (SEC1), "ec8" (PKCS#8) or "rsa" (PKCS#1); {@code san} may be null. */
    private static void issue(String name, String keyType, String subject, String san) throws Exception {
        String key = name + ".key";
        if (keyType.equals("ec")) { // SEC1
            run(pki, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key);
        } else if (keyType.equals("ec8")) { // PKCS#8: netty's PEM reader (the mTLS identities) wants it
            run(pki, "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key);
        } else { // PKCS#1
            run(pki, "openssl", "genrsa", "-traditional", "-out", key, "2048");
        }
        run(pki, "openssl", "req", "-new", "-key", key, "-subj", subject, "-out", name + ".csr");
        List<String> cmd = new ArrayList<>(List.of("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.crt",
                "-CAkey", "ca.key", "-CAcreateserial", "-days", "3", "-out", name + ".crt"));
        if (san != null) {
            Files.writeString(pki.resolve(name + ".ext"), "subjectAltName=" + san + "\n");
            cmd.addAll(List.of("-extfile", name + ".ext"));
        }
        run(pki, cmd.toArray(new String[0]));
    }

    private static String sslObject(String id, String sni, String certFile, String keyServer) throws IOException {
        return "  - id: " + id + "\n"
                + "    snis: [\"" + sni + "\"]\n"
                + "    cert: " + block(Files.readString(pki.resolve(certFile)), 6)
                + "    key_server: " + keyServer + "\n";
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** {@code turnpike keyserver ...} in a child JVM on {@code port}; returns once it listens. */
    private static Process startKeyServer(int port) throws Exception {
        Process ks = new ProcessBuilder(javaBin(), "-cp", System.getProperty("java.class.path"),
                TurnpikeMain.class.getName(), "keyserver", "--listen", "127.0.0.1:" + port,
                "--keys", pki.resolve("keys").toString(), "--cert", pki.resolve("keyserver.crt").toString(),
                "--key", pki.resolve("keyserver.key").toString(), "--client-ca", pki.resolve("ca.crt").toString(),
                "--workers", "2").redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(ks.getInputStream(), StandardCharsets.UTF_8));
        List<String> lines = new ArrayList<>();
        boolean up = false;
        for (String line; !up && (line = out.readLine()) != null; ) {
            lines.add(line);
            up = line.contains("keyserver listening on 127.0.0.1:" + port + " (mutual TLS), 2 key(s)");
        }
        if (!up) {
            ks.destroyForcibly();
            throw new AssertionError("key server did not start: " + lines);
        }
        Thread drain = new Thread(() -> {
            try {
                while (out.readLine() != null) {
                    // keep the child's pipe from filling
                }
            } catch (IOException ignored) {
                // ended
            }
        }, "keyserver-output");
        drain.setDaemon(true);
        drain.start();
        return ks;
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String javaBin() {
        return ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private String verifiedSClient(int port, String sni, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("-CAfile", pki.resolve("ca.crt").toString(),
                "-verify_return_error"));
        args.addAll(List.of(extra));
        return sClient(dir, port, sni, args.toArray(new String[0]));
    }

    private String curl(int port, String host) throws Exception {
        return run(dir, "curl", "-sS", "--max-time", "10", "--cacert", pki.resolve("ca.crt").toString(),
                "--resolve", host + ":" + port + ":127.0.0.1", "https://" + host + ":" + port + "/headers");
    }

    private static String status(GatewayFixture gw) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gw.statusPort + "/status")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static long counter(String statusJson, String name) {
        Matcher m = Pattern.compile("\"keyless\":\\{\"ks1\":\\{[^}]*\"" + name + "\":(\\d+)").matcher(statusJson);
        assertTrue(m.find(), name + " not in " + statusJson);
        return Long.parseLong(m.group(1));
    }

    @Test
    void rsaAndEcdsaKeylessThroughTheGatewayThenKeyServerDownAndBack() throws Exception {
        int ksPort = freePort();
        Process ks = startKeyServer(ksPort);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        String keyless = ""
                + "  keyless:\n"
                + "    ks1:\n"
                + "      address: 127.0.0.1:" + ksPort + "\n"
                + "      cert: " + pki.resolve("gateway.crt") + "\n"
                + "      key: " + pki.resolve("gateway.key") + "\n"
                + "      ca: " + pki.resolve("ca.crt") + "\n"
                + "      server_name: keyserver.test\n";
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port())
                     + "ssls:\n"
                     + sslObject("rsa", "site.test", "site-rsa.crt", "ks1")
                     + sslObject("ec", "ec.site.test", "site-ec.crt", "ks1")
                     + sslObject("ghost", "ghost.test", "site-ec.crt", "nowhere"),
                     "", keyless, new PrintStream(log, true))) {
            assertTrue(!Files.readString(dir.resolve("apisix.yaml")).contains("PRIVATE KEY"));
            KeylessClient client = gw.running.keyless.get("ks1");
            assertTrue(client.awaitConnected(Duration.ofSeconds(15)), client.snapshot().toString());
            int port = gw.httpsPorts().get(0);

            // RSA and ECDSA, TLS 1.3 and 1.2: the signature is made by the key server in the other JVM.
            for (String v : new String[] {"-tls1_3", "-tls1_2"}) {
                String rsa = verifiedSClient(port, "site.test", v);
                assertTrue(String.valueOf(subject(rsa)).contains("CN = site.test"), rsa);
                assertTrue(rsa.contains("Verify return code: 0 (ok)"), rsa);
                String ec = verifiedSClient(port, "ec.site.test", v);
                assertTrue(String.valueOf(subject(ec)).contains("CN = ec.site.test"), ec);
                assertTrue(ec.contains("Verify return code: 0 (ok)"), ec);
            }
            String viaRsa = curl(port, "site.test");
            assertTrue(viaRsa.contains("X-Forwarded-Proto: https"), viaRsa);
            String viaEc = curl(port, "ec.site.test");
            assertTrue(viaEc.contains("X-Forwarded-Proto: https"), viaEc);
            KeylessClient.Snapshot s = client.snapshot();
            assertTrue(s.successes() >= 6, s.toString());
            assertEquals(0, s.failures(), s.toString());

            // An ssl object naming an unknown key server is left out with a warning; the others apply.
            String ghost = sClient(dir, port, "ghost.test");
            assertNull(subject(ghost), ghost);
            assertTrue(log.toString().contains("ssl ghost: key_server \"nowhere\" is not a key server of"
                    + " turnpike.keyless"), log.toString());

            String st = status(gw);
            assertTrue(counter(st, "successes") >= 6, st);
            assertEquals(1, counter(st, "connections_up"), st);

            // Key server down: new handshakes fail cleanly and fast; plain HTTP keeps being served.
            stop(ks);
            long t0 = System.nanoTime();
            String down = sClient(dir, port, "site.test");
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertNull(subject(down), down);
            // No certificate, no cipher; the connection is closed (the client reads no alert: netty surfaces the async
            // key method's failure as an exception, and the connection is closed on it).
            assertTrue(down.contains("Cipher is (NONE)"), down);
            assertTrue(ms < 10_000, "failed handshake took " + ms + " ms");
            String downEc = sClient(dir, port, "ec.site.test");
            assertNull(subject(downEc), downEc);
            String plain = run(dir, "curl", "-sS", "--max-time", "10", "http://127.0.0.1:" + gw.port + "/headers");
            assertTrue(plain.contains("X-Forwarded-Proto: http"), plain);
            long failures = counter(status(gw), "failures");
            assertTrue(failures >= 2, status(gw));
            // The same handshakes, seen from the listener: failed for a keyless reason, nothing else.
            String afterDown = status(gw);
            assertEquals(2, TlsHandshakeCountersIT.failures(afterDown, "keyless"), afterDown);
            assertEquals(0, TlsHandshakeCountersIT.failures(afterDown, "other"), afterDown);

            // Back on the same address: the client reconnects and handshakes succeed again, no gateway restart.
            ks = startKeyServer(ksPort);
            assertTrue(client.awaitConnected(Duration.ofSeconds(20)), client.snapshot().toString());
            String again = verifiedSClient(port, "site.test");
            assertTrue(String.valueOf(subject(again)).contains("CN = site.test"), again);
            assertTrue(curl(port, "ec.site.test").contains("X-Forwarded-Proto: https"));
        } finally {
            stop(ks);
        }
    }
}
