package io.turnpike.engine.tls;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.turnpike.engine.tls.TlsTestSupport.Pair;
import static io.turnpike.engine.tls.TlsTestSupport.sClient;
import static io.turnpike.engine.tls.TlsTestSupport.ssl;
import static io.turnpike.engine.tls.TlsTestSupport.subject;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Downstream handshake outcomes on {@code GET /status} ({@code tls.handshakes}, {@code tls.handshake_failures.*}),
 * provoked by real clients: {@code openssl s_client}, curl, and raw sockets for handshakes that never finish.
 */
class TlsHandshakeCountersIT {
    @TempDir
    static Path certs;
    @TempDir
    Path dir;

    static Pair ca;
    static Pair ec;
    static Pair mtls;

    @BeforeAll
    static void makeCertificates() throws Exception {
        ca = TlsTestSupport.ca(certs);
        ec = TlsTestSupport.leaf(certs, "ec", "ec", "/CN=a.example.com");
        mtls = TlsTestSupport.leaf(certs, "mtls", "ec", "/CN=mtls.example.com");
    }

    /** Port 0: fallback a.example.com; port 1: no fallback. 1 s header timeout, so stalled handshakes end fast. */
    private GatewayFixture start(int backendPort) throws Exception {
        String clientCa = "    client:\n      ca: " + TlsTestSupport.block(ca.cert(), 8) + "      depth: 1\n";
        return GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backendPort) + "ssls:\n"
                        + ssl("a", List.of("a.example.com"), ec, List.of(), "")
                        + ssl("m", List.of("mtls.example.com"), mtls, List.of(), clientCa),
                "  ssl:\n"
                        + "    listen:\n"
                        + "      - port: 9443\n"
                        + "        fallback_sni: a.example.com\n"
                        + "      - port: 9444\n",
                "  header_timeout_ms: 1000\n");
    }

    @Test
    void eachFailureReasonIsCountedOnTheStatusEndpoint() throws Exception {
        try (TestBackend backend = new TestBackend(); GatewayFixture gw = start(backend.port())) {
            int port = gw.httpsPorts().get(0);
            int noFallback = gw.httpsPorts().get(1);
            String st = status(gw);
            assertEquals(0, handshakes(st), st);
            for (String reason : List.of("unknown_sni", "no_sni", "protocol", "client_certificate", "peer_alert",
                    "keyless", "not_tls", "closed", "other")) {
                assertEquals(0, failures(st, reason), reason + ": " + st);
            }

            // Completed handshakes: SNI, and no SNI on the port with a fallback.
            assertTrue(subject(sClient(dir, port, "a.example.com")).contains("CN = a.example.com"));
            assertTrue(subject(sClient(dir, port, null)).contains("CN = a.example.com"));
            awaitCount(gw, () -> handshakes(status(gw)), 2);

            // A name no ssl object serves: refused with unrecognized_name, counted once.
            String unknown = sClient(dir, port, "nobody.example.org");
            assertNull(subject(unknown), unknown);
            awaitFailures(gw, "unknown_sni", 1);

            // No SNI on a port without fallback_sni.
            String none = sClient(dir, noFallback, null);
            assertNull(subject(none), none);
            awaitFailures(gw, "no_sni", 1);

            // Protocol version (TLS 1.1 only) and cipher suite (static RSA only, for an ECDSA certificate) mismatches.
            String v11 = sClient(dir, port, "a.example.com", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0");
            assertNull(subject(v11), v11);
            String rsaKex = sClient(dir, port, "a.example.com", "-tls1_2", "-cipher", "AES128-SHA");
            assertNull(subject(rsaKex), rsaKex);
            awaitFailures(gw, "protocol", 2);

            // mTLS: no client certificate.
            String noCert = TlsTestSupport.run(dir, "sh", "-c", "curl -sS -k --max-time 10 --resolve mtls.example.com:"
                    + port + ":127.0.0.1 https://mtls.example.com:" + port + "/ 2>&1 || true");
            assertTrue(!noCert.contains("ok:/"), noCert);
            awaitFailures(gw, "client_certificate", 1);

            // The client rejects the certificate (it does not trust the CA) and says so with an alert. TLS 1.2: in
            // TLS 1.3 OpenSSL's client sends that alert unencrypted, which BoringSSL reports as a bad record (other).
            String untrusted = sClient(dir, port, "a.example.com", "-tls1_2", "-verify_return_error", "-CAfile",
                    ec.certFile().toString());
            assertTrue(untrusted.contains("verify error") || untrusted.contains("unable to get"), untrusted);
            awaitFailures(gw, "peer_alert", 1);

            // Plain HTTP on the HTTPS port.
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                s.getOutputStream().write("GET / HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                s.setSoTimeout(5000);
                drainUntilClosed(s.getInputStream());
            }
            awaitFailures(gw, "not_tls", 1);

            // A ClientHello, the server's flight read, then the client goes away.
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                sendClientHelloAndReadFlight(s);
            }
            awaitFailures(gw, "closed", 1);

            st = status(gw);
            assertEquals(0, failures(st, "keyless"), st);
            assertEquals(0, failures(st, "other"), st);
            assertEquals(2, handshakes(st), st);
        }
    }

    @Test
    void aHandshakeThatStallsIsClosedAtTheHeaderTimeoutAndCounted() throws Exception {
        try (TestBackend backend = new TestBackend(); GatewayFixture gw = start(backend.port())) {
            int port = gw.httpsPorts().get(0);
            // No TLS timer per connection: the connection sweeper's header timeout (1 s here) ends a handshake that
            // never completes, and a connection that never sends its ClientHello.
            try (Socket stalled = new Socket(); Socket silent = new Socket()) {
                stalled.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                silent.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                long t0 = System.nanoTime();
                sendClientHelloAndReadFlight(stalled);
                stalled.setSoTimeout(10_000);
                silent.setSoTimeout(10_000);
                drainUntilClosed(stalled.getInputStream());
                drainUntilClosed(silent.getInputStream());
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(ms >= 500 && ms < 5_000, "closed after " + ms + " ms");
            }
            awaitFailures(gw, "closed", 1);
            String st = status(gw);
            assertEquals(1, failures(st, "closed"), st);
            assertEquals(0, handshakes(st), st);
        }
    }

    /** Writes a TLS 1.3 ClientHello (JDK engine, SNI a.example.com) and reads the server's first flight. */
    private static void sendClientHelloAndReadFlight(Socket s) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(null, new javax.net.ssl.TrustManager[] {new TlsIT.TrustAll()}, null);
        SSLEngine engine = ctx.createSSLEngine("a.example.com", 443);
        engine.setUseClientMode(true);
        ByteBuffer net = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        SSLEngineResult r = engine.wrap(ByteBuffer.allocate(0), net);
        assertEquals(SSLEngineResult.Status.OK, r.getStatus());
        net.flip();
        OutputStream out = s.getOutputStream();
        out.write(net.array(), 0, net.limit());
        out.flush();
        s.setSoTimeout(5000);
        InputStream in = s.getInputStream();
        byte[] head = in.readNBytes(5);
        assertEquals(5, head.length);
        assertEquals(22, head[0], "a handshake record (ServerHello)");
    }

    private static void drainUntilClosed(InputStream in) throws Exception {
        byte[] buf = new byte[4096];
        try {
            while (in.read(buf) >= 0) {
                // the server's records, then EOF
            }
        } catch (SocketException reset) {
            // closed by the server with a reset: fine too
        }
    }

    private static void awaitFailures(GatewayFixture gw, String reason, long expected) throws Exception {
        awaitCount(gw, () -> failures(status(gw), reason), expected);
    }

    private static void awaitCount(GatewayFixture gw, LongSupplier value, long expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long v = value.getAsLong();
        while (v < expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
            v = value.getAsLong();
        }
        assertEquals(expected, v, status(gw));
    }

    static String status(GatewayFixture gw) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + gw.statusPort + "/status"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return r.body();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static long handshakes(String statusJson) {
        Matcher m = Pattern.compile("\"tls\":\\{\"handshakes\":(\\d+)").matcher(statusJson);
        assertTrue(m.find(), statusJson);
        return Long.parseLong(m.group(1));
    }

    static long failures(String statusJson, String reason) {
        Matcher m = Pattern.compile("\"handshake_failures\":\\{[^}]*\"" + reason + "\":(\\d+)").matcher(statusJson);
        assertTrue(m.find(), reason + " not in " + statusJson);
        return Long.parseLong(m.group(1));
    }
}
