package io.turnpike.config.admin;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * Runs the Admin API's address and key checks on the request head, before the body is aggregated: a client that is
 * not allowed, or has no valid key, is answered 403/401 at once and its body is discarded as it arrives (the
 * connection is closed when a body was announced), so only an authenticated admin can make the server hold a body
 * (up to the body limit). Confined to the admin I/O thread, one per connection.
 */
final class AdminGate extends ChannelInboundHandlerAdapter {
    private final AllowList allow;
    private final AdminAuth auth;
    private boolean discarding;

    AdminGate(AllowList allow, AdminAuth auth) {
        this.allow = allow;
        this.auth = auth;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest req) {
            discarding = false;
            AdminResponse refused = req.decoderResult().isSuccess()
                    ? AdminApiHandler.refusal(allow, auth, ctx.channel().remoteAddress(), req) : null;
            if (refused != null) {
                boolean noBody = !HttpUtil.isTransferEncodingChunked(req) && HttpUtil.getContentLength(req, 0L) == 0;
                boolean keepAlive = noBody && HttpUtil.isKeepAlive(req);
                discarding = !(msg instanceof LastHttpContent);
                ReferenceCountUtil.release(msg);
                AdminApiHandler.write(ctx, refused, keepAlive);
                return;
            }
        }
        if (discarding) {
            if (msg instanceof LastHttpContent) {
                discarding = false;
            }
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
