package io.turnpike.engine.health;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import io.turnpike.config.model.HealthChecks;
import io.turnpike.engine.server.Transport;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import javax.net.ssl.SSLException;

/**
 * The process's one health checker ({@code checks}, docs/health.md). Every upstream handed to {@link #watch} is probed
 * from a single thread of its own, {@code turnpike-health} (a one-thread Netty group: its timers schedule the
 * rounds, its selector carries every probe connection), never from an event loop; the loops only feed
 * {@link PassiveReporter}s, which write the same per-node state word without allocating or locking.
 *
 * <p>Rounds follow lua-resty-healthcheck: every {@code active.healthy.interval} seconds the healthy (and mostly
 * healthy) nodes of an upstream are probed, every {@code active.unhealthy.interval} seconds the unhealthy (and mostly
 * unhealthy) ones, at most {@code active.concurrency} probes in flight per upstream; a node whose previous probe has
 * not finished is skipped. Results and passive reports count in the same counters (see {@link HealthState}); the
 * {@link HealthListener} hears of a node only when it crosses between healthy and unhealthy.
 *
 * <p>State is kept per (upstream key, address, host): {@link #watch} with a node set that still holds a node keeps
 * its state and counters, so config and DNS changes do not reset the health of unchanged nodes, unless the probe
 * itself changed ({@code type}, {@code host}, {@code port}, {@code http_method}, {@code http_path},
 * {@code http_req_body}, {@code req_headers}, {@code https_verify_certificate}): then the node starts again as a new
 * one, healthy, as APISIX starts every new target.
 *
 * <p>Thread safety: {@link #watch}, {@link #unwatch} and {@link #close} may be called from any thread (serialized on
 * this object); {@link #isHealthy}, {@link #passive} and {@link #status} from any thread without locking; the
 * listener runs on {@code turnpike-health}.
 */
public final class HealthChecker implements AutoCloseable {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final HealthListener listener;
    private final MultiThreadIoEventLoopGroup group;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final ConcurrentHashMap<String, UpstreamWatch> watches = new ConcurrentHashMap<>();
    private final AtomicLong probesStarted = new AtomicLong();
    private final AtomicInteger probesInFlight = new AtomicInteger();
    /** Probe results by {@link Probe.Result} ordinal (HTTP split: judged healthy, unhealthy, neither). */
    private final AtomicLongArray results = new AtomicLongArray(Probe.Result.values().length + 2);
    private volatile SslContext verifying;
    private volatile SslContext insecure;
    private volatile boolean closed;

    /** Starts {@code turnpike-health} (native epoll when it loads, else NIO, like the event loops). */
    public HealthChecker(HealthListener listener) {
        this(listener, Transport.select("auto"));
    }

