package io.turnpike.engine.grpc;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.turnpike.engine.loop.ConnectionSweeper;
import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.testing.GrpcTestClient;
import io.turnpike.engine.testing.GrpcTestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link H2UpstreamPool} driven directly on a Netty event loop against a real grpc-java server
 * ({@link GrpcTestServer}): every gRPC call shape, errors, multiplexing, SETTINGS_MAX_CONCURRENT_STREAMS, GOAWAY,
 * connect failure, timeouts, back-pressure, TLS, and the loop's allocation per unary call.
 */
class H2UpstreamPoolIT {
    private static EventLoopGroup group;
    private static EventLoop loop;
    private static Bootstrap bootstrap;
    private static ConnectionSweeper sweeper;
    private static GrpcTestServer server;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        // The transport the engine uses in production where available (epoll), else NIO.
        boolean epoll = io.netty.channel.epoll.Epoll.isAvailable();
        group = new MultiThreadIoEventLoopGroup(1, epoll ? io.netty.channel.epoll.EpollIoHandler.newFactory()
                : NioIoHandler.newFactory());
        loop = group.next();
        bootstrap = new Bootstrap().group(loop)
                .channel(epoll ? io.netty.channel.epoll.EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT);
        sweeper = new ConnectionSweeper();
        loop.scheduleAtFixedRate(() -> sweeper.sweep(System.nanoTime()), ConnectionSweeper.TICK_MS,
                ConnectionSweeper.TICK_MS, TimeUnit.MILLISECONDS);
        server = GrpcTestServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
    }

    // ------------------------------------------------------------------ helpers

    static <T> T onLoop(Callable<T> c) throws Exception {
        return loop.submit(c).get(10, TimeUnit.SECONDS);
    }

    static H2UpstreamPool pool(GrpcTestServer s, H2UpstreamPool.Settings settings) throws Exception {
        return pool(s.port(), null, settings);
    }

    static H2UpstreamPool pool(int port, SslContext tls, H2UpstreamPool.Settings settings) throws Exception {
        return onLoop(() -> new H2UpstreamPool(loop, bootstrap, sweeper, new InetSocketAddress("127.0.0.1", port),
                tls, "localhost", settings));
    }

    static H2UpstreamPool.Settings settings() {
        return new H2UpstreamPool.Settings(3000, TimeUnit.SECONDS.toNanos(60), 4,
                H2UpstreamPool.Settings.DEFAULT_STREAM_WINDOW);
    }

    static Http2Headers request(GrpcTestServer s, String method) {
        return new DefaultHttp2Headers().method("POST").scheme("http").authority(s.authority())
                .path("/" + GrpcTestServer.SERVICE + "/" + method)
                .add("content-type", "application/grpc").add("te", "trailers");
    }

    static ByteBuf frame(byte[] message) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(5 + message.length);
        b.writeByte(0).writeInt(message.length).writeBytes(message);
        return b;
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Records what a stream reports; copies and releases DATA; consumes at once unless told not to. */
    static final class Recorder implements H2UpstreamListener {
        final List<String> events = new CopyOnWriteArrayList<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        final LinkedBlockingQueue<byte[]> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<String> end = new CompletableFuture<>();
        volatile Http2Headers headers;
        volatile Http2Headers trailers;
        volatile boolean autoConsume = true;
        volatile int received;
        H2UpstreamStream stream;

        @Override
        public void onResponseHeaders(Http2Headers h, boolean endStream) {
            headers = h;
            events.add("headers" + (endStream ? "+end" : ""));
            if (endStream) {
                trailers = h;
                done("trailers-only");
            }
        }

        @Override
        public void onData(ByteBuf data, boolean endStream) {
            int n = data.readableBytes();
            received += n;
            synchronized (body) {
                byte[] b = new byte[n];
                data.readBytes(b);
                body.write(b, 0, n);
                splitMessages();
            }
            data.release();
            if (autoConsume) {
                stream.consumed(n);
            }
            if (endStream) {
                done("data-end");
            }
        }

        private int parsed;

        private void splitMessages() {
            byte[] all = body.toByteArray();
            while (all.length - parsed >= 5) {
                int len = ((all[parsed + 1] & 0xff) << 24) | ((all[parsed + 2] & 0xff) << 16)
                        | ((all[parsed + 3] & 0xff) << 8) | (all[parsed + 4] & 0xff);
                if (all.length - parsed - 5 < len) {
                    return;
                }
                byte[] m = new byte[len];
                System.arraycopy(all, parsed + 5, m, 0, len);
                messages.add(m);
                parsed += 5 + len;
            }
        }

        @Override
        public void onTrailers(Http2Headers t) {
            trailers = t;
            done("trailers");
        }

        @Override
        public void onReset(long errorCode) {
            done("reset:" + errorCode);
        }

        @Override
        public void onRefused() {
            done("refused");
        }

        @Override
        public void onFailed(GatewayError error) {
            done("failed:" + error.name());
        }

        @Override
        public void onWritabilityChanged(boolean writable) {
            events.add("writable:" + writable);
        }

        private void done(String how) {
            events.add(how);
            stream.release();
            end.complete(how);
        }

        String await() throws Exception {
            return end.get(20, TimeUnit.SECONDS);
        }

        String grpcStatus() {
            CharSequence s = trailers == null ? null : trailers.get("grpc-status");
            return s == null ? null : s.toString();
        }

        List<byte[]> drainMessages() {
            List<byte[]> out = new ArrayList<>();
            messages.drainTo(out);
            return out;
        }
    }

    /** Opens a stream and writes headers + the given messages (+ end). */
    static Recorder call(H2UpstreamPool pool, Http2Headers headers, long readTimeoutNs, boolean end, byte[]... msgs)
            throws Exception {
        Recorder r = new Recorder();
        onLoop(() -> {
            r.stream = pool.newStream(r, readTimeoutNs, 0);
            r.stream.writeHeaders(headers, false);
            for (int i = 0; i < msgs.length; i++) {
                r.stream.writeData(frame(msgs[i]), end && i == msgs.length - 1);
            }
            if (msgs.length == 0 && end) {
                r.stream.writeData(ByteBufAllocator.DEFAULT.buffer(0), true);
            }
            r.stream.flush();
            return null;
        });
        return r;
    }

    static Recorder unary(H2UpstreamPool pool, GrpcTestServer s, String method, byte[] msg) throws Exception {
        return call(pool, request(s, method), TimeUnit.SECONDS.toNanos(10), true, msg);
    }

    static void eventually(String what, Callable<Boolean> c) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!c.call()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("not reached: " + what);
            }
            Thread.sleep(20);
        }
    }

    static void close(H2UpstreamPool p) throws Exception {
        onLoop(() -> {
            p.close();
            return null;
        });
    }

    // ------------------------------------------------------------------ tests

    @Test
    void unaryEcho() throws Exception {
        H2UpstreamPool p = pool(server, settings());
        Recorder r = unary(p, server, "Echo", ascii("hello"));
        assertEquals("trailers", r.await(), r.events.toString());
        assertEquals("200", r.headers.status().toString());
        assertEquals("application/grpc", r.headers.get("content-type").toString());
        assertEquals("0", r.grpcStatus());
        List<byte[]> m = r.drainMessages();
        assertEquals(1, m.size());
        assertArrayEquals(ascii("hello"), m.get(0));
        close(p);
    }

    @Test
    void serverStreaming() throws Exception {
        H2UpstreamPool p = pool(server, settings());
        Recorder r = unary(p, server, "Stream", ascii("7:100"));
        assertEquals("trailers", r.await(), r.events.toString());
        assertEquals("0", r.grpcStatus());
        List<byte[]> m = r.drainMessages();
        assertEquals(7, m.size());
        for (int k = 0; k < 7; k++) {
            assertEquals(100, m.get(k).length);
            assertEquals((byte) (k + 5), m.get(k)[5]);
        }
        close(p);
    }

    @Test
    void clientStreaming() throws Exception {
        H2UpstreamPool p = pool(server, settings());
        Recorder r = call(p, request(server, "Count"), TimeUnit.SECONDS.toNanos(10), false, ascii("a"), ascii("bb"));
        // More messages later, then the end of the request as an empty DATA frame with END_STREAM.
        onLoop(() -> {
            r.stream.writeData(frame(ascii("ccc")), false);
            r.stream.writeData(ByteBufAllocator.DEFAULT.buffer(0), true);
            r.stream.flush();
            return null;
        });
        assertEquals("trailers", r.await(), r.events.toString());
        assertEquals("0", r.grpcStatus());
        assertArrayEquals(ascii("3:6"), r.drainMessages().get(0));
        close(p);
    }

    @Test
    void bidiEchoesEachMessageBeforeTheNext() throws Exception {
        H2UpstreamPool p = pool(server, settings());
        Recorder r = call(p, request(server, "Bidi"), TimeUnit.SECONDS.toNanos(10), false, ascii("one"));
        assertArrayEquals(ascii("one"), r.messages.poll(10, TimeUnit.SECONDS));
        for (String s : new String[] {"two", "three"}) {
            onLoop(() -> {
                r.stream.writeData(frame(ascii(s)), false);
                r.stream.flush();
                return null;
            });
            assertArrayEquals(ascii(s), r.messages.poll(10, TimeUnit.SECONDS));
        }
        onLoop(() -> {
            // Ends the request side. (grpc-java dropped the connection when this test ended it with request trailers.)
            r.stream.writeData(ByteBufAllocator.DEFAULT.buffer(0), true);
            r.stream.flush();
            return null;
        });
        assertEquals("trailers", r.await(), r.events.toString());
        assertEquals("0", r.grpcStatus());
        close(p);
    }

    @Test
    void errorStatusIsRelayed() throws Exception {
        H2UpstreamPool p = pool(server, settings());
        Recorder r = unary(p, server, "Fail", ascii("7:denied here"));
        r.await();
        assertEquals("7", r.grpcStatus(), r.events.toString());
        assertEquals("denied here", r.trailers.get("grpc-message").toString());
        close(p);
    }

    @Test
    void manyConcurrentStreamsShareOneConnection() throws Exception {
        try (GrpcTestServer s = GrpcTestServer.start()) {
            H2UpstreamPool p = pool(s, settings());
            List<Recorder> rs = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                rs.add(unary(p, s, "Slow", ascii("200:" + i)));
            }
            for (int i = 0; i < 50; i++) {
                Recorder r = rs.get(i);
                assertEquals("trailers", r.await(), r.events.toString());
                assertEquals("0", r.grpcStatus());
                assertArrayEquals(ascii("200:" + i), r.drainMessages().get(0));
            }
            assertEquals(1, s.connectionsAccepted());
            assertEquals(1L, (long) onLoop(p::connectionsOpened));
            close(p);
        }
    }

    @Test
    void maxConcurrentStreamsOpensASecondConnectionUpToTheCap() throws Exception {
        try (GrpcTestServer s = GrpcTestServer.start(new GrpcTestServer.Options().maxConcurrentCallsPerConnection(2))) {
            H2UpstreamPool p = pool(s, new H2UpstreamPool.Settings(5000, TimeUnit.SECONDS.toNanos(60), 2,
                    H2UpstreamPool.Settings.DEFAULT_STREAM_WINDOW));
            List<Recorder> rs = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                rs.add(unary(p, s, "Slow", ascii("300:" + i)));
            }
            for (Recorder r : rs) {
                assertEquals("trailers", r.await(), r.events.toString());
                assertEquals("0", r.grpcStatus());
            }
            // 2 streams per connection, 2 connections at most: the fifth waited for a slot, none was refused.
            assertEquals(2, s.connectionsAccepted());
            assertEquals(2L, (long) onLoop(p::connectionsOpened));
            close(p);
        }
    }

    @Test
    void goAwayByConnectionAgeLetsInFlightFinishAndMovesNewStreams() throws Exception {
        try (GrpcTestServer s = GrpcTestServer.start(new GrpcTestServer.Options().maxConnectionAgeMs(500))) {
            H2UpstreamPool p = pool(s, settings());
            Recorder slow = unary(p, s, "Slow", ascii("2000:in-flight"));
            eventually("GOAWAY received", () -> onLoop(p::drainingConnections) == 1);
            Recorder after = unary(p, s, "Echo", ascii("after"));
            assertEquals("trailers", after.await(), after.events.toString());
            assertEquals("0", after.grpcStatus());
            assertTrue(onLoop(p::connectionsOpened) >= 2);
            assertEquals("trailers", slow.await(), slow.events.toString());
            assertEquals("0", slow.grpcStatus());
            assertArrayEquals(ascii("2000:in-flight"), slow.drainMessages().get(0));
            close(p);
        }
    }

    @Test
    void goAwayByShutdownLetsInFlightFinishAndNewStreamsFailOrAreRefused() throws Exception {
        GrpcTestServer s = GrpcTestServer.start();
        try {
            H2UpstreamPool p = pool(s, settings());
            Recorder slow = unary(p, s, "Slow", ascii("1000:x"));
            eventually("the call reached the server", () -> s.connectionsAccepted() == 1);
            Thread.sleep(100);
            s.shutdown();
            eventually("GOAWAY received", () -> onLoop(p::drainingConnections) == 1);
            Recorder after = unary(p, s, "Echo", ascii("after"));
            String how = after.await();
            assertTrue(how.equals("failed:UPSTREAM_CONNECT_FAILED") || how.equals("refused"), how);
            assertEquals("trailers", slow.await(), slow.events.toString());
            assertEquals("0", slow.grpcStatus());
            eventually("the drained connection closed", () -> onLoop(p::connectionCount) == 0);
            close(p);
        } finally {
            s.close();
        }
    }

    @Test
    void idleConnectionClosesAfterTheKeepaliveTimeout() throws Exception {
        try (GrpcTestServer s = GrpcTestServer.start()) {
            H2UpstreamPool p = pool(s, new H2UpstreamPool.Settings(3000, TimeUnit.MILLISECONDS.toNanos(300), 4,
                    H2UpstreamPool.Settings.DEFAULT_STREAM_WINDOW));
            Recorder r = unary(p, s, "Echo", ascii("x"));
            assertEquals("trailers", r.await());
            eventually("the idle connection closed", () -> onLoop(p::connectionCount) == 0);
            eventually("the server saw it close", () -> s.connectionsOpen() == 0);
            // The next call opens a new one.
            Recorder r2 = unary(p, s, "Echo", ascii("y"));
            assertEquals("trailers", r2.await());
            assertEquals(2, s.connectionsAccepted());
            close(p);
        }
    }

    @Test
    void closedPoolDrainsInFlightStreamsThenTerminates() throws Exception {
        try (GrpcTestServer s = GrpcTestServer.start()) {
            H2UpstreamPool p = pool(s, settings());
            Recorder slow = unary(p, s, "Slow", ascii("500:x"));
            eventually("connected", () -> onLoop(p::activeStreams) == 1 && s.connectionsAccepted() == 1);
            close(p);
            assertEquals("trailers", slow.await(), slow.events.toString());
            assertEquals("0", slow.grpcStatus());
            eventually("terminated", () -> onLoop(p::isTerminated));
            eventually("the server saw the connection close", () -> s.connectionsOpen() == 0);
        }
    }

    @Test
    void connectRefusedFails() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = ss.getLocalPort();
        }
        H2UpstreamPool p = pool(port, null, settings());
        Recorder r = call(p, request(server, "Echo"), 0, true, ascii("x"));
        assertEquals("failed:UPSTREAM_CONNECT_FAILED", r.await());
        assertEquals(0, (int) onLoop(p::connectionCount));
        close(p);
    }

    @Test
    void readTimeoutFailsAndCancels() throws Exception {
        H2UpstreamPool p = pool(server, settings());
        int cancelled = server.callsCancelled();
        Recorder r = call(p, request(server, "Slow"), TimeUnit.MILLISECONDS.toNanos(300), true, ascii("5000"));
        assertEquals("failed:UPSTREAM_TIMEOUT", r.await());
        eventually("the server saw RST_STREAM", () -> server.callsCancelled() > cancelled);
        // The connection stays usable.
        Recorder again = unary(p, server, "Echo", ascii("again"));
        assertEquals("trailers", again.await());
        assertEquals(1L, (long) onLoop(p::connectionsOpened));
        close(p);
    }

    @Test
    void backPressureStallsTheServerUntilConsumed() throws Exception {
        int window = 256 * 1024;
        int size = 16 * 1024;
        int n = 1000; // 16 MiB in all
        try (GrpcTestServer s = GrpcTestServer.start()) {
            H2UpstreamPool p = pool(s, new H2UpstreamPool.Settings(3000, TimeUnit.SECONDS.toNanos(60), 4, window));
            Recorder r = new Recorder();
            r.autoConsume = false;
            onLoop(() -> {
                r.stream = p.newStream(r, TimeUnit.SECONDS.toNanos(5), 0);
                r.stream.writeHeaders(request(s, "Stream"), false);
                r.stream.writeData(frame(ascii(n + ":" + size)), true);
                r.stream.flush();
                return null;
            });
            eventually("the window filled", () -> r.received >= window - size);
            Thread.sleep(1500); // longer than... nothing: the stream must stay stalled, with no timeout either
            assertTrue(r.received <= window, "received " + r.received + " > window " + window);
            long sent = s.streamMessagesSent();
            assertTrue(sent < n / 4, "server sent " + sent + " of " + n + " messages without the window opening");
            assertTrue(!r.end.isDone(), r.events.toString());
            // Consume what was received, and from now on as it comes: the rest flows.
            r.autoConsume = true;
            onLoop(() -> {
                r.stream.consumed(r.received);
                return null;
            });
            assertEquals("trailers", r.await(), r.events.toString());
            assertEquals("0", r.grpcStatus());
            assertEquals(n, r.drainMessages().size());
            assertEquals((long) n * (size + 5), r.received);
            close(p);
        }
    }

    @Test
    void grpcsOverTlsWithAlpnH2() throws Exception {
        Path[] cert = GrpcTestServer.selfSignedCert(dir.resolve("tls"));
        try (GrpcTestServer s = GrpcTestServer.start(new GrpcTestServer.Options().tls(cert[0], cert[1]))) {
            SslContext ctx = SslContextBuilder.forClient().trustManager(cert[0].toFile())
                    .endpointIdentificationAlgorithm("HTTPS")
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2)).build();
            H2UpstreamPool p = pool(s.port(), ctx, settings());
            Recorder r = call(p, request(s, "Echo").scheme("https"), TimeUnit.SECONDS.toNanos(10), true,
                    ascii("secret"));
            assertEquals("trailers", r.await(), r.events.toString());
            assertEquals("0", r.grpcStatus());
            assertArrayEquals(ascii("secret"), r.drainMessages().get(0));
            close(p);
            // And the test client helper speaks to the same server.
            try (GrpcTestClient c = GrpcTestClient.tls("127.0.0.1", s.port(), cert[0], "localhost")) {
                assertArrayEquals(ascii("hi"), c.unary(GrpcTestServer.ECHO, ascii("hi")));
            }
        }
    }

    @Test
    void tlsHandshakeFailureFails() throws Exception {
        Path[] cert = GrpcTestServer.selfSignedCert(dir.resolve("tls2"));
        try (GrpcTestServer s = GrpcTestServer.start(new GrpcTestServer.Options().tls(cert[0], cert[1]))) {
            // No trust in the self-signed certificate.
            SslContext ctx = SslContextBuilder.forClient()
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2)).build();
            H2UpstreamPool p = pool(s.port(), ctx, settings());
            Recorder r = call(p, request(s, "Echo"), TimeUnit.SECONDS.toNanos(10), true, ascii("x"));
            assertEquals("failed:UPSTREAM_TLS_HANDSHAKE_FAILED", r.await());
            close(p);
        }
    }

    /**
     * A bare Netty HTTP/2 server (grpc-java never refuses a stream we are allowed to open): answers each stream's
     * HEADERS with RST_STREAM REFUSED_STREAM ({@code goAway} false) or with a GOAWAY whose last-stream-id is below it.
     */
    static io.netty.channel.Channel refusingServer(boolean goAway) throws Exception {
        return bareServer(goAway ? 1 : 0);
    }

    /** mode 0: RST_STREAM REFUSED_STREAM; 1: GOAWAY below the stream; 2: takes the request and never consumes it. */
    static io.netty.channel.Channel bareServer(int mode) throws Exception {
        boolean goAway = mode == 1;
        return new io.netty.bootstrap.ServerBootstrap().group(group)
                .channel(io.netty.channel.epoll.Epoll.isAvailable()
                        ? io.netty.channel.epoll.EpollServerSocketChannel.class
                        : io.netty.channel.socket.nio.NioServerSocketChannel.class)
                .childHandler(new io.netty.channel.ChannelInitializer<io.netty.channel.Channel>() {
                    @Override
                    protected void initChannel(io.netty.channel.Channel ch) {
                        io.netty.handler.codec.http2.Http2ConnectionHandler h =
                                new io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder().server(true)
                                        .frameListener(new io.netty.handler.codec.http2.Http2FrameAdapter()).build();
                        h.decoder().frameListener(new io.netty.handler.codec.http2.Http2FrameAdapter() {
                            @Override
                            public int onDataRead(io.netty.channel.ChannelHandlerContext ctx, int streamId,
                                                  ByteBuf data, int padding, boolean endOfStream) {
                                return 0; // never consumed: the client's send window closes
                            }

                            @Override
                            public void onHeadersRead(io.netty.channel.ChannelHandlerContext ctx, int streamId,
                                                      Http2Headers headers, int padding, boolean endOfStream) {
                                if (mode == 2) {
                                    return;
                                }
                                if (goAway) {
                                    h.goAway(ctx, Math.max(0, streamId - 2), io.netty.handler.codec.http2.Http2Error.NO_ERROR.code(),
                                            io.netty.buffer.Unpooled.EMPTY_BUFFER, ctx.newPromise());
                                } else {
                                    h.resetStream(ctx, streamId,
                                            io.netty.handler.codec.http2.Http2Error.REFUSED_STREAM.code(),
                                            ctx.newPromise());
                                }
                                ctx.flush();
                            }

                            @Override
                            public void onHeadersRead(io.netty.channel.ChannelHandlerContext ctx, int streamId,
                                                      Http2Headers headers, int streamDependency, short weight,
                                                      boolean exclusive, int padding, boolean endOfStream) {
                                onHeadersRead(ctx, streamId, headers, padding, endOfStream);
                            }
                        });
                        ch.pipeline().addLast(h);
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    @Test
    void refusedStreamIsReportedRetryable() throws Exception {
        io.netty.channel.Channel srv = refusingServer(false);
        try {
            int port = ((InetSocketAddress) srv.localAddress()).getPort();
            H2UpstreamPool p = pool(port, null, settings());
            Recorder r = call(p, request(server, "Echo"), TimeUnit.SECONDS.toNanos(5), true, ascii("x"));
            assertEquals("refused", r.await(), r.events.toString());
            // The connection stays usable for the next stream.
            Recorder r2 = call(p, request(server, "Echo"), TimeUnit.SECONDS.toNanos(5), true, ascii("y"));
            assertEquals("refused", r2.await(), r2.events.toString());
            assertEquals(1L, (long) onLoop(p::connectionsOpened));
            close(p);
        } finally {
            srv.close().sync();
        }
    }

    @Test
    void streamAboveGoAwayLastStreamIdIsRefused() throws Exception {
        io.netty.channel.Channel srv = refusingServer(true);
        try {
            int port = ((InetSocketAddress) srv.localAddress()).getPort();
            H2UpstreamPool p = pool(port, null, settings());
            Recorder r = call(p, request(server, "Echo"), TimeUnit.SECONDS.toNanos(5), true, ascii("x"));
            assertEquals("refused", r.await(), r.events.toString());
            // The connection drained (no stream left) and closed; the next stream opens a new one.
            eventually("the GOAWAY connection closed", () -> onLoop(p::connectionCount) == 0);
            Recorder r2 = call(p, request(server, "Echo"), TimeUnit.SECONDS.toNanos(5), true, ascii("y"));
            assertEquals("refused", r2.await(), r2.events.toString());
            assertEquals(2L, (long) onLoop(p::connectionsOpened));
            close(p);
        } finally {
            srv.close().sync();
        }
    }

    @Test
    void sendTimeoutWhenTheUpstreamStopsConsuming() throws Exception {
        io.netty.channel.Channel srv = bareServer(2);
        try {
            int port = ((InetSocketAddress) srv.localAddress()).getPort();
            H2UpstreamPool p = pool(port, null, settings());
            Recorder r = new Recorder();
            onLoop(() -> {
                r.stream = p.newStream(r, TimeUnit.SECONDS.toNanos(30), TimeUnit.MILLISECONDS.toNanos(300));
                r.stream.writeHeaders(request(server, "Count"), false);
                r.stream.flush();
                return null;
            });
            eventually("on a connection", () -> onLoop(() -> r.stream.isWritable()));
            // 256 KiB against the peer's 64 KiB initial window, never reopened.
            onLoop(() -> {
                for (int i = 0; i < 16; i++) {
                    r.stream.writeData(frame(new byte[16 * 1024]), false);
                }
                r.stream.flush();
                return null;
            });
            assertEquals("failed:UPSTREAM_TIMEOUT", r.await(), r.events.toString());
            assertTrue(r.events.contains("writable:false"), r.events.toString());
            close(p);
        } finally {
            srv.close().sync();
        }
    }

    @Test
    void clientHelperPlaintext() throws Exception {
        try (GrpcTestClient c = GrpcTestClient.plaintext("127.0.0.1", server.port())) {
            assertArrayEquals(ascii("x"), c.unary(GrpcTestServer.ECHO, ascii("x")));
            assertEquals(3, c.serverStream(GrpcTestServer.STREAM, ascii("3:4")).size());
        }
    }

    /**
     * Bytes allocated on the event loop per unary call in the steady state (one connection, calls back to back, each
     * started from the previous one's trailers), by ThreadMXBean: the figure is printed for the report.
     */
    @Test
    void allocationPerUnaryCall() throws Exception {
        // Paranoid leak detection records a stack trace per buffer: that is the detector's allocation, not ours.
        io.netty.util.ResourceLeakDetector.Level level = io.netty.util.ResourceLeakDetector.getLevel();
        io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        try {
            allocationPerUnaryCall0();
        } finally {
            io.netty.util.ResourceLeakDetector.setLevel(level);
        }
    }

    private void allocationPerUnaryCall0() throws Exception {
        H2UpstreamPool p = pool(server, settings());
        Http2Headers headers = request(server, "Echo");
        byte[] payload = ascii("0123456789abcdef");
        long loopThreadId = onLoop(() -> Thread.currentThread().getId());
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        final class Chain implements H2UpstreamListener {
            int remaining;
            H2UpstreamStream stream;
            CompletableFuture<Void> done;
            final AtomicInteger ok = new AtomicInteger();

            void next() {
                if (remaining-- == 0) {
                    done.complete(null);
                    return;
                }
                stream = p.newStream(this, TimeUnit.SECONDS.toNanos(10), 0);
                stream.writeHeaders(headers, false);
                ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(5 + payload.length);
                b.writeByte(0).writeInt(payload.length).writeBytes(payload);
                stream.writeData(b, true);
                stream.flush();
            }

            @Override
            public void onResponseHeaders(Http2Headers h, boolean endStream) {
                if (endStream) {
                    stream.release();
                    next();
                }
            }

            @Override
            public void onData(ByteBuf data, boolean endStream) {
                int n = data.readableBytes();
                data.release();
                stream.consumed(n);
            }

            @Override
            public void onTrailers(Http2Headers trailers) {
                ok.incrementAndGet();
                stream.release();
                next();
            }

            @Override
            public void onReset(long errorCode) {
                done.completeExceptionally(new AssertionError("reset " + errorCode));
            }

            @Override
            public void onRefused() {
                done.completeExceptionally(new AssertionError("refused"));
            }

            @Override
            public void onFailed(GatewayError error) {
                done.completeExceptionally(new AssertionError(error.name()));
            }

            @Override
            public void onWritabilityChanged(boolean writable) {
            }
        }
        Chain chain = new Chain();
        long[] bytes = new long[1];
        for (int round = 0; round < 2; round++) {
            int calls = round == 0 ? 3000 : 5000;
            chain.done = new CompletableFuture<>();
            chain.remaining = calls;
            long before = onLoop(() -> threads.getThreadAllocatedBytes(loopThreadId));
            onLoop(() -> {
                chain.next();
                return null;
            });
            chain.done.get(60, TimeUnit.SECONDS);
            long after = onLoop(() -> threads.getThreadAllocatedBytes(loopThreadId));
            bytes[0] = (after - before) / calls;
        }
        System.out.println("H2UpstreamPool: " + bytes[0] + " bytes allocated on the loop per unary call");
        assertEquals(8000, chain.ok.get());
        assertEquals(1L, (long) onLoop(p::connectionsOpened));
        assertNotNull(chain.stream);
        close(p);
    }
}
