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

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
 *   <li>anything else: 200 "ok:" + path</li>
 * </ul>
 */
public final class TestBackend implements AutoCloseable {
    private final MultiThreadIoEventLoopGroup group;
    private final Channel server;
    public final AtomicInteger connections = new AtomicInteger();
    public final AtomicInteger requests = new AtomicInteger();
    public final AtomicLong firstBodyByteAtNs = new AtomicLong();

    public TestBackend() throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.incrementAndGet();
                        ch.pipeline().addLast(new HttpServerCodec(8192, 65536, 65536), new Handler());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
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

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest req) {
                requests.incrementAndGet();
                request = req;
                QueryStringDecoder q = new QueryStringDecoder(req.uri());
                path = q.path();
                params = q.parameters();
                bodyBytes = 0;
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
                    firstBodyByteAtNs.compareAndSet(0, System.nanoTime());
                }
                bodyBytes += data.readableBytes();
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
