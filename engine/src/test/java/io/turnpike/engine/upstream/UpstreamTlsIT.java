package io.turnpike.engine.upstream;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ResourceLeakDetector;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS to upstreams ({@code scheme: https}) against real TLS backends on 127.0.0.1 (Netty servers on the JDK's TLS
 * stack, an implementation independent of the gateway's BoringSSL), with certificates made by the openssl CLI.
 */
class UpstreamTlsIT {
    @TempDir
    static Path certs;
    @TempDir
    Path dir;

    static Pem ca;
    static Pem otherCa;
    static Pem server;
    static Pem client;

    static TlsBackend plain;      // TLS, no client certificate asked
    static TlsBackend mutual;     // TLS, client certificate required (issued by ca)

    record Pem(String cert, String key, Path certFile, Path keyFile) {
    }

    @BeforeAll
    static void setUp() throws Exception {
        ca = makeCa("ca", "Upstream Test CA");
        otherCa = makeCa("other-ca", "Some Other CA");
        server = leaf("server", "/CN=upstream.test", "subjectAltName=DNS:upstream.test,IP:127.0.0.1");
        client = leaf("client", "/CN=turnpike-client", "extendedKeyUsage=clientAuth");
        plain = new TlsBackend(false);
        mutual = new TlsBackend(true);
    }

    @AfterAll
    static void tearDown() {
        plain.close();
        mutual.close();
    }

    // ------------------------------------------------------------------------------------------------ tests

    /** traffic-split to an inline {@code scheme: https} upstream from a route whose own upstream is plain HTTP. */
    @Test
    void trafficSplitToAnHttpsUpstreamFromAPlainRoute() throws Exception {
        try (io.turnpike.engine.testing.TestBackend http = new io.turnpike.engine.testing.TestBackend()) {
            String routes = "routes:\n  - id: split\n    uri: /*\n    plugins:\n      traffic-split:\n"
                    + "        rules:\n          - match:\n              - vars: [[\"http_tls\", \"==\", \"yes\"]]\n"
                    + "            weighted_upstreams:\n              - upstream:\n                  scheme: https\n"
                    + "                  nodes:\n                    \"127.0.0.1:" + plain.port + "\": 1\n"
                    + "    upstream:\n      nodes:\n        \"127.0.0.1:" + http.port() + "\": 1\n";
            try (GatewayFixture gw = GatewayFixture.start(dir, routes, "  event_loops: 1\n");
                 RawHttpClient c = gw.client()) {
                RawHttpClient.Response r = c.exchange("GET /t HTTP/1.1\r\nHost: 127.0.0.1\r\nTLS: yes\r\n\r\n");
                assertEquals(200, r.status(), r.bodyText());
                assertTrue(r.bodyText().startsWith("ok:/t ") && r.bodyText().contains("alpn=http/1.1"), r.bodyText());
                r = c.exchange("GET /p HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                assertEquals(200, r.status());
                assertEquals("ok:/p", r.bodyText(), "the route's own plain upstream");
            }
        }
    }

    @Test
    void httpsUpstreamKeepsOneTlsConnectionForManyRequests() throws Exception {
        int before = plain.connections.get();
        String routes = "routes:\n" + route("r1", "/*", plain.port, "", "");
        try (GatewayFixture gw = GatewayFixture.start(dir, routes, "  event_loops: 1\n");
             RawHttpClient c = gw.client()) {
            for (int i = 0; i < 20; i++) {
                RawHttpClient.Response r = c.exchange("GET /k" + i + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                assertEquals(200, r.status(), r.bodyText());
                assertTrue(r.bodyText().startsWith("ok:/k" + i + " "), r.bodyText());
                // An IP literal is never sent as SNI.
                assertTrue(r.bodyText().contains("sni=-"), r.bodyText());
                assertTrue(r.bodyText().contains("alpn=http/1.1"), r.bodyText());
            }
            // A second client connection reuses the pooled TLS connection too.
            try (RawHttpClient c2 = gw.client()) {
                assertEquals(200, c2.exchange("GET /again HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status());
            }
            assertEquals(1, plain.connections.get() - before, "upstream TLS connections");
            assertEquals(1, counter(gw, LoopCounters.UPSTREAM_CONNECTIONS_OPENED));
            assertEquals(20, counter(gw, LoopCounters.UPSTREAM_CONNECTIONS_REUSED));
        }
    }

    @Test
    void sniFollowsPassHost() throws Exception {
        String routes = "routes:\n"
                + route("rewrite", "/rw/*", plain.port, "      pass_host: rewrite\n      upstream_host: Upstream.Test\n", "")
                + route("pass", "/pass/*", plain.port, "", "");
        try (GatewayFixture gw = GatewayFixture.start(dir, routes, "  event_loops: 1\n");
             RawHttpClient c = gw.client()) {
            RawHttpClient.Response r = c.exchange("GET /rw/x HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertEquals(200, r.status());
            assertTrue(r.bodyText().contains("sni=upstream.test "), r.bodyText());
            assertTrue(r.bodyText().contains("host=Upstream.Test"), r.bodyText());
            r = c.exchange("GET /pass/a HTTP/1.1\r\nHost: a.example:9080\r\n\r\n");
            assertTrue(r.bodyText().contains("sni=a.example "), r.bodyText());
            int conns = plain.connections.get();
            // pass_host pass: a pooled connection is reused for the same host only (case-insensitive, port ignored).
            r = c.exchange("GET /pass/b HTTP/1.1\r\nHost: A.EXAMPLE\r\n\r\n");
            assertTrue(r.bodyText().contains("sni=a.example "), r.bodyText());
            assertEquals(conns, plain.connections.get());
            r = c.exchange("GET /pass/c HTTP/1.1\r\nHost: b.example\r\n\r\n");
            assertTrue(r.bodyText().contains("sni=b.example "), r.bodyText());
            assertEquals(conns + 1, plain.connections.get());
            r = c.exchange("GET /pass/d HTTP/1.1\r\nHost: a.example\r\n\r\n");
            assertTrue(r.bodyText().contains("sni=a.example "), r.bodyText());
            assertEquals(conns + 1, plain.connections.get(), "the a.example connection is found deeper in the pool");
        }
    }

    @Test
    void verifyAgainstTheConfiguredCaAndHostName() throws Exception {
        String right = "      tls:\n        verify: true\n        ca: " + block(ca.cert(), 10);
        String wrong = "      tls:\n        verify: true\n        ca: " + block(otherCa.cert(), 10);
        String routes = "routes:\n"
                + route("ok", "/ok/*", plain.port, "      pass_host: rewrite\n      upstream_host: upstream.test\n", right)
                + route("ip", "/ip/*", plain.port, "      pass_host: node\n", right)
                + route("badca", "/badca/*", plain.port, "      pass_host: rewrite\n      upstream_host: upstream.test\n", wrong)
                + route("badname", "/badname/*", plain.port, "      pass_host: rewrite\n      upstream_host: wrong.test\n", right)
                + route("noca", "/noca/*", plain.port, "      pass_host: rewrite\n      upstream_host: upstream.test\n",
                "      tls:\n        verify: true\n");
        try (GatewayFixture gw = GatewayFixture.start(dir, routes, "  event_loops: 1\n");
             RawHttpClient c = gw.client()) {
            assertEquals(200, c.exchange("GET /ok/1 HTTP/1.1\r\nHost: x\r\n\r\n").status());
            // The IP SAN verifies a node addressed by IP (no SNI sent).
            assertEquals(200, c.exchange("GET /ip/1 HTTP/1.1\r\nHost: x\r\n\r\n").status());
            for (String path : new String[] {"/badca/1", "/badname/1", "/noca/1"}) {
                RawHttpClient.Response r = c.exchange("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(502, r.status(), path);
                assertEquals("application/json", r.header("content-type"));
                assertEquals("{\"error_msg\":\"upstream TLS handshake failed\"}\n", r.bodyText(), path);
            }
            assertEquals(3, counter(gw, LoopCounters.ERROR_BASE + GatewayError.UPSTREAM_TLS_HANDSHAKE_FAILED.ordinal()));
            // The client connection is kept after a 502 for a complete request.
            assertEquals(200, c.exchange("GET /ok/2 HTTP/1.1\r\nHost: x\r\n\r\n").status());
        }
    }

    @Test
    void clientCertificateInlineAndById() throws Exception {
        String inline = "      tls:\n        client_cert: " + block(client.cert(), 10)
                + "        client_key: " + block(client.key(), 10);
        String routes = "routes:\n"
                + route("inline", "/inline/*", mutual.port, "", inline)
                + route("byid", "/byid/*", mutual.port, "", "      tls:\n        client_cert_id: \"cc\"\n")
                + route("none", "/none/*", mutual.port, "", "")
                + "ssls:\n"
                + "  - id: cc\n"
                + "    type: client\n"
                + "    cert: " + block(client.cert(), 6)
                + "    key: " + block(client.key(), 6);
        try (GatewayFixture gw = GatewayFixture.start(dir, routes, "  event_loops: 1\n");
             RawHttpClient c = gw.client()) {
            for (String p : new String[] {"/inline/1", "/byid/1", "/inline/2", "/byid/2"}) {
                RawHttpClient.Response r = c.exchange("GET " + p + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, r.status(), p + ": " + r.bodyText());
                assertTrue(r.bodyText().contains("client=CN=turnpike-client"), r.bodyText());
            }
            RawHttpClient.Response r = c.exchange("GET /none/1 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(502, r.status(), r.bodyText());
            assertEquals("{\"error_msg\":\"upstream TLS handshake failed\"}\n", r.bodyText());
        }
    }

    @Test
    void missingClientCertIdLeavesTheUpstreamOut() throws Exception {
        String routes = "routes:\n"
                + route("byid", "/byid/*", mutual.port, "", "      tls:\n        client_cert_id: \"nope\"\n")
                + route("other", "/other/*", plain.port, "", "");
        try (GatewayFixture gw = GatewayFixture.start(dir, routes, "  event_loops: 1\n");
             RawHttpClient c = gw.client()) {
            assertEquals(404, c.exchange("GET /byid/1 HTTP/1.1\r\nHost: x\r\n\r\n").status());
            assertEquals(200, c.exchange("GET /other/1 HTTP/1.1\r\nHost: x\r\n\r\n").status());
        }
        java.util.List<String> warnings = new java.util.ArrayList<>();
        io.turnpike.config.standalone.LoadResult lr = loadRoutes(routes);
        new io.turnpike.engine.snapshot.SnapshotCompiler(io.turnpike.engine.loop.EngineSettings.defaults())
                .compile(lr.config(), warnings).upstreamTls.release();
        assertTrue(warnings.stream().anyMatch(w -> w.contains("tls.client_cert_id: ssl id [nope] not found")),
                warnings.toString());
    }

    @Test
    void tlsBackendWithSchemeHttpIs502() throws Exception {
        // A TLS server answering the plain-text request with a TLS alert record: not HTTP, so an invalid response.
        // (The JDK's and OpenSSL's servers just close instead: then it is an upstream reset, 502 as well.)
        try (ServerSocket alerting = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (java.net.Socket s = alerting.accept()) {
                    s.getInputStream().read(new byte[4096]);
                    // alert record: TLS 1.2, length 2, fatal (2), protocol_version (70)
                    s.getOutputStream().write(new byte[] {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46});
                    s.getOutputStream().flush();
                    Thread.sleep(200);
                } catch (Exception e) {
                    // test over
                }
            });
            t.setDaemon(true);
            t.start();
            String routes = "routes:\n"
                    + "  - id: jdk\n    uri: /jdk/*\n    upstream:\n      nodes:\n        \"127.0.0.1:" + plain.port + "\": 1\n"
                    + "  - id: alert\n    uri: /alert/*\n    upstream:\n      nodes:\n        \"127.0.0.1:"
                    + alerting.getLocalPort() + "\": 1\n";
            try (GatewayFixture gw = GatewayFixture.start(dir, routes, "  event_loops: 1\n");
                 RawHttpClient c = gw.client()) {
                RawHttpClient.Response r = c.exchange("GET /alert/x HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(502, r.status(), r.bodyText());
                assertEquals("{\"error_msg\":\"invalid upstream response\"}\n", r.bodyText());
                r = c.exchange("GET /jdk/x HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(502, r.status(), r.bodyText());
                assertEquals("application/json", r.header("content-type"));
            }
        }
    }

    @Test
    void handshakeFailuresAreRetriedOnOtherNodes() throws Exception {
        try (TestBackend http = new TestBackend()) {
            // Node 1 speaks plain HTTP (the handshake fails), node 2 TLS: retries (default nodes - 1) cover every
            // request that picks node 1 first.
            String routes = "routes:\n  - id: r\n    uri: /*\n    upstream:\n      scheme: https\n"
                    + "      nodes:\n        \"127.0.0.1:" + http.port() + "\": 1\n        \"127.0.0.1:" + plain.port
                    + "\": 1\n";
            UpstreamTls tls;
            try (GatewayFixture gw = GatewayFixture.start(dir, routes, "  event_loops: 1\n")) {
                tls = gw.running.server.loops().get(0).eventLoop.submit(
                        () -> gw.running.server.loops().get(0).snapshot().targets[0].tls).get();
                for (int i = 0; i < 6; i++) {
                    try (RawHttpClient c = gw.client()) {
                        RawHttpClient.Response r = c.exchange("GET /r" + i + " HTTP/1.1\r\nHost: x\r\n\r\n");
                        assertEquals(200, r.status(), r.bodyText());
                    }
                }
                assertTrue(ProxyCounters.retries(gw) >= 3, "retries " + ProxyCounters.retries(gw));
                assertEquals(0, counter(gw, LoopCounters.ERROR_BASE
                        + GatewayError.UPSTREAM_TLS_HANDSHAKE_FAILED.ordinal()), "no request saw the failure");
            }
            assertEquals(0, tls.context.refCnt(), "the context is released when the gateway closes");
        }
    }

    @Test
    void handshakeIsBoundedByTheConnectTimeout() throws Exception {
        // Accepts TCP (the kernel's backlog) and never answers the ClientHello.
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            String routes = "routes:\n  - id: r\n    uri: /*\n    upstream:\n      scheme: https\n"
                    + "      timeout:\n        connect: 0.5\n        send: 5\n        read: 5\n"
                    + "      nodes:\n        \"127.0.0.1:" + silent.getLocalPort() + "\": 1\n";
            try (GatewayFixture gw = GatewayFixture.start(dir, routes, "  event_loops: 1\n");
                 RawHttpClient c = gw.client()) {
                long t0 = System.nanoTime();
                RawHttpClient.Response r = c.exchange("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertEquals(502, r.status());
                assertEquals("{\"error_msg\":\"upstream TLS handshake failed\"}\n", r.bodyText());
                assertTrue(ms >= 400 && ms < 2500, "took " + ms + " ms");
            }
        }
    }

    @Test
    void contextsAreSharedPerConfigurationReusedAcrossSnapshotsAndReleased() throws Exception {
        io.turnpike.engine.snapshot.SnapshotCompiler sc =
                new io.turnpike.engine.snapshot.SnapshotCompiler(io.turnpike.engine.loop.EngineSettings.defaults());
        java.util.List<String> warnings = new java.util.ArrayList<>();
        String same = "routes:\n" + route("a", "/a/*", plain.port, "", "") + route("b", "/b/*", mutual.port, "", "");
        io.turnpike.engine.snapshot.Snapshot s1 = sc.compile(loadRoutes(same).config(), warnings);
        assertEquals(1, s1.upstreamTls.entries().size(), "one context for one distinct tls configuration");
        UpstreamTls t1 = s1.targets[0].tls;
        org.junit.jupiter.api.Assertions.assertSame(t1, s1.targets[1].tls);
        assertEquals(1, t1.context.refCnt());

        io.turnpike.engine.snapshot.Snapshot s2 = sc.compile(loadRoutes(same).config(), warnings);
        org.junit.jupiter.api.Assertions.assertSame(t1, s2.targets[0].tls, "unchanged: the context is reused");
        assertEquals(2, t1.context.refCnt());
        assertEquals(s1.nodes[0].poolKey, s2.nodes[0].poolKey, "and so are the pools");
        s1.upstreamTls.release();
        assertEquals(1, t1.context.refCnt());

        String changed = "routes:\n" + route("a", "/a/*", plain.port, "",
                "      tls:\n        verify: true\n        ca: " + block(ca.cert(), 10));
        io.turnpike.engine.snapshot.Snapshot s3 = sc.compile(loadRoutes(changed).config(), warnings);
        UpstreamTls t3 = s3.targets[0].tls;
        org.junit.jupiter.api.Assertions.assertNotSame(t1, t3);
        org.junit.jupiter.api.Assertions.assertNotEquals(s2.nodes[0].poolKey, s3.nodes[0].poolKey,
                "connections made with the old configuration are never reused by the new one");
        s2.upstreamTls.release();
        assertEquals(0, t1.context.refCnt(), "released once the snapshots holding it are replaced");
        s3.upstreamTls.release();
        assertEquals(0, t3.context.refCnt());
        assertTrue(warnings.isEmpty(), warnings.toString());
    }

    /** Like SteadyStateAllocationIT, on an HTTPS upstream: reports the loop's bytes per request. */
    @Test
    void steadyStateAllocationOnAnHttpsUpstream() throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            String routes = "routes:\n" + route("r1", "/*", plain.port, "", "");
            try (GatewayFixture gw = GatewayFixture.start(dir, routes,
                    "  event_loops: 1\n  upstream_max_requests: 1000000\n")) {
                LoopContext loop = gw.running.server.loops().get(0);
                long tid = loop.eventLoop.submit(() -> Thread.currentThread().getId()).get(5, TimeUnit.SECONDS);
                com.sun.management.ThreadMXBean threads =
                        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                byte[] request = "GET /steady HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                int length;
                try (RawHttpClient probe = gw.client()) {
                    RawHttpClient.Response r = probe.exchange(new String(request, StandardCharsets.US_ASCII));
                    assertEquals(200, r.status());
                    length = r.statusLine().length() + 2 + 2 + r.body().length;
                    for (var e : r.headers().entrySet()) {
                        for (String v : e.getValue()) {
                            length += e.getKey().length() + 2 + v.length() + 2;
                        }
                    }
                }
                int warmup = Integer.getInteger("upstreamTls.warmup", 10_000);
                int measured = Integer.getInteger("upstreamTls.measured", 20_000);
                try (RawHttpClient c = gw.client()) {
                    InputStream in = c.socket().getInputStream();
                    OutputStream out = c.socket().getOutputStream();
                    byte[] response = new byte[length];
                    run(in, out, request, response, warmup);
                    long before = threads.getThreadAllocatedBytes(tid);
                    long t0 = System.nanoTime();
                    run(in, out, request, response, measured);
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    long after = threads.getThreadAllocatedBytes(tid);
                    double perRequest = (after - before) / (double) measured;
                    System.out.printf("event-loop allocation, HTTPS upstream: %.1f bytes/request over %d requests"
                            + " (%d ms)%n", perRequest, measured, ms);
                    assertTrue(new String(response, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200 OK"));
                    assertEquals(1, counter(gw, LoopCounters.UPSTREAM_CONNECTIONS_OPENED));
                    // Budget for the TLS layer's own per-flush objects (see docs/tls.md, "Upstream TLS").
                    assertTrue(perRequest <= 512.0, "event loop allocated " + perRequest + " bytes per request");
                }
            }
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static void run(InputStream in, OutputStream out, byte[] request, byte[] response, int count)
            throws IOException {
        for (int i = 0; i < count; i++) {
            out.write(request);
            out.flush();
            int read = 0;
            while (read < response.length) {
                int n = in.read(response, read, response.length - read);
                if (n < 0) {
                    throw new IllegalStateException("closed after " + i + " requests");
                }
                read += n;
            }
        }
    }

    private static long counter(GatewayFixture gw, int slot) {
        long s = 0;
        for (LoopContext l : gw.running.server.loops()) {
            s += l.counters.get(slot);
        }
        return s;
    }

    private io.turnpike.config.standalone.LoadResult loadRoutes(String routes) throws IOException {
        Path f = dir.resolve("check.yaml");
        Files.writeString(f, routes + "\n#END\n");
        return io.turnpike.config.standalone.StandaloneFileLoader.load(f);
    }

    /** One https route (indent 2) to 127.0.0.1:port; {@code extra} and {@code tls} are upstream fields (indent 6). */
    private static String route(String id, String uri, int port, String extra, String tls) {
        return "  - id: " + id + "\n    uri: " + uri + "\n    upstream:\n      scheme: https\n" + extra + tls
                + "      nodes:\n        \"127.0.0.1:" + port + "\": 1\n";
    }

    private static String block(String pem, int indent) {
        String pad = " ".repeat(indent);
        StringBuilder sb = new StringBuilder("|\n");
        for (String line : pem.strip().split("\n")) {
            sb.append(pad).append(line).append('\n');
        }
        return sb.toString();
    }

    private static String openssl(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "openssl";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).directory(certs.toFile()).redirectErrorStream(true)
                .redirectInput(new File("/dev/null")).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    private static Pem makeCa(String name, String cn) throws Exception {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".crt", "-subj", "/CN=" + cn, "-days", "3");
        return read(name);
    }

    /** EC leaf signed by {@code ca}, with the given X.509 v3 extension line. */
    private static Pem leaf(String name, String subject, String ext) throws Exception {
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name + ".key"); // PKCS#8
        openssl("req", "-new", "-key", name + ".key", "-subj", subject, "-out", name + ".csr");
        Files.writeString(certs.resolve(name + ".ext"), ext + "\n");
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "3", "-extfile", name + ".ext", "-out", name + ".crt");
        return read(name);
    }

    private static Pem read(String name) throws IOException {
        Path c = certs.resolve(name + ".crt");
        Path k = certs.resolve(name + ".key");
        return new Pem(Files.readString(c), Files.readString(k), c, k);
    }

    /**
     * An HTTPS/1.1 backend on the JDK's TLS stack. Answers {@code ok:<path> sni=<SNI or -> client=<client subject
     * or -> alpn=<protocol> host=<Host>}.
     */
    static final class TlsBackend implements AutoCloseable {
        final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final Channel channel;
        final int port;
        final AtomicInteger connections = new AtomicInteger();

        TlsBackend(boolean requireClientCert) throws Exception {
            SslContextBuilder b = SslContextBuilder.forServer(server.certFile().toFile(), server.keyFile().toFile())
                    .sslProvider(SslProvider.JDK)
                    .applicationProtocolConfig(new io.netty.handler.ssl.ApplicationProtocolConfig(
                            io.netty.handler.ssl.ApplicationProtocolConfig.Protocol.ALPN,
                            io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            "http/1.1"));
            if (requireClientCert) {
                b.trustManager(ca.certFile().toFile()).clientAuth(ClientAuth.REQUIRE);
            }
            SslContext ctx = b.build();
            channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            connections.incrementAndGet();
                            SslHandler ssl = ctx.newHandler(ch.alloc());
                            ch.pipeline().addLast(ssl, new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                    new Answer(ssl));
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            port = ((InetSocketAddress) channel.localAddress()).getPort();
        }

        @Override
        public void close() {
            channel.close().awaitUninterruptibly();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    static final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final SslHandler ssl;

        Answer(SslHandler ssl) {
            this.ssl = ssl;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            SSLSession s = ssl.engine().getSession();
            String sni = "-";
            if (s instanceof ExtendedSSLSession e) {
                for (SNIServerName n : e.getRequestedServerNames()) {
                    if (n instanceof SNIHostName h) {
                        sni = h.getAsciiName();
                    }
                }
            }
            String clientSubject = "-";
            try {
                clientSubject = ((X509Certificate) s.getPeerCertificates()[0]).getSubjectX500Principal().getName();
            } catch (SSLPeerUnverifiedException e) {
                // no client certificate
            }
            String body = "ok:" + req.uri() + " sni=" + sni + " client=" + clientSubject + " alpn="
                    + ssl.applicationProtocol() + " host=" + req.headers().get(HttpHeaderNames.HOST);
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            HttpUtil.setContentLength(resp, resp.content().readableBytes());
            HttpUtil.setKeepAlive(resp, HttpUtil.isKeepAlive(req));
            ctx.writeAndFlush(resp);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // handshake failures are what several tests provoke
        }
    }
}
