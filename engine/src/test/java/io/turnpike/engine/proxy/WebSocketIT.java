package io.turnpike.engine.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
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
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ResourceLeakDetector;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * WebSocket proxying end to end over loopback: a real WebSocket server (Netty's {@link WebSocketServerProtocolHandler})
 * behind the gateway and the JDK's {@link java.net.http.WebSocket} client in front; raw sockets where the test needs
 * exact bytes (a 101 to a plain request, refused upgrades, the allocation count).
 */
class WebSocketIT {
    @TempDir
    static Path dir;
    static WsBackend backend;
    static Bad101Backend bad101;
    static GatewayFixture gw;
    static HttpClient http;
    /** Trusts the HTTPS listener's self-signed certificate. */
    static HttpClient https;

    @BeforeAll
    static void start() throws Exception {
        backend = new WsBackend();
        bad101 = new Bad101Backend();
        // A self-signed certificate for the HTTPS listener (wss): the client connects to 127.0.0.1 (no SNI), the
        // listener's fallback_sni picks it.
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ws.key", "-out", "ws.crt", "-subj",
                "/CN=ws.test", "-addext", "subjectAltName=DNS:ws.test,IP:127.0.0.1", "-days", "2")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String opensslOut = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, opensslOut);
        String cert = Files.readString(dir.resolve("ws.crt"));
        String key = Files.readString(dir.resolve("ws.key"));
        gw = GatewayFixture.start(dir, ""
                + "ssls:\n"
                + "  - id: ws\n"
                + "    snis: [\"ws.test\"]\n"
                + "    cert: " + block(cert) + ""
                + "    key: " + block(key) + ""
                + "services:\n"
                + "  - id: \"svc-ws\"\n"
                + "    enable_websocket: true\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + backend.port() + "\": 1\n"
                + "routes:\n"
                + "  - id: \"ws\"\n"
                + "    uri: /ws/*\n"
                + "    enable_websocket: true\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + backend.port() + "\": 1\n"
                + "  - id: \"plain\"\n"
                + "    uri: /plain/*\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + backend.port() + "\": 1\n"
                + "  - id: \"via-service\"\n"
                + "    uri: /svc/*\n"
                + "    service_id: \"svc-ws\"\n"
                + "  - id: \"service-overridden\"\n"
                + "    uri: /off/*\n"
                + "    service_id: \"svc-ws\"\n"
                + "    enable_websocket: false\n"
                + "  - id: \"idle\"\n"
                + "    uri: /idle/*\n"
                + "    enable_websocket: true\n"
                + "    timeout:\n"
                + "      connect: 2\n"
                + "      send: 2\n"
                + "      read: 1\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + backend.port() + "\": 1\n"
                + "  - id: \"edit\"\n"
                + "    uri: /edit/*\n"
                + "    enable_websocket: true\n"
                + "    plugins:\n"
                + "      response-rewrite:\n"
                + "        headers:\n"
                + "          set:\n"
                + "            X-Served-By: turnpike\n"
                + "      file-logger:\n"
                + "        path: " + dir.resolve("edit-file-logger.log") + "\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + bad101.port() + "\": 1\n"
                + "  - id: \"bad101\"\n"
                + "    uri: /bad/*\n"
                + "    enable_websocket: true\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + bad101.port() + "\": 1\n",
                "  ssl:\n    listen:\n      - port: 9443\n        fallback_sni: ws.test\n",
                "  event_loops: 1\n  access_log:\n    path: " + dir.resolve("ws-access.log")
                        + "\n    format: \"$status $request_length $bytes_sent $request_uri\"\n");
        http = HttpClient.newHttpClient();
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ws", java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(cert.getBytes(StandardCharsets.US_ASCII))));
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        https = HttpClient.newBuilder().sslContext(tls).build();
    }

    private static String block(String pem) {
        StringBuilder sb = new StringBuilder("|\n");
        for (String line : pem.strip().split("\n")) {
            sb.append("      ").append(line).append('\n');
        }
        return sb.toString();
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        if (backend != null) {
            backend.close();
        }
        if (bad101 != null) {
            bad101.close();
        }
    }

    // ------------------------------------------------------------------ through the JDK client

    @Test
    void echoesTextAndBinaryMessages() throws Exception {
        Client c = Client.open(uri("/ws/echo"));
        c.ws.sendText("hello through the gateway", true).get(5, TimeUnit.SECONDS);
        assertEquals("hello through the gateway", c.nextText());
        byte[] bin = new byte[1000];
        ThreadLocalRandom.current().nextBytes(bin);
        c.ws.sendBinary(ByteBuffer.wrap(bin), true).get(5, TimeUnit.SECONDS);
        assertArrayEquals(bin, c.nextBinary());
        // the Sec-WebSocket-* headers and the upgrade reached the backend, as any header
        assertEquals("websocket", backend.lastUpgrade.get());
        c.closeNormally();
    }

    @Test
    void secureWebSocketThroughTheHttpsListener() throws Exception {
        Client c = Client.open(https, URI.create("wss://127.0.0.1:" + gw.httpsPorts().get(0) + "/ws/tls"));
        c.ws.sendText("over tls", true).get(5, TimeUnit.SECONDS);
        assertEquals("over tls", c.nextText());
        byte[] big = new byte[1 << 20];
        ThreadLocalRandom.current().nextBytes(big);
        c.ws.sendBinary(ByteBuffer.wrap(big), true).get(30, TimeUnit.SECONDS);
        assertArrayEquals(big, c.nextBinary());
        c.closeNormally();
    }

    @Test
    void routeInheritsEnableWebsocketFromItsService() throws Exception {
        Client c = Client.open(uri("/svc/echo"));
        c.ws.sendText("via service", true).get(5, TimeUnit.SECONDS);
        assertEquals("via service", c.nextText());
        c.closeNormally();
    }

    @Test
    void largeMessagesWithASlowReader() throws Exception {
        Client c = Client.open(uri("/ws/large"));
        c.slowReader = true;
        byte[] big = new byte[4 << 20];
        ThreadLocalRandom.current().nextBytes(big);
        for (int round = 0; round < 2; round++) {
            c.ws.sendBinary(ByteBuffer.wrap(big), true).get(30, TimeUnit.SECONDS);
            byte[] back = c.nextBinary();
            assertEquals(big.length, back.length);
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(big),
                    MessageDigest.getInstance("SHA-256").digest(back));
        }
        c.closeNormally();
    }

    @Test
    void pingIsAnsweredWithPong() throws Exception {
        Client c = Client.open(uri("/ws/ping"));
        c.ws.sendPing(ByteBuffer.wrap("are you there".getBytes(StandardCharsets.UTF_8))).get(5, TimeUnit.SECONDS);
        assertEquals("are you there", c.pongs.poll(5, TimeUnit.SECONDS));
        c.closeNormally();
    }

    @Test
    void closeHandshakeFromTheClientAndFromTheServer() throws Exception {
        long before = ProxyTestSupport.counter(gw, "responses");
        Client c = Client.open(uri("/ws/close"));
        c.ws.sendText("one", true).get(5, TimeUnit.SECONDS);
        assertEquals("one", c.nextText());
        c.closeNormally(); // client sends Close 1000, the server answers Close 1000 through the tunnel
        // the server begins: Close 1001 reaches the client
        Client s = Client.open(uri("/ws/close2"));
        s.ws.sendText("close-me", true).get(5, TimeUnit.SECONDS);
        assertEquals(1001, s.closed.get(5, TimeUnit.SECONDS));
        // each tunnel counts as one exchange, completed once it closed
        ProxyTestSupport.awaitCounter(gw, "responses", before + 2);
        assertTrue(io.turnpike.engine.logs.LogWriter.flushIfStarted(10_000));
        List<String> lines = Files.readAllLines(dir.resolve("ws-access.log"));
        String line = lines.stream().filter(l -> l.endsWith(" /ws/close")).findFirst().orElse(null);
        assertNotNull(line, "access log: " + lines);
        String[] f = line.split(" ");
        assertEquals("101", f[0], line);
        assertTrue(Long.parseLong(f[1]) > 200, "request bytes include the tunnelled client bytes: " + line);
        assertTrue(Long.parseLong(f[2]) > 129 + 5, "response bytes include the tunnelled server bytes: " + line);
        assertEquals(1, lines.stream().filter(l -> l.endsWith(" /ws/close")).count(), "logged once: " + lines);
    }

    @Test
    void idleTunnelIsClosedOnBothSidesAfterTheReadTimeout() throws Exception {
        int openBefore = backend.open.size();
        Client c = Client.open(uri("/idle/x"));
        c.ws.sendText("ping once", true).get(5, TimeUnit.SECONDS);
        assertEquals("ping once", c.nextText());
        long t0 = System.nanoTime();
        Object end = c.ended.get(10, TimeUnit.SECONDS); // read timeout 1 s (+ a 100 ms sweeper tick)
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 900, "closed after the idle timeout, not before: " + ms + " ms, " + end);
        assertTrue(ProxyTestSupport.waitFor(() -> backend.open.size() <= openBefore, 5000),
                "the backend side was closed too");
    }

    @Test
    void backendKilledMidTunnelClosesTheClient() throws Exception {
        Client c = Client.open(uri("/ws/kill"));
        c.ws.sendText("before", true).get(5, TimeUnit.SECONDS);
        assertEquals("before", c.nextText());
        c.ws.sendText("kill", true).get(5, TimeUnit.SECONDS); // the backend resets its socket
        assertNotNull(c.ended.get(5, TimeUnit.SECONDS));
    }

    // ------------------------------------------------------------------ raw bytes

    @Test
    void clientResetMidTunnelClosesTheUpstream() throws Exception {
        // By identity, not by count: pooled connections of other tests may close (idle timeout) meanwhile.
        java.util.Set<io.netty.channel.Channel> openBefore = java.util.Set.copyOf(backend.open);
        long before = ProxyTestSupport.counter(gw, "responses");
        Socket s = new Socket("127.0.0.1", gw.port);
        s.setSoTimeout(5000);
        s.getOutputStream().write(("GET /ws/reset HTTP/1.1\r\n" + HANDSHAKE + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        assertTrue(readHead(s.getInputStream()).startsWith("HTTP/1.1 101 "));
        java.util.concurrent.atomic.AtomicReference<io.netty.channel.Channel> tunnel =
                new java.util.concurrent.atomic.AtomicReference<>();
        assertTrue(ProxyTestSupport.waitFor(() -> {
            for (io.netty.channel.Channel c : backend.open) {
                if (!openBefore.contains(c)) {
                    tunnel.set(c);
                    return true;
                }
            }
            return false;
        }, 5000), "the tunnel's upstream connection");
        s.setSoLinger(true, 0);
        s.close(); // RST: the gateway sees an I/O error on the client side
        assertTrue(ProxyTestSupport.waitFor(() -> !backend.open.contains(tunnel.get()), 5000),
                "the upstream side of the tunnel was closed");
        ProxyTestSupport.awaitCounter(gw, "responses", before + 1);
    }

    private static final String HANDSHAKE = "Host: gw\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    @Test
    void routeWithoutEnableWebsocketDoesNotSwitch() throws Exception {
        for (String path : List.of("/plain/ws", "/off/ws")) {
            try (RawHttpClient c = gw.client()) {
                RawHttpClient.Response r = c.exchange("GET " + path + " HTTP/1.1\r\n" + HANDSHAKE + "\r\n");
                assertEquals(200, r.status(), path);
                assertEquals("upgrade=none", r.bodyText(), "Upgrade stripped as hop-by-hop, as nginx does: " + path);
                // still HTTP on the same connection
                assertEquals(200, c.exchange("GET /plain/again HTTP/1.1\r\nHost: gw\r\n\r\n").status());
            }
        }
    }

    @Test
    void upgradeWithABodyOrOverHttp10IsAPlainRequest() throws Exception {
        try (RawHttpClient c = gw.client()) {
            RawHttpClient.Response r = c.exchange("GET /ws/h HTTP/1.1\r\n" + HANDSHAKE
                    + "Content-Length: 3\r\n\r\nabc");
            assertEquals(400, r.status(), "the backend's answer to a handshake without Upgrade: " + r.bodyText());
        }
        try (RawHttpClient c = gw.client()) {
            RawHttpClient.Response r = c.exchange("GET /ws/h HTTP/1.0\r\n" + HANDSHAKE + "\r\n");
            assertEquals(400, r.status(), r.bodyText());
        }
    }

    @Test
    void nonSwitchingAnswerToAnUpgradeKeepsTheConnectionHttp() throws Exception {
        try (RawHttpClient c = gw.client()) {
            // the upgrade reaches the backend, which answers 200 without switching: the connection goes on as HTTP
            RawHttpClient.Response r = c.exchange("GET /ws/noswitch HTTP/1.1\r\n" + HANDSHAKE + "\r\n");
            assertEquals(200, r.status());
            assertEquals("upgrade=websocket", r.bodyText());
            assertEquals(200, c.exchange("GET /plain/again HTTP/1.1\r\nHost: gw\r\n\r\n").status());
        }
    }

    @Test
    void switchingProtocolsToAPlainRequestIsABadGateway() throws Exception {
        try (RawHttpClient c = gw.client()) {
            ProxyTestSupport.assertJsonError(c.exchange("GET /bad/x HTTP/1.1\r\nHost: gw\r\n\r\n"), 502);
        }
        // with the upgrade, the same 101 switches (the bad backend then echoes)
        try (Socket s = new Socket("127.0.0.1", gw.port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET /bad/x HTTP/1.1\r\n" + HANDSHAKE + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String head = readHead(s.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 101 "), head);
            assertTrue(head.toLowerCase().contains("\r\nupgrade: websocket\r\n"), head);
            assertTrue(head.toLowerCase().contains("\r\nconnection: upgrade\r\n"), head);
            s.getOutputStream().write("raw bytes".getBytes(StandardCharsets.US_ASCII));
            assertEquals("raw bytes", new String(s.getInputStream().readNBytes(9), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void pluginsHeaderEditsApplyToThe101() throws Exception {
        try (Socket s = new Socket("127.0.0.1", gw.port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET /edit/x HTTP/1.1\r\n" + HANDSHAKE + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String head = readHead(s.getInputStream()).toLowerCase();
            assertTrue(head.startsWith("http/1.1 101 "), head);
            assertTrue(head.contains("\r\nx-served-by: turnpike\r\n"), head);
            assertTrue(head.contains("\r\nconnection: upgrade\r\n"), head);
            s.getOutputStream().write("after".getBytes(StandardCharsets.US_ASCII));
            assertEquals("after", new String(s.getInputStream().readNBytes(5), StandardCharsets.US_ASCII));
            Thread.sleep(200);
            assertFalse(Files.exists(dir.resolve("edit-file-logger.log"))
                    && !Files.readAllLines(dir.resolve("edit-file-logger.log")).isEmpty(),
                    "the log phase waits for the tunnel's end");
        }
        // the plugins' log phase ran once, when the tunnel closed
        assertTrue(ProxyTestSupport.waitFor(() -> {
            try {
                return io.turnpike.engine.logs.LogWriter.flushIfStarted(1000)
                        && Files.exists(dir.resolve("edit-file-logger.log"))
                        && !Files.readAllLines(dir.resolve("edit-file-logger.log")).isEmpty();
            } catch (Exception e) {
                return false;
            }
        }, 5000));
        List<String> lines = Files.readAllLines(dir.resolve("edit-file-logger.log"));
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("\"response\":{\"status\":101,"), lines.get(0));
    }

    /**
     * The other direction: an upstream that does not read holds the client through the tunnel (client reads stop
     * while the upstream connection is unwritable); once it reads, every byte arrives.
     */
    @Test
    void backPressureHoldsTheClientWhileTheUpstreamDoesNotRead() throws Exception {
        long total = 64L << 20;
        try (Socket s = new Socket()) {
            s.setSendBufferSize(64 << 10);
            s.connect(new InetSocketAddress("127.0.0.1", gw.port));
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /bad/sink HTTP/1.1\r\n" + HANDSHAKE + "\r\n").getBytes(StandardCharsets.US_ASCII));
            assertTrue(readHead(s.getInputStream()).startsWith("HTTP/1.1 101 "));
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                byte[] chunk = new byte[65536];
                try {
                    for (long sent = 0; sent < total; sent += chunk.length) {
                        out.write(chunk);
                    }
                    s.shutdownOutput();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            long before = ProxyTestSupport.counter(gw, "bytes_in");
            Thread.sleep(1500);
            long mid1 = ProxyTestSupport.counter(gw, "bytes_in");
            Thread.sleep(500);
            long mid2 = ProxyTestSupport.counter(gw, "bytes_in");
            System.out.println("tunnel back-pressure: " + (mid2 - before) + " bytes read from a client toward an"
                    + " upstream that does not read, of " + total + " offered");
            assertTrue(mid2 - before < 16 << 20, "the gateway stopped reading the client: " + (mid2 - before));
            assertTrue(mid2 - mid1 < 1 << 20, "stalled: " + (mid2 - mid1));
            assertFalse(writer.isDone());
            bad101.sinkGo.countDown();
            writer.get(30, TimeUnit.SECONDS);
            assertEquals(total, bad101.sunk.get(30, TimeUnit.SECONDS), "every byte reached the upstream");
        }
    }

    /**
     * A client that stops reading holds the upstream through the tunnel: the gateway reads no more than about its
     * buffers meanwhile (the {@code bytes_out} counter stops), and once the client reads, every byte arrives before
     * the upstream's close is passed on (flush, then close).
     */
    @Test
    void backPressureHoldsTheUpstreamWhileTheClientDoesNotRead() throws Exception {
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(64 << 10);
            s.connect(new InetSocketAddress("127.0.0.1", gw.port));
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /bad/firehose HTTP/1.1\r\n" + HANDSHAKE + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertTrue(readHead(in).startsWith("HTTP/1.1 101 "));
            long before = ProxyTestSupport.counter(gw, "bytes_out");
            Thread.sleep(1500);
            long mid1 = ProxyTestSupport.counter(gw, "bytes_out");
            Thread.sleep(500);
            long mid2 = ProxyTestSupport.counter(gw, "bytes_out");
            assertTrue(mid2 - before < 16 << 20, "the gateway stopped reading the upstream: " + (mid2 - before)
                    + " bytes queued of " + Bad101Backend.FIREHOSE_BYTES);
            assertTrue(mid2 - mid1 < 1 << 20, "stalled: " + (mid2 - mid1));
            System.out.println("tunnel back-pressure: " + (mid2 - before) + " bytes queued toward a client that does"
                    + " not read, of " + Bad101Backend.FIREHOSE_BYTES + " offered");
            long got = 0;
            byte[] buf = new byte[65536];
            int n;
            while ((n = in.read(buf)) > 0) {
                got += n;
            }
            assertEquals(Bad101Backend.FIREHOSE_BYTES, got, "every byte, then the close");
        }
    }

    /**
     * Bytes allocated on the event loop per tunnelled chunk in the steady state (SteadyStateAllocationIT's method):
     * 1 KiB written by a raw client, echoed by the backend, read back, 100,000 times after a warm-up; each round trip
     * is two chunks through the tunnel.
     */
    @Test
    void tunnelledChunksAllocateNothingOnTheLoop() throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try (Socket s = new Socket("127.0.0.1", gw.port)) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(10_000);
            LoopContext loop = gw.running.server.loops().get(0);
            long loopThreadId = loop.eventLoop.submit(() -> Thread.currentThread().getId()).get(5, TimeUnit.SECONDS);
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(("GET /bad/alloc HTTP/1.1\r\n" + HANDSHAKE + "\r\n").getBytes(StandardCharsets.US_ASCII));
            assertTrue(readHead(in).startsWith("HTTP/1.1 101 "));
            byte[] chunk = new byte[1024];
            ThreadLocalRandom.current().nextBytes(chunk);
            byte[] back = new byte[chunk.length];
            roundTrips(in, out, chunk, back, 30_000);
            int measured = 100_000;
            long before = threads.getThreadAllocatedBytes(loopThreadId);
            long t0 = System.nanoTime();
            roundTrips(in, out, chunk, back, measured);
            long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
            long after = threads.getThreadAllocatedBytes(loopThreadId);
            double perChunk = (after - before) / (2.0 * measured);
            System.out.printf("tunnel event-loop allocation: %.3f bytes/chunk over %d chunks (%d bytes total, %d ms)%n",
                    perChunk, 2 * measured, after - before, elapsedMs);
            assertArrayEquals(chunk, back);
            assertTrue(perChunk <= 64.0, "event loop allocated " + perChunk + " bytes per tunnelled chunk");
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    private static void roundTrips(InputStream in, OutputStream out, byte[] chunk, byte[] back, int count)
            throws IOException {
        for (int i = 0; i < count; i++) {
            out.write(chunk);
            out.flush();
            int read = 0;
            while (read < back.length) {
                int n = in.read(back, read, back.length - read);
                if (n < 0) {
                    throw new IOException("closed after " + i);
                }
                read += n;
            }
        }
    }

    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            byte[] a = b.toByteArray();
            int n = a.length;
            if (n >= 4 && a[n - 4] == '\r' && a[n - 3] == '\n' && a[n - 2] == '\r' && a[n - 1] == '\n') {
                break;
            }
        }
        return b.toString(StandardCharsets.US_ASCII);
    }

    private static URI uri(String path) {
        return URI.create("ws://127.0.0.1:" + gw.port + path);
    }

    // ------------------------------------------------------------------ the JDK client side

    /** A JDK WebSocket with its messages collected (text, binary, pongs) and its end (close code or error). */
    static final class Client implements WebSocket.Listener {
        final LinkedBlockingQueue<Object> messages = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<String> pongs = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        final CompletableFuture<Object> ended = new CompletableFuture<>();
        final StringBuilder text = new StringBuilder();
        final ByteArrayOutputStream binary = new ByteArrayOutputStream();
        volatile boolean slowReader;
        WebSocket ws;

        static Client open(URI uri) throws Exception {
            return open(http, uri);
        }

        static Client open(HttpClient client, URI uri) throws Exception {
            Client c = new Client();
            c.ws = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5)).buildAsync(uri, c)
                    .get(10, TimeUnit.SECONDS);
            return c;
        }

        String nextText() throws InterruptedException {
            Object m = messages.poll(10, TimeUnit.SECONDS);
            assertTrue(m instanceof String, "a text message, got " + m);
            return (String) m;
        }

        byte[] nextBinary() throws InterruptedException {
            Object m = messages.poll(30, TimeUnit.SECONDS);
            assertTrue(m instanceof byte[], "a binary message, got " + m);
            return (byte[]) m;
        }

        void closeNormally() throws Exception {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
            assertEquals(WebSocket.NORMAL_CLOSURE, closed.get(5, TimeUnit.SECONDS));
        }

        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text.setLength(0);
            }
            w.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            binary.write(b, 0, b.length);
            if (last) {
                messages.add(binary.toByteArray());
                binary.reset();
            }
            if (slowReader) {
                // A slow reader: the next part is asked for later, so the gateway's client socket backs up.
                return CompletableFuture.runAsync(() -> sleep(2)).thenRun(() -> w.request(1));
            }
            w.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket w, ByteBuffer message) {
            pongs.add(StandardCharsets.UTF_8.decode(message).toString());
            w.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
            closed.complete(statusCode);
            ended.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket w, Throwable error) {
            closed.completeExceptionally(error);
            ended.complete(error);
        }

        private static void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ------------------------------------------------------------------ backends

    /**
     * A real WebSocket server: Netty's {@link WebSocketServerProtocolHandler} on {@code /ws} (and any path below it)
     * echoing messages ("close-me": it closes with 1001; "kill": it resets its socket); any other request gets 200 with
     * the Upgrade header it saw.
     */
    static final class WsBackend implements AutoCloseable {
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final Set<Channel> open = ConcurrentHashMap.newKeySet();
        final AtomicReference<String> lastUpgrade = new AtomicReference<>();
        final Channel server;

        WsBackend() throws InterruptedException {
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            open.add(ch);
                            ch.closeFuture().addListener(f -> open.remove(ch));
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                    new Sniffer(),
                                    new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                                            .websocketPath("/").checkStartsWith(true)
                                            .maxFramePayloadLength(16 << 20).build()),
                                    new Echo());
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        }

        int port() {
            return ((InetSocketAddress) server.localAddress()).getPort();
        }

        /** Answers requests that carry no Upgrade (what a route without enable_websocket forwards) itself. */
        final class Sniffer extends SimpleChannelInboundHandler<FullHttpRequest> {
            Sniffer() {
                super(false);
            }

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                String up = req.headers().get(HttpHeaderNames.UPGRADE);
                lastUpgrade.set(up == null ? null : up.toLowerCase());
                if (up != null && !req.uri().startsWith("/ws/noswitch")) {
                    ctx.fireChannelRead(req); // a handshake for the WebSocket handler
                    return;
                }
                if (req.uri().startsWith("/ws/h")) {
                    ctx.fireChannelRead(req); // the handshake handler refuses it (400): no Upgrade
                    return;
                }
                req.release();
                byte[] body = ("upgrade=" + (up == null ? "none" : up.toLowerCase())).getBytes(StandardCharsets.US_ASCII);
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.wrappedBuffer(body));
                r.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
                ctx.writeAndFlush(r);
            }
        }

        static final class Echo extends SimpleChannelInboundHandler<WebSocketFrame> {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
                if (frame instanceof TextWebSocketFrame t) {
                    String s = t.text();
                    if (s.equals("close-me")) {
                        ctx.writeAndFlush(new CloseWebSocketFrame(1001, "going away"));
                        return;
                    }
                    if (s.equals("kill")) {
                        ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                        ctx.channel().close();
                        return;
                    }
                    ctx.writeAndFlush(new TextWebSocketFrame(s));
                } else if (frame instanceof BinaryWebSocketFrame b) {
                    ctx.writeAndFlush(new BinaryWebSocketFrame(b.content().retain()));
                }
            }
        }

        @Override
        public void close() {
            server.close().awaitUninterruptibly();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    /**
     * A backend that answers every request with {@code 101 Switching Protocols}, upgrade asked or not, and then echoes
     * raw bytes: the gateway must refuse the switch for a request that did not ask for it.
     */
    static final class Bad101Backend implements AutoCloseable {
        static final long FIREHOSE_BYTES = 64L << 20;
        final java.util.concurrent.CountDownLatch sinkGo = new java.util.concurrent.CountDownLatch(1);
        final CompletableFuture<Long> sunk = new CompletableFuture<>();
        final ServerSocket socket = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        final Thread acceptor;

        Bad101Backend() throws IOException {
            acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket s = socket.accept();
                        Thread t = new Thread(() -> serve(s), "bad101-conn");
                        t.setDaemon(true);
                        t.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "bad101-accept");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        private void serve(Socket s) {
            try (s) {
                s.setTcpNoDelay(true);
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                String head = readHead(in);
                out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                if (head.startsWith("GET /bad/sink ")) {
                    sinkGo.await(30, TimeUnit.SECONDS); // does not read meanwhile
                    long n = 0;
                    byte[] buf = new byte[65536];
                    int r;
                    while ((r = in.read(buf)) > 0) {
                        n += r;
                    }
                    sunk.complete(n);
                    return;
                }
                if (head.startsWith("GET /bad/firehose ")) {
                    byte[] chunk = new byte[65536];
                    for (long sent = 0; sent < FIREHOSE_BYTES; sent += chunk.length) {
                        out.write(chunk);
                    }
                    return; // then close
                }
                byte[] buf = new byte[16384];
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException ignored) {
                // the gateway closed
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
