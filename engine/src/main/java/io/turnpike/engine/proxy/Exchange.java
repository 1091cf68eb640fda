package io.turnpike.engine.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.loop.ConnectionSweeper;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.plugin.HeaderEdits;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginChain;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginSpec;
import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.router.MatchScratch;
import io.turnpike.engine.snapshot.Snapshot;
import io.turnpike.engine.upstream.Balancer;
import io.turnpike.engine.upstream.BalancerInput;
import io.turnpike.engine.upstream.NodeAddress;
import io.turnpike.engine.upstream.NodePool;
import io.turnpike.engine.upstream.UpstreamTarget;
import io.turnpike.engine.upstream.UpstreamTls;

import java.nio.charset.StandardCharsets;

/**
 * One request and its response in flight, independent of the connection type that carries it: the pinned snapshot,
 * the matched route, the balancer's pick and the pool it came from, connect retries, the upstream connection, and the
 * relay of the response to the {@link ServerStream}. The upstream side talks to it as an {@link ExchangeSink}.
 *
 * <pre>
 *   IDLE ──start──▶ CONNECTING ──connected──▶ BODY ──request body complete──▶ AWAIT_RESPONSE ──response done──▶ IDLE
 *                        │ (pooled connection: straight to BODY or AWAIT_RESPONSE)
 *                        └─ connect failed: retry another node of the same target, else a local reply ─▶ IDLE
 * </pre>
 *
 * <p>Reusable: a connection keeps one instance (an HTTP/1 connection serves one exchange at a time) and
 * {@link #reset()}s it between requests, so nothing is allocated per request in the steady state. The plugin chain,
 * consumer and header edits of the plugins issue are state of this class.
 *
 * <p>Confined to its event loop. Ownership: {@code pendingHead} (the encoded request head waiting for a connection) is
 * owned here until written upstream or released.
 */
final class Exchange implements ExchangeSink, PluginContext.Resumer, io.turnpike.engine.grpc.H2UpstreamListener {
    static final int IDLE = 0;
    static final int CONNECTING = 1;
    static final int BODY = 2;
    static final int AWAIT_RESPONSE = 3;
    /** A plugin's asynchronous work is in flight (forward-auth): no node picked yet, reads paused. */
    static final int PLUGIN_PAUSED = 4;

    /** {@link #start} results. */
    static final int STARTED = 0;
    static final int REFUSED = 1;
    static final int REPLIED = 2;

    private final LoopContext loop;
    private final ServerStream stream;
    /** Per connection, set once: the proxy headers are written from these bytes on every request. */
    private final ForwardedLines forwarded;
    private final byte[] clientIp;
    private final byte[] localPort;
    private final boolean https;
    private final boolean framedClient;

    // Routing and balancing scratch (reused per exchange).
    final MatchScratch routeScratch = new MatchScratch();
    final BalancerInput balancerInput = new BalancerInput();

    /** What the plugins see of and do to this exchange (reused). */
    private final PluginContext px = new PluginContext();
    /** What observers and log-phase plugins read once the exchange ends (reused; the connection fills its side). */
    final io.turnpike.engine.observe.ExchangeRecord record = new io.turnpike.engine.observe.ExchangeRecord();
    /** The chains of this exchange; null when neither the global rules nor the route have plugins. */
    private PluginChain globalChain;
    private PluginChain routeChain;
    private GatewayError refusal;
    /** While paused: the request head's buffer, retained so its spans stay valid; released on resume or close. */
    private ByteBuf pausedSrc;
    private RequestHead pausedHead;
    private CompiledRoute route;
    /** Where the request phases paused ({@link #runChains}'s step). */
    private int pausedChain;
    /** A plugin replaced the response body: the upstream's body bytes are discarded. */
    private boolean discardBody;

    private int phase = IDLE;
    private Snapshot pinned;
    private UpstreamTarget target;
    private Balancer balancer;
    private NodeAddress node;
    private long triedNodes;
    private int attempts;
    private long requestStartNs;
    private UpstreamConnection upstream;
    private ByteBuf pendingHead;
    /**
     * The request head sent to the upstream, kept (this reference; the channel got a retained duplicate) while the
     * request may still be retried on another node: an idempotent request without body, until the response starts.
     */
    private ByteBuf retryHead;
    /** Retries this exchange may still make (APISIX's {@code retries}, by default one per other node). */
    private int retryBudget;
    /** When the first try started, for {@code retry_timeout}. */
    private long firstTryNs;
    /** The request may be sent again after it reached a node: idempotent method, no body. */
    private boolean resendable;
    /**
     * A WebSocket upgrade the route forwards (docs/websocket.md): {@code Upgrade}/{@code Connection: upgrade} go up,
     * a 101 switches both connections to a {@link Tunnel}; never resent, its upstream connection is never pooled.
     */
    private boolean upgrade;
    private boolean upstreamNeedsFlush;
    private boolean headRequest;
    private boolean http10Client;
    private boolean expectContinue;
    private boolean requestComplete;
    private boolean responseStarted;
    /** TLS upstream with pass_host pass: the SNI of the exchange (the client's Host, no port) once it connected. */
    private String exchangeSni;
    /** Picks pooled TLS connections opened for the request's host (lazily created: TLS upstreams only). */
    private SniMatcher sniMatcher;
    /**
     * The connect attempt in flight: its listeners act only while it is still the current one (a timed-out or retried
     * attempt that completes late gives its connection to its pool instead). CONNECTING ends by this deadline whatever
     * the transport does (connect timeout plus two sweeper ticks; the transport's own timeout normally fires first).
     */
    private int connectAttempt;
    private boolean connectTimedOut;
    private long connectDeadlineNs;