    HealthChecker(HealthListener listener, Transport transport) {
        this.listener = Objects.requireNonNull(listener, "listener");
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("turnpike-health", true),
                transport.ioHandlerFactory());
        this.loop = group.next();
        this.bootstrap = new Bootstrap().group(loop).channel(transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.AUTO_READ, true);
    }

    // ------------------------------------------------------------------------------------------------ public API

    /**
     * Starts or changes the checks of an upstream: its node set becomes {@code targets}. Nodes present before (same
     * address and host) keep their state when the probe is unchanged; new nodes start healthy; nodes no longer listed
     * are forgotten (their reporters go quiet).
     *
     * @param upstreamKey the upstream's identity, by convention its APISIX key without the prefix
     *                    ({@code upstreams/1}; an inline upstream: {@code routes/7}, {@code services/3}); shown as
     *                    {@code name} in {@link #status()}
     */
    public synchronized void watch(String upstreamKey, HealthChecks checks, List<HealthTarget> targets) {
        Objects.requireNonNull(upstreamKey, "upstreamKey");
        Objects.requireNonNull(checks, "checks");
        Objects.requireNonNull(checks.active(), "checks.active");
        for (HealthTarget t : targets) { // before anything changes: nothing half-applied
            if (t.address().isUnresolved()) {
                throw new IllegalArgumentException(upstreamKey + ": " + t + " is not resolved (the checker never"
                        + " resolves names: its thread must not block)");
            }
        }
        if (closed) {
            return;
        }
        UpstreamWatch old = watches.get(upstreamKey);
        boolean sameProbe = old != null && ProbeShape.of(old.active).equals(ProbeShape.of(checks.active()));
        PassiveReporter.Rules passiveRules = checks.passive() == null ? null
                : new PassiveReporter.Rules(checks.passive());
        UpstreamWatch w = new UpstreamWatch(upstreamKey, checks);
        Map<HealthTarget, Entry> byTarget = new LinkedHashMap<>();
        List<Entry> reset = new ArrayList<>();
        for (HealthTarget t : targets) {
            if (byTarget.containsKey(t)) {
                continue;
            }
            Entry e = old == null ? null : old.byTarget.get(t);
            if (e == null) {
                e = new Entry(this, upstreamKey, t);
            } else if (!sameProbe) {
                e.state.reset();
                reset.add(e);
            }
            e.reporter.rules(passiveRules);
            byTarget.put(t, e);
        }
        w.byTarget = Map.copyOf(byTarget);
        w.probes = new ProbeTarget[byTarget.size()];
        int i = 0;
        for (Entry e : byTarget.values()) {
            w.probes[i++] = new ProbeTarget(e, probeAddress(e.target, checks.active()),
                    request(e.target, checks.active()), hostHeader(e.target, checks.active()));
        }
        if (old != null) {
            old.cancelled = true;
            if (old.timers.hi == w.timers.hi && old.timers.ui == w.timers.ui) {
                w.timers = old.timers; // same intervals: the rounds keep their phase (frequent watch calls never
                                       // postpone a probe)
            } else {
                old.timers.cancel();
            }
            for (Entry e : old.byTarget.values()) {
                if (!byTarget.containsKey(e.target)) {
                    e.forget();
                }
            }
        }
        watches.put(upstreamKey, w);
        w.timers.start(w, loop);
        for (Entry e : reset) {
            e.signal();
        }
    }

    /** Stops the checks of an upstream and forgets its nodes (probes in flight complete, unheard). */
    public synchronized void unwatch(String upstreamKey) {
        UpstreamWatch w = watches.remove(upstreamKey);
        if (w != null) {
            w.cancelled = true;
            w.timers.cancel();
            for (Entry e : w.byTarget.values()) {
                e.forget();
            }
        }
    }

    /** A node's health; true for a node or upstream not watched (no checks: every node is used). Any thread. */
    public boolean isHealthy(String upstreamKey, HealthTarget target) {
        Entry e = entry(upstreamKey, target);
        return e == null || e.state.healthy();
    }

    /**
     * The passive reporter of a node: null when the upstream has no {@code checks.passive} or the node is not watched.
     * The same object for a node as long as it stays watched (thresholds may change under it). Any thread.
     */
    public PassiveReporter passive(String upstreamKey, HealthTarget target) {
        Entry e = entry(upstreamKey, target);
        return e == null || e.reporter.rules() == null ? null : e.reporter;
    }

    /**
     * Every watched upstream in APISIX's control API shape, keyed by upstream key:
     * {@code {"<key>": {"name": "<key>", "type": "http", "nodes": [{"ip", "port", "hostname", "status",
     * "counter": {"success", "http_failure", "tcp_failure", "timeout_failure"}}]}}}; {@code port} is the port probed,
     * {@code hostname} the Host header / SNI of the probes. Read racily (each node's word is read once). Any thread.
     */
    public ObjectNode status() {
        ObjectNode root = JSON.objectNode();
        for (UpstreamWatch w : new TreeMap<>(watches).values()) {
            ObjectNode u = root.putObject(w.key);
            u.put("name", w.key);
            u.put("type", w.active.type());
            ArrayNode nodes = u.putArray("nodes");
            for (ProbeTarget p : w.probes) {
                long word = p.entry.state.word();
                ObjectNode n = nodes.addObject();
                n.put("ip", p.address.getAddress().getHostAddress());
                n.put("port", p.address.getPort());
                n.put("hostname", p.hostHeader);
                n.put("status", HealthState.statusName(HealthState.status(word)));
                ObjectNode c = n.putObject("counter");
                c.put("success", HealthState.counter(word, HealthState.SUCCESS));
                c.put("http_failure", HealthState.counter(word, HealthState.HTTP));
                c.put("tcp_failure", HealthState.counter(word, HealthState.TCP));
                c.put("timeout_failure", HealthState.counter(word, HealthState.TIMEOUT));
            }
        }
        return root;
    }

    /** Probes started since this checker was created (for load figures). */
    public long probesStarted() {
        return probesStarted.get();
    }

    /**
     * Probe results so far: {@code success} (tcp probes), {@code tcp_failure}, {@code timeout}, {@code http_healthy},
     * {@code http_unhealthy} (an unhealthy status or no status line), {@code http_other} (counted for nothing).
     */
    public java.util.Map<String, Long> probeResults() {
        java.util.Map<String, Long> m = new LinkedHashMap<>();
        String[] names = {"success", "tcp_failure", "timeout", "http_healthy", "http_unhealthy", "http_other"};
        for (int i = 0; i < names.length; i++) {
            m.put(names[i], results.get(i));
        }
        return m;
    }

    /** Probe connections open or being opened now. */
    public int probesInFlight() {
        return probesInFlight.get();
    }

    /** Stops every check and the thread (waits up to a few seconds). */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (String k : new ArrayList<>(watches.keySet())) {
                unwatch(k);
            }
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    // ------------------------------------------------------------------------------------------------ internals

    private Entry entry(String upstreamKey, HealthTarget target) {
        UpstreamWatch w = watches.get(upstreamKey);
        return w == null ? null : w.byTarget.get(target);
    }

    private static InetSocketAddress probeAddress(HealthTarget t, HealthChecks.Active a) {
        InetSocketAddress addr = t.address();
        if (a.port() == 0 || a.port() == addr.getPort()) {
            return addr;
        }
        return new InetSocketAddress(addr.getAddress(), a.port());
    }

    private static String hostHeader(HealthTarget t, HealthChecks.Active a) {
        if (a.host() != null) {
            return a.host();
        }
        if (t.host() != null && !t.host().isEmpty()) {
            return t.host();
        }
        return t.address().getHostString();
    }

    /** The request of an {@code http}/{@code https} probe, as lua-resty-healthcheck writes it. */
    static byte[] request(HealthTarget t, HealthChecks.Active a) {
        if ("tcp".equals(a.type())) {
            return new byte[0];
        }
        String host = hostHeader(t, a);
        if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
            host = "[" + host + "]";
        }
        StringBuilder sb = new StringBuilder(128).append(a.httpMethod()).append(' ').append(a.httpPath())
                .append(" HTTP/1.1\r\nConnection: close\r\n");
        for (String h : a.reqHeaders()) {
            sb.append(h).append("\r\n");
        }
        sb.append("Host: ").append(host).append("\r\n");
        byte[] body = a.httpReqBody().getBytes(StandardCharsets.UTF_8);
        if (body.length > 0) {
            sb.append("Content-Length: ").append(body.length).append("\r\n");
        }
        sb.append("\r\n");
        byte[] head = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[head.length + body.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(body, 0, out, head.length, body.length);
        return out;
    }

    private SslContext sslContext(boolean verify) throws SSLException {
        SslContext c = verify ? verifying : insecure;
        if (c == null) {
            SslContextBuilder b = SslContextBuilder.forClient();
            if (verify) {
                b.endpointIdentificationAlgorithm("HTTPS"); // the JVM's default trust store
            } else {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
            }
            c = b.build();
            if (verify) {
                verifying = c;
            } else {
                insecure = c;
            }
        }
        return c;
    }

    /** A round: probes the nodes on one side (healthy or unhealthy) of an upstream. On the checker's thread. */
    private void round(UpstreamWatch w, boolean healthySide) {
        if (w.cancelled) {
            return;
        }
        for (ProbeTarget p : w.probes) {
            if (!p.entry.probing && !p.entry.forgotten && p.entry.state.healthy() == healthySide) {
                w.queue.add(p);
            }
        }
        pump(w);
    }

    private void pump(UpstreamWatch w) {
        while (!w.cancelled && w.inFlight < w.active.concurrency()) {
            ProbeTarget p = w.queue.poll();
            if (p == null) {
                return;
            }
            if (!p.entry.probing) {
                start(w, p);
            }
        }
        if (w.cancelled) {
            w.queue.clear();
        }
    }

    private void start(UpstreamWatch w, ProbeTarget p) {
        p.entry.probing = true;
        w.inFlight++;
        probesStarted.incrementAndGet();
        probesInFlight.incrementAndGet();
        Probe probe = new Probe(this, w, p);
        SslContext ssl = null;
        if ("https".equals(w.active.type())) {
            try {
                ssl = sslContext(w.active.httpsVerifyCertificate());
            } catch (SSLException e) {
                probeDone(w, p, Probe.Result.TCP_FAILURE, 0);
                return;
            }
        }
        SslContext tls = ssl;
        ChannelFuture f = bootstrap.clone()
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, w.timeoutNanos / 1_000_000))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            // the peer host is the name the certificate is checked against; Netty sends it as SNI
                            // only when it is a host name, never an IP literal
                            SslHandler h = tls.newHandler(ch.alloc(), p.hostHeader, p.address.getPort());
                            h.setHandshakeTimeoutMillis(0); // the probe's own timer bounds it
                            ch.pipeline().addLast(h);
                        }
                        ch.pipeline().addLast(probe);
                    }
                })
                .connect(p.address);
        f.addListener((ChannelFuture cf) -> probe.connected(cf));
    }

    /** A probe's result (on the checker's thread). */
    void probeDone(UpstreamWatch w, ProbeTarget p, Probe.Result r, int status) {
        probesInFlight.decrementAndGet();
        ActiveRules rules = w.rules;
        boolean healthyStatus = status > 0 && status < rules.healthyStatus.length && rules.healthyStatus[status];
        boolean unhealthyStatus = status <= 0 || status >= rules.unhealthyStatus.length
                || rules.unhealthyStatus[status];
        results.incrementAndGet(r != Probe.Result.HTTP ? r.ordinal()
                : healthyStatus ? r.ordinal() : unhealthyStatus ? r.ordinal() + 1 : r.ordinal() + 2);
        boolean crossed = switch (r) {
            case SUCCESS -> p.entry.state.report(HealthState.SUCCESS, rules.successes);
            case TCP_FAILURE -> p.entry.state.report(HealthState.TCP, rules.tcpFailures);
            case TIMEOUT -> p.entry.state.report(HealthState.TIMEOUT, rules.timeouts);
            case HTTP -> healthyStatus ? p.entry.state.report(HealthState.SUCCESS, rules.successes)
                    : unhealthyStatus && p.entry.state.report(HealthState.HTTP, rules.httpFailures);
        };
        if (crossed) {
            p.entry.tell();
        }
        p.entry.probing = false;
        w.inFlight--;
        pump(w);
    }

    /** Tells the listener if the node's side differs from the last one told. On the checker's thread. */
    void tell(Entry e) {
        boolean h = e.state.healthy();
        if (e.forgotten || h == e.lastTold) {
            return;
        }
        e.lastTold = h;
        try {
            listener.onHealthChange(e.key, e.target, h);
        } catch (RuntimeException ex) {
            System.err.println("turnpike: health listener failed for " + e.key + " " + e.target + ": " + ex);
        }
    }

    // ------------------------------------------------------------------------------------------------ state

    /** One node of one watched upstream; survives {@link #watch} calls that keep the node. */
    static final class Entry {
        final HealthChecker checker;
        final String key;
        final HealthTarget target;
        final HealthState state = new HealthState();
        final PassiveReporter reporter;
        private final Runnable tellTask;
        private final AtomicInteger signalled = new AtomicInteger();
        /** Checker thread only. */
        boolean lastTold = true;
        /** Checker thread only. */
        boolean probing;
        volatile boolean forgotten;

        Entry(HealthChecker checker, String key, HealthTarget target) {
            this.checker = checker;
            this.key = key;
            this.target = target;
            this.reporter = new PassiveReporter(this);
            this.tellTask = () -> {
                signalled.set(0);
                checker.tell(this);
            };
        }

        /** Any thread: asks the checker's thread to tell the listener (one queued task at most). */
        void signal() {
            if (signalled.compareAndSet(0, 1)) {
                try {
                    checker.loop.execute(tellTask);
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                    signalled.set(0);
                }
            }
        }

        /** On the checker's thread. */
        void tell() {
            checker.tell(this);
        }

        void forget() {
            forgotten = true;
            reporter.rules(null);
        }
    }

    /** The probe of one node under one watch: where, what to send, which name to check. */
    static final class ProbeTarget {
        final Entry entry;
        final InetSocketAddress address;
        final byte[] request;
        final String hostHeader;

        ProbeTarget(Entry entry, InetSocketAddress address, byte[] request, String hostHeader) {
            this.entry = entry;
            this.address = address;
            this.request = request;
            this.hostHeader = hostHeader;
        }
    }

    /** The compiled {@code checks.active}. */
    static final class ActiveRules {
        final boolean[] healthyStatus = new boolean[600];
        final boolean[] unhealthyStatus = new boolean[600];
        final int successes;
        final int httpFailures;
        final int tcpFailures;
        final int timeouts;

        ActiveRules(HealthChecks.Active a) {
            PassiveReporter.Rules.mark(healthyStatus, a.healthy().httpStatuses());
            PassiveReporter.Rules.mark(unhealthyStatus, a.unhealthy().httpStatuses());
            successes = a.healthy().successes();
            httpFailures = a.unhealthy().httpFailures();
            tcpFailures = a.unhealthy().tcpFailures();
            timeouts = a.unhealthy().timeouts();
        }
    }

    /** What makes two probes the same probe (a node's state is kept only then). */
    record ProbeShape(String type, String host, int port, String method, String path, String body,
                      List<String> headers, boolean verify) {
        static ProbeShape of(HealthChecks.Active a) {
            return new ProbeShape(a.type(), a.host(), a.port(), a.httpMethod(), a.httpPath(), a.httpReqBody(),
                    a.reqHeaders(), a.httpsVerifyCertificate());
        }
    }

    /** One {@link #watch} of one upstream: its checks, nodes and timers. */
    final class UpstreamWatch {
        final String key;
        final HealthChecks.Active active;
        final ActiveRules rules;
        final long timeoutNanos;
        Map<HealthTarget, Entry> byTarget = Map.of();
        ProbeTarget[] probes = new ProbeTarget[0];
        /** Checker thread only. */
        final ArrayDeque<ProbeTarget> queue = new ArrayDeque<>();
        /** Checker thread only. */
        int inFlight;
        volatile boolean cancelled;
        /** Shared with the next watch of the upstream when the intervals are the same. */
        Timers timers;

        UpstreamWatch(String key, HealthChecks checks) {
            this.key = key;
            this.active = checks.active();
            this.rules = new ActiveRules(active);
            this.timeoutNanos = Math.max(1_000_000L, (long) (active.timeout() * 1e9));
            this.timers = new Timers(TimeUnit.SECONDS.toNanos(active.healthy().interval()),
                    TimeUnit.SECONDS.toNanos(active.unhealthy().interval()));
        }
    }

    /** The two round timers of an upstream; each round probes the upstream's current watch. */
    final class Timers {
        final long hi;
        final long ui;
        private volatile UpstreamWatch current;
        private ScheduledFuture<?> healthy;
        private ScheduledFuture<?> unhealthy;

        Timers(long hi, long ui) {
            this.hi = hi;
            this.ui = ui;
        }

        /** Makes {@code w} the watch the rounds probe; schedules them the first time (at a random phase). */
        void start(UpstreamWatch w, EventLoop loop) {
            current = w;
            if (healthy != null) {
                return;
            }
            // spread the upstreams over the interval (1,000 upstreams do not probe in the same millisecond)
            ThreadLocalRandom r = ThreadLocalRandom.current();
            healthy = loop.scheduleAtFixedRate(() -> round(current, true), r.nextLong(hi), hi, TimeUnit.NANOSECONDS);
            unhealthy = loop.scheduleAtFixedRate(() -> round(current, false), r.nextLong(ui), ui,
                    TimeUnit.NANOSECONDS);
        }

        void cancel() {
            if (healthy != null) {
                healthy.cancel(false);
                unhealthy.cancel(false);
            }
        }
    }

    /** For tests: the upstream keys watched now. */
    Map<String, Integer> watchedSizes() {
        Map<String, Integer> m = new HashMap<>();
        watches.forEach((k, w) -> m.put(k, w.probes.length));
        return m;
    }
}
