package io.turnpike.tls.keyless;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.OpenSslAsyncPrivateKeyMethod;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.handler.ssl.OpenSsl;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real TLS handshakes against a gateway-side Netty server whose contexts hold no private key, with the key server on a
 * real socket (in another JVM for the main matrix), driven by JDK {@link SSLSocket}s and {@code openssl s_client}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class KeylessHandshakeIT {
    @TempDir
    static Path tmp;
    static TestPki pki;
    static final ExecutorService BLOCKING = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "it-blocking-client");
        t.setDaemon(true);
        return t;
    });

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(OpenSsl.isAvailable() && String.valueOf(OpenSsl.versionString()).contains("BoringSSL"),
                "BoringSSL (netty-tcnative) not available");
        pki = TestPki.create(tmp);
    }

    @AfterAll
    static void tearDown() {
        BLOCKING.shutdownNow();
    }

    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void schemeConstantsMatchBoringSsl() {
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_SHA256, SignatureSchemes.RSA_PKCS1_SHA256);
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_SHA384, SignatureSchemes.RSA_PKCS1_SHA384);
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_SHA512, SignatureSchemes.RSA_PKCS1_SHA512);
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_SHA1, SignatureSchemes.RSA_PKCS1_SHA1);
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PSS_RSAE_SHA256, SignatureSchemes.RSA_PSS_RSAE_SHA256);
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PSS_RSAE_SHA384, SignatureSchemes.RSA_PSS_RSAE_SHA384);
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PSS_RSAE_SHA512, SignatureSchemes.RSA_PSS_RSAE_SHA512);
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SHA1, SignatureSchemes.ECDSA_SHA1);
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SECP256R1_SHA256,
                SignatureSchemes.ECDSA_SECP256R1_SHA256);
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SECP384R1_SHA384,
                SignatureSchemes.ECDSA_SECP384R1_SHA384);
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SECP521R1_SHA512,
                SignatureSchemes.ECDSA_SECP521R1_SHA512);
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ED25519, SignatureSchemes.ED25519);
        assertEquals(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_MD5_SHA1, SignatureSchemes.RSA_PKCS1_MD5_SHA1);
    }

    /** RSA, ECDSA P-256 and P-384 certificates; TLS 1.3 and 1.2 (ECDHE); JDK and openssl clients; key server in a JVM. */
    @Test
    void rsaAndEcdsaHandshakesWithKeyServerInAnotherProcess() throws Exception {
        Process ks = new ProcessBuilder(javaBin(), "-cp", System.getProperty("java.class.path"),
                KeyServerMain.class.getName(), "--listen", "127.0.0.1:0", "--keys", pki.keysDir.toString(),
                "--cert", pki.path("keyserver.pem").toString(), "--key", pki.path("keyserver.key").toString(),
                "--client-ca", pki.path("ca.pem").toString(), "--workers", "2")
                .redirectErrorStream(true).start();
        // not closed by try-with-resources: the drain thread holds its lock; destroying the process ends it
        BufferedReader out = new BufferedReader(new InputStreamReader(ks.getInputStream(), StandardCharsets.UTF_8));
        try {
            int port = -1;
            List<String> lines = new ArrayList<>();
            Pattern p = Pattern.compile("keyserver listening on 127\\.0\\.0\\.1:(\\d+)");
            for (String line; port < 0 && (line = out.readLine()) != null; ) {
                lines.add(line);
                Matcher m = p.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                }
            }
            assertTrue(port > 0, "key server did not start: " + lines);
            for (int i = 0; i < 3; i++) {
                lines.add(out.readLine()); // the three key ids
            }
            BLOCKING.execute(() -> drain(out));
            String all = String.join("\n", lines);
            for (String k : new String[] {"rsa", "ec", "ec384"}) {
                assertTrue(all.contains(KeyId.of(pki.chain(k)[0]).hex()), k + " key id missing: " + all);
            }

            try (KeylessClient client = newClient(port, Duration.ofSeconds(5))) {
                assertTrue(client.awaitConnected(Duration.ofSeconds(10)));
                int handshakes = 0;
                handshakes += matrix(client, "rsa", new String[] {"rsa_pss_rsae_sha256", "RSA+SHA256", "RSA+SHA384",
                        "rsa_pss_rsae_sha512"}, "RSA");
                handshakes += matrix(client, "ec", new String[] {"ECDSA+SHA256"}, "ECDSA");
                handshakes += matrix(client, "ec384", new String[] {"ECDSA+SHA384"}, "ECDSA");
                KeylessClient.Snapshot s = client.snapshot();
                assertEquals(handshakes, s.successes(), s.toString());
                assertEquals(0, s.failures(), s.toString());
                assertEquals(0, s.inFlight(), s.toString());
                assertTrue(s.latencyAvgMicros() > 0, s.toString());
                assertEquals(1, s.connectionsUp(), s.toString());
            }
        } finally {
            ks.destroy();
            if (!ks.waitFor(10, TimeUnit.SECONDS)) {
                ks.destroyForcibly();
            }
        }
    }

    /** @return the number of full handshakes done */
    private int matrix(KeylessClient client, String cert, String[] tls12Sigalgs, String kind) throws Exception {
        SslContext ctx = KeylessContexts.serverContext(pki.chain(cert), client);
        int n = 0;
        try (GatewayTestServer gw = new GatewayTestServer(ctx)) {
            for (String proto : new String[] {"TLSv1.3", "TLSv1.2"}) {
                assertEquals("echo:ping", jdkEcho(cert, gw.tlsPort(), proto));
                n++;
                assertEquals(proto, gw.lastProtocol);
                if (proto.equals("TLSv1.2")) {
                    assertTrue(gw.lastCipher.contains("ECDHE_" + kind), gw.lastCipher);
                }
            }
            String out13 = sClient(cert, gw.tlsPort(), "-tls1_3");
            n++;
            assertTrue(out13.contains("Protocol version: TLSv1.3"), out13);
            for (String sigalg : tls12Sigalgs) {
                String out12 = sClient(cert, gw.tlsPort(), "-tls1_2", "-sigalgs", sigalg);
                n++;
                assertTrue(out12.contains("Protocol version: TLSv1.2"), out12);
                assertTrue(out12.contains("Ciphersuite: ECDHE-" + kind), out12);
                String type = sigalg.startsWith("rsa_pss") ? "RSA-PSS" : sigalg.startsWith("RSA") ? "RSA" : "ECDSA";
                assertTrue(out12.contains("Signature type: " + type + "\n"), sigalg + ":\n" + out12);
            }
            assertEquals(n, gw.handshakesOk.get());
            assertEquals(0, gw.handshakesFailed.get(), () -> gw.failures.toString());
        } finally {
            ReferenceCountUtil.release(ctx);
        }
        return n;
    }

    @Test
    void keyServerDownFailsHandshakesCleanlyAndClientRecovers() throws Exception {
        KeyServer ks = newKeyServer(0, null);
        int port = ks.localAddress().getPort();
        // A long request timeout: "failed fast" is then proven by the counters (timeouts == 0 below), not by the wall
        // clock of a shared machine.
        try (KeylessClient client = newClient(port, Duration.ofSeconds(20))) {
            assertTrue(client.awaitConnected(Duration.ofSeconds(10)));
            SslContext ctx = KeylessContexts.serverContext(pki.chain("rsa"), client);
            try (GatewayTestServer gw = new GatewayTestServer(ctx)) {
                assertEquals("echo:ping", jdkEcho("rsa", gw.tlsPort(), "TLSv1.3"));

                ks.close();
                // The disconnect counter, not isConnected(): the client reconnects at once after a disconnect, and
                // that attempt (refused now) must not be confused with "still connected".
                waitFor(() -> client.snapshot().disconnects() >= 1, "client noticed the key server is gone");
                waitFor(() -> !client.isConnected(), "client has no connection");
                long failuresBefore = client.snapshot().failures();
                for (String proto : new String[] {"TLSv1.3", "TLSv1.2"}) {
                    assertThrows(IOException.class, () -> jdkEcho("rsa", gw.tlsPort(), proto));
                    assertEquals("echo:alive", plainEcho(gw.plainPort(), "alive"));
                }
                waitFor(() -> gw.handshakesFailed.get() == 2, "gateway saw two failed handshakes");
                KeylessClient.Snapshot s = client.snapshot();
                assertEquals(failuresBefore + 2, s.failures(), s.toString());
                assertEquals(0, s.inFlight(), s.toString());
                assertTrue(s.disconnects() >= 1 && s.connectFailures() >= 1, s.toString());
                for (Throwable t : gw.failures) {
                    // netty reports the async key method's failure as BoringSSL's error; the reason is in the counters
                    assertTrue(causeChain(t).contains("PRIVATE_KEY_OPERATION_FAILED"), causeChain(t));
                }
                assertEquals(0, s.timeouts(), "failed fast, not by timeout: " + s);
                assertEquals(0, s.serverErrors(), s.toString());

                ks = newKeyServer(port, null); // back on the same port: the client reconnects with backoff
                assertTrue(client.awaitConnected(Duration.ofSeconds(10)), client.snapshot().toString());
                assertEquals("echo:ping", jdkEcho("rsa", gw.tlsPort(), "TLSv1.2"));
            } finally {
                ReferenceCountUtil.release(ctx);
            }
        } finally {
            ks.close();
        }
    }

    @Test
    void hungKeyServerTimesOutWithoutBlockingTheEventLoop() throws Exception {
        EventLoopGroup bhGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        SslContext bhCtx = KeyServer.serverSslContext(pki.path("keyserver.pem"), pki.path("keyserver.key"),
                pki.path("ca.pem"));
        Channel blackHole = new ServerBootstrap().group(bhGroup).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(bhCtx.newHandler(ch.alloc()), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ReferenceCountUtil.release(msg); // accepts requests, never answers
                            }
                        });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        int port = ((InetSocketAddress) blackHole.localAddress()).getPort();
        try (KeylessClient client = newClient(port, Duration.ofMillis(1500))) {
            assertTrue(client.awaitConnected(Duration.ofSeconds(10)));
            SslContext ctx = KeylessContexts.serverContext(pki.chain("ec"), client);
            try (GatewayTestServer gw = new GatewayTestServer(ctx)) { // one event loop thread for both ports
                CompletableFuture<String> pending = CompletableFuture.supplyAsync(() -> {
                    try {
                        return jdkEcho("ec", gw.tlsPort(), "TLSv1.3");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, BLOCKING);
                waitFor(() -> client.snapshot().inFlight() == 1, "sign request in flight");
                // the handshake is suspended on the key server; the same event loop keeps serving others
                for (int i = 0; i < 3; i++) {
                    long t0 = System.nanoTime();
                    assertEquals("echo:x" + i, plainEcho(gw.plainPort(), "x" + i));
                    assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(500));
                }
                assertEquals(1, client.snapshot().inFlight(), "still pending while the loop served others");
                assertFalse(pending.isDone());

                Exception e = assertThrows(Exception.class, () -> pending.get(10, TimeUnit.SECONDS));
                assertInstanceOf(IOException.class, e.getCause().getCause(), String.valueOf(e));
                waitFor(() -> gw.handshakesFailed.get() == 1, "gateway counted the failed handshake");
                KeylessClient.Snapshot s = client.snapshot();
                assertEquals(1, s.timeouts(), s.toString());
                assertEquals(1, s.failures(), s.toString());
                assertEquals(0, s.inFlight(), s.toString());
                assertTrue(causeChain(gw.failures.peek()).contains("PRIVATE_KEY_OPERATION_FAILED"),
                        causeChain(gw.failures.peek()));
            } finally {
                ReferenceCountUtil.release(ctx);
            }
        } finally {
            blackHole.close().sync();
            bhGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            ReferenceCountUtil.release(bhCtx);
        }
    }

    @Test
    void unknownKeyIdFailsCleanly() throws Exception {
        try (KeyServer ks = newKeyServer(0, pki.key("rsa"));
             KeylessClient client = newClient(ks.localAddress().getPort(), Duration.ofSeconds(2))) {
            assertEquals(List.of(KeyId.of(pki.chain("rsa")[0])), ks.keyIds());
            assertTrue(client.awaitConnected(Duration.ofSeconds(10)));
            SslContext ec = KeylessContexts.serverContext(pki.chain("ec"), client);
            SslContext rsa = KeylessContexts.serverContext(pki.chain("rsa"), client);
            try (GatewayTestServer gwEc = new GatewayTestServer(ec);
                 GatewayTestServer gwRsa = new GatewayTestServer(rsa)) {
                assertThrows(IOException.class, () -> jdkEcho("ec", gwEc.tlsPort(), "TLSv1.3"));
                String out = sClientRaw("ec", gwEc.tlsPort(), "-tls1_2");
                assertFalse(out.contains("echo:ping"), out);
                waitFor(() -> gwEc.handshakesFailed.get() == 2, "two failed handshakes");
                KeylessClient.Snapshot s = client.snapshot();
                assertEquals(2, s.serverErrors(), s.toString());
                assertEquals(2, s.failures(), s.toString());
                assertTrue(causeChain(gwEc.failures.peek()).contains("PRIVATE_KEY_OPERATION_FAILED"),
                        causeChain(gwEc.failures.peek()));
                // the connection to the key server is unharmed
                assertEquals("echo:ping", jdkEcho("rsa", gwRsa.tlsPort(), "TLSv1.3"));
                assertEquals(2, ks.snapshot().errors());
                assertEquals(1, ks.snapshot().signed());
            } finally {
                ReferenceCountUtil.release(ec);
                ReferenceCountUtil.release(rsa);
            }
        }
    }

    @Test
    void keyServerRefusesClientsWithoutAValidCertificate() throws Exception {
        try (KeyServer ks = newKeyServer(0, null)) {
            int port = ks.localAddress().getPort();
            X509Certificate rsaCert = pki.chain("rsa")[0];
            byte[] data = "data to be signed".getBytes(StandardCharsets.US_ASCII);

            // the real gateway certificate works, and the signature verifies with the certificate's key
            try (KeylessClient good = newClient(port, Duration.ofSeconds(2))) {
                byte[] sig = good.sign(KeyId.of(rsaCert), SignatureSchemes.RSA_PSS_RSAE_SHA256, data)
                        .get(10, TimeUnit.SECONDS);
                Signature v = Signature.getInstance("RSASSA-PSS");
                v.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
                v.initVerify(rsaCert.getPublicKey());
                v.update(data);
                assertTrue(v.verify(sig));
            }
            long signedBefore = ks.snapshot().signed();

            SslContext noCert = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL)
                    .trustManager(pki.path("ca.pem").toFile()).build();
            SslContext rogue = KeylessClient.clientSslContext(pki.path("rogue-gateway.pem"),
                    pki.path("rogue-gateway.key"), pki.path("ca.pem"));
            try {
                int refusedBefore = 0;
                for (SslContext bad : new SslContext[] {noCert, rogue}) {
                    try (KeylessClient c = KeylessClient.builder().remote("127.0.0.1", port).serverName("localhost")
                            .sslContext(bad).requestTimeout(Duration.ofSeconds(2))
                            .backoff(Duration.ofMillis(50), Duration.ofMillis(200)).start()) {
                        Future<byte[]> f = c.sign(KeyId.of(rsaCert), SignatureSchemes.RSA_PSS_RSAE_SHA256, data);
                        assertTrue(f.await(5, TimeUnit.SECONDS));
                        assertFalse(f.isSuccess());
                        assertInstanceOf(KeylessException.class, f.cause());
                    }
                    int expected = ++refusedBefore;
                    waitFor(() -> ks.snapshot().handshakeFailures() >= expected, "key server refused the client");
                }
                assertEquals(signedBefore, ks.snapshot().signed());
            } finally {
                ReferenceCountUtil.release(noCert);
                ReferenceCountUtil.release(rogue);
            }

            // a plain JDK client without a certificate: TLS 1.3 lets the handshake finish client-side, the server's
            // certificate_required alert then ends the connection
            SSLContext jdk = SSLContext.getInstance("TLS");
            jdk.init(null, trustCa(), null);
            try (SSLSocket s = (SSLSocket) jdk.getSocketFactory().createSocket("127.0.0.1", port)) {
                s.setSoTimeout(5000);
                assertThrows(IOException.class, () -> {
                    s.startHandshake();
                    s.getOutputStream().write(new byte[60]);
                    s.getOutputStream().flush();
                    if (s.getInputStream().read() < 0) {
                        throw new IOException("EOF");
                    }
                });
            }
        }
    }

    /** The hook as the TLS core uses it: its own OPENSSL_REFCNT builder, keyless RSA + in-memory ECDSA credential. */
    @Test
    void applyKeylessOnACoreBuilderWithAnInMemoryCredential() throws Exception {
        assumeTrue(io.netty.handler.ssl.OpenSslCredential.isAvailable());
        try (KeyServer ks = newKeyServer(0, pki.key("rsa"));
             KeylessClient client = newClient(ks.localAddress().getPort(), Duration.ofSeconds(2))) {
            assertTrue(client.awaitConnected(Duration.ofSeconds(10)));
            X509Certificate[] rsaChain = pki.chain("rsa");
            assertThrows(javax.net.ssl.SSLException.class, () -> KeylessContexts.applyKeyless(
                    SslContextBuilder.forServer(KeylessContexts.keyManagerFactory(rsaChain)), rsaChain, client,
                    KeyId.of(pki.chain("ec")[0]).hex()));
            io.netty.handler.ssl.OpenSslCredential ecCred = io.netty.handler.ssl.OpenSslCredentialBuilder.forX509(
                    PemKeys.readPrivateKeys(pki.key("ec")).get(0), pki.chain("ec")).build();
            SslContext ctx;
            try {
                SslContextBuilder b = SslContextBuilder.forServer(KeylessContexts.keyManagerFactory(rsaChain))
                        .sslProvider(SslProvider.OPENSSL_REFCNT)
                        .protocols("TLSv1.3", "TLSv1.2")
                        .addCredential(ecCred);
                ctx = KeylessContexts.applyKeyless(b, rsaChain, client, KeyId.of(rsaChain[0]).hex()).build();
            } finally {
                ecCred.release();
            }
            try (GatewayTestServer gw = new GatewayTestServer(ctx)) {
                String rsa = sClient("rsa", gw.tlsPort(), "-tls1_2", "-sigalgs", "RSA+SHA256");
                assertTrue(rsa.contains("Signature type: RSA\n"), rsa);
                assertEquals(1, client.snapshot().successes());
                String ec = sClient("ec", gw.tlsPort(), "-tls1_3", "-sigalgs", "ECDSA+SHA256");
                assertTrue(ec.contains("Signature type: ECDSA"), ec);
                assertEquals(1, client.snapshot().successes(), "ECDSA credential signs locally");
                String rsa13 = sClient("rsa", gw.tlsPort(), "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256");
                assertTrue(rsa13.contains("Signature type: RSA-PSS"), rsa13);
                assertEquals(2, client.snapshot().successes());
            } finally {
                ReferenceCountUtil.release(ctx);
            }
        }
    }

    // --- helpers ---------------------------------------------------------------------------------------------------

    private static KeyServer newKeyServer(int port, Path keyFile) throws Exception {
        KeyServer.Builder b = KeyServer.builder().listen(new InetSocketAddress("127.0.0.1", port))
                .tls(pki.path("keyserver.pem"), pki.path("keyserver.key"), pki.path("ca.pem")).workerThreads(2);
        if (keyFile != null) {
            b.addKeyFile(keyFile);
        } else {
            b.addKeyDirectory(pki.keysDir);
        }
        return b.start();
    }

    private static KeylessClient newClient(int port, Duration timeout) throws IOException {
        return KeylessClient.builder().remote("127.0.0.1", port).serverName("localhost")
                .tls(pki.path("gateway.pem"), pki.path("gateway.key"), pki.path("ca.pem"))
                .requestTimeout(timeout).backoff(Duration.ofMillis(50), Duration.ofMillis(300)).start();
    }

    private static javax.net.ssl.TrustManager[] trustCa() throws Exception {
        java.security.KeyStore ts = java.security.KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("ca", PemKeys.readCertificates(pki.path("ca.pem")).get(0));
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(ts);
        return tmf.getTrustManagers();
    }

    /** One full handshake (fresh JDK context, so no resumption) and a line echoed through the gateway. */
    private static String jdkEcho(String cert, int port, String protocol) throws Exception {
        SSLContext ctx = pki.trusting(cert);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.setEnabledProtocols(new String[] {protocol});
            s.startHandshake();
            assertEquals(protocol, s.getSession().getProtocol());
            OutputStream os = s.getOutputStream();
            os.write("ping\n".getBytes(StandardCharsets.US_ASCII));
            os.flush();
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }

    private static String plainEcho(int port, String line) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }

    /** openssl s_client verifying the certificate, sending "ping"; asserts it got the echo back. */
    private static String sClient(String cert, int port, String... extra) throws Exception {
        String out = sClientRaw(cert, port, extra);
        assertTrue(out.contains("Verification: OK"), out);
        assertTrue(out.contains("echo:ping"), out);
        return out;
    }

    private static String sClientRaw(String cert, int port, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                "-servername", "localhost", "-CAfile", pki.cert(cert).toString(), "-verify_return_error",
                "-brief", "-ign_eof"));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getInputStream().readAllBytes();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, BLOCKING);
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("openssl s_client hung: " + cmd);
        }
        return new String(out.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8);
    }

    private static void waitFor(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting: " + what);
            }
            Thread.sleep(10);
        }
    }

    private static String causeChain(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c).append(" <- ");
        }
        return sb.toString();
    }

    private static String javaBin() {
        return ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private static void drain(BufferedReader r) {
        try {
            while (r.readLine() != null) {
                // keep the child's pipe from filling
            }
        } catch (IOException ignored) {
            // process ended
        }
    }
}
