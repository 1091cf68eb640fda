package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.util.concurrent.FastThreadLocal;
import io.turnpike.engine.codec.BodyFramer;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.codec.ResponseHeadParser;
import io.turnpike.engine.plugin.Bytes;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;

/**
 * APISIX {@code forward-auth} (the seed's Passport): before the request goes upstream, an HTTP sub-request asks an
 * authorization service, from the same event loop and without blocking it. The exchange pauses (reads off, its buffered
 * bytes kept) and resumes when the answer arrives:
 * <ul>
 *   <li>2xx: the {@code upstream_headers} of the answer are set on the upstream request, and the request proceeds;</li>
 *   <li>any other status: that status, the answer's body and its {@code client_headers} go back to the client;</li>
 *   <li>the service unreachable, failing or slower than {@code timeout}: {@code status_on_error} (403), or the request
 *       proceeds with {@code allow_degradation}. Never a hang: the pause has a deadline.</li>
 * </ul>
 * The sub-request carries {@code X-Forwarded-Proto}, {@code -Method}, {@code -Host}, {@code -Uri} and {@code -For}, and
 * the client's {@code request_headers}. Connections to the service are kept alive per loop ({@code keepalive},
 * {@code keepalive_pool}, {@code keepalive_timeout}). Only {@code GET} to an {@code http://} service is implemented.
 */
public final class ForwardAuthPlugin extends PluginSpec {
    static final String NAME = "forward-auth";
    private static final int MAX_AUTH_BODY = 64 * 1024;

    private final InetSocketAddress address;
    private final byte[] requestLine;
    private final byte[][] requestHeaderLower;
    private final byte[][] requestHeaderName;
    private final byte[][] upstreamLower;
    private final byte[][] upstreamName;
    private final byte[][] clientLower;
    private final byte[][] clientName;
    private final long timeoutNs;
    private final boolean keepalive;
    private final int poolSize;
    private final long keepaliveTimeoutNs;
    private final boolean allowDegradation;
    private final LocalReply onError;
    private final FastThreadLocal<AuthPool> pools = new FastThreadLocal<>() {
        @Override
        protected AuthPool initialValue() {
            return new AuthPool();
        }
    };

    ForwardAuthPlugin(URI uri, List<String> requestHeaders, List<String> upstreamHeaders, List<String> clientHeaders,
                      long timeoutMs, boolean keepalive, int poolSize, long keepaliveTimeoutMs,
                      boolean allowDegradation, int statusOnError) {
        super(NAME, 2002);
        int port = uri.getPort() > 0 ? uri.getPort() : 80;
        this.address = new InetSocketAddress(uri.getHost(), port);
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        this.requestLine = ("GET " + path + " HTTP/1.1\r\nHost: " + uri.getHost() + (uri.getPort() > 0 ? ":" + port : "")
                + "\r\n" + (keepalive ? "" : "Connection: close\r\n")).getBytes(StandardCharsets.ISO_8859_1);
        this.requestHeaderLower = lowers(requestHeaders);
        this.requestHeaderName = names(requestHeaders);
        this.upstreamLower = lowers(upstreamHeaders);
        this.upstreamName = names(upstreamHeaders);
        this.clientLower = lowers(clientHeaders);
        this.clientName = names(clientHeaders);
        this.timeoutNs = timeoutMs * 1_000_000L;
        this.keepalive = keepalive;
        this.poolSize = poolSize;
        this.keepaliveTimeoutNs = keepaliveTimeoutMs * 1_000_000L;
        this.allowDegradation = allowDegradation;
        this.onError = LocalReply.empty(statusOnError);
    }

    private static byte[][] lowers(List<String> l) {
        return l.stream().map(Bytes::lower).toArray(byte[][]::new);
    }

    private static byte[][] names(List<String> l) {
        return l.stream().map(Bytes::ascii).toArray(byte[][]::new);
    }

    @Override
    public int phases() {
        return PHASE_ACCESS;
    }

    @Override
    public boolean mayPause() {
        return true;
    }

    @Override
    public int maxHeaderEdits() {
        return Math.max(upstreamLower.length, clientLower.length);
    }

