package io.turnpike.engine.prometheus;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
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
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.turnpike.config.process.PrometheusAttr;
import io.turnpike.engine.Version;
import io.turnpike.engine.codec.HttpParseError;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.server.GatewayServer;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.upstream.NodeAddress;

import java.lang.invoke.VarHandle;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The Prometheus exporter ({@code plugin_attr.prometheus.export_addr}, default 127.0.0.1:9091, at
 * {@code export_uri}, default {@code /apisix/prometheus/metrics}): APISIX's metric names, types and labels, and
 * Turnpike's own. Runs on its own thread ({@code turnpike-prometheus}), never on an event loop: a scrape reads every
 * loop's {@link LoopSeries} and counters racily, merges equal label sets across loops and renders the text format
 * (version 0.0.4) in one pass into a reused builder. It also marks the series of routes that have left the
 * configuration, which their loops then free (so a deleted route's series shows in exactly one more scrape).
 */
public final class PrometheusExporter implements AutoCloseable {
    /** APISIX's etcd state, when etcd is the configuration source. */
    public interface EtcdState {
        boolean reachable();

        /** Highest mod_revision per resource type ({@code routes}, ...). */
        Map<String, Long> modifyIndexes();

        /** The revision the watch has reached. */
        long revision();
    }

    private final PrometheusAttr attr;
    private final GatewayServer gateway;
    private final List<PrometheusRecorder> recorders;
    private final Predicate<String> routeConfigured;
    private final EtcdState etcd;
    private final MultiThreadIoEventLoopGroup group;
    private final String p;
    private final String hostname;
    private final double[] bucketsMs;
    private final boolean latRoute;
    private final boolean latService;
    private final boolean latConsumer;
    private final boolean latNode;
    private Channel channel;

    // ---- owned by the exporter thread ----
    private final StringBuilder out = new StringBuilder(1 << 16);
    private final LabelCache[] caches;
    private long scrapes;
    private long lastScrapeNs;
    private long lastScrapeBytes;
    private long lastScrapeCpuNs;
    private final java.lang.management.ThreadMXBean threadMx = ManagementFactory.getThreadMXBean();

    /**
     * @param routeConfigured whether a route id is still in the configuration (a series of a route that is not gets
     *                        expired after this scrape)
     * @param etcd            null in standalone-file mode
     */
    public PrometheusExporter(PrometheusAttr attr, GatewayServer gateway, List<PrometheusRecorder> recorders,
                              Predicate<String> routeConfigured, EtcdState etcd) {
        this.attr = attr;
        this.gateway = gateway;
        this.recorders = List.copyOf(recorders);
        this.caches = new LabelCache[this.recorders.size()];
        for (int i = 0; i < caches.length; i++) {
            caches[i] = new LabelCache();
        }
        this.routeConfigured = routeConfigured;
        this.etcd = etcd;
        this.p = attr.metricPrefix();
        this.bucketsMs = buckets(attr);
        this.latRoute = attr.latencyLabels().contains("route");
        this.latService = attr.latencyLabels().contains("service");
        this.latConsumer = attr.latencyLabels().contains("consumer");
        this.latNode = attr.latencyLabels().contains("node");
        String h;
        try {
            h = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            h = "localhost";
        }
        this.hostname = h;
        // Control plane: the lowest priority (nice +4 with -XX:ThreadPriorityPolicy=1), so a scrape sharing a core
        // with an event loop yields to it (docs/threads.md).
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("turnpike-prometheus", true,
                Thread.MIN_PRIORITY), NioIoHandler.newFactory());
    }

    /** The configured buckets as an array (milliseconds). */
    public static double[] buckets(PrometheusAttr attr) {
        double[] b = new double[attr.defaultBuckets().size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = attr.defaultBuckets().get(i);
        }
        return b;
    }

    /** The bound address (after {@link #start}). */
    public InetSocketAddress address() {
        return channel == null ? null : (InetSocketAddress) channel.localAddress();
    }

    public InetSocketAddress start() throws InterruptedException {
        InetSocketAddress at = new InetSocketAddress(attr.exportAddr().ip(), attr.exportAddr().port());
        try {
            channel = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    // A second process taking over the ports (docs/operations.md, zero-downtime restart) binds the
                    // same export address while this one drains, like the status and control listeners.
                    .option(io.netty.channel.socket.nio.NioChannelOption.of(
                            java.net.StandardSocketOptions.SO_REUSEPORT), true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192), new Handler());
                        }
                    })
                    .bind(at).sync().channel();
        } catch (Exception e) {
            close();
            throw new IllegalStateException("plugin_attr.prometheus.export_addr " + attr.exportAddr()
                    + ": cannot listen: " + e.getMessage(), e);
        }
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
            FullHttpResponse resp;
            if (!path.equals(attr.exportUri())) {
                resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND,
                        Unpooled.copiedBuffer("{\"error_msg\":\"not found\"}\n", StandardCharsets.UTF_8));
                resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            } else if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
                resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.METHOD_NOT_ALLOWED,
                        Unpooled.EMPTY_BUFFER);
            } else {
                long t0 = System.nanoTime();
                long cpu0 = threadMx.getCurrentThreadCpuTime();
                render();
                ByteBuf body = ctx.alloc().buffer(out.length() + 64);
                ByteBufUtil.writeUtf8(body, out);
                lastScrapeBytes = body.readableBytes();
                lastScrapeNs = System.nanoTime() - t0;
                lastScrapeCpuNs = cpu0 < 0 ? 0 : threadMx.getCurrentThreadCpuTime() - cpu0;
                if (req.method().equals(HttpMethod.HEAD)) {
                    body.release();
                    body = Unpooled.EMPTY_BUFFER;
                }
                resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
                resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, (int) lastScrapeBytes);
            }
            if (!resp.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
                resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
            }
            if (HttpUtil.isKeepAlive(req)) {
                ctx.writeAndFlush(resp);
            } else {
                ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    /** Renders every metric into {@link #out} (exporter thread). Package-private for tests. */
    String renderText() {
        render();
        return out.toString();
    }

    private void render() {
        out.setLength(0);
        scrapes++;
        Merged m = merge();
        renderStatus(m);
        renderLatency(m);
        renderBandwidth(m);
        renderGateway();
        renderUpstreamStatus();
        renderTurnpike();
    }

    // ---------------------------------------------------------------- merging the loops' series

    private static final class Merged {
        final Map<String, long[]> status = new LinkedHashMap<>();
        final Map<String, long[]> latency = new LinkedHashMap<>();
        final Map<String, long[]> bandwidth = new LinkedHashMap<>();
        long overflowed;
    }

    private Merged merge() {
        Merged m = new Merged();
        Map<String, Boolean> configured = new HashMap<>();
        for (int ri = 0; ri < recorders.size(); ri++) {
            LoopSeries t = recorders.get(ri).series;
            LabelCache c = caches[ri];
            // Array references once per table: a loop growing its arrays meanwhile replaces them (gen last), and
            // the bounds below keep every index inside the arrays read here.
            int[] gen = t.gen;
            String[] routeIds = t.routeIds;
            CompiledRoute[] routes = t.routes;
            NodeAddress[] nodes = t.nodes;
            String[] consumers = t.consumers;
            boolean[] preferNames = t.preferName;
            long[] d = t.data;
            int n = Math.min(Math.min(t.used, gen.length), Math.min(Math.min(routeIds.length, routes.length),
                    Math.min(Math.min(nodes.length, consumers.length), Math.min(preferNames.length,
                            d.length / t.stride))));
            c.ensure(Math.max(n, t.sUsed));
            String[] statusLabels = new String[n];
            long[] row = new long[t.stride];
            for (int s = 0; s < n; s++) {
                int g1 = (int) LoopSeries.INTS.getAcquire(gen, s);
                if ((g1 & 1) != 0) {
                    continue;
                }
                String routeId = routeIds[s];
                CompiledRoute route = routes[s];
                NodeAddress node = nodes[s];
                String consumer = consumers[s];
                boolean prefer = preferNames[s];
                System.arraycopy(d, s * t.stride, row, 0, t.stride);
                VarHandle.acquireFence();
                if ((int) LoopSeries.INTS.getAcquire(gen, s) != g1) {
                    continue;
                }
                if (s == 0) {
                    long total = 0;
                    for (int i = 0; i < t.rowLen; i++) {
                        total += row[i];
                    }
                    if (total == 0) {
                        continue;
                    }
                    m.overflowed += total;
                }
                // Label texts are cached per slot across scrapes while the slot holds the same series (generation)
                // and the same compiled route (a recompiled route may have a new name or service).
                if (!c.valid(s, g1, route)) {
                    c.put(s, g1, route, labels(s, route, node, consumer, prefer));
                }
                String[] l = c.labels[s];
                statusLabels[s] = l[0];
                long[] bw = m.bandwidth.computeIfAbsent(l[1], k -> new long[2]);
                bw[0] += row[t.ingressOff];
                bw[1] += row[t.egressOff];
                long[] lat = m.latency.computeIfAbsent(l[2], k -> new long[3 * t.rowLen + 3]);
                for (int i = 0; i < 3 * t.rowLen + 3; i++) {
                    lat[i] += row[i];
                }
                if (s != 0 && routeId != null
                        && !configured.computeIfAbsent(routeId, id -> routeConfigured.test(id))) {
                    t.markDead(s, g1);
                }
            }
            int[] sGen = t.sGen;
            int[] sParents = t.sParent;
            int[] sParentGens = t.sParentGen;
            int[] sCodes = t.sCode;
            long[] sCounts = t.sCount;
            int sn = Math.min(Math.min(t.sUsed, sGen.length), Math.min(Math.min(sParents.length,
                    sParentGens.length), Math.min(sCodes.length, sCounts.length)));
            for (int x = 0; x < sn; x++) {
                int g1 = (int) LoopSeries.INTS.getAcquire(sGen, x);
                if ((g1 & 1) != 0) {
                    continue;
                }
                int parent = sParents[x];
                int parentGen = sParentGens[x];
                int code = sCodes[x];
                long count = sCounts[x];
                VarHandle.acquireFence();
                if ((int) LoopSeries.INTS.getAcquire(sGen, x) != g1 || parent < 0 || parent >= n
                        || statusLabels[parent] == null || (int) LoopSeries.INTS.getAcquire(gen, parent) != parentGen) {
                    continue;
                }
                String key = c.statusKey(x, g1, statusLabels[parent], code);
                m.status.computeIfAbsent(key, k -> new long[1])[0] += count;
            }
            for (int code = 0; code < t.overflowCodes.length; code++) {
                long over = t.overflowCodes[code];
                if (over != 0) {
                    m.overflowed += over;
                    m.status.computeIfAbsent("code=\"" + code + "\",route=\"" + LoopSeries.OVERFLOW_ROUTE
                            + "\",matched_uri=\"\",matched_host=\"\",service=\"\",consumer=\"\",node=\"\"",
                            k -> new long[1])[0] += over;
                }
            }
        }
        return m;
    }

    /** The label texts of one exchange series: status labels (without code), bandwidth labels, latency labels. */
    private String[] labels(int s, CompiledRoute route, NodeAddress node, String consumer, boolean prefer) {
        String routeLabel;
        String uri = "";
        String host = "";
        String service = "";
        if (s == 0) {
            routeLabel = LoopSeries.OVERFLOW_ROUTE;
        } else if (route == null) {
            routeLabel = "";
        } else {
            routeLabel = prefer && !route.name().isEmpty() ? route.name() : route.id;
            uri = route.uris().isEmpty() ? "" : route.uris().get(0);
            host = route.hosts().isEmpty() ? "" : route.hosts().get(0);
            service = prefer && !route.serviceName().isEmpty() ? route.serviceName() : route.serviceId();
        }
        String nodeLabel = nodeLabel(node);
        String consumerLabel = consumer == null ? "" : consumer;
        String[] out = new String[3];
        StringBuilder b = new StringBuilder(128);
        label(b, "route", routeLabel).append(',');
        label(b, "matched_uri", uri).append(',');
        label(b, "matched_host", host).append(',');
        label(b, "service", service).append(',');
        label(b, "consumer", consumerLabel).append(',');
        label(b, "node", nodeLabel);
        out[0] = b.toString();
        b.setLength(0);
        label(b, "route", routeLabel).append(',');
        label(b, "service", service).append(',');
        label(b, "consumer", consumerLabel).append(',');
        label(b, "node", nodeLabel);
        out[1] = b.toString();
        b.setLength(0);
        boolean first = true;
        if (latRoute) {
            label(b, "route", routeLabel);
            first = false;
        }
        if (latService) {
            label(first ? b : b.append(','), "service", service);
            first = false;
        }
        if (latConsumer) {
            label(first ? b : b.append(','), "consumer", consumerLabel);
            first = false;
        }
        if (latNode) {
            label(first ? b : b.append(','), "node", nodeLabel);
        }
        out[2] = b.toString();
        return out;
    }

    /**
     * One loop table's label texts, by slot, kept across scrapes (exporter thread only): building ~10,000 label
     * strings and hashing them again at every scrape was most of a scrape's time.
     */
    private static final class LabelCache {
        int[] gen = new int[0];
        CompiledRoute[] route = new CompiledRoute[0];
        String[][] labels = new String[0][];
        int[] statusGen = new int[0];
        String[] statusParent = new String[0];
        String[] statusKey = new String[0];

        void ensure(int n) {
            if (gen.length < n) {
                int m = Math.max(n, gen.length * 2);
                gen = java.util.Arrays.copyOf(gen, m);
                route = java.util.Arrays.copyOf(route, m);
                labels = java.util.Arrays.copyOf(labels, m);
                statusGen = java.util.Arrays.copyOf(statusGen, m);
                statusParent = java.util.Arrays.copyOf(statusParent, m);
                statusKey = java.util.Arrays.copyOf(statusKey, m);
            }
        }

        boolean valid(int s, int g, CompiledRoute r) {
            return labels[s] != null && gen[s] == g && route[s] == r;
        }

        void put(int s, int g, CompiledRoute r, String[] l) {
            gen[s] = g;
            route[s] = r;
            labels[s] = l;
        }

        /** {@code code="N",<parent labels>}, cached while the status slot and its parent's labels are the same. */
        String statusKey(int x, int g, String parentLabels, int code) {
            if (x >= statusKey.length) {
                ensure(x + 1);
            }
            String k = statusKey[x];
            if (k == null || statusGen[x] != g || statusParent[x] != parentLabels) {
                k = "code=\"" + code + "\"," + parentLabels;
                statusKey[x] = k;
                statusGen[x] = g;
                statusParent[x] = parentLabels;
            }
            return k;
        }
    }

    private static String nodeLabel(NodeAddress node) {
        if (node == null) {
            return "";
        }
        InetSocketAddress a = node.address;
        if (a != null && a.getAddress() != null) {
            return a.getAddress().getHostAddress();
        }
        return a != null ? a.getHostString() : node.key;
    }

    private static StringBuilder label(StringBuilder b, String name, String value) {
        b.append(name).append("=\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '"' -> b.append("\\\"");
                case '\n' -> b.append("\\n");
                default -> b.append(c);
            }
        }
        return b.append('"');
    }

    // ---------------------------------------------------------------- rendering

    private void header(String name, String type, String help) {
        out.append("# HELP ").append(p).append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(p).append(name).append(' ').append(type).append('\n');
    }

    private void sample(String name, String labels, long value) {
        out.append(p).append(name);
        if (labels != null && !labels.isEmpty()) {
            out.append('{').append(labels).append('}');
        }
        out.append(' ').append(value).append('\n');
    }

    private void renderStatus(Merged m) {
        header("http_status", "counter", "HTTP status codes per service in APISIX");
        for (Map.Entry<String, long[]> e : m.status.entrySet()) {
            sample("http_status", e.getKey(), e.getValue()[0]);
        }
    }

    private void renderLatency(Merged m) {
        header("http_latency", "histogram", "HTTP request latency in milliseconds per service in APISIX");
        int rowLen = bucketsMs.length + 1;
        String[] le = new String[bucketsMs.length];
        for (int i = 0; i < le.length; i++) {
            double b = bucketsMs[i];
            le[i] = b == Math.rint(b) ? Long.toString((long) b) : Double.toString(b);
        }
        String name = p + "http_latency";
        for (Map.Entry<String, long[]> e : m.latency.entrySet()) {
            long[] v = e.getValue();
            String labels = e.getKey();
            for (int type = 0; type < 3; type++) {
                long count = 0;
                for (int i = 0; i < rowLen; i++) {
                    count += v[type * rowLen + i];
                }
                if (count == 0) {
                    continue; // no upstream latency for exchanges that never reached one
                }
                String prefix = "type=\"" + LoopSeries.TYPES[type] + "\"" + (labels.isEmpty() ? "" : "," + labels);
                long cum = 0;
                for (int i = 0; i < rowLen; i++) {
                    cum += v[type * rowLen + i];
                    out.append(name).append("_bucket{").append(prefix).append(",le=\"")
                            .append(i < le.length ? le[i] : "+Inf").append("\"} ").append(cum).append('\n');
                }
                out.append(name).append("_sum{").append(prefix).append("} ")
                        .append(v[3 * rowLen + type] / 1000d).append('\n');
                out.append(name).append("_count{").append(prefix).append("} ").append(count).append('\n');
            }
        }
    }

    private void renderBandwidth(Merged m) {
        header("bandwidth", "counter", "Total bandwidth in bytes consumed per service in APISIX");
        for (Map.Entry<String, long[]> e : m.bandwidth.entrySet()) {
            sample("bandwidth", "type=\"ingress\"," + e.getKey(), e.getValue()[0]);
            sample("bandwidth", "type=\"egress\"," + e.getKey(), e.getValue()[1]);
        }
    }

    private long sum(int slot) {
        long s = 0;
        for (LoopContext ctx : gateway.loops()) {
            s += ctx.counters.get(slot);
        }
        return s;
    }

    /** APISIX's gateway-wide metrics: requests, connections, etcd, node info. */
    /** The health checker whose verdicts {@code apisix_upstream_status} shows; null: not exported. */
    private volatile io.turnpike.engine.health.HealthChecker health;

    public void healthChecker(io.turnpike.engine.health.HealthChecker checker) {
        this.health = checker;
    }

    /**
     * APISIX's {@code upstream_status{name, ip, port}}: 1 for a node the checker holds healthy (or mostly healthy), 0
     * otherwise; one sample per checked node, {@code name} the upstream's key as APISIX writes it
     * ({@code /apisix/upstreams/1}).
     */
    private void renderUpstreamStatus() {
        io.turnpike.engine.health.HealthChecker hc = health;
        if (hc == null) {
            return;
        }
        com.fasterxml.jackson.databind.node.ObjectNode all = hc.status();
        if (all.isEmpty()) {
            return;
        }
        header("upstream_status", "gauge", "Upstream status from health check");
        for (Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e : all.properties()) {
            for (com.fasterxml.jackson.databind.JsonNode n : e.getValue().path("nodes")) {
                StringBuilder l = new StringBuilder();
                label(l, "name", "/apisix/" + e.getKey()).append(',');
                label(l, "ip", n.path("ip").asText()).append(',');
                label(l, "port", n.path("port").asText());
                String st = n.path("status").asText();
                sample("upstream_status", l.toString(), "healthy".equals(st) || "mostly_healthy".equals(st) ? 1L : 0L);
            }
        }
    }

    private void renderGateway() {
        header("http_requests_total", "gauge", "The total number of client requests since APISIX started");
        sample("http_requests_total", null, sum(LoopCounters.REQUESTS));
        long accepted = sum(LoopCounters.DOWNSTREAM_CONNECTIONS_OPENED);
        long rejected = sum(LoopCounters.DOWNSTREAM_CONNECTIONS_REJECTED);
        long active = 0;
        long busy = 0;
        for (LoopContext ctx : gateway.loops()) {
            active += ctx.openDownstream();
            busy += ctx.busyDownstream();
        }
        header("nginx_http_current_connections", "gauge", "Number of HTTP connections");
        sample("nginx_http_current_connections", "state=\"accepted\"", accepted);
        sample("nginx_http_current_connections", "state=\"active\"", Math.max(0, active));
        sample("nginx_http_current_connections", "state=\"handled\"", accepted - rejected);
        sample("nginx_http_current_connections", "state=\"reading\"", 0L);
        sample("nginx_http_current_connections", "state=\"waiting\"", Math.max(0, active - busy));
        sample("nginx_http_current_connections", "state=\"writing\"", Math.max(0, busy));
        if (etcd != null) {
            header("etcd_reachable", "gauge", "Config server etcd reachable from APISIX, 0 is unreachable");
            sample("etcd_reachable", null, etcd.reachable() ? 1L : 0L);
            header("etcd_modify_indexes", "gauge", "Etcd modify index for APISIX keys");
            long max = 0;
            for (Map.Entry<String, Long> e : new java.util.TreeMap<>(etcd.modifyIndexes()).entrySet()) {
                sample("etcd_modify_indexes", "key=\"" + e.getKey() + "\"", (long) e.getValue());
                max = Math.max(max, e.getValue());
            }
            sample("etcd_modify_indexes", "key=\"max_modify_index\"", max);
            sample("etcd_modify_indexes", "key=\"x_etcd_index\"", etcd.revision());
        }
        header("node_info", "gauge", "Info of APISIX node");
        StringBuilder l = new StringBuilder();
        label(l, "hostname", hostname);
        sample("node_info", l.toString(), 1L);
    }

    /** Turnpike's own: per-loop load, snapshot, pools, errors, JVM. Prefixed {@code turnpike_}, not metric_prefix. */
    private void renderTurnpike() {
        String saved = "turnpike_";
        List<LoopContext> loops = gateway.loops();
        typeLine(saved + "loop_requests_total", "counter", "Requests whose head was parsed, per event loop");
        for (LoopContext c : loops) {
            raw(saved + "loop_requests_total", "loop=\"" + c.id + "\"", c.counters.get(LoopCounters.REQUESTS));
        }
        typeLine(saved + "loop_connections", "gauge", "Client connections open on each event loop, and busy");
        for (LoopContext c : loops) {
            raw(saved + "loop_connections", "loop=\"" + c.id + "\",state=\"open\"", Math.max(0, c.openDownstream()));
            raw(saved + "loop_connections", "loop=\"" + c.id + "\",state=\"busy\"", Math.max(0, c.busyDownstream()));
        }
        typeLine(saved + "loop_upstream_pools", "gauge", "Upstream connection pools held by each event loop");
        for (LoopContext c : loops) {
            raw(saved + "loop_upstream_pools", "loop=\"" + c.id + "\"", c.poolCount());
        }
        String[] counters = {"responses", "downstream_connections_opened", "downstream_connections_closed",
                "upstream_connections_opened", "upstream_connections_closed", "upstream_connections_reused",
                "bytes_in", "bytes_out", "upstream_retries", "downstream_connections_rejected"};
        int[] slots = {LoopCounters.RESPONSES, LoopCounters.DOWNSTREAM_CONNECTIONS_OPENED,
                LoopCounters.DOWNSTREAM_CONNECTIONS_CLOSED, LoopCounters.UPSTREAM_CONNECTIONS_OPENED,
                LoopCounters.UPSTREAM_CONNECTIONS_CLOSED, LoopCounters.UPSTREAM_CONNECTIONS_REUSED,
                LoopCounters.BYTES_IN, LoopCounters.BYTES_OUT, LoopCounters.UPSTREAM_RETRIES,
                LoopCounters.DOWNSTREAM_CONNECTIONS_REJECTED};
        for (int i = 0; i < counters.length; i++) {
            typeLine(saved + counters[i] + "_total", "counter", "Sum over the event loops (/status counters)");
            raw(saved + counters[i] + "_total", null, sum(slots[i]));
        }
        typeLine(saved + "plugin_replies_total", "counter", "Requests a plugin answered itself");
        raw(saved + "plugin_replies_total", null, sum(LoopCounters.PLUGIN_REPLIES));
        typeLine(saved + "http2_connections_total", "counter", "Client connections that spoke HTTP/2 (h2, h2c)");
        raw(saved + "http2_connections_total", null, sum(LoopCounters.HTTP2_CONNECTIONS));
        typeLine(saved + "http2_connection_errors_total", "counter",
                "HTTP/2 connection errors: GOAWAY with an error code sent (floods included)");
        raw(saved + "http2_connection_errors_total", null, sum(LoopCounters.HTTP2_CONNECTION_ERRORS));
        typeLine(saved + "http2_stream_errors_total", "counter", "HTTP/2 stream errors: RST_STREAM sent");
        raw(saved + "http2_stream_errors_total", null, sum(LoopCounters.HTTP2_STREAM_ERRORS));
        typeLine(saved + "http2_client_resets_total", "counter", "RST_STREAM frames received from clients");
        raw(saved + "http2_client_resets_total", null, sum(LoopCounters.HTTP2_CLIENT_RESETS));
        typeLine(saved + "errors_total", "counter", "Errors the gateway answered itself, by kind (/status errors)");
        for (GatewayError e : GatewayError.values()) {
            raw(saved + "errors_total", "error=\"" + e.name().toLowerCase(Locale.ROOT) + "\"",
                    sum(LoopCounters.ERROR_BASE + e.ordinal()));
        }
        for (HttpParseError e : HttpParseError.values()) {
            raw(saved + "errors_total", "error=\"" + e.name().toLowerCase(Locale.ROOT) + "\"",
                    sum(LoopCounters.PARSE_ERROR_BASE + Math.min(e.ordinal(), LoopCounters.PARSE_ERROR_SLOTS - 1)));
        }
        Snapshot snap = gateway.publisher().latest();
        typeLine(saved + "snapshot_version", "gauge", "Version of the latest published configuration snapshot");
        raw(saved + "snapshot_version", null, snap == null ? -1 : snap.version);
        typeLine(saved + "snapshot_published_total", "counter", "Configuration snapshots published");
        raw(saved + "snapshot_published_total", null, gateway.publisher().publishedCount());
        typeLine(saved + "snapshot_apply_seconds", "gauge",
                "Publish-to-every-loop-applied time of the last snapshot");
        long applyNs = gateway.publisher().lastApplyNs();
        out.append(saved).append("snapshot_apply_seconds ").append(applyNs < 0 ? 0d : applyNs / 1e9).append('\n');
        typeLine(saved + "loop_snapshot_version", "gauge", "Snapshot version each event loop serves");
        for (LoopContext c : loops) {
            raw(saved + "loop_snapshot_version", "loop=\"" + c.id + "\"", c.appliedVersion());
        }
        typeLine(saved + "routes", "gauge", "Routes in the latest snapshot ((route, uri) pairs)");
        raw(saved + "routes", null, snap == null ? 0 : snap.routes.size());
        long seriesUsed = 0;
        for (PrometheusRecorder r : recorders) {
            seriesUsed += r.series.used - 1;
        }
        typeLine(saved + "prometheus_series", "gauge", "Label combinations held by the event loops' tables");
        raw(saved + "prometheus_series", null, seriesUsed);
        typeLine(saved + "prometheus_scrapes_total", "counter", "Scrapes served");
        raw(saved + "prometheus_scrapes_total", null, scrapes);
        typeLine(saved + "prometheus_last_scrape_seconds", "gauge",
                "Wall time of the previous scrape's merge and render on the exporter thread");
        out.append(saved).append("prometheus_last_scrape_seconds ").append(lastScrapeNs / 1e9).append('\n');
        typeLine(saved + "prometheus_last_scrape_cpu_seconds", "gauge",
                "CPU time of the previous scrape's merge and render on the exporter thread");
        out.append(saved).append("prometheus_last_scrape_cpu_seconds ").append(lastScrapeCpuNs / 1e9).append('\n');
        typeLine(saved + "prometheus_last_scrape_bytes", "gauge", "Body size of the previous scrape");
        raw(saved + "prometheus_last_scrape_bytes", null, lastScrapeBytes);
        typeLine(saved + "jvm_gc_collections_total", "counter", "JVM garbage collections, by collector");
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            StringBuilder l = new StringBuilder();
            label(l, "gc", gc.getName());
            raw(saved + "jvm_gc_collections_total", l.toString(), Math.max(0, gc.getCollectionCount()));
        }
        typeLine(saved + "jvm_gc_collection_seconds_total", "counter", "JVM garbage collection time, by collector");
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            StringBuilder l = new StringBuilder();
            label(l, "gc", gc.getName());
            out.append(saved).append("jvm_gc_collection_seconds_total{").append(l).append("} ")
                    .append(Math.max(0, gc.getCollectionTime()) / 1000d).append('\n');
        }
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        typeLine(saved + "jvm_heap_bytes", "gauge", "JVM heap, used and committed");
        raw(saved + "jvm_heap_bytes", "area=\"used\"", heap.getUsed());
        raw(saved + "jvm_heap_bytes", "area=\"committed\"", heap.getCommitted());
        typeLine(saved + "netty_direct_memory_bytes", "gauge", "Direct memory Netty's allocator holds");
        raw(saved + "netty_direct_memory_bytes", null,
                Math.max(0, io.netty.util.internal.PlatformDependent.usedDirectMemory()));
        typeLine(saved + "build_info", "gauge", "Turnpike's version");
        raw(saved + "build_info", "version=\"" + Version.VERSION + "\"", 1L);
    }

    private void typeLine(String fullName, String type, String help) {
        out.append("# HELP ").append(fullName).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(fullName).append(' ').append(type).append('\n');
    }

    private void raw(String fullName, String labels, long value) {
        out.append(fullName);
        if (labels != null) {
            out.append('{').append(labels).append('}');
        }
        out.append(' ').append(value).append('\n');
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close();
        }
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS)
                .awaitUninterruptibly(3, java.util.concurrent.TimeUnit.SECONDS);
    }
}
