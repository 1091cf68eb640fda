package io.turnpike.engine.tls;

import io.turnpike.config.ConfigProblem;
import io.turnpike.config.standalone.LoadResult;
import io.turnpike.config.standalone.StandaloneFileLoader;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.turnpike.engine.tls.TlsTestSupport.Pair;
import static io.turnpike.engine.tls.TlsTestSupport.sClient;
import static io.turnpike.engine.tls.TlsTestSupport.ssl;
import static io.turnpike.engine.tls.TlsTestSupport.subject;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Downstream TLS with real clients (openssl s_client, curl, JDK SSLSocket) against an in-process gateway. */
class TlsIT {
    @TempDir
    static Path certs;
    @TempDir
    Path dir;

    static Pair ca;
    static Pair aEc;
    static Pair aRsa;
    static Pair wild;
    static Pair one;
    static Pair two;
    static Pair rotated;
    static Pair client;
    static Pair strangerClient;

    @BeforeAll
    static void makeCertificates() throws Exception {
        ca = TlsTestSupport.ca(certs);
        aEc = TlsTestSupport.leaf(certs, "a-ec", "ec", "/O=ecdsa/CN=a.example.com");
        aRsa = TlsTestSupport.leaf(certs, "a-rsa", "rsa", "/O=rsa/CN=a.example.com");
        wild = TlsTestSupport.leaf(certs, "wild", "rsa8", "/CN=*.wild.example.com");
        one = TlsTestSupport.leaf(certs, "one", "ec", "/CN=one.example.com");
        two = TlsTestSupport.leaf(certs, "two", "ec", "/CN=two.example.com");
        rotated = TlsTestSupport.leaf(certs, "rotated", "ec", "/O=rotated/CN=a.example.com");
        client = TlsTestSupport.leaf(certs, "client", "ec", "/CN=client");
        TlsTestSupport.run(certs, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "stranger.key", "-out", "stranger.crt",
                "-subj", "/CN=stranger", "-days", "2");
        strangerClient = TlsTestSupport.read(certs, "stranger");
    }

    private static String route(int backendPort) {
        return GatewayFixture.catchAllRoute(backendPort);
    }

    private static String baseSsls(String extra) {
        return "ssls:\n"
                + ssl("a", List.of("a.example.com"), aEc, List.of(aRsa), "")
                + ssl("w", List.of("*.wild.example.com"), wild, List.of(), "")
                + ssl("one", List.of("one.example.com"), one, List.of(), "")
                + ssl("two", List.of("two.example.com"), two, List.of(), "")
                + extra;
    }

    private static final String TWO_PORTS = ""
            + "  ssl:\n"
            + "    listen:\n"
            + "      - port: 9443\n"
            + "        fallback_sni: one.example.com\n"
            + "      - port: 9444\n"
            + "        fallback_sni: two.example.com\n"
            + "      - port: 9445\n";