    @Override
    public boolean consumerAllowed() {
        return false;
    }

    private static final byte[] XF_PROTO = Bytes.ascii("X-Forwarded-Proto: ");
    private static final byte[] XF_METHOD = Bytes.ascii("X-Forwarded-Method: ");
    private static final byte[] XF_HOST = Bytes.ascii("X-Forwarded-Host: ");
    private static final byte[] XF_URI = Bytes.ascii("X-Forwarded-Uri: ");
    private static final byte[] XF_FOR = Bytes.ascii("X-Forwarded-For: ");
    private static final byte[] CRLF = {'\r', '\n'};

    private static final byte[] HTTPS = Bytes.ascii("https");
    private static final byte[] HTTP = Bytes.ascii("http");

    @Override
    public int access(PluginContext x) {
        RequestHead h = x.head();
        ByteBuf src = x.source();
        if (x.eventLoop() == null) {
            return degrade(x);
        }
        ByteBuf out = io.netty.buffer.ByteBufAllocator.DEFAULT.directBuffer(requestLine.length + h.headLength + 256);
        out.writeBytes(requestLine);
        out.writeBytes(XF_PROTO).writeBytes(x.https() ? HTTPS : HTTP).writeBytes(CRLF);
        out.writeBytes(XF_METHOD).writeBytes(src, h.methodStart, h.methodEnd - h.methodStart).writeBytes(CRLF);
        if (h.hostIndex >= 0) {
            out.writeBytes(XF_HOST).writeBytes(src, h.valueStart[h.hostIndex],
                    h.valueEnd[h.hostIndex] - h.valueStart[h.hostIndex]).writeBytes(CRLF);
        }
        out.writeBytes(XF_URI).writeBytes(src, h.targetStart, h.targetEnd - h.targetStart).writeBytes(CRLF);
        out.writeBytes(XF_FOR).writeBytes(x.clientIp()).writeBytes(CRLF);
        for (int k = 0; k < requestHeaderLower.length; k++) {
            int i = x.header(requestHeaderLower[k]);
            if (i >= 0) {
                out.writeBytes(requestHeaderName[k]).writeByte(':').writeByte(' ');
                out.writeBytes(src, h.valueStart[i], h.valueEnd[i] - h.valueStart[i]).writeBytes(CRLF);
            }
        }
        out.writeBytes(CRLF);
        // Paused before the sub-request starts: a connect failing at once resumes an exchange that is paused.
        int paused = x.pause(System.nanoTime() + timeoutNs, allowDegradation ? null : onError);
        if (!pools.get().send(this, x, out)) {
            return degrade(x);
        }
        return paused;
    }

    private int degrade(PluginContext x) {
        return allowDegradation ? CONTINUE : x.reply(onError);
    }

    /** The auth service answered (on the loop): edits and resume, if the exchange is still waiting for it. */
    void answered(PluginContext x, int token, ByteBuf buf, ResponseHead rh, int bodyStart, int bodyEnd) {
        if (x.token() != token) {
            return; // timed out or the client went away: that exchange is gone
        }
        if (rh.status >= 200 && rh.status < 300) {
            for (int k = 0; k < upstreamLower.length; k++) {
                copyHeader(x, buf, rh, upstreamLower[k], upstreamName[k], true);
            }
            x.resume(token, CONTINUE);
            return;
        }
        for (int k = 0; k < clientLower.length; k++) {
            copyHeader(x, buf, rh, clientLower[k], clientName[k], false);
        }
        byte[] body = new byte[bodyEnd - bodyStart]; // the refusal path: not the steady state
        buf.getBytes(bodyStart, body);
        x.reply(new LocalReply(rh.status, null, "", body));
        x.resume(token, STOP);
    }

    /** The sub-request failed (connect refused, reset, malformed answer). */
    void failed(PluginContext x, int token) {
        if (x.token() != token) {
            return;
        }
        if (allowDegradation) {
            x.resume(token, CONTINUE);
        } else {
            x.reply(onError);
            x.resume(token, STOP);
        }
    }

