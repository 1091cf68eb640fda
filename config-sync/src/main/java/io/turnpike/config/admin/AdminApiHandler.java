package io.turnpike.config.admin;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The Admin API's Netty handler (one per connection). On the admin I/O thread it only does the cheap checks, in
 * APISIX's order: the client address against {@code allow_admin} (403), then the key (401
 * {@code {"error_msg":"failed to check token"}}, also for a viewer's write, as in APISIX). The request itself (JSON
 * parsing, validation, blocking store calls) runs on the worker executor; the answer is written back from there.
 * One request per connection is in flight at a time (auto-read is off meanwhile), so pipelined requests are
 * answered in order.
 */
public final class AdminApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private final AdminService service;
    private final AdminAuth auth;
    private final AllowList allow;
    private final Executor workers;

    public AdminApiHandler(AdminService service, AdminAuth auth, AllowList allow, Executor workers) {
        this.service = service;
        this.auth = auth;
        this.allow = allow;
        this.workers = workers;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (!req.decoderResult().isSuccess()) {
            write(ctx, AdminResponse.error(400, "bad request: " + req.decoderResult().cause()), false);
            return;
        }
        AdminResponse refused = refusal(allow, auth, ctx.channel().remoteAddress(), req);
        if (refused != null) {
            write(ctx, refused, keepAlive);
            return;
        }
        String method = req.method().name();
        String uri = req.uri();
        if (method.equals("HEAD")) {
            write(ctx, AdminResponse.empty(200), keepAlive);
            return;
        }
        byte[] body = ByteBufUtil.getBytes(req.content());
        ctx.channel().config().setAutoRead(false);
        try {
            workers.execute(() -> {
                AdminResponse r = service.handle(method, uri, body);
                write(ctx, r, keepAlive);
                ctx.channel().config().setAutoRead(true);
            });
        } catch (RejectedExecutionException e) {
            ctx.channel().config().setAutoRead(true);
            write(ctx, AdminResponse.error(503, "the Admin API is overloaded; retry"), keepAlive);
        }
    }

    /**
     * The answer that refuses this request from its head alone, in APISIX's order: the client address against
     * {@code allow_admin} (403), then the key (401); null when it may proceed. Also run before the body is aggregated
     * ({@code AdminApiServer}'s gate), so that nobody without a key can make the server hold request bodies.
     */
    static AdminResponse refusal(AllowList allow, AdminAuth auth, SocketAddress remote, HttpRequest req) {
        InetAddress client = remote instanceof InetSocketAddress isa ? isa.getAddress() : null;
        if (client == null || !allow.allows(client)) {
            return AdminResponse.error(403, "access denied: client address is not in deployment.admin.allow_admin");
        }
        String method = req.method().name();
        String uri = req.uri();
        String key = req.headers().get("X-API-KEY");
        if (key == null && uri.indexOf('?') >= 0) {
            List<String> v = new QueryStringDecoder(uri).parameters().get("api_key");
            key = v == null || v.isEmpty() ? null : v.get(0);
        }
        AdminAuth.Outcome outcome = auth.check(key, method);
        if (outcome != AdminAuth.Outcome.OK) {
            ObjectNode o = AdminResponse.JSON.createObjectNode();
            o.put("error_msg", "failed to check token");
            o.put("description", outcome.description());
            return AdminResponse.json(401, o);
        }
        return null;
    }

    static void write(ChannelHandlerContext ctx, AdminResponse r, boolean keepAlive) {
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.status()),
                Unpooled.wrappedBuffer(r.body()));
        resp.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
        if (r.body().length > 0) {
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        }
        resp.headers().set("X-API-VERSION", "v3");
        if (!keepAlive) {
            resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(resp).addListener((ChannelFutureListener) f -> lingeringClose(f.channel()));
        } else {
            ctx.writeAndFlush(resp);
        }
    }

    /** How long a refused client may go on sending before the connection closes anyway. */
    static final long LINGER_MS = 2_000;

    /**
     * nginx's lingering close: the answer is out, but the client may still be sending the body it was refused for
     * (a 413 answered from the head). Closing now with its bytes unread would make the kernel reset the connection,
     * which can destroy the answer in the client's buffers before it reads it. So: half-close (FIN after the answer),
     * read and discard what still comes, close when the client does, at the latest after {@link #LINGER_MS}.
     */
    static void lingeringClose(io.netty.channel.Channel ch) {
        if (!ch.isActive()) {
            return;
        }
        ch.pipeline().addFirst("admin-linger", new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext c, Object msg) {
                io.netty.util.ReferenceCountUtil.release(msg); // discarded, not decoded
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
                c.close();
            }
        });
        ch.eventLoop().schedule(() -> {
            ch.close();
        }, LINGER_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
        if (ch instanceof io.netty.channel.socket.SocketChannel sc) {
            sc.shutdownOutput().addListener(f -> {
                if (!f.isSuccess()) {
                    ch.close();
                }
            });
        } else {
            ch.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
