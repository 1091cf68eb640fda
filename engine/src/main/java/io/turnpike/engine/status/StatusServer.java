package io.turnpike.engine.status;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
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
import io.netty.util.concurrent.DefaultThreadFactory;
import io.turnpike.engine.Version;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.server.GatewayServer;
import io.turnpike.tls.HandshakeFailure;
import io.turnpike.tls.TlsHandshakeCounters;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The status listener (APISIX's port 7085): {@code GET /status} (process, snapshot and counters as JSON) and
 * {@code GET /status/ready} (200 once every event loop has applied a snapshot, else 503). Runs on its own thread, never
 * on an event loop; it reads the loops' counters racily, which is fine for monitoring.
 */
public final class StatusServer implements AutoCloseable {
    private final GatewayServer gateway;
    private final java.util.function.Supplier<String> configSourceJson;
    private final java.util.function.Supplier<String> keylessJson;
    private final MultiThreadIoEventLoopGroup group;
    private Channel channel;

    /** {@code configSourceJson}: a JSON object describing the configuration source's state (etcd connection, ...). */
    public StatusServer(GatewayServer gateway, java.util.function.Supplier<String> configSourceJson) {
        this(gateway, configSourceJson, null);
    }

    /**
     * {@code keylessJson}: a JSON object of keyless key server clients by name and their counters, shown as
     * {@code "keyless"}; null when no key servers are configured (the field is then absent).
     */
    public StatusServer(GatewayServer gateway, java.util.function.Supplier<String> configSourceJson,
                        java.util.function.Supplier<String> keylessJson) {
        this.gateway = gateway;
        this.configSourceJson = configSourceJson;
        this.keylessJson = keylessJson;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("turnpike-status", true),
                NioIoHandler.newFactory());
    }

    public InetSocketAddress start(InetSocketAddress address) throws InterruptedException {
        channel = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                // A second process taking over (docs/operations.md, zero-downtime restart) binds the same address.
                .option(io.netty.channel.socket.nio.NioChannelOption.of(java.net.StandardSocketOptions.SO_REUSEPORT),
                        true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192), new Handler());
                    }
                })
                .bind(address).sync().channel();
        return (InetSocketAddress) channel.localAddress();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String path = req.uri();
            int q = path.indexOf('?');
            if (q >= 0) {
                path = path.substring(0, q);
            }
            HttpResponseStatus status;
            String body;
            switch (path) {
                case "/status/ready" -> {
                    boolean ready = gateway.publisher().allLoopsReady();
                    status = ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE;
                    body = ready ? "{\"status\":\"ok\"}" : "{\"error_msg\":\"not every event loop has a configuration yet\"}";
                }
                case "/status" -> {
                    status = HttpResponseStatus.OK;
                    body = statusJson();
                }
                default -> {
                    status = HttpResponseStatus.NOT_FOUND;
                    body = "{\"error_msg\":\"not found\"}";
                }
            }
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(body + "\n", StandardCharsets.UTF_8));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (keepAlive) {
                ctx.writeAndFlush(resp);
            } else {
                ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    String statusJson() {
        StringBuilder b = new StringBuilder(512);
        var snap = gateway.publisher().latest();
        b.append("{\"status\":\"ok\",\"version\":\"").append(Version.VERSION).append('"')
                .append(",\"transport\":\"").append(gateway.transport().configName()).append('"')
                .append(",\"event_loops\":").append(gateway.loops().size())
                .append(",\"ready\":").append(gateway.publisher().allLoopsReady())
                .append(",\"snapshot_version\":").append(snap == null ? -1 : snap.version)
                .append(",\"routes\":").append(snap == null ? 0 : snap.routes.size())
                .append(",\"config_source\":").append(configSourceJson.get());
        // Log entries (access log, file-logger, http-logger) dropped because the log writer was behind.
        b.append(",\"log_entries_dropped\":").append(io.turnpike.engine.logs.LogWriter.dropsIfStarted());
        if (keylessJson != null) {
            b.append(",\"keyless\":").append(keylessJson.get());
        }
        io.turnpike.engine.trace.SpanExportAgent tracing = io.turnpike.engine.trace.SpanExportAgent.current();
        if (tracing != null) {
            b.append(",\"tracing\":").append(tracing.statusJson()); // once a route uses opentelemetry
        }
        b.append(",\"counters\":{");
        String[] names = {"requests", "responses", "downstream_connections_opened", "downstream_connections_closed",
                "upstream_connections_opened", "upstream_connections_closed", "upstream_connections_reused",
                "bytes_in", "bytes_out", "upstream_retries", "downstream_connections_rejected"};
        for (int i = 0; i < names.length; i++) {
            b.append(i == 0 ? "" : ",").append('"').append(names[i]).append("\":").append(sum(i));
        }
        b.append(",\"plugin_replies\":").append(sum(LoopCounters.PLUGIN_REPLIES));
        b.append(",\"http2_connections\":").append(sum(LoopCounters.HTTP2_CONNECTIONS));
        b.append(",\"http2_connection_errors\":").append(sum(LoopCounters.HTTP2_CONNECTION_ERRORS));
        b.append(",\"http2_stream_errors\":").append(sum(LoopCounters.HTTP2_STREAM_ERRORS));
        b.append(",\"http2_client_resets\":").append(sum(LoopCounters.HTTP2_CLIENT_RESETS));
        b.append("},\"errors\":{");
        boolean first = true;
        for (GatewayError e : GatewayError.values()) {
            b.append(first ? "" : ",").append('"').append(e.name().toLowerCase()).append("\":")
                    .append(sum(LoopCounters.ERROR_BASE + e.ordinal()));
            first = false;
        }
        for (io.turnpike.engine.codec.HttpParseError e : io.turnpike.engine.codec.HttpParseError.values()) {
            b.append(",\"").append(e.name().toLowerCase()).append("\":")
                    .append(sum(LoopCounters.PARSE_ERROR_BASE + Math.min(e.ordinal(), LoopCounters.PARSE_ERROR_SLOTS - 1)));
        }
        b.append('}');
        // Downstream TLS handshakes, summed over the loops: completed, and failed by reason.
        long completed = 0;
        for (TlsHandshakeCounters c : gateway.tlsCounters()) {
            completed += c.completedCount();
        }
        b.append(",\"tls\":{\"handshakes\":").append(completed).append(",\"handshake_failures\":{");
        first = true;
        for (HandshakeFailure f : HandshakeFailure.values()) {
            long n = 0;
            for (TlsHandshakeCounters c : gateway.tlsCounters()) {
                n += c.failures(f);
            }
            b.append(first ? "" : ",").append('"').append(f.key()).append("\":").append(n);
            first = false;
        }
        b.append("}}");
        // Rate limits: live limiters, keys they hold, keys reclaimed since start (io.turnpike.engine.limit).
        long[] limits = io.turnpike.engine.limit.LimiterRegistry.get().stats();
        b.append(",\"limits\":{\"limiters\":").append(limits[0]).append(",\"keys\":").append(limits[1])
                .append(",\"keys_reclaimed\":").append(limits[2])
                .append(",\"keys_refused\":").append(limits[3]);
        // Redis-backed limits: one entry per Redis policy (connection, leases, failures, degraded decisions).
        if (io.turnpike.engine.limit.LimiterRegistry.get().remoteIfCreated()
                instanceof io.turnpike.engine.limit.redis.RedisLimiters redis) {
            b.append(",\"redis\":").append(redis.statusJson());
        }
        b.append('}');
        b.append('}');
        return b.toString();
    }

    private long sum(int slot) {
        long s = 0;
        for (LoopContext ctx : gateway.loops()) {
            s += ctx.counters.get(slot);
        }
        return s;
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