    @Test
    void certificatePerSniNameAndWildcardUnknownNameRefused() throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(backend.port()) + baseSsls(""), "")) {
            int port = gw.httpsPorts().get(0);
            assertTrue(subject(sClient(dir, port, "a.example.com")).contains("CN = a.example.com"));
            assertTrue(subject(sClient(dir, port, "x.wild.example.com")).contains("CN = *.wild.example.com"));
            assertTrue(subject(sClient(dir, port, "ONE.example.com")).contains("CN = one.example.com"));
            String unknown = sClient(dir, port, "nobody.example.org");
            assertNull(subject(unknown), unknown);
            assertTrue(unknown.contains("unrecognized name"), unknown);
        }
    }

    @Test
    void noSniUsesTheListenerPortsFallbackElseFails() throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(backend.port()) + baseSsls(""), TWO_PORTS, "")) {
            List<Integer> ports = gw.httpsPorts();
            assertEquals(3, ports.size());
            assertTrue(subject(sClient(dir, ports.get(0), null)).contains("CN = one.example.com"));
            assertTrue(subject(sClient(dir, ports.get(1), null)).contains("CN = two.example.com"));
            String none = sClient(dir, ports.get(2), null);
            assertNull(subject(none), none);
            assertTrue(none.contains("handshake failure"), none);
            // With SNI, the name decides, whatever the port.
            assertTrue(subject(sClient(dir, ports.get(2), "a.example.com")).contains("CN = a.example.com"));
        }
    }

    @Test
    void ecdsaOrRsaChosenByWhatTheClientSupports() throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(backend.port()) + baseSsls(""), "")) {
            int port = gw.httpsPorts().get(0);
            String both = subject(sClient(dir, port, "a.example.com"));
            assertTrue(both.contains("O = ecdsa"), both);
            String ec13 = subject(sClient(dir, port, "a.example.com", "-tls1_3", "-sigalgs", "ECDSA+SHA256"));
            assertTrue(ec13.contains("O = ecdsa"), ec13);
            String rsa13 = subject(sClient(dir, port, "a.example.com", "-tls1_3", "-sigalgs",
                    "rsa_pss_rsae_sha256"));
            assertNotNull(rsa13, "TLS 1.3, RSA-PSS only");
            assertTrue(rsa13.contains("O = rsa"), rsa13);
            String rsa12 = subject(sClient(dir, port, "a.example.com", "-tls1_2", "-cipher",
                    "ECDHE-RSA-AES128-GCM-SHA256"));
            assertTrue(rsa12.contains("O = rsa"), rsa12);
            String ec12 = subject(sClient(dir, port, "a.example.com", "-tls1_2", "-cipher",
                    "ECDHE-ECDSA-AES128-GCM-SHA256"));
            assertTrue(ec12.contains("O = ecdsa"), ec12);
        }
    }

    @Test
    void curlThroughTheGatewaySeesForwardedProtoHttpsAndAlpn() throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(backend.port()) + baseSsls(""), "")) {
            int port = gw.httpsPorts().get(0);
            String out = TlsTestSupport.run(dir, "curl", "-sS", "-v", "--max-time", "10", "--cacert",
                    ca.certFile().toString(), "--resolve", "a.example.com:" + port + ":127.0.0.1",
                    "https://a.example.com:" + port + "/headers");
            assertTrue(out.contains("X-Forwarded-Proto: https"), out);
            assertTrue(out.contains("X-Forwarded-Port: " + port), out);
            assertTrue(out.contains("ALPN: server accepted http/1.1"), out);
            // The plain HTTP listener still says http.
            String plain = TlsTestSupport.run(dir, "curl", "-sS", "--max-time", "10",
                    "http://127.0.0.1:" + gw.port + "/headers");
            assertTrue(plain.contains("X-Forwarded-Proto: http\n") || plain.contains("X-Forwarded-Proto: http\r"),
                    plain);
        }
    }

    @Test
    void sslProtocolsPerSslObject() throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(backend.port()) + baseSsls(
                     ssl("t13", List.of("only13.example.com"), one, List.of(), "    ssl_protocols: [TLSv1.3]\n")),
                     "")) {
            int port = gw.httpsPorts().get(0);
            assertNotNull(subject(sClient(dir, port, "only13.example.com", "-tls1_3")));
            String v12 = sClient(dir, port, "only13.example.com", "-tls1_2");
            assertNull(subject(v12), v12);
            assertNotNull(subject(sClient(dir, port, "a.example.com", "-tls1_2")));
        }
    }

    @Test
    void ocspResponseIsStapledWhenTheClientAsks() throws Exception {
        String fake = Base64.getEncoder().encodeToString(new byte[] {0x30, 0x03, 0x0a, 0x01, 0x06});
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(backend.port()) + baseSsls(
                     ssl("o", List.of("ocsp.example.com"), one, List.of(), "    ocsp_response: " + fake + "\n")),
                     "")) {
            int port = gw.httpsPorts().get(0);
            String stapled = sClient(dir, port, "ocsp.example.com", "-status");
            // 30 03 0a 01 06 is an OCSPResponse with status "unauthorized" (6), and no body.
            assertTrue(stapled.contains("OCSP Response Status: unauthorized"), stapled);
            String other = sClient(dir, port, "a.example.com", "-status");
            assertTrue(other.contains("OCSP response: no response sent"), other);
        }
    }

    @Test
    void clientCertificatesVerifiedAgainstClientCa() throws Exception {
        String mtls = "    client:\n      ca: " + TlsTestSupport.block(ca.cert(), 8) + "      depth: 1\n";
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(backend.port()) + baseSsls(
                     ssl("m", List.of("mtls.example.com"), one, List.of(), mtls)), "")) {
            int port = gw.httpsPorts().get(0);
            String resolve = "mtls.example.com:" + port + ":127.0.0.1";
            String url = "https://mtls.example.com:" + port + "/hello";
            String ok = TlsTestSupport.run(dir, "curl", "-sS", "-k", "--max-time", "10", "--resolve", resolve,
                    "--cert", client.certFile().toString(), "--key", client.keyFile().toString(), url);
            assertEquals("ok:/hello", ok.strip());
            String none = runAllowFail("curl", "-sS", "-k", "--max-time", "10", "--resolve", resolve, url);
            assertTrue(!none.contains("ok:/hello"), none);
            String stranger = runAllowFail("curl", "-sS", "-k", "--max-time", "10", "--resolve", resolve,
                    "--cert", strangerClient.certFile().toString(), "--key", strangerClient.keyFile().toString(), url);
            assertTrue(!stranger.contains("ok:/hello"), stranger);

            // What each context asks of the client: the mTLS name sends client.ca's subject as the acceptable issuer;
            // a name without client.ca sends no certificate request (no CA names), and the handshake completes with a
            // client certificate offered and not used.
            String[] certArgs = {"-cert", client.certFile().toString(), "-key", client.keyFile().toString()};
            String asked = TlsTestSupport.sClient(dir, port, "mtls.example.com", certArgs);
            assertTrue(asked.contains("Acceptable client certificate CA names"), asked);
            assertFalse(asked.contains("No client certificate CA names sent"), asked);
            String notAsked = TlsTestSupport.sClient(dir, port, "one.example.com", certArgs);
            assertTrue(subject(notAsked).contains("CN = one.example.com"), notAsked);
            assertTrue(notAsked.contains("No client certificate CA names sent"), notAsked);
        }
    }

    private String runAllowFail(String... cmd) throws Exception {
        try {
            return TlsTestSupport.run(dir, cmd);
        } catch (java.io.IOException e) {
            return e.getMessage();
        }
    }

    @Test
    void resumptionAcrossTwoGatewaysSharingTicketKeys() throws Exception {
        byte[] key = new byte[48];
        new java.security.SecureRandom().nextBytes(key);
        String keys = "    session_ticket_keys: [\"" + Base64.getEncoder().encodeToString(key) + "\"]\n";
        String ssls = "ssls:\n" + ssl("a", List.of("a.example.com"), aEc, List.of(aRsa), keys);
        Path dir2 = Files.createDirectory(dir.resolve("second"));
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw1 = GatewayFixture.start(dir, route(backend.port()) + ssls, "");
             GatewayFixture gw2 = GatewayFixture.start(dir2, route(backend.port()) + ssls, "")) {
            Path sess = dir.resolve("session.pem");
            for (String version : List.of("-tls1_2", "-tls1_3")) {
                Files.deleteIfExists(sess);
                String first = sClient(dir, gw1.httpsPorts().get(0), "a.example.com", version, "-sess_out",
                        sess.toString(), "-ign_eof");
                assertTrue(first.contains("New, "), first);
                String second = sClient(dir, gw2.httpsPorts().get(0), "a.example.com", version, "-sess_in",
                        sess.toString());
                assertTrue(second.contains("Reused, "), version + ": " + second);
            }
        }
    }

    @Test
    void rotationUnderTrafficLosesNoHandshakeAndNewHandshakesSeeTheNewCertificate() throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, route(backend.port()) + baseSsls(""), "")) {
            int port = gw.httpsPorts().get(0);
            SSLContext trustAll = SSLContext.getInstance("TLS");
            trustAll.init(null, new TrustManager[] {new TrustAll()}, null);
            // A connection opened before the rotation keeps working after it.
            SSLSocket longLived = open(trustAll, port);
            assertTrue(peer(longLived).contains("O=ecdsa"), peer(longLived));
            assertTrue(get(longLived, true).startsWith("HTTP/1.1 200"));

            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            AtomicInteger rotatedSeen = new AtomicInteger();
            AtomicReference<Throwable> firstFailure = new AtomicReference<>();
            Thread client = new Thread(() -> {
                for (int i = 0; i < 20_000 && !stop.get(); i++) {
                    // A fresh client context each time: a full handshake (a resumed session would report the
                    // certificate of the session it resumes).
                    try (SSLSocket s = open(newTrustAll(), port)) {
                        String subject = peer(s);
                        if (get(s, false).startsWith("HTTP/1.1 200")) {
                            ok.incrementAndGet();
                        } else {
                            failed.incrementAndGet();
                        }
                        if (subject.contains("O=rotated")) {
                            rotatedSeen.incrementAndGet();
                        }
                    } catch (Exception e) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, e);
                    }
                }
            });
            client.start();
            Thread.sleep(300);
            Path tmp = dir.resolve("apisix.yaml.tmp");
            String next = route(backend.port()) + "ssls:\n"
                    + ssl("a", List.of("a.example.com"), rotated, List.of(), "")
                    + ssl("one", List.of("one.example.com"), one, List.of(), "");
            Files.writeString(tmp, next + "\n#END\n");
            Files.move(tmp, dir.resolve("apisix.yaml"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (rotatedSeen.get() < 20 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            stop.set(true);
            client.join(20_000);
            assertEquals(0, failed.get(), "failed handshakes/requests, first: " + firstFailure.get());
            assertTrue(rotatedSeen.get() >= 20, "new handshakes see the new certificate; ok=" + ok.get());
            assertTrue(ok.get() > rotatedSeen.get(), "traffic before the rotation too");
            // The pre-rotation connection still works, on its old context.
            assertTrue(get(longLived, true).startsWith("HTTP/1.1 200"));
            longLived.close();
            assertTrue(subject(sClient(dir, port, "a.example.com")).contains("O = rotated"));
        }
    }

    private static SSLContext newTrustAll() throws Exception {
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, new TrustManager[] {new TrustAll()}, null);
        return c;
    }

    private static SSLSocket open(SSLContext ctx, int port) throws Exception {
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        SSLParameters p = s.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName("a.example.com")));
        s.setSSLParameters(p);
        s.startHandshake();
        return s;
    }

    private static String peer(SSLSocket s) throws Exception {
        return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }

    /** One GET; reads the head and the short body ("ok:/r"). */
    private static String get(SSLSocket s, boolean keepAlive) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write(("GET /r HTTP/1.1\r\nHost: a.example.com\r\n" + (keepAlive ? "" : "Connection: close\r\n")
                + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            sb.append((char) c);
            if (sb.indexOf("\r\n\r\n") >= 0 && sb.toString().endsWith("ok:/r")) {
                break;
            }
        }
        return sb.toString();
    }

    static final class TrustAll implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    @Test
    void expiredAndMismatchedPairsRejectedAtValidation() throws Exception {
        Pair expired = TlsTestSupport.expired(certs, "expired.example.com");
        Pair mismatched = new Pair(one.cert(), two.key(), null, null);
        Path file = dir.resolve("apisix.yaml");
        Files.writeString(file, "ssls:\n"
                + ssl("old", List.of("expired.example.com"), expired, List.of(), "")
                + ssl("mix", List.of("mix.example.com"), one, List.of(mismatched), "")
                + ssl("good", List.of("a.example.com"), aEc, List.of(aRsa), "")
                + "#END\n");
        LoadResult lr = StandaloneFileLoader.load(file);
        assertTrue(!lr.ok());
        String rendered = lr.render();
        assertEquals(2, lr.problems().size(), rendered);
        ConfigProblem p0 = lr.problems().get(0);
        ConfigProblem p1 = lr.problems().get(1);
        assertEquals("old", p0.id(), rendered);
        assertEquals("cert", p0.field(), rendered);
        assertTrue(p0.message().contains("certificate expired on 2020-01-02"), rendered);
        assertEquals("mix", p1.id(), rendered);
        assertEquals("keys[0]", p1.field(), rendered);
        assertTrue(p1.message().contains("private key does not match the certificate in \"certs[0]\""), rendered);
        // The Admin API's schema/validate path.
        com.fasterxml.jackson.databind.node.ObjectNode v = com.fasterxml.jackson.databind.node.JsonNodeFactory
                .instance.objectNode();
        v.put("cert", one.cert()).put("key", two.key()).putArray("snis").add("x.example.com");
        var errors = new io.turnpike.config.codec.ConfigCompiler().validate("ssls", "x", v);
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.get(0).message().contains("private key does not match"), errors.toString());
    }
}