    Exchange(LoopContext loop, ServerStream stream, ForwardedLines forwarded, java.net.InetAddress remoteAddress) {
        this(loop, stream, forwarded, remoteAddress, false);
    }

    /**
     * {@code framedClient}: the client side frames messages itself (an HTTP/2 stream): chunked response bodies are
     * relayed without their chunk framing, as for HTTP/1.0 clients.
     */
    Exchange(LoopContext loop, ServerStream stream, ForwardedLines forwarded, java.net.InetAddress remoteAddress,
             boolean framedClient) {
        this.framedClient = framedClient;
        this.loop = loop;
        this.stream = stream;
        this.forwarded = forwarded;
        this.clientIp = forwarded.clientIp;
        this.localPort = forwarded.localPort;
        this.https = forwarded.https;
        routeScratch.remoteAddress(remoteAddress);
        balancerInput.remoteAddr(clientIp);
        px.bind(this, loop.eventLoop, loop.upstreamBootstrap());
        px.clientIp(clientIp);
        px.record(record);
        px.loopId(loop.id);
        record.clientIp = clientIp;
        record.serverPort = localPort;
        record.https = https;
    }

    int phase() {
        return phase;
    }

    boolean acceptsBody() {
        return phase == BODY;
    }

    boolean requestComplete() {
        return requestComplete;
    }

    boolean responseStarted() {
        return responseStarted;
    }

    /**
     * Routes the request on {@code snapshot} (pinned for the rest of the exchange), picks a node and sends the head to
     * it: over a pooled connection at once, else after a connect. Reads head spans from {@code src}; the caller skips
     * the head afterwards.
     *
     * @param requestComplete no body bytes follow the head
     * @return {@link #STARTED}; {@link #REFUSED}: answer {@link #refusal()} locally; {@link #REPLIED}: a plugin
     *         answered, {@link #localReply()} with {@link #localReplyHeaders()} (nothing was started in either case)
     */
    int start(Snapshot snapshot, ByteBuf src, RequestHead head, boolean http10Client, boolean requestComplete) {
        upgrade = false;
        CompiledRoute route = snapshot.routes.match(src, head, routeScratch);
        if (route == null) {
            refusal = GatewayError.ROUTE_NOT_FOUND;
            return REFUSED;
        }
        this.route = route;
        record.route = route;
        this.pinned = snapshot;
        this.upgrade = route.websocket() && isWebSocketUpgrade(src, head, requestComplete);
        this.http10Client = http10Client;
        this.headRequest = head.method == RequestHead.METHOD_HEAD;
        this.expectContinue = head.expectContinue && !http10Client;
        this.requestComplete = requestComplete;
        this.responseStarted = false;
        this.discardBody = false;
        balancerInput.resetRequest();
        PluginChain global = snapshot.globalPlugins;
        PluginChain chain = route.plugins;
        if (global.isEmpty() && chain.isEmpty()) {
            globalChain = null;
            routeChain = null;
            return proceed(src, head);
        }
        globalChain = global;
        routeChain = chain;
        px.begin(src, head, routeScratch, balancerInput, https, snapshot.consumers);
        int r = runChains(0, 0, 0);
        if (r == PluginSpec.PAUSE) {
            return paused(src, head);
        }
        px.requestPhasesDone();
        if (r != PluginSpec.CONTINUE) {
            return REPLIED;
        }
        return proceed(src, head);
    }

    /**
     * Runs the request phases in APISIX's order, from a position (a resumed plugin's next): the global rules (rewrite,
     * access), the route's rewrite, then, once an auth plugin found a consumer with plugins of its own, the consumer's
     * rewrite, the route's access without the plugins the consumer replaces, and the consumer's access.
     *
     * @param step 0 global rules, 1 route rewrite, 2 consumer rewrite, 3 route access, 4 consumer access
     */
    private int runChains(int step, int phase, int from) {
        int r;
        if (step == 0) {
            r = globalChain.runRequest(px, phase, from);
            if (r != PluginSpec.CONTINUE) {
                pausedChain = 0;
                return r;
            }
            step = 1;
            from = 0;
        }
        if (step == 1) {
            r = routeChain.runPhase(px, 0, from, 0);
            if (r != PluginSpec.CONTINUE) {
                pausedChain = 1;
                return r;
            }
            step = 2;
            from = 0;
        }
        PluginChain cc = consumerChain();
        if (step == 2) {
            r = cc.runPhase(px, 0, from, 0);
            if (r != PluginSpec.CONTINUE) {
                pausedChain = 2;
                return r;
            }
            step = 3;
            from = 0;
        }
        if (step == 3) {
            r = routeChain.runPhase(px, 1, from, cc.names);
            if (r != PluginSpec.CONTINUE) {
                pausedChain = 3;
                return r;
            }
            from = 0;
        }
        r = cc.runPhase(px, 1, from, 0);
        if (r != PluginSpec.CONTINUE) {
            pausedChain = 4;
        }
        return r;
    }

    /** The plugins of the consumer an auth plugin found (merged over the route's), or none. */
    private PluginChain consumerChain() {
        io.turnpike.engine.plugin.Consumer c = px.consumer();
        return c == null ? PluginChain.EMPTY : c.plugins;
    }

    private int paused(ByteBuf src, RequestHead head) {
        phase = PLUGIN_PAUSED;
        pausedSrc = src.retain(); // the connection may release its cumulation meanwhile: the head's spans must stay
        pausedHead = head;
        stream.pauseReads(ServerStream.PAUSE_PLUGIN);
        return STARTED;
    }