    private static void copyHeader(PluginContext x, ByteBuf buf, ResponseHead rh, byte[] lower, byte[] name,
                                   boolean upstream) {
        for (int i = 0; i < rh.headerCount; i++) {
            if (Bytes.equalsLower(buf, rh.nameStart[i], rh.nameEnd[i], lower)) {
                int len = rh.valueEnd[i] - rh.valueStart[i];
                int at = x.scratch(len);
                if (at < 0) {
                    return;
                }
                buf.getBytes(rh.valueStart[i], x.scratchBytes(), at, len);
                (upstream ? x.requestEdits : x.responseEdits).set(lower, name, x.scratchBytes(), at, len);
                return;
            }
        }
    }

    /** One loop's keep-alive connections to the auth service. Confined to its loop. */
    private final class AuthPool {
        private final ArrayDeque<Channel> idle = new ArrayDeque<>();
        /** Connections with a sub-request in flight: one that outlives its exchange's deadline is closed (a hung
         * service must not accumulate connections). */
        private final ArrayDeque<AuthConnection> busy = new ArrayDeque<>();

        /** Closes busy connections whose answer is overdue (the exchange gave up at its deadline). */
        private void reap(long now) {
            for (java.util.Iterator<AuthConnection> it = busy.iterator(); it.hasNext(); ) {
                AuthConnection a = it.next();
                if (now - a.startedNs - timeoutNs - 1_000_000_000L > 0) {
                    it.remove();
                    if (a.channel != null) {
                        a.channel.close();
                    }
                }
            }
        }

