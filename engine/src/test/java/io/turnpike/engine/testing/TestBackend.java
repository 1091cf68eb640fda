package io.turnpike.engine.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;

import io.netty.channel.ChannelOption;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real HTTP/1.1 backend on 127.0.0.1 for integration tests (Netty's own codec, so it is an independent parser).
 * Streams request bodies without aggregating them. Behaviour by path:
 * <ul>
 *   <li>{@code /headers}: body lists the request line and headers as received, one per line</li>
 *   <li>{@code /echo}: echoes the request body (chunked response when the request was chunked, else Content-Length)</li>
 *   <li>{@code /sink}: counts request body bytes, answers the count</li>
 *   <li>{@code /chunked?chunks=N&size=S}: chunked response</li>
 *   <li>{@code /bytes?n=N}: a Content-Length response of N bytes, written in 64 KiB pieces</li>
 *   <li>{@code /slow?ms=M}: answers after M ms</li>
 *   <li>{@code /close}: closes the connection without answering</li>
 *   <li>{@code /eof?n=N}: an HTTP/1.0-style response without length, delimited by close</li>
 *   <li>{@code /digest}: answers {@code "<body bytes> <crc32 hex>"} then one line per trailer field received</li>
 *   <li>{@code /pattern?n=N}: a Content-Length response of N bytes, byte i = {@link #patternByte(long)}, generated
 *       lazily while the channel is writable (a real server's back-pressure; {@link #patternStalls} counts the times it
 *       had to wait, {@link #responseBytesFlushed} what reached the socket)</li>
 *   <li>{@code /pausesink}: stops reading once the head arrived (auto-read off) until {@link #resumePaused()}, then
 *       answers like {@code /digest}</li>
 *   <li>{@code /truncate?n=N&send=M}: a head announcing N bytes, M of them, then a close</li>
 *   <li>{@code /garbage}: bytes that are not an HTTP response, then a close</li>
 *   <li>anything else: 200 "ok:" + path</li>
 * </ul>
 */
public final class TestBackend implements AutoCloseable {
    private final MultiThreadIoEventLoopGroup group;
    private final Channel server;
    public final AtomicInteger connections = new AtomicInteger();
    public final AtomicInteger requests = new AtomicInteger();
    public final AtomicLong firstBodyByteAtNs = new AtomicLong();
    /** Requests whose whole body (last content) arrived. */
    public final AtomicInteger completedRequests = new AtomicInteger();
    /** Connections closed (by either side). */
    public final AtomicInteger closedConnections = new AtomicInteger();
    /** Request body bytes received, all requests together. */
    public final AtomicLong bodyBytesReceived = new AtomicLong();
    /** Response bytes of {@code /pattern} that reached the socket (write futures completed). */
    public final AtomicLong responseBytesFlushed = new AtomicLong();
    /** Times {@code /pattern} found its channel unwritable and waited. */
    public final AtomicInteger patternStalls = new AtomicInteger();
    private volatile CountDownLatch firstBodyByte = new CountDownLatch(1);
    private final AtomicReference<Channel> paused = new AtomicReference<>();
    private volatile boolean captureRaw;
    private final ByteArrayOutputStream raw = new ByteArrayOutputStream();

    public TestBackend() throws InterruptedException {
        this(0);
    }

    /** @param socketBufferBytes SO_SNDBUF and SO_RCVBUF of accepted connections; 0 leaves the kernel's defaults */
    public TestBackend(int socketBufferBytes) throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.incrementAndGet();
                        ch.closeFuture().addListener(f -> closedConnections.incrementAndGet());
                        ch.pipeline().addLast(new RawCapture(), new HttpServerCodec(8192, 65536, 65536), new Handler());
                    }
                });
        if (socketBufferBytes > 0) {
            b.option(ChannelOption.SO_RCVBUF, socketBufferBytes)
                    .childOption(ChannelOption.SO_RCVBUF, socketBufferBytes)
                    .childOption(ChannelOption.SO_SNDBUF, socketBufferBytes);
        }
        server = b.bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    private static final byte[] PATTERN = new byte[65536 + 251];

    static {
        for (int i = 0; i < PATTERN.length; i++) {
            PATTERN[i] = patternByte(i);
        }
    }

    /** Byte {@code i} of a {@code /pattern} body. */
    public static byte patternByte(long i) {
        return (byte) (i % 251);
    }

    /** Re-arms {@link #awaitFirstBodyByte} for the next request. */
    public void resetFirstBodyByte() {
        firstBodyByteAtNs.set(0);
        firstBodyByte = new CountDownLatch(1);
    }

    /** Waits until a request body byte arrived (since the last {@link #resetFirstBodyByte}). */
    public boolean awaitFirstBodyByte(long timeoutMs) throws InterruptedException {
        return firstBodyByte.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** Resumes reading on the connection {@code /pausesink} paused; false if none is paused. */
    public boolean resumePaused() {
        Channel ch = paused.getAndSet(null);
        if (ch == null) {
            return false;
        }
        ch.eventLoop().execute(() -> ch.config().setAutoRead(true));
        return true;
    }

    public boolean hasPaused() {
        return paused.get() != null;
    }

    /** Starts (the record cleared first) or stops recording every byte received on every connection. */
    public void captureRaw(boolean on) {
        if (on) {
            synchronized (raw) {
                raw.reset();
            }
        }
        captureRaw = on;
    }

    public byte[] rawCaptured() {
        synchronized (raw) {
            return raw.toByteArray();
        }
    }

    private final class RawCapture extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (captureRaw && msg instanceof ByteBuf b) {
                byte[] copy = new byte[b.readableBytes()];
                b.getBytes(b.readerIndex(), copy);
                synchronized (raw) {
                    raw.write(copy, 0, copy.length);
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        private HttpRequest request;
        private String path;
        private Map<String, java.util.List<String>> params;
        private long bodyBytes;
        private boolean keepAlive;
        private boolean echoChunked;
        private final CRC32 crc = new CRC32();
        private long patternLeft;
        private long patternOffset;
        private boolean patternActive;

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (patternActive && ctx.channel().isWritable()) {
                writeMorePattern(ctx);
            }
            ctx.fireChannelWritabilityChanged();
        }

        private void writeMorePattern(ChannelHandlerContext ctx) {
            while (patternLeft > 0) {
                if (!ctx.channel().isWritable()) {
                    patternStalls.incrementAndGet();
                    ctx.flush();
                    return;
                }
                int k = (int) Math.min(patternLeft, 65536);
                // Unpooled and filled from a table: leak-tracked buffers record every writeByte in paranoid mode.
                byte[] bytes = new byte[k];
                System.arraycopy(PATTERN, (int) (patternOffset % 251), bytes, 0, k);
                ByteBuf piece = Unpooled.wrappedBuffer(bytes);
                patternOffset += k;
                patternLeft -= k;
                ctx.write(new DefaultHttpContent(piece)).addListener(f -> {
                    if (f.isSuccess()) {
                        responseBytesFlushed.addAndGet(k);
                    }
                });
            }
            patternActive = false;
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(closeIfNeeded());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest req) {
                requests.incrementAndGet();
                request = req;
                QueryStringDecoder q = new QueryStringDecoder(req.uri());
                path = q.path();
                params = q.parameters();
                bodyBytes = 0;
                trailers = null;
                crc.reset();
                keepAlive = HttpUtil.isKeepAlive(req);
                if (req.decoderResult().isFailure()) {
                    ctx.close();
                    return;
                }
                switch (path) {
                    case "/close" -> {
                        ctx.close();
                        return;
                    }
                    case "/pausesink" -> {
                        ctx.channel().config().setAutoRead(false);
                        paused.set(ctx.channel());
                    }
                    case "/echo" -> {
                        echoChunked = HttpUtil.isTransferEncodingChunked(req);
                        HttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                        if (echoChunked) {
                            HttpUtil.setTransferEncodingChunked(resp, true);
                        } else {
                            resp.headers().set(HttpHeaderNames.CONTENT_LENGTH, HttpUtil.getContentLength(req, 0L));
                        }
                        ctx.write(resp);
                    }
                    default -> {
                    }
                }
            }
            if (msg instanceof HttpContent content) {
                ByteBuf data = content.content();
                if (data.isReadable()) {
                    if (firstBodyByteAtNs.compareAndSet(0, System.nanoTime())) {
                        firstBodyByte.countDown();
                    }
                    if (data.hasArray()) {
                        crc.update(data.array(), data.arrayOffset() + data.readerIndex(), data.readableBytes());
                    } else {
                        crc.update(data.nioBuffer());
                    }
                }
                bodyBytes += data.readableBytes();
                bodyBytesReceived.addAndGet(data.readableBytes());
                if (content instanceof LastHttpContent last) {
                    completedRequests.incrementAndGet();
                    trailers = last.trailingHeaders();
                }
                if ("/echo".equals(path)) {
                    if (data.isReadable()) {
                        ctx.writeAndFlush(new DefaultHttpContent(data.retain()));
                    }
                    if (content instanceof LastHttpContent) {
                        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(closeIfNeeded());
                    }
                    content.release();
                    return;
                }
                content.release();
                if (content instanceof LastHttpContent) {
                    respond(ctx);
                }
            }
        }

        private io.netty.handler.codec.http.HttpHeaders trailers;

        private ChannelFutureListener closeIfNeeded() {
            return keepAlive ? f -> { } : ChannelFutureListener.CLOSE;
        }

        private int param(String name, int def) {
            java.util.List<String> v = params.get(name);
            return v == null ? def : Integer.parseInt(v.get(0));
        }

        private void respond(ChannelHandlerContext ctx) {
            switch (path) {
                case "/headers" -> {
                    StringBuilder b = new StringBuilder();
                    b.append(request.method()).append(' ').append(request.uri()).append(' ')
                            .append(request.protocolVersion()).append('\n');
                    request.headers().forEach(e -> b.append(e.getKey()).append(": ").append(e.getValue()).append('\n'));
                    full(ctx, b.toString());
                }
                case "/sink" -> full(ctx, Long.toString(bodyBytes));
                case "/digest", "/pausesink" -> {
                    StringBuilder b = new StringBuilder();
                    b.append(bodyBytes).append(' ').append(Long.toHexString(crc.getValue())).append('\n');
                    if (trailers != null) {
                        trailers.forEach(e -> b.append(e.getKey()).append(": ").append(e.getValue()).append('\n'));
                    }
                    full(ctx, b.toString());
                }
                case "/pattern" -> {
                    long n = Long.parseLong(params.get("n").get(0));
                    HttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    resp.headers().set(HttpHeaderNames.CONTENT_LENGTH, n);
                    ctx.write(resp);
                    patternLeft = n;
                    patternOffset = 0;
                    patternActive = true;
                    writeMorePattern(ctx);
                }
                case "/truncate" -> {
                    int n = param("n", 1000);
                    int send = param("send", 100);
                    ByteBuf b = Unpooled.buffer();
                    b.writeBytes(("HTTP/1.1 200 OK\r\nContent-Length: " + n + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    for (int i = 0; i < send; i++) {
                        b.writeByte('t');
                    }
                    ctx.channel().pipeline().firstContext().writeAndFlush(b).addListener(ChannelFutureListener.CLOSE);
                }
                case "/garbage" -> {
                    ByteBuf b = Unpooled.copiedBuffer("THIS IS NOT HTTP\r\n\r\n", StandardCharsets.US_ASCII);
                    ctx.channel().pipeline().firstContext().writeAndFlush(b).addListener(ChannelFutureListener.CLOSE);
                }
                case "/chunked" -> {
                    int chunks = param("chunks", 3);
                    int size = param("size", 10);
                    HttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    HttpUtil.setTransferEncodingChunked(resp, true);
                    ctx.write(resp);
                    for (int i = 0; i < chunks; i++) {
                        byte[] piece = new byte[size];
                        java.util.Arrays.fill(piece, (byte) ('a' + i % 26));
                        ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(piece)));
                    }
                    ctx.writeAndFlush(new DefaultLastHttpContent()).addListener(closeIfNeeded());
                }
                case "/bytes" -> {
                    int n = param("n", 1024);
                    HttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    resp.headers().set(HttpHeaderNames.CONTENT_LENGTH, n);
                    ctx.write(resp);
                    int left = n;
                    while (left > 0) {
                        int k = Math.min(left, 65536);
                        byte[] piece = new byte[k];
                        java.util.Arrays.fill(piece, (byte) 'x');
                        ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(piece)));
                        left -= k;
                    }
                    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(closeIfNeeded());
                }
                case "/slow" -> ctx.executor().schedule(() -> full(ctx, "slow"), param("ms", 1000), TimeUnit.MILLISECONDS);
                case "/eof" -> {
                    int n = param("n", 100);
                    ByteBuf b = Unpooled.buffer();
                    b.writeBytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    for (int i = 0; i < n; i++) {
                        b.writeByte('e');
                    }
                    // Bypass the codec: write raw bytes, then close to delimit the body.
                    ctx.channel().pipeline().firstContext().writeAndFlush(b).addListener(ChannelFutureListener.CLOSE);
                }
                default -> full(ctx, "ok:" + path);
            }
        }

        private void full(ChannelHandlerContext ctx, String body) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            HttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            resp.headers().set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
            if (!keepAlive) {
                resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            ctx.write(resp);
            ctx.writeAndFlush(new DefaultLastHttpContent(Unpooled.wrappedBuffer(bytes))).addListener(closeIfNeeded());
        }
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