    /** A paused plugin finished ({@link PluginContext#resume}), on this loop. */
    @Override
    public void resumePlugins(int result) {
        if (phase != PLUGIN_PAUSED) {
            return;
        }
        px.expire(); // one resume per pause
        int r = result == PluginSpec.CONTINUE ? runChains(pausedChain, px.pausedPhase(), px.pausedIndex() + 1)
                : result == PluginSpec.RETRY ? runChains(pausedChain, px.pausedPhase(), px.pausedIndex())
                : PluginSpec.STOP;
        if (r == PluginSpec.PAUSE) {
            return; // the next plugin paused too: keep the head
        }
        finishPause(r);
    }

    private void finishPause(int r) {
        ByteBuf src = pausedSrc;
        RequestHead head = pausedHead;
        pausedSrc = null;
        pausedHead = null;
        stream.resumeReads(ServerStream.PAUSE_PLUGIN);
        px.requestPhasesDone();
        try {
            if (r != PluginSpec.CONTINUE) {
                phase = IDLE;
                stream.pluginReplied(px.reply(), px.responseEdits);
                return;
            }
            phase = IDLE;
            if (proceed(src, head) == REFUSED) {
                stream.failBeforeResponse(refusal);
                return;
            }
            if (phase != CONNECTING) {
                stream.upstreamAttached();
            }
        } finally {
            src.release();
        }
    }

    /** Picks a node and sends the head to it (the request phases are done). */
    private int proceed(ByteBuf src, RequestHead head) {
        CompiledRoute route = this.route;
        Snapshot snapshot = pinned;
        UpstreamTarget target = upstreamOf(route);
        if (target == null) {
            refusal = GatewayError.MISSING_UPSTREAM;
            return REFUSED;
        }
        if (target.grpc && !framedClient) {
            refusal = GatewayError.GRPC_NEEDS_HTTP2; // trailers cannot reach an HTTP/1 client
            return REFUSED;
        }
        Balancer bal = loop.balancer(target);
        NodeAddress node = bal.pick(src, head, balancerInput); // chash reads head spans
        if (node == null) {
            refusal = GatewayError.NO_AVAILABLE_NODE;
            return REFUSED;
        }
        bal.onRequestStart(node);
        this.balancer = bal;
        this.node = node;
        this.target = target;
        triedNodes = 0;
        attempts = 0;
        requestStartNs = loop.clock.nanoTime();
        firstTryNs = requestStartNs;
        retryBudget = target.retries(target.endpoints.current());
        // An upgrade is never resent: once it reached a node, that node may have switched protocols.
        resendable = retryBudget > 0 && requestComplete && idempotent(head.method) && !upgrade
                && target.passHost != UpstreamTarget.PASS_HOST_NODE;
        record.node = node;
        record.upstreamStartNs = requestStartNs;
        PluginContext edits = routeChain == null ? null : px;
        ByteBuf out = stream.alloc().directBuffer(HeadWriter.estimateRequestHeadBytes(head, clientIp)
                + HeadWriter.estimateEditBytes(edits));
        HeadWriter.writeRequest(src, head, out, forwarded, target, node, edits, upgrade);
        if (target.grpc) {
            return grpcStart(src, head, out);
        }

        NodePool<UpstreamConnection> pool = loop.pool(node, target.poolSize);
        exchangeSni = null;
        UpstreamConnection pooled;
        if (upgrade) {
            // A connection that may switch protocols is never pooled afterwards, and a pooled one the node closed
            // meanwhile could not be retried (an upgrade is not resent): a fresh connection for each.
            pooled = null;
            if (target.tls != null && target.passHost == UpstreamTarget.PASS_HOST_PASS && head.hostIndex >= 0) {
                exchangeSni = UpstreamTls.hostOf(src, head.valueStart[head.hostIndex], head.valueEnd[head.hostIndex]);
            }
        } else if (target.tls != null && target.passHost == UpstreamTarget.PASS_HOST_PASS) {
            // The SNI followed the Host of the request that opened the connection: reuse only for the same host.
            SniMatcher m = sniMatcher();
            if (head.hostIndex >= 0) {
                m.span(src, head.valueStart[head.hostIndex], head.valueEnd[head.hostIndex]);
            } else {
                m.bytes(node.hostHeader);
            }
            pooled = pool.acquire(m);
            m.clear();
            if (pooled == null && head.hostIndex >= 0) {
                exchangeSni = UpstreamTls.hostOf(src, head.valueStart[head.hostIndex], head.valueEnd[head.hostIndex]);
            }
        } else {
            pooled = pool.acquire();
        }
        if (pooled != null) {
            loop.counters.increment(LoopCounters.UPSTREAM_CONNECTIONS_REUSED);
            attach(pooled, out);
        } else {
            phase = CONNECTING;
            pendingHead = out;
            stream.pauseReads(ServerStream.PAUSE_CONNECTING);
            connect(target, node, pool);
        }
        return STARTED;
    }

    private static final byte[] WEBSOCKET = "websocket".getBytes(StandardCharsets.US_ASCII);

    /**
     * A WebSocket opening handshake (RFC 6455 4.1) the gateway forwards: {@code GET}, HTTP/1.1, {@code Connection}
     * with the {@code upgrade} token, an {@code Upgrade} header listing {@code websocket} (tokens compared
     * case-insensitively), and no body. Anything else keeps HTTP semantics: the Upgrade header is dropped as
     * hop-by-hop, as nginx does without the upgrade configuration.
     */
    static boolean isWebSocketUpgrade(ByteBuf src, RequestHead head, boolean requestComplete) {
        if (!head.upgrade || !head.connectionUpgrade || head.method != RequestHead.METHOD_GET
                || head.versionMinor != 1 || !requestComplete || head.chunked || head.contentLength > 0) {
            return false;
        }
        for (int h = 0; h < head.headerCount; h++) {
            if (head.kind[h] == RequestHead.H_UPGRADE && listsToken(src, head.valueStart[h], head.valueEnd[h])) {
                return true;
            }
        }
        return false;
    }

