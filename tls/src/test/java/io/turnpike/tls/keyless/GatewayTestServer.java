package io.turnpike.tls.keyless;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;

import java.nio.charset.StandardCharsets;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal gateway stand-in: one event loop thread serving a TLS port (the keyless context; answers a line "x" with
 * "echo:x" and closes) and a plain TCP port (same answer, no TLS) used to prove the loop is not blocked.
 */
final class GatewayTestServer implements AutoCloseable {
    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    final Channel tls;
    final Channel plain;
    final AtomicInteger handshakesOk = new AtomicInteger();
    final AtomicInteger handshakesFailed = new AtomicInteger();
    final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    volatile String lastProtocol;
    volatile String lastCipher;

    GatewayTestServer(SslContext ctx) throws InterruptedException {
        tls = bind(ctx);
        plain = bind(null);
    }

    int tlsPort() {
        return ((java.net.InetSocketAddress) tls.localAddress()).getPort();
    }

    int plainPort() {
        return ((java.net.InetSocketAddress) plain.localAddress()).getPort();
    }

    private Channel bind(SslContext ctx) throws InterruptedException {
        return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ctx != null) {
                            ch.pipeline().addLast(ctx.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new LineBasedFrameDecoder(1024));
                        ch.pipeline().addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext c, ByteBuf line) {
                                String s = "echo:" + line.toString(StandardCharsets.UTF_8) + "\n";
                                c.writeAndFlush(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8))
                                        .addListener(ChannelFutureListener.CLOSE);
                            }

                            @Override
                            public void userEventTriggered(ChannelHandlerContext c, Object evt) {
                                if (evt instanceof SslHandshakeCompletionEvent hs) {
                                    if (hs.isSuccess()) {
                                        handshakesOk.incrementAndGet();
                                        var session = c.pipeline().get(io.netty.handler.ssl.SslHandler.class)
                                                .engine().getSession();
                                        lastProtocol = session.getProtocol();
                                        lastCipher = session.getCipherSuite();
                                    } else {
                                        handshakesFailed.incrementAndGet();
                                        failures.add(hs.cause());
                                    }
                                }
                                c.fireUserEventTriggered(evt);
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
                                c.close();
                            }
                        });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    @Override
    public void close() {
        tls.close().syncUninterruptibly();
        plain.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
