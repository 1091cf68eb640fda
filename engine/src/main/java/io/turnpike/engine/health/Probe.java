package io.turnpike.engine.health;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One active probe of one node, as lua-resty-healthcheck runs it: connect (a failure is a TCP failure, a connect
 * timeout a timeout); {@code tcp}: done, a success; {@code https}: TLS handshake (a failure is a TCP failure); then the
 * request, {@code Connection: close}, and the status line, judged against the healthy and unhealthy lists (a status in
 * neither counts for nothing; a line that is not a status line counts as an HTTP failure); the connection is closed
 * once the status line is read. {@code timeout} bounds the connect, then again everything after it.
 *
 * <p>Confined to the checker's thread (the channel is registered on it). One object per probe.
 */
final class Probe extends ChannelInboundHandlerAdapter {
    private static final Pattern STATUS_LINE = Pattern.compile("^HTTP/\\d+\\.\\d+\\s+(\\d+)",
            Pattern.CASE_INSENSITIVE);
    private static final int MAX_STATUS_LINE = 4096;

    enum Result { SUCCESS, TCP_FAILURE, TIMEOUT, HTTP }

    private final HealthChecker checker;
    private final HealthChecker.UpstreamWatch watch;
    private final HealthChecker.ProbeTarget target;
    private final boolean tls;
    private Channel channel;
    private ScheduledFuture<?> timer;
    private ByteBuf line;
    private boolean done;

    Probe(HealthChecker checker, HealthChecker.UpstreamWatch watch, HealthChecker.ProbeTarget target) {
        this.checker = checker;
        this.watch = watch;
        this.target = target;
        this.tls = "https".equals(watch.active.type());
    }

    /** The connect attempt completed (listener of the connect future). */
    void connected(ChannelFuture f) {
        channel = f.channel();
        if (!f.isSuccess()) {
            finish(f.cause() instanceof ConnectTimeoutException ? Result.TIMEOUT : Result.TCP_FAILURE, 0);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        timer = ctx.executor().schedule(() -> finish(Result.TIMEOUT, 0), watch.timeoutNanos, TimeUnit.NANOSECONDS);
        if ("tcp".equals(watch.active.type())) {
            finish(Result.SUCCESS, 0);
        } else if (!tls) {
            sendRequest(ctx);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent e) {
            if (e.isSuccess()) {
                sendRequest(ctx);
            } else {
                finish(Result.TCP_FAILURE, 0);
            }
        }
    }

    private void sendRequest(ChannelHandlerContext ctx) {
        if (done) {
            return;
        }
        ctx.writeAndFlush(Unpooled.wrappedBuffer(target.request)).addListener(f -> {
            if (!f.isSuccess()) {
                finish(Result.TCP_FAILURE, 0);
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        try {
            if (done) {
                return;
            }
            if (line == null) {
                line = ctx.alloc().heapBuffer(Math.min(in.readableBytes(), MAX_STATUS_LINE));
            }
            int n = Math.min(in.readableBytes(), MAX_STATUS_LINE - line.readableBytes());
            line.writeBytes(in, in.readerIndex(), n);
            int eol = line.indexOf(line.readerIndex(), line.writerIndex(), (byte) '\n');
            if (eol < 0 && line.readableBytes() < MAX_STATUS_LINE) {
                return;
            }
            String s = line.toString(line.readerIndex(), eol < 0 ? line.readableBytes() : eol - line.readerIndex(),
                    StandardCharsets.ISO_8859_1);
            Matcher m = STATUS_LINE.matcher(s);
            int status = 0;
            if (m.find()) {
                try {
                    status = Integer.parseInt(m.group(1));
                } catch (NumberFormatException e) {
                    status = 0;
                }
            }
            finish(Result.HTTP, status);
        } finally {
            in.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        finish(Result.TCP_FAILURE, 0); // closed before the status line (a no-op once done)
        releaseLine();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        finish(Result.TCP_FAILURE, 0);
    }

    private void releaseLine() {
        if (line != null) {
            line.release();
            line = null;
        }
    }

    /** Records the result once, closes the connection, and lets the next probe of the upstream start. */
    private void finish(Result r, int status) {
        if (done) {
            return;
        }
        done = true;
        if (timer != null) {
            timer.cancel(false);
        }
        if (channel != null) {
            channel.close();
        }
        releaseLine();
        checker.probeDone(watch, target, r, status);
    }
}