    /** Whether the comma-separated list in {@code [s, e)} has the token {@code websocket} (any case). */
    private static boolean listsToken(ByteBuf src, int s, int e) {
        int i = s;
        while (i < e) {
            byte b = src.getByte(i);
            if (b == ',' || b == ' ' || b == '\t') {
                i++;
                continue;
            }
            int ts = i;
            while (i < e && (b = src.getByte(i)) != ',' && b != ' ' && b != '\t') {
                i++;
            }
            if (i - ts == WEBSOCKET.length) {
                int k = 0;
                while (k < WEBSOCKET.length && (src.getByte(ts + k) | 0x20) == WEBSOCKET[k]) {
                    k++;
                }
                if (k == WEBSOCKET.length) {
                    return true;
                }
            }
        }
        return false;
    }

    /** RFC 9110 9.2.2: a request of these methods may be sent again (and a request that has no body: nothing lost). */
    private static boolean idempotent(int method) {
        return method == RequestHead.METHOD_GET || method == RequestHead.METHOD_HEAD
                || method == RequestHead.METHOD_PUT || method == RequestHead.METHOD_DELETE
                || method == RequestHead.METHOD_OPTIONS || method == RequestHead.METHOD_TRACE;
    }

    /**
     * The upstream of this exchange: the one a plugin chose (traffic-split, from the pinned snapshot), else the
     * route's. The plugin context is begun only when there are chains, so it is read only then.
     */
    private UpstreamTarget upstreamOf(CompiledRoute route) {
        if (routeChain != null) {
            UpstreamTarget chosen = px.upstream();
            if (chosen != null) {
                return chosen;
            }
        }
        return route.upstream;
    }

    GatewayError refusal() {
        return refusal;
    }

    LocalReply localReply() {
        return px.reply();
    }

    HeaderEdits localReplyHeaders() {
        return px.responseEdits;
    }

    private SniMatcher sniMatcher() {
        if (sniMatcher == null) {
            sniMatcher = new SniMatcher();
        }
        return sniMatcher;
    }

    /** A pooled TLS connection matches when its SNI is the host of the request's Host value (no allocation). */
    private static final class SniMatcher implements NodePool.Matcher<UpstreamConnection> {
        private ByteBuf buf;
        private int start;
        private int end;

        void span(ByteBuf b, int s, int e) {
            buf = b;
            start = s;
            end = e;
        }

        void bytes(byte[] hostPort) {
            span(Unpooled.wrappedBuffer(hostPort), 0, hostPort.length);
        }

        void clear() {
            buf = null;
        }

        @Override
        public boolean matches(UpstreamConnection c) {
            return UpstreamTls.sameHost(c.sni(), buf, start, end);
        }
    }

