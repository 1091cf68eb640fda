package io.turnpike.engine.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.Upstream;
import io.turnpike.config.plugin.BuiltinPluginSchemas;
import io.turnpike.config.plugin.PluginRegistry;
import io.turnpike.engine.discovery.DnsControlEndpoints;
import io.turnpike.engine.discovery.DnsDiscovery;
import io.turnpike.engine.health.HealthChecker;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * APISIX's control API ({@code apisix.enable_control}, {@code apisix.control}: default 127.0.0.1:9090), read-only
 * views of what the gateway runs, in APISIX's shapes:
 * <ul>
 *   <li>{@code GET /v1/schema}: {@code {"plugins": {name: {"schema": ...}}, "stream_plugins": {}}} (the JSON schemas of
 *       the plugins this build implements; APISIX's {@code main} schemas are not published: Turnpike validates the
 *       resources in code)</li>
 *   <li>{@code GET /v1/routes}, {@code GET /v1/route/{id}}, {@code GET /v1/upstreams}, {@code GET /v1/upstream/{id}}:
 *       {@code {"key": "<prefix>/routes/<id>", "value": {...}}} entries of the configuration in force; an unknown id is
 *       404 {@code {"error_msg":"route[<id>] not found"}}</li>
 *   <li>{@code GET /v1/healthcheck}: the health checker's view ({@link HealthChecker#status()}), APISIX's list
 *       {@code [{"name": "<prefix>/upstreams/<id>", "type": "http", "nodes": [{"ip", "port", "hostname", "status",
 *       "counter": {...}}]}]}, or {@code {}} when nothing is checked (APISIX's empty table);
 *       {@code GET /v1/healthcheck/<routes|services|upstreams>/<id>}: one entry, or 404
 *       {@code {"error_msg":"no checker for <src_type>[<id>]"}} / {@code "<src_type>[<id>] not found"}, 400
 *       {@code "invalid src type <src_type>"}</li>
 *   <li>{@code PUT /v1/plugins/reload}: re-reads config.yaml as SIGHUP does ({@link ConfigReloader}); 200
 *       {@code done}, or 400 with the file's errors</li>
 *   <li>{@code POST /v1/discovery/dns/refresh}, {@code GET /v1/discovery/dns/dump}: DNS discovery
 *       ({@link DnsControlEndpoints}, docs/discovery.md), answered when the refresh is applied on every loop</li>
 * </ul>
 * Anything else is 404. Bound with {@code SO_REUSEPORT}, so a second process taking over the ports can bind it too.
 *
 * <p>One thread ({@code turnpike-control}) serves every connection; the suppliers are read on it.
 */
public final class ControlApiServer implements AutoCloseable {

    private final Supplier<ConfigSet> config;
    private final String prefix;
    private final Supplier<ConfigReloader.Report> reload;
    private final MultiThreadIoEventLoopGroup group;
    private Channel channel;
    private volatile DnsDiscovery dns;
    private volatile HealthChecker health;

    /**
     * @param config the configuration in force (null: no data plane, routes and upstreams are empty)
     * @param prefix the etcd prefix the keys are shown under ({@code /apisix})
     * @param reload {@code PUT /v1/plugins/reload}; null: 404
     */
    public ControlApiServer(Supplier<ConfigSet> config, String prefix, Supplier<ConfigReloader.Report> reload) {
        this.config = config;
        this.prefix = prefix;
        this.reload = reload;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("turnpike-control", true),
                NioIoHandler.newFactory());
    }

    /** The checker {@code /v1/healthcheck} shows; null (the default): nothing is checked. Any thread. */
    public void healthChecker(HealthChecker checker) {
        this.health = checker;
    }

    public InetSocketAddress start(InetSocketAddress address) throws InterruptedException {
        try {
            channel = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .option(NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT), true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192), new Handler());
                        }
                    })
                    .bind(address).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            close();
            throw e;
        }
        return (InetSocketAddress) channel.localAddress();
    }

    /** The DNS discovery behind {@code /v1/discovery/dns/*}; null (the default): they answer 404. */
    public void dnsDiscovery(DnsDiscovery dns) {
        this.dns = dns;
    }

    public InetSocketAddress localAddress() {
        return channel == null ? null : (InetSocketAddress) channel.localAddress();
    }

    /** A reply: status and body (JSON, or text). */
    record Reply(int status, String body, boolean json) {
        static Reply json(int status, JsonNode node) {
            return new Reply(status, node.toString(), true);
        }

        static Reply error(int status, String message) {
            return json(status, ControlJson.mapper().createObjectNode().put("error_msg", message));
        }
    }

    /** Routes a request (on the control thread). */
    Reply handle(HttpMethod method, String path) {
        String[] seg = path.split("/", -1); // "", "v1", ...
        if (seg.length < 3 || !seg[1].equals("v1")) {
            return Reply.error(404, "not found");
        }
        if (method.equals(HttpMethod.PUT) && path.equals("/v1/plugins/reload") && reload != null) {
            ConfigReloader.Report r = reload.get();
            return r.ok() ? new Reply(200, "done", false) : Reply.error(400, String.join("; ", r.errors()));
        }
        if (!method.equals(HttpMethod.GET)) {
            return Reply.error(404, "not found");
        }
        ConfigSet set = config == null ? ConfigSet.empty() : config.get();
        if (set == null) {
            set = ConfigSet.empty();
        }
        switch (seg[2]) {
            case "schema" -> {
                return seg.length == 3 ? Reply.json(200, schema()) : Reply.error(404, "not found");
            }
            case "routes" -> {
                return seg.length == 3 ? Reply.json(200, routes(set)) : Reply.error(404, "not found");
            }
            case "route" -> {
                if (seg.length != 4) {
                    return Reply.error(404, "not found");
                }
                Route r = set.routes().get(seg[3]);
                return r == null ? Reply.error(404, "route[" + seg[3] + "] not found")
                        : Reply.json(200, entry("routes", r.id(), r.raw()));
            }
            case "upstreams" -> {
                return seg.length == 3 ? Reply.json(200, upstreams(set)) : Reply.error(404, "not found");
            }
            case "upstream" -> {
                if (seg.length != 4) {
                    return Reply.error(404, "not found");
                }
                Upstream u = set.upstreams().get(seg[3]);
                return u == null ? Reply.error(404, "upstream[" + seg[3] + "] not found")
                        : Reply.json(200, entry("upstreams", seg[3], u.raw()));
            }
            case "healthcheck" -> {
                return healthcheck(seg, set);
            }
            default -> {
                return Reply.error(404, "not found");
            }
        }
    }

    /** {@code /v1/healthcheck[/<src_type>/<id>]}, as APISIX's control API answers it. */
    private Reply healthcheck(String[] seg, ConfigSet set) {
        HealthChecker hc = health;
        ObjectNode status = hc == null ? ControlJson.mapper().createObjectNode() : hc.status();
        if (seg.length == 3) {
            if (status.isEmpty()) {
                return Reply.json(200, ControlJson.mapper().createObjectNode());
            }
            ArrayNode list = ControlJson.mapper().createArrayNode();
            status.properties().forEach(e -> list.add(named(e.getKey(), (ObjectNode) e.getValue())));
            return Reply.json(200, list);
        }
        String type = seg[3];
        if (seg.length == 4 || (seg.length == 5 && seg[4].isEmpty())) {
            return Reply.error(404, "missing src id for src type " + type);
        }
        if (seg.length != 5) {
            return Reply.error(404, "not found");
        }
        String id = seg[4];
        boolean exists;
        switch (type) {
            case "routes" -> exists = set.routes().containsKey(id);
            case "services" -> exists = set.services().containsKey(id);
            case "upstreams" -> {
                Upstream u = set.upstreams().get(id);
                exists = u != null;
                if (u != null && u.checks() == null) {
                    return Reply.error(404, "no checker for " + type + "[" + id + "]");
                }
            }
            default -> {
                return Reply.error(400, "invalid src type " + type);
            }
        }
        JsonNode one = status.get(type + "/" + id);
        if (one instanceof ObjectNode o) {
            return Reply.json(200, named(type + "/" + id, o));
        }
        return Reply.error(404, exists ? "no checker for " + type + "[" + id + "]"
                : type + "[" + id + "] not found");
    }

    /** An entry of the checker's status with APISIX's {@code name}: the etcd key of the upstream's holder. */
    private ObjectNode named(String key, ObjectNode entry) {
        ObjectNode o = entry.deepCopy();
        o.put("name", key.startsWith("/") ? key : prefix + "/" + key);
        return o;
    }

    private JsonNode schema() {
        ObjectNode root = ControlJson.mapper().createObjectNode();
        ObjectNode plugins = root.putObject("plugins");
        for (String name : new TreeSet<>(PluginRegistry.builtin().names())) {
            String schema = BuiltinPluginSchemas.JSON_SCHEMAS.get(name);
            ObjectNode p = plugins.putObject(name);
            if (schema != null) {
                try {
                    p.set("schema", ControlJson.mapper().readTree(schema));
                } catch (IOException e) {
                    throw new IllegalStateException(name + ": " + e.getMessage(), e);
                }
            }
        }
        root.putObject("stream_plugins");
        return root;
    }

    private ArrayNode routes(ConfigSet set) {
        ArrayNode a = ControlJson.mapper().createArrayNode();
        for (Route r : set.routes().values()) {
            a.add(entry("routes", r.id(), r.raw()));
        }
        return a;
    }

    private ArrayNode upstreams(ConfigSet set) {
        ArrayNode a = ControlJson.mapper().createArrayNode();
        for (Map.Entry<String, Upstream> e : set.upstreams().entrySet()) {
            a.add(entry("upstreams", e.getKey(), e.getValue().raw()));
        }
        return a;
    }

    private ObjectNode entry(String resource, String id, ObjectNode value) {
        ObjectNode o = ControlJson.mapper().createObjectNode();
        o.put("key", prefix + "/" + resource + "/" + id);
        o.set("value", value == null ? ControlJson.mapper().createObjectNode() : value);
        return o;
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String path = req.uri();
            int q = path.indexOf('?');
            if (q >= 0) {
                path = path.substring(0, q);
            }
            if (DnsControlEndpoints.handles(path)) {
                boolean keepAlive = HttpUtil.isKeepAlive(req);
                DnsControlEndpoints.handle(dns, req.method().name(), path, req.content().toString(
                        StandardCharsets.UTF_8)).whenComplete((a, e) -> ctx.executor().execute(() -> write(ctx,
                        e == null ? Reply.json(a.status(), a.body()) : Reply.error(500, String.valueOf(e)), keepAlive)));
                return;
            }
            Reply reply;
            try {
                reply = handle(req.method(), path);
            } catch (RuntimeException e) {
                reply = Reply.error(500, String.valueOf(e.getMessage()));
            }
            write(ctx, reply, HttpUtil.isKeepAlive(req));
        }

        private void write(ChannelHandlerContext ctx, Reply reply, boolean keepAlive) {
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(reply.status()),
                    Unpooled.copiedBuffer(reply.body() + "\n", StandardCharsets.UTF_8));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.json() ? "application/json" : "text/plain");
            resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
            if (keepAlive) {
                ctx.writeAndFlush(resp);
            } else {
                ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