        /** Sends {@code request} on an idle connection, else on a new one once connected; false if none can start. */
        boolean send(ForwardAuthPlugin spec, PluginContext x, ByteBuf request) {
            Channel c;
            long now = System.nanoTime();
            reap(now);
            while ((c = idle.pollLast()) != null) {
                AuthConnection a = (AuthConnection) c.pipeline().last();
                if (c.isActive() && now - a.idleSinceNs < keepaliveTimeoutNs) {
                    a.start(x, x.token());
                    busy.add(a);
                    c.writeAndFlush(request, c.voidPromise());
                    return true;
                }
                c.close();
            }
            AuthConnection conn = new AuthConnection(spec, this);
            conn.start(x, x.token());
            busy.add(conn);
            conn.pendingRequest = request; // written when connected
            try {
                x.bootstrap().clone().handler(conn)
                        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, timeoutNs / 1_000_000L))
                        .connect(address).addListener((ChannelFutureListener) f -> {
                            if (!f.isSuccess()) {
                                conn.connectFailed();
                            } else {
                                conn.connected(f.channel());
                            }
                        });
                return true;
            } catch (RuntimeException e) {
                busy.remove(conn);
                conn.waiting = null;
                request.release();
                conn.pendingRequest = null;
                return false;
            }
        }

        void release(Channel c, AuthConnection a) {
            busy.remove(a);
            if (!keepalive || idle.size() >= poolSize || !c.isActive()) {
                c.close();
                return;
            }
            a.idleSinceNs = System.nanoTime();
            idle.addLast(c);
        }

        void remove(Channel c, AuthConnection a) {
            idle.remove(c);
            busy.remove(a);
        }

        int busyCount() {
            return busy.size();
        }
    }

    /** One connection to the auth service: one sub-request at a time. */
    private static final class AuthConnection extends ChannelInboundHandlerAdapter {
        private final ForwardAuthPlugin spec;
        private final AuthPool pool;
        private final ResponseHead head = new ResponseHead(100);
        private final ResponseHeadParser parser = new ResponseHeadParser(16 * 1024, 100);
        private final BodyFramer body = new BodyFramer(MAX_AUTH_BODY);
        private ByteBuf cumulation;
        private PluginContext waiting;
        private int token;
        private int headLength;
        private int bodyMode = -1;
        /** Body bytes already framed (offset from the body's start): each read frames only what is new. */
        private int framed;
        private boolean failed;
        long idleSinceNs;
        long startedNs;
        Channel channel;
        ByteBuf pendingRequest;

        AuthConnection(ForwardAuthPlugin spec, AuthPool pool) {
            this.spec = spec;
            this.pool = pool;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            channel = ctx.channel();
        }

        void start(PluginContext x, int token) {
            this.startedNs = System.nanoTime();
            this.waiting = x;
            this.token = token;
            this.headLength = 0;
            this.bodyMode = -1;
            this.framed = 0;
            head.reset();
            parser.reset();
        }

        void connected(Channel ch) {
            ByteBuf r = pendingRequest;
            pendingRequest = null;
            if (r != null) {
                ch.writeAndFlush(r, ch.voidPromise());
            }
        }

        void connectFailed() {
            if (pendingRequest != null) {
                pendingRequest.release();
                pendingRequest = null;
            }
            fail();
        }

        private void fail() {
            if (failed) {
                return;
            }
            failed = true;
            PluginContext x = waiting;
            waiting = null;
            if (x != null) {
                spec.failed(x, token);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            if (waiting == null) {
                in.release(); // nothing asked: an unsolicited byte makes the connection unusable
                ctx.close();
                return;
            }
            if (cumulation == null) {
                cumulation = in;
            } else {
                ByteBuf merged = ctx.alloc().buffer(cumulation.readableBytes() + in.readableBytes());
                merged.writeBytes(cumulation).writeBytes(in);
                cumulation.release();
                in.release();
                cumulation = merged;
            }
            if (bodyMode < 0) {
                int n = parser.parse(cumulation, head);
                if (n == ResponseHeadParser.NEED_MORE) {
                    return;
                }
                if (n == ResponseHeadParser.ERROR) {
                    ctx.close();
                    return;
                }
                headLength = n;
                bodyMode = BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_GET);
                body.start(bodyMode, head.contentLength);
            }
            int bodyStart = cumulation.readerIndex() + headLength;
            int consumed = body.consume(cumulation, bodyStart + framed, cumulation.writerIndex());
            if (consumed < 0) {
                ctx.close();
                return;
            }
            framed += consumed;
            int n = framed;
            if (!body.isComplete()) {
                if (cumulation.readableBytes() > MAX_AUTH_BODY + 16 * 1024) {
                    ctx.close();
                }
                return;
            }
            PluginContext x = waiting;
            waiting = null;
            ByteBuf buf = cumulation;
            cumulation = null;
            try {
                // A chunked body is relayed as its payload only when not chunked; chunked answers relay no body.
                int end = bodyMode == BodyFramer.MODE_CHUNKED ? bodyStart : bodyStart + n;
                spec.answered(x, token, buf, head, bodyStart, end);
            } finally {
                boolean reusable = head.keepAlive && bodyStart + n == buf.writerIndex();
                buf.release();
                if (reusable) {
                    pool.release(ctx.channel(), this);
                } else {
                    ctx.close();
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (cumulation != null) {
                cumulation.release();
                cumulation = null;
            }
            if (pendingRequest != null) {
                pendingRequest.release();
                pendingRequest = null;
            }
            pool.remove(ctx.channel(), this);
            fail();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 2002;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("uri", "ssl_verify", "request_method", "request_headers", "upstream_headers",
                    "client_headers", "timeout", "keepalive", "keepalive_timeout", "keepalive_pool",
                    "allow_degradation", "status_on_error", "_meta"));
            URI uri = URI.create(Conf.str(c, "uri", ""));
            if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException(NAME + ": uri must be http://host[:port]/path (https is not"
                        + " supported yet)");
            }
            if (!Conf.str(c, "request_method", "GET").equals("GET")) {
                throw new IllegalArgumentException(NAME + ": request_method POST is not supported yet");
            }
            return new ForwardAuthPlugin(uri, Conf.strings(c, "request_headers"), Conf.strings(c, "upstream_headers"),
                    Conf.strings(c, "client_headers"), Conf.integer(c, "timeout", 3000),
                    Conf.bool(c, "keepalive", true), Conf.integer(c, "keepalive_pool", 5),
                    Conf.integer(c, "keepalive_timeout", 60000), Conf.bool(c, "allow_degradation", false),
                    Conf.integer(c, "status_on_error", 403));
        }
    }
}