    private void connect(UpstreamTarget target, NodeAddress node, NodePool<UpstreamConnection> pool) {
        long connectTimeoutMs = route.connectTimeoutMs(target);
        UpstreamConnection uc = new UpstreamConnection(loop, pool, route.readTimeoutNs(target),
                route.sendTimeoutNs(target), target.idleTimeoutNs, target.maxRequestsPerConnection);
        // Not the steady state (pooled connections are): the clone, the option, the TLS handler and the listeners are
        // per new connection.
        if (target.tls != null) {
            String sni = target.sni(node, exchangeSni);
            uc.tls(target.tls.newHandler(stream.alloc(), sni, node.address.getPort()),
                    sni.getBytes(StandardCharsets.ISO_8859_1),
                    loop.clock.nanoTime() + connectTimeoutMs * 1_000_000L);
        }
        int attempt = ++connectAttempt;
        connectDeadlineNs = loop.clock.nanoTime() + connectTimeoutMs * 1_000_000L
                + 2 * ConnectionSweeper.TICK_MS * 1_000_000L;
        ChannelFuture f = loop.upstreamBootstrap().clone().handler(uc)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeoutMs))
                .connect(node.address);
        f.addListener((ChannelFutureListener) future -> {
            if (!future.isSuccess()) {
                if (phase == CONNECTING && attempt == connectAttempt) {
                    connectFailed(GatewayError.UPSTREAM_CONNECT_FAILED);
                }
                return;
            }
            if (uc.tlsHandler() == null) {
                connected(uc, pool, attempt);
                return;
            }
            // CONNECTING lasts until the handshake is done: the request head waits in pendingHead meanwhile.
            uc.tlsHandler().handshakeFuture().addListener(hs -> {
                if (hs.isSuccess()) {
                    connected(uc, pool, attempt);
                    return;
                }
                uc.closeQuietly();
                if (phase == CONNECTING && attempt == connectAttempt) {
                    connectFailed(GatewayError.UPSTREAM_TLS_HANDSHAKE_FAILED);
                }
            });
        });
    }

    /** A new upstream connection is ready (connected, and for TLS the handshake is done). */
    private void connected(UpstreamConnection uc, NodePool<UpstreamConnection> pool, int attempt) {
        if (phase != CONNECTING || attempt != connectAttempt) {
            // The client went away while we were connecting, or this attempt timed out and was superseded: keep the
            // fresh connection for the next request.
            pool.release(uc, loop.clock.nanoTime());
            return;
        }
        connectDeadlineNs = 0;
        stream.resumeReads(ServerStream.PAUSE_CONNECTING);
        ByteBuf h = pendingHead;
        pendingHead = null;
        attach(uc, h);
        stream.upstreamAttached();
    }

    /** The connection's sweeper tick: bounds CONNECTING whatever the transport does. */
    void sweep(long nowNs) {
        if (phase == PLUGIN_PAUSED) {
            long d = px.pauseDeadlineNs();
            if (d != 0 && nowNs - d >= 0) {
                px.expire(); // the plugin's late answer is ignored
                LocalReply onTimeout = px.pauseTimeoutReply();
                if (onTimeout != null) {
                    px.reply(onTimeout);
                    finishPause(PluginSpec.STOP);
                } else {
                    // No timeout reply: the plugin degrades to letting the request through; the rest of the chain runs.
                    int r = runChains(pausedChain, px.pausedPhase(), px.pausedIndex() + 1);
                    if (r != PluginSpec.PAUSE) {
                        finishPause(r);
                    }
                }
            }
            return;
        }
        if (phase == CONNECTING && connectDeadlineNs != 0 && nowNs - connectDeadlineNs >= 0) {
            connectAttempt++; // the late outcome of this attempt no longer concerns the exchange
            connectTimedOut = true;
            connectFailed(GatewayError.UPSTREAM_CONNECT_FAILED);
        }
    }

    /** Connect or TLS handshake failed: retry on another node, else answer {@code error} locally. */
    private void connectFailed(GatewayError error) {
        connectDeadlineNs = 0;
        NodeAddress n = node;
        if (n != null && n.passive != null) {
            if (error == GatewayError.UPSTREAM_CONNECT_FAILED && connectTimedOut) {
                n.passive.timeout();
            } else {
                n.passive.tcpFailure();
            }
        }
        connectTimedOut = false;
        if (!retryConnect()) {
            pendingHead.release();
            pendingHead = null;
            stream.resumeReads(ServerStream.PAUSE_CONNECTING);
            stream.failBeforeResponse(error);
        }
    }

    /**
     * Connect failed: try another node of the same target (up to its {@code retries}), never one already tried. Safe
     * because nothing of the request has left the gateway yet (the head waits in {@code pendingHead} and body bytes
     * stay with the connection while connecting). With {@code pass_host: node} the pending head names the failed
     * node's host, so such targets are not retried. The node comes from the pinned snapshot; {@link LoopContext#pool}
     * finds its pool by key whatever the loop serves now.
     */
    private boolean retryConnect() {
        Balancer bal = balancer;
        NodeAddress failed = node;
        endBalancer(true);
        if (target != null && target.passHost == UpstreamTarget.PASS_HOST_NODE) {
            return false;
        }
        ByteBuf h = pendingHead;
        pendingHead = null;
        if (retryOtherNode(bal, failed, h, true)) {
            return true;
        }
        pendingHead = h;
        return false;
    }

    /**
     * Sends {@code head} to another node of the target, never one already tried, within {@code retries} and
     * {@code retry_timeout}. {@code connecting}: the exchange is CONNECTING (reads paused for it). On success the head
     * is owned by the new attempt; on failure it stays the caller's.
     */
    private boolean retryOtherNode(Balancer bal, NodeAddress failed, ByteBuf head, boolean connecting) {
        if (bal == null || target == null || attempts >= retryBudget
                || target.retryTimeoutNs > 0 && loop.clock.nanoTime() - firstTryNs > target.retryTimeoutNs) {
            return false;
        }
        triedNodes = bal.markTried(triedNodes, failed);
        NodeAddress next = bal.pickExcluding(null, null, balancerInput, triedNodes);
        if (next == null) {
            return false;
        }
        attempts++;
        loop.counters.increment(LoopCounters.UPSTREAM_RETRIES);
        balancer = bal;
        node = next;
        record.node = next;
        bal.onRequestStart(next);
        requestStartNs = loop.clock.nanoTime();
        NodePool<UpstreamConnection> pool = loop.pool(next, target.poolSize);
        UpstreamConnection pooled;
        if (upgrade) {
            pooled = null; // as in proceed: a fresh connection for an upgrade
        } else if (target.tls != null && target.passHost == UpstreamTarget.PASS_HOST_PASS) {
            SniMatcher m = sniMatcher();
            m.bytes(exchangeSni != null ? exchangeSni.getBytes(StandardCharsets.ISO_8859_1) : next.hostHeader);
            pooled = pool.acquire(m);
            m.clear();
        } else {
            pooled = pool.acquire();
        }
        if (pooled != null) {
            loop.counters.increment(LoopCounters.UPSTREAM_CONNECTIONS_REUSED);
            if (connecting) {
                stream.resumeReads(ServerStream.PAUSE_CONNECTING);
            }
            attach(pooled, head);
            if (connecting) {
                stream.upstreamAttached();
            } else {
                flushUpstream();
            }
        } else {
            if (!connecting) {
                phase = CONNECTING;
                stream.pauseReads(ServerStream.PAUSE_CONNECTING);
            }
            pendingHead = head;
            connect(target, next, pool);
        }
        return true;
    }

    /** Reports the end of the balanced request exactly once, to the balancer instance that started it. */
    private void endBalancer(boolean failed) {
        Balancer b = balancer;
        if (b != null) {
            balancer = null;
            b.onRequestEnd(node, loop.clock.nanoTime() - requestStartNs, failed);
        }
    }

    private void attach(UpstreamConnection uc, ByteBuf requestHead) {
        upstream = uc;
        // The route's timeouts, else the upstream's: a pooled connection may have been opened for another route.
        uc.bind(this, headRequest, http10Client || framedClient, upgrade, route.readTimeoutNs(target),
                route.sendTimeoutNs(target));
        if (resendable) {
            // Kept until the response starts: a pooled connection that the node closed meanwhile, a node killed or a
            // timeout then sends it to another node. The duplicate is recycled (no allocation in the steady state).
            retryHead = requestHead;
            uc.channel().write(requestHead.retainedDuplicate(), uc.channel().voidPromise());
        } else {
            uc.channel().write(requestHead, uc.channel().voidPromise());
        }
        upstreamNeedsFlush = true;
        phase = requestComplete ? AWAIT_RESPONSE : BODY;
        if (expectContinue && !requestComplete) {
            stream.writeContinue();
        }
        if (!uc.channel().isWritable()) {
            stream.pauseReads(ServerStream.PAUSE_UPSTREAM_UNWRITABLE);
        }
        if (!stream.isWritable()) {
            uc.blockReads(true);
        }
    }

    /** Request body bytes for the upstream (a retained slice; ownership passes to the upstream channel). */
    void forwardBody(ByteBuf slice) {
        if (grpcStream != null) {
            grpcStream.writeData(slice, false);
            if (!grpcStream.isWritable()) {
                stream.pauseReads(ServerStream.PAUSE_UPSTREAM_UNWRITABLE);
            }
            return;
        }
        Channel up = upstream.channel();
        up.write(slice, up.voidPromise());
        upstreamNeedsFlush = true;
        if (!up.isWritable()) {
            stream.pauseReads(ServerStream.PAUSE_UPSTREAM_UNWRITABLE);
        }
        upstream.requestProgress();
    }

    void requestBodyComplete() {
        requestComplete = true;
        phase = AWAIT_RESPONSE;
        if (grpcStream != null) {
            grpcStream.writeData(Unpooled.EMPTY_BUFFER, true); // END_STREAM
            upstreamNeedsFlush = true;
        }
    }

    /** The request body was malformed: the upstream connection cannot be reused or finished. */
    void abortUpstream() {
        grpcCancel();
        UpstreamConnection uc = upstream;
        upstream = null;
        if (uc != null) {
            uc.abort();
        }
    }

    void flushUpstream() {
        if (grpcStream != null) {
            upstreamNeedsFlush = false;
            grpcStream.flush();
            return;
        }
        if (upstreamNeedsFlush) {
            upstreamNeedsFlush = false;
            if (upstream != null) {
                upstream.channel().flush();
            }
        }
    }

    /** The client's writability changed: stop or resume reading the response. */
    void downstreamWritabilityChanged(boolean writable) {
        if (writable && grpcStream != null && grpcUnconsumed > 0) {
            int n = grpcUnconsumed;
            grpcUnconsumed = 0;
            grpcStream.consumed(n); // the upstream may send the next window
        }
        if (upstream != null) {
            upstream.blockReads(!writable);
        }
    }

    private void releaseRetryHead() {
        ByteBuf h = retryHead;
        if (h != null) {
            retryHead = null;
            h.release();
        }
    }

    /** The exchange ended (response relayed, or answered locally): ready for the next request. */
    void reset() {
        grpcCancel();
        grpc = false;
        grpcDeadlineNs = 0;
        releaseRetryHead();
        endBalancer(false);
        endPlugins();
        pinned = null;
        phase = IDLE;
    }

    /**
     * Runs the log phase (also for an aborted exchange, as APISIX does) and ends the plugin context, which runs its
     * end hooks (limit-conn gives its slot back there). The record's consumer is set first.
     */
    private void endPlugins() {
        if (routeChain != null) {
            record.consumer = px.consumer();
            if (globalChain.phases != 0 || routeChain.phases != 0) {
                PluginChain cc = consumerChain();
                globalChain.runLog(px, 0);
                routeChain.runLog(px, cc.names);
                cc.runLog(px, 0);
            }
            px.end();
            globalChain = null;
            routeChain = null;
        }
    }

    /** The client connection is gone: fail the balanced request and drop the upstream connection. */
    void clientGone() {
        grpcCancel();
        releaseRetryHead();
        endBalancer(true);
        abortUpstream();
        if (pausedSrc != null) {
            pausedSrc.release();
            pausedSrc = null;
            pausedHead = null;
        }
        if (pendingHead != null) {
            pendingHead.release();
            pendingHead = null;
        }
        if (routeChain != null) {
            record.aborted = true;
            if (record.endNs == 0) {
                record.endNs = System.nanoTime();
            }
        }
        endPlugins();
        pinned = null;
        phase = IDLE;
    }

    // ---------------------------------------------------------------- ExchangeSink (called by UpstreamConnection)

    @Override
    public void onInterimResponse(ByteBuf src, ResponseHead rh) {
        if (http10Client || expectContinue) {
            return; // 1.0 clients do not understand 1xx; a 100 was already sent by the gateway
        }
        stream.writeInterim(src, rh);
    }

    @Override
    public void onResponseHead(ByteBuf src, ResponseHead rh, boolean untilClose, boolean dechunked) {
        onResponseHead(src, rh, untilClose, dechunked, 0, 0);
    }

    @Override
    public void onResponseHeadAndBody(ByteBuf src, ResponseHead rh, int bodyStart, int bodyLength) {
        onResponseHead(src, rh, false, false, bodyStart, bodyLength);
    }

    private void onResponseHead(ByteBuf src, ResponseHead rh, boolean untilClose, boolean dechunked, int bodyStart,
                                int bodyLength) {
        responseStarted = true;
        releaseRetryHead();
        NodeAddress n = node;
        if (n != null && n.passive != null) {
            n.passive.httpStatus(rh.status);
        }
        record.upstreamResponseNs = loop.clock.nanoTime();
        record.upstreamStatus = rh.status;
        PluginContext edits = null;
        if (routeChain != null) {
            PluginChain cc = consumerChain();
            globalChain.runHeaderFilter(px, src, rh, 0);
            routeChain.runHeaderFilter(px, src, rh, cc.names);
            cc.runHeaderFilter(px, src, rh, 0);
            edits = px;
            discardBody = px.responseBody() != null;
        }
        record.status = edits != null && px.statusOverride() != 0 ? px.statusOverride() : rh.status;
        boolean mustClose = untilClose || dechunked || !requestComplete;
        if (bodyLength > 0 && !discardBody) {
            stream.writeResponseHeadAndBody(src, rh, mustClose, edits, headRequest, bodyStart, bodyLength);
            if (!stream.isWritable() && upstream != null) {
                upstream.blockReads(true);
            }
        } else {
            stream.writeResponseHead(src, rh, mustClose, edits, headRequest); // a replaced body went with the head
        }
    }

    @Override
    public Tunnel onSwitchingProtocols(UpstreamConnection uc, ByteBuf src, ResponseHead rh) {
        responseStarted = true;
        releaseRetryHead();
        NodeAddress n = node;
        if (n != null && n.passive != null) {
            n.passive.httpStatus(rh.status);
        }
        record.upstreamResponseNs = loop.clock.nanoTime();
        record.upstreamStatus = rh.status;
        upstream = null; // the tunnel (or the close below) takes it over
        PluginContext edits = null;
        if (routeChain != null) {
            PluginChain cc = consumerChain();
            globalChain.runHeaderFilter(px, src, rh, 0);
            routeChain.runHeaderFilter(px, src, rh, cc.names);
            cc.runHeaderFilter(px, src, rh, 0);
            edits = px;
            int override = px.statusOverride();
            if (override != 0 && override != 101 || px.responseBody() != null) {
                // A plugin answered the switch with something else: that answer goes out, and both connections close
                // (the upstream has switched already).
                record.status = override != 0 ? override : rh.status;
                endBalancer(false);
                loop.counters.increment(LoopCounters.RESPONSES);
                uc.closeQuietly();
                stream.writeResponseHead(src, rh, true, edits, false);
                stream.exchangeComplete(false);
                return null;
            }
        }
        record.status = 101;
        return stream.switchProtocols(uc, src, rh, edits);
    }

    /** The tunnel of a switched exchange closed (either side, or its idle timeout). */
    void tunnelEnded() {
        endBalancer(false);
        loop.counters.increment(LoopCounters.RESPONSES);
    }

    @Override
    public void onResponseBody(ByteBuf slice) {
        if (discardBody) {
            slice.release(); // a plugin replaced the body (sent with the head)
            return;
        }
        stream.writeResponseBody(slice);
        if (!stream.isWritable() && upstream != null) {
            upstream.blockReads(true);
        }
    }

    @Override
    public void onResponseComplete(UpstreamConnection uc, boolean reusable) {
        endBalancer(false);
        loop.counters.increment(LoopCounters.RESPONSES);
        upstream = null;
        if (reusable && requestComplete && !upgrade) {
            uc.pool().release(uc, loop.clock.nanoTime());
        } else {
            uc.closeQuietly();
        }
        stream.exchangeComplete(requestComplete);
    }

    @Override
    public void onUpstreamFailed(UpstreamConnection uc, GatewayError error) {
        Balancer bal = balancer;
        NodeAddress failed = node;
        if (failed != null && failed.passive != null) {
            if (error == GatewayError.UPSTREAM_TIMEOUT) {
                failed.passive.timeout();
            } else if (error == GatewayError.UPSTREAM_RESET) {
                failed.passive.tcpFailure();
            }
        }
        endBalancer(true);
        upstream = null;
        ByteBuf again = retryHead;
        if (again != null && !responseStarted
                && (error == GatewayError.UPSTREAM_RESET || error == GatewayError.UPSTREAM_TIMEOUT)) {
            // nginx's proxy_next_upstream error timeout, for a request that can be sent again.
            retryHead = null;
            if (retryOtherNode(bal, failed, again, false)) {
                return;
            }
            again.release();
        }
        if (error == GatewayError.UPSTREAM_TIMEOUT && !requestComplete
                && !stream.readsPaused(ServerStream.PAUSE_UPSTREAM_UNWRITABLE)) {
            error = GatewayError.REQUEST_BODY_TIMEOUT; // the client, not the upstream, stopped sending the body
        }
        if (responseStarted) {
            stream.abortResponse(error);
            return;
        }
        stream.failBeforeResponse(error);
    }

    @Override
    public void upstreamWritabilityChanged(boolean writable) {
        if (writable) {
            stream.resumeReads(ServerStream.PAUSE_UPSTREAM_UNWRITABLE);
        } else {
            stream.pauseReads(ServerStream.PAUSE_UPSTREAM_UNWRITABLE);
        }
    }

    @Override
    public void flushDownstream() {
        stream.flush();
    }
    // ---------------------------------------------------------------- gRPC upstreams (H2UpstreamListener)

    /** The exchange goes to a {@code scheme: grpc} upstream over HTTP/2 (docs/http2.md#grpc). */
    private boolean grpc;
    private io.turnpike.engine.grpc.H2UpstreamStream grpcStream;
    /** Response DATA relayed to a client that could not take more: given back to the upstream's window later. */
    private int grpcUnconsumed;
    /** The client's {@code grpc-timeout} as a deadline (System.nanoTime), 0: none. */
    private long grpcDeadlineNs;
    /** The upstream answered with HEADERS that end the stream (gRPC's Trailers-Only). */
    private boolean grpcTrailersOnly;
    private GrpcHeads grpcHeads;

    boolean grpc() {
        return grpc;
    }

    /** The response head ends the response (Trailers-Only): the client stream's HEADERS carry END_STREAM. */
    boolean responseEndsWithHead() {
        return grpcTrailersOnly;
    }

    /**
     * Opens the HTTP/2 stream to the picked node: the request head written for HTTP/1 ({@code http1Head}: pass_host,
     * X-Forwarded-*, the plugins' edits) becomes the stream's header list, plus {@code te: trailers}.
     */
    private int grpcStart(ByteBuf src, RequestHead head, ByteBuf http1Head) {
        grpc = true;
        grpcTrailersOnly = false;
        grpcUnconsumed = 0;
        if (grpcHeads == null) {
            grpcHeads = new GrpcHeads(loop.settings);
        }
        io.netty.handler.codec.http2.Http2Headers h;
        try {
            h = grpcHeads.request(http1Head, target.tls != null);
        } finally {
            http1Head.release();
        }
        if (h == null) {
            refusal = GatewayError.UPSTREAM_INVALID_RESPONSE;
            return REFUSED;
        }
        long timeoutNs = GrpcHeads.grpcTimeoutNs(src, head);
        grpcDeadlineNs = timeoutNs > 0 ? loop.clock.nanoTime() + timeoutNs : 0;
        io.turnpike.engine.grpc.H2UpstreamPool pool = loop.grpcPool(node, target);
        grpcStream = pool.newStream(this, route.readTimeoutNs(target), route.sendTimeoutNs(target));
        grpcStream.writeHeaders(h, requestComplete);
        upstreamNeedsFlush = true;
        phase = requestComplete ? AWAIT_RESPONSE : BODY;
        return STARTED;
    }

    private void grpcCancel() {
        io.turnpike.engine.grpc.H2UpstreamStream s = grpcStream;
        if (s != null) {
            grpcStream = null;
            s.release(); // RST_STREAM CANCEL if it still runs
        }
    }

    /** The client's deadline ({@code grpc-timeout}) passed: the call ends with DEADLINE_EXCEEDED (sweeper tick). */
    void sweepGrpc(long nowNs) {
        if (grpcDeadlineNs == 0 || grpcStream == null || nowNs - grpcDeadlineNs < 0) {
            return;
        }
        grpcDeadlineNs = 0;
        grpcCancel();
        endBalancer(false);
        if (!responseStarted) {
            stream.failBeforeResponse(GatewayError.UPSTREAM_TIMEOUT);
        } else {
            stream.writeTrailers(GrpcHeads.status(4, "deadline exceeded"));
            loop.counters.increment(LoopCounters.RESPONSES);
            stream.exchangeComplete(requestComplete);
        }
    }

    @Override
    public void onResponseHeaders(io.netty.handler.codec.http2.Http2Headers headers, boolean endStream) {
        ByteBuf src = grpcHeads.responseHead(headers, stream.alloc());
        if (src == null) {
            onFailed(GatewayError.UPSTREAM_INVALID_RESPONSE);
            return;
        }
        try {
            grpcTrailersOnly = endStream;
            onResponseHead(src, grpcHeads.responseHead, false, true);
        } finally {
            src.release();
        }
        if (endStream) {
            grpcComplete();
        } else {
            stream.flush();
        }
    }

    @Override
    public void onData(ByteBuf data, boolean endStream) {
        int n = data.readableBytes();
        if (discardBody) {
            data.release();
        } else {
            stream.writeResponseBody(data);
        }
        if (grpcStream != null) {
            if (stream.isWritable()) {
                grpcStream.consumed(n);
            } else {
                grpcUnconsumed += n; // back-pressure: the window opens when the client takes the bytes
            }
        }
        if (endStream) {
            grpcComplete();
        } else {
            stream.flush();
        }
    }

    @Override
    public void onTrailers(io.netty.handler.codec.http2.Http2Headers trailers) {
        stream.writeTrailers(trailers);
        grpcComplete();
    }

    private void grpcComplete() {
        io.turnpike.engine.grpc.H2UpstreamStream s = grpcStream;
        grpcStream = null;
        if (s != null) {
            s.release();
        }
        endBalancer(false);
        loop.counters.increment(LoopCounters.RESPONSES);
        stream.exchangeComplete(requestComplete);
    }

    @Override
    public void onReset(long errorCode) {
        grpcFailed(GatewayError.UPSTREAM_RESET);
    }

    @Override
    public void onRefused() {
        // Nothing reached the node (GOAWAY, REFUSED_STREAM): UNAVAILABLE, which gRPC clients may retry.
        grpcFailed(GatewayError.UPSTREAM_RESET);
    }

    @Override
    public void onFailed(GatewayError error) {
        NodeAddress n = node;
        if (n != null && n.passive != null) {
            if (error == GatewayError.UPSTREAM_TIMEOUT) {
                n.passive.timeout();
            } else if (error == GatewayError.UPSTREAM_RESET || error == GatewayError.UPSTREAM_CONNECT_FAILED) {
                n.passive.tcpFailure();
            }
        }
        grpcFailed(error);
    }

    private void grpcFailed(GatewayError error) {
        io.turnpike.engine.grpc.H2UpstreamStream s = grpcStream;
        grpcStream = null;
        if (s != null) {
            s.release();
        }
        endBalancer(true);
        if (responseStarted) {
            stream.abortResponse(error);
        } else {
            stream.failBeforeResponse(error);
        }
    }

    @Override
    public void onWritabilityChanged(boolean writable) {
        upstreamWritabilityChanged(writable);
    }
}
