package io.turnpike.engine.discovery;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.HostsFileEntriesResolver;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsErrorCauseException;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.resolver.dns.UnixResolverDnsServerAddressStreamProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import io.turnpike.config.model.Upstream;
import io.turnpike.config.process.DiscoveryConfig;
import io.turnpike.config.threads.ControlPlaneThreads;
import java.io.IOException;
import java.io.PrintStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * DNS discovery: APISIX's {@code discovery_type: dns} upstreams and node host names, resolved asynchronously and
 * re-resolved on their TTL, with Netty's {@link DnsNameResolver}. One per process (docs/discovery.md).
 *
 * <p>Threads: everything runs on its own single event loop, {@code turnpike-dns} (control-plane priority); the public
 * methods may be called from any thread and hand their work to it ({@link #status} waits for its answer, at most 5 s).
 * Listeners are called on it. It never blocks the caller's thread beyond that, never touches a data-plane loop.
 *
 * <p>Resolution of a name follows APISIX's {@code discovery.dns.order}: the types are tried in turn and the first
 * with records wins ({@code last}: the type that answered last time; CNAME chains are followed inside the A, AAAA and
 * SRV lookups, so {@code CNAME} queries nothing of its own). SRV targets are resolved to A, then AAAA. A timeout, a
 * server failure (SERVFAIL, REFUSED) or an undecodable answer stops the resolution, which fails; NXDOMAIN or an empty
 * answer passes on to the next type, and when no type has records the resolution fails with "empty answer". A failed
 * resolution keeps the last good node set, is counted, shown in {@link #status}, logged once when the name goes from
 * good to failing (and once when it recovers), and retried after {@code turnpike.dns.error_retry}.
 */
public final class DnsDiscovery implements AutoCloseable {

    /** {@link #refresh} of a name nobody watches. */
    public static final class UnknownNameException extends RuntimeException {
        public UnknownNameException(String name) {
            super("name " + name + " is not watched (no dns upstream or node host uses it)");
        }
    }

    private static final Comparator<ResolvedNode> ORDER = Comparator.comparingInt(ResolvedNode::priority).reversed()
            .thenComparing(ResolvedNode::key).thenComparingInt(ResolvedNode::weight)
            .thenComparing(ResolvedNode::host);

    private final DiscoveryConfig.Dns conf;
    private final PrintStream log;
    private final MultiThreadIoEventLoopGroup group;
    private final EventLoop loop;
    /**
     * Built on the first question (on {@link #loop}): the resolver's datagram channel and its ~150 classes cost a
     * start 0.1-0.2 s on one core, and a gateway whose upstream nodes are all addresses never asks one.
     */
    private DnsNameResolver resolver;
    private DnsNameResolverBuilder resolverBuilder;
    private final HostsFileEntriesResolver hosts;
    private final String serversText;

    // loop-confined
    private final Map<String, Watch> watches = new LinkedHashMap<>();
    private final Map<String, Name> names = new LinkedHashMap<>();
    private boolean closed;

    // read from any thread
    private final ConcurrentHashMap<String, List<ResolvedNode>> current = new ConcurrentHashMap<>();
    private final AtomicLong resolutions = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong changes = new AtomicLong();

    /** @param conf {@code discovery.dns}, or null: the system resolver ({@code /etc/resolv.conf}, {@code /etc/hosts}) */
    public DnsDiscovery(DiscoveryConfig.Dns conf) {
        this(conf, System.err);
    }

    public DnsDiscovery(DiscoveryConfig.Dns conf, PrintStream log) {
        this.conf = conf != null ? conf : DiscoveryConfig.DEFAULT.system();
        this.log = log;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("turnpike-dns", true,
                ControlPlaneThreads.PRIORITY), NioIoHandler.newFactory());
        this.loop = group.next();
        DnsNameResolverBuilder b = new DnsNameResolverBuilder(loop)
                .datagramChannelType(NioDatagramChannel.class)
                .socketChannelType(NioSocketChannel.class) // TCP when an answer is truncated
                .resolveCache(NoopDnsCache.INSTANCE) // TTLs are ours: every resolution asks the server
                .cnameCache(NoopDnsCnameCache.INSTANCE)
                .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
                .queryTimeoutMillis(this.conf.queryTimeoutMs())
                .recursionDesired(true)
                .resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED)
                .hostsFileEntriesResolver((name, types) -> null); // /etc/hosts: only node hosts of the system mode
        String servers;
        try {
            if (!this.conf.servers().isEmpty()) {
                b.nameServerProvider(new SequentialDnsServerAddressStreamProvider(this.conf.servers()));
                b.searchDomains(List.of());
                b.ndots(1);
                servers = this.conf.servers().toString();
            } else if (this.conf.resolvConf() != null) {
                Path f = this.conf.resolvConf();
                b.nameServerProvider(new UnixResolverDnsServerAddressStreamProvider(f.toFile()));
                ResolvConf rc = ResolvConf.read(f);
                b.searchDomains(rc.search);
                b.ndots(rc.ndots);
                servers = f.toString();
            } else {
                b.nameServerProvider(DnsServerAddressStreamProviders.platformDefault());
                servers = "/etc/resolv.conf";
            }
        } catch (IOException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw new IllegalArgumentException("discovery.dns: cannot read " + this.conf.resolvConf() + ": " + e, e);
        }
        this.serversText = servers;
        this.resolverBuilder = b;
        this.hosts = this.conf.system() ? HostsFileEntriesResolver.DEFAULT : (name, types) -> null;
    }

    /**
     * The process's resolver: {@code discovery.dns} when config.yaml has it, else the system resolver; both tuned by
     * {@code turnpike.dns}.
     */
    public static DnsDiscovery forProcess(io.turnpike.config.process.ProcessConfig pc, PrintStream log) {
        DiscoveryConfig d = pc.discovery();
        return new DnsDiscovery(d.dns() != null ? d.dns() : d.system(), log);
    }

    /** True when {@code discovery.dns} is configured (dns discovery upstreams may be served). */
    public boolean discoveryConfigured() {
        return !conf.system();
    }

    // ------------------------------------------------------------------ API (any thread)

    /**
     * Watches {@code name} as a dns {@code service_name}: resolved now and again on its TTL; the first node set and
     * every change go to {@code listener}. A second watch under the same {@code key} replaces the first.
     *
     * @param port -1: the port comes from the SRV record (80 when an A/AAAA answer or an SRV port 0 gives none), else
     *             the port of every node
     */
    public void watch(String key, String name, int port, int weight, int priority, DnsListener listener) {
        watch(key, name, port, 80, weight, priority, false, listener);
    }

    /**
     * Watches a node host name of an upstream's {@code nodes}: A then AAAA (the configured order, SRV left out), after
     * {@code /etc/hosts} when this is the system resolver. Each address becomes a node with {@code weight}.
     */
    public void watchHost(String key, String host, int port, int weight, int priority, DnsListener listener) {
        watch(key, host, port, port, weight, priority, true, listener);
    }

    /**
     * Watches the {@code service_name} of a {@code discovery_type: dns} upstream: {@code name} or {@code name:port}
     * (without a port, the SRV record's or the scheme's default port, as APISIX), each node of weight 1.
     */
    public void watchUpstream(String key, Upstream u, DnsListener listener) {
        if (u.serviceName() == null || !"dns".equals(u.discoveryType())) {
            throw new IllegalArgumentException("upstream " + key + " is not a dns discovery upstream");
        }
        String s = u.serviceName();
        int colon = s.lastIndexOf(':');
        String host = colon >= 0 ? s.substring(0, colon) : s;
        int port = colon >= 0 ? Integer.parseInt(s.substring(colon + 1)) : -1;
        int defaultPort = "https".equals(u.scheme()) || "grpcs".equals(u.scheme()) ? 443 : 80;
        watch(key, host, port, defaultPort, 1, 0, false, listener);
    }

    /**
     * @param defaultPort the port when {@code port} is -1 and DNS gives none (A/AAAA answers, SRV port 0)
     * @param hostMode    a node host: A/AAAA only, /etc/hosts first in the system mode
     */
    public void watch(String key, String name, int port, int defaultPort, int weight, int priority, boolean hostMode,
                      DnsListener listener) {
        if (port != -1 && (port < 1 || port > 65535) || defaultPort < 1 || defaultPort > 65535 || weight < 0) {
            throw new IllegalArgumentException("bad watch of " + name + ": port " + port + ", default port "
                    + defaultPort + ", weight " + weight);
        }
        Watch w = new Watch(key, normalize(name), port, defaultPort, weight, priority, hostMode, listener);
        loop.execute(() -> addWatch(w));
    }

    public void unwatch(String key) {
        loop.execute(() -> removeWatch(key));
    }

    /** The last good node set of {@code name} (as given to its first watcher), null if never resolved. */
    public List<ResolvedNode> current(String name) {
        return current.get(normalize(name));
    }

    /**
     * Re-resolves {@code nameOrNull} (null: every watched name) now, calls the listeners with the changes, and
     * completes after their futures did, with what changed. Fails with {@link UnknownNameException} for a name nobody
     * watches.
     */
    public CompletableFuture<RefreshResult> refresh(String nameOrNull) {
        CompletableFuture<RefreshResult> out = new CompletableFuture<>();
        try {
            loop.execute(() -> refresh0(nameOrNull == null ? null : normalize(nameOrNull), out));
        } catch (RuntimeException e) {
            out.completeExceptionally(e); // closed
        }
        return out;
    }

    /** Names, nodes, TTLs, next refresh, last error and counters (the control API's dump). */
    public ObjectNode status() {
        if (loop.inEventLoop()) {
            return status0();
        }
        try {
            return loop.submit(this::status0).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("dns status: " + e, e);
        }
    }

    /** {@link #status()} without blocking the caller: completes on {@code turnpike-dns}. */
    public CompletableFuture<ObjectNode> statusAsync() {
        CompletableFuture<ObjectNode> out = new CompletableFuture<>();
        try {
            loop.execute(() -> out.complete(status0()));
        } catch (RuntimeException e) {
            out.completeExceptionally(e);
        }
        return out;
    }

    /** Failed resolutions since start (every attempt, all names). */
    public long failures() {
        return failures.get();
    }

    @Override
    public void close() {
        if (!group.isShuttingDown()) {
            try {
                loop.submit(() -> {
                    closed = true;
                    for (Name n : names.values()) {
                        n.cancelTimer();
                    }
                    if (resolver != null) {
                        resolver.close();
                    }
                }).await(3, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        }
    }

    private static String normalize(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") && n.length() > 1 ? n.substring(0, n.length() - 1) : n;
    }

    // ------------------------------------------------------------------ state (turnpike-dns)

    private record Watch(String key, String name, int port, int defaultPort, int weight, int priority,
                         boolean hostMode, DnsListener listener) {
        String nameKey() {
            return (hostMode ? "host " : "service ") + name;
        }
    }

    /** One raw address of a resolution: an A/AAAA answer, or an SRV target's address. */
    private record Target(InetAddress address, String host, boolean srv, int srvPort, int srvWeight, int srvPriority,
                          int count) {
    }

    /** A successful resolution. */
    private record Answer(String type, List<Target> targets, long ttlSeconds, int lcm) {
    }

    /** What a resolution did. */
    private record Applied(String name, List<ResolvedNode> before, List<ResolvedNode> after, String error,
                           List<CompletableFuture<?>> listenerFutures) {
    }

    private final class Name {
        final String key;
        final String name;
        final boolean hostMode;
        final List<Watch> watchers = new ArrayList<>();
        final Map<String, List<ResolvedNode>> delivered = new HashMap<>(); // watch key -> last set given
        String lastType;
        Answer answer;
        String lastError;
        long errorSinceMs;
        long lastOkMs;
        long nextRefreshNanos;
        long resolutions;
        long failures;
        long changes;
        ScheduledFuture<?> timer;
        CompletableFuture<Applied> inFlight;
        CompletableFuture<Applied> next;

        Name(String key, String name, boolean hostMode) {
            this.key = key;
            this.name = name;
            this.hostMode = hostMode;
        }

        void cancelTimer() {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        }

        void schedule(long delayMs) {
            cancelTimer();
            if (closed) {
                return;
            }
            nextRefreshNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMs);
            timer = loop.schedule(() -> {
                timer = null;
                resolveNow(this);
            }, delayMs, TimeUnit.MILLISECONDS);
        }
    }

    private void addWatch(Watch w) {
        if (closed) {
            return;
        }
        if (watches.containsKey(w.key())) {
            removeWatch(w.key());
        }
        watches.put(w.key(), w);
        Name n = names.computeIfAbsent(w.nameKey(), k -> new Name(k, w.name(), w.hostMode()));
        n.watchers.add(w);
        if (n.answer != null) {
            deliver(n, w, nodes(n.answer, w));
        } else if (n.inFlight == null) {
            resolveNow(n);
        }
    }

    private void removeWatch(String key) {
        Watch w = watches.remove(key);
        if (w == null) {
            return;
        }
        Name n = names.get(w.nameKey());
        if (n == null) {
            return;
        }
        n.watchers.remove(w);
        n.delivered.remove(key);
        if (n.watchers.isEmpty()) {
            n.cancelTimer();
            names.remove(n.key);
        }
        publishCurrent(n.name);
    }

    /** Starts a resolution of {@code n}, or queues one after the running one; completes once it is applied. */
    private CompletableFuture<Applied> resolveNow(Name n) {
        if (n.inFlight != null) {
            if (n.next == null) {
                n.next = new CompletableFuture<>();
            }
            return n.next;
        }
        CompletableFuture<Applied> done = new CompletableFuture<>();
        start(n, done);
        return done;
    }

    private void start(Name n, CompletableFuture<Applied> done) {
        n.inFlight = done;
        n.cancelTimer();
        resolve(n).whenComplete((answer, err) -> {
            // resolution callbacks run on this loop (the resolver's)
            Applied a = apply(n, answer, err);
            n.inFlight = null;
            done.complete(a);
            if (n.next != null && names.get(n.key) == n && !closed) {
                CompletableFuture<Applied> nx = n.next;
                n.next = null;
                start(n, nx);
            } else if (n.next != null) {
                n.next.complete(a);
                n.next = null;
            }
        });
    }

    private Applied apply(Name n, Answer answer, Throwable err) {
        resolutions.incrementAndGet();
        n.resolutions++;
        List<ResolvedNode> before = n.watchers.isEmpty() ? List.of() : n.delivered.getOrDefault(
                n.watchers.get(0).key(), List.of());
        if (names.get(n.key) != n || closed) {
            return new Applied(n.name, before, before, null, List.of());
        }
        if (err != null || answer == null) {
            String why = err == null ? "empty answer" : describe(err);
            failures.incrementAndGet();
            n.failures++;
            if (n.lastError == null) {
                n.errorSinceMs = System.currentTimeMillis();
                log.println("turnpike: dns: " + n.name + ": resolution failed (" + why + "); " + (n.answer == null
                        ? "no node set yet" : "keeping the last good node set (" + before.size() + " nodes)")
                        + ", retrying every " + conf.errorRetryMs() + " ms");
                log.flush();
            }
            n.lastError = why;
            n.schedule(Math.min(conf.errorRetryMs(), conf.maxTtlMs()));
            return new Applied(n.name, before, before, why, List.of());
        }
        if (n.lastError != null) {
            log.println("turnpike: dns: " + n.name + ": resolves again (" + answer.targets().size() + " addresses, "
                    + answer.type() + ") after failing since " + java.time.Instant.ofEpochMilli(n.errorSinceMs)
                    + " (" + n.lastError + ")");
            log.flush();
        }
        n.lastError = null;
        n.lastOkMs = System.currentTimeMillis();
        n.lastType = answer.type();
        n.answer = answer;
        List<CompletableFuture<?>> futures = new ArrayList<>();
        for (Watch w : List.copyOf(n.watchers)) {
            CompletableFuture<?> f = deliver(n, w, nodes(answer, w));
            if (f != null) {
                futures.add(f);
            }
        }
        List<ResolvedNode> after = n.watchers.isEmpty() ? List.of() : n.delivered.getOrDefault(
                n.watchers.get(0).key(), List.of());
        long ttlMs = Math.max(conf.minTtlMs(), Math.min(conf.maxTtlMs(), answer.ttlSeconds() * 1000));
        n.schedule(ttlMs);
        return new Applied(n.name, before, after, null, futures);
    }

    /** Gives {@code nodes} to {@code w} when they differ from what it has; null when they do not. */
    private CompletableFuture<?> deliver(Name n, Watch w, List<ResolvedNode> nodes) {
        List<ResolvedNode> had = n.delivered.get(w.key());
        if (nodes.equals(had)) {
            return null;
        }
        n.delivered.put(w.key(), nodes);
        if (had != null) {
            n.changes++;
            changes.incrementAndGet();
        }
        if (!n.watchers.isEmpty() && n.watchers.get(0) == w) {
            publishCurrent(n.name);
        }
        try {
            CompletableFuture<?> f = w.listener().onNodes(w.name(), nodes);
            return f == null ? CompletableFuture.completedFuture(null) : f;
        } catch (RuntimeException e) {
            log.println("turnpike: dns: " + w.name() + ": listener of " + w.key() + " failed: " + e);
            log.flush();
            return CompletableFuture.failedFuture(e);
        }
    }

    /** {@link #current}: the first watcher's set of the first name entry (service before host). */
    private void publishCurrent(String name) {
        for (String prefix : new String[] {"service ", "host "}) {
            Name n = names.get(prefix + name);
            if (n != null && !n.watchers.isEmpty()) {
                List<ResolvedNode> s = n.delivered.get(n.watchers.get(0).key());
                if (s != null) {
                    current.put(name, s);
                    return;
                }
            }
        }
        current.remove(name);
    }

    /** APISIX's nodes for {@code w} from a resolution: port, weight and priority rules in {@link ResolvedNode}. */
    private static List<ResolvedNode> nodes(Answer a, Watch w) {
        List<ResolvedNode> out = new ArrayList<>(a.targets().size());
        Set<String> seen = new HashSet<>();
        for (Target t : a.targets()) {
            int port;
            int weight;
            int priority;
            if (t.srv()) {
                port = w.port() > 0 ? w.port() : t.srvPort() != 0 ? t.srvPort() : w.defaultPort();
                weight = Math.max(1, t.srvWeight()) * (a.lcm() / t.count());
                priority = -t.srvPriority();
            } else {
                port = w.port() > 0 ? w.port() : w.defaultPort();
                weight = w.weight();
                priority = w.priority();
            }
            ResolvedNode r = new ResolvedNode(new InetSocketAddress(t.address(), port), t.host(), weight, priority);
            if (seen.add(r.key() + "/" + weight + "/" + priority)) {
                out.add(r);
            }
        }
        out.sort(ORDER);
        return List.copyOf(out);
    }

    private void refresh0(String name, CompletableFuture<RefreshResult> out) {
        List<Name> targets = new ArrayList<>();
        for (Name n : names.values()) {
            if (name == null || n.name.equals(name)) {
                targets.add(n);
            }
        }
        if (name != null && targets.isEmpty()) {
            out.completeExceptionally(new UnknownNameException(name));
            return;
        }
        List<CompletableFuture<Applied>> all = new ArrayList<>();
        for (Name n : targets) {
            all.add(resolveNow(n));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenAccept(v -> {
            List<CompletableFuture<?>> listenerFutures = new ArrayList<>();
            for (CompletableFuture<Applied> f : all) {
                listenerFutures.addAll(f.join().listenerFutures());
            }
            CompletableFuture.allOf(listenerFutures.stream().map(f -> f.handle((x, e) -> e))
                    .toArray(CompletableFuture[]::new)).thenRun(() -> out.complete(result(all)));
        });
    }

    private static RefreshResult result(List<CompletableFuture<Applied>> all) {
        Map<String, RefreshResult.Change> changed = new LinkedHashMap<>();
        List<RefreshResult.NameError> errors = new ArrayList<>();
        for (CompletableFuture<Applied> f : all) {
            Applied a = f.join();
            if (a.error() != null) {
                errors.add(new RefreshResult.NameError(a.name(), a.error(), false));
                continue;
            }
            for (CompletableFuture<?> lf : a.listenerFutures()) {
                Throwable e = lf.handle((x, t) -> t).join();
                if (e != null) {
                    errors.add(new RefreshResult.NameError(a.name(), "new node set not applied on every loop: "
                            + describe(e), true));
                    break;
                }
            }
            Set<ResolvedNode> before = new LinkedHashSet<>(a.before());
            Set<ResolvedNode> after = new LinkedHashSet<>(a.after());
            List<ResolvedNode> added = a.after().stream().filter(x -> !before.contains(x)).toList();
            List<ResolvedNode> removed = a.before().stream().filter(x -> !after.contains(x)).toList();
            if (!added.isEmpty() || !removed.isEmpty()) {
                RefreshResult.Change prev = changed.get(a.name());
                if (prev == null) {
                    changed.put(a.name(), new RefreshResult.Change(a.name(), added, removed));
                }
            }
        }
        return new RefreshResult(List.copyOf(changed.values()), errors);
    }

    private ObjectNode status0() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode o = f.objectNode();
        o.put("servers", serversText);
        ArrayNode order = o.putArray("order");
        conf.order().forEach(order::add);
        o.put("min_ttl_ms", conf.minTtlMs()).put("max_ttl_ms", conf.maxTtlMs())
                .put("query_timeout_ms", conf.queryTimeoutMs()).put("error_retry_ms", conf.errorRetryMs());
        o.put("resolutions", resolutions.get()).put("failures", failures.get()).put("changes", changes.get());
        ArrayNode arr = o.putArray("names");
        long now = System.nanoTime();
        for (Name n : names.values()) {
            ObjectNode x = arr.addObject();
            x.put("name", n.name).put("kind", n.hostMode ? "node host" : "service_name");
            x.put("type", n.lastType);
            ArrayNode ws = x.putArray("watchers");
            for (Watch w : n.watchers) {
                ws.add(w.key());
            }
            List<ResolvedNode> nodes = n.watchers.isEmpty() ? null : n.delivered.get(n.watchers.get(0).key());
            RefreshResult.nodes(x.putArray("nodes"), nodes == null ? List.of() : nodes);
            if (n.answer != null) {
                x.put("ttl", n.answer.ttlSeconds());
            }
            if (n.timer != null) {
                x.put("next_refresh_in_ms", Math.max(0, TimeUnit.NANOSECONDS.toMillis(n.nextRefreshNanos - now)));
            }
            if (n.lastOkMs != 0) {
                x.put("last_ok", java.time.Instant.ofEpochMilli(n.lastOkMs).toString());
            }
            x.put("last_error", n.lastError);
            if (n.lastError != null) {
                x.put("failing_since", java.time.Instant.ofEpochMilli(n.errorSinceMs).toString());
            }
            x.put("resolutions", n.resolutions).put("failures", n.failures).put("changes", n.changes);
        }
        return o;
    }

    // ------------------------------------------------------------------ resolution (turnpike-dns)

    /** The types to try for {@code n}, in order. */
    private List<String> types(Name n) {
        List<String> out = new ArrayList<>();
        for (String t : conf.order()) {
            String x = t.equals("last") ? n.lastType : t;
            if (x == null || x.equals("CNAME") || out.contains(x) || n.hostMode && x.equals("SRV")) {
                continue;
            }
            out.add(x);
        }
        if (n.hostMode && !out.contains("A") && !out.contains("AAAA")) {
            out.add("A");
            out.add("AAAA");
        }
        return out;
    }

    /** Address types for SRV targets: A and AAAA in the configured order (A first by default). */
    private List<String> addressTypes() {
        List<String> out = new ArrayList<>();
        for (String t : conf.order()) {
            if ((t.equals("A") || t.equals("AAAA")) && !out.contains(t)) {
                out.add(t);
            }
        }
        if (out.isEmpty()) {
            out.add("A");
            out.add("AAAA");
        }
        return out;
    }

    /** A soft miss: NXDOMAIN, or no record of the type; the next type is tried. */
    private static final class Miss extends Exception {
        Miss(String m) {
            super(m, null, false, false);
        }
    }

    private CompletableFuture<Answer> resolve(Name n) {
        byte[] literal = io.netty.util.NetUtil.createByteArrayFromIpAddressString(n.name);
        if (literal != null) {
            // an IP address needs no lookup (a service_name "10.0.0.1:80", a node host given as an address)
            try {
                InetAddress a = InetAddress.getByAddress(n.name, literal);
                return CompletableFuture.completedFuture(new Answer("address", List.of(new Target(a, n.name, false,
                        0, 0, 0, 1)), conf.maxTtlMs() / 1000, 1));
            } catch (UnknownHostException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        if (n.hostMode) {
            List<InetAddress> fromHosts = hostsFile(n.name);
            if (fromHosts != null) {
                List<Target> ts = new ArrayList<>();
                for (InetAddress a : fromHosts) {
                    ts.add(new Target(a, n.name, false, 0, 0, 0, 1));
                }
                return CompletableFuture.completedFuture(new Answer("hosts", ts, conf.maxTtlMs() / 1000, 1));
            }
        }
        return tryTypes(n.name, types(n), 0, null);
    }

    private List<InetAddress> hostsFile(String name) {
        List<InetAddress> out = new ArrayList<>();
        InetAddress v4 = hosts.address(name, ResolvedAddressTypes.IPV4_ONLY);
        InetAddress v6 = hosts.address(name, ResolvedAddressTypes.IPV6_ONLY);
        if (v4 != null) {
            out.add(v4);
        }
        if (v6 != null && v4 == null) {
            out.add(v6);
        }
        return out.isEmpty() ? null : out;
    }

    private CompletableFuture<Answer> tryTypes(String name, List<String> types, int i, String misses) {
        if (i >= types.size()) {
            return CompletableFuture.failedFuture(new Miss(misses == null ? "empty answer" : "empty answer ("
                    + misses + ")"));
        }
        String type = types.get(i);
        CompletableFuture<Answer> f = type.equals("SRV") ? srv(name) : address(name, type)
                .thenApply(a -> new Answer(type, a.targets(), a.ttlSeconds(), 1));
        return f.handle((a, e) -> {
            if (e == null) {
                return CompletableFuture.completedFuture(a);
            }
            Throwable c = unwrap(e);
            if (c instanceof Miss) {
                String m = type + ": " + c.getMessage();
                return tryTypes(name, types, i + 1, misses == null ? m : misses + ", " + m);
            }
            return CompletableFuture.<Answer>failedFuture(c);
        }).thenCompose(x -> x);
    }

    /** A or AAAA records of {@code name}: non-empty, else a {@link Miss}. */
    private CompletableFuture<Answer> address(String name, String type) {
        DnsRecordType rt = type.equals("A") ? DnsRecordType.A : DnsRecordType.AAAA;
        return query(name, rt).thenApply(records -> {
            try {
                List<Target> ts = new ArrayList<>();
                long ttl = Long.MAX_VALUE;
                for (DnsRecord r : records) {
                    if (r.type() != rt || !(r instanceof DnsRawRecord raw)) {
                        continue;
                    }
                    ByteBuf c = raw.content();
                    int len = rt == DnsRecordType.A ? 4 : 16;
                    if (c.readableBytes() != len) {
                        throw new IllegalStateException("malformed " + type + " record (" + c.readableBytes()
                                + " bytes)");
                    }
                    byte[] bytes = new byte[len];
                    c.getBytes(c.readerIndex(), bytes);
                    InetAddress a;
                    try {
                        a = InetAddress.getByAddress(name, bytes);
                    } catch (UnknownHostException e) {
                        throw new IllegalStateException(e);
                    }
                    if (rt == DnsRecordType.A ? !(a instanceof Inet4Address) : !(a instanceof Inet6Address)) {
                        continue;
                    }
                    ts.add(new Target(a, name, false, 0, 0, 0, 1));
                    ttl = Math.min(ttl, r.timeToLive());
                }
                if (ts.isEmpty()) {
                    throw new MissException("no " + type + " record");
                }
                return new Answer(type, ts, ttl, 1);
            } finally {
                release(records);
            }
        });
    }

    /** Unchecked carrier of a {@link Miss} through {@code thenApply}. */
    private static final class MissException extends RuntimeException {
        MissException(String m) {
            super(m, null, false, false);
        }
    }

    private record Srv(int priority, int weight, int port, String target) {
    }

    private CompletableFuture<Answer> srv(String name) {
        return query(name, DnsRecordType.SRV).thenCompose(records -> {
            List<Srv> srvs = new ArrayList<>();
            long ttl = Long.MAX_VALUE;
            try {
                for (DnsRecord r : records) {
                    if (r.type() != DnsRecordType.SRV || !(r instanceof DnsRawRecord raw)) {
                        continue;
                    }
                    ByteBuf c = raw.content().duplicate();
                    if (c.readableBytes() < 7) {
                        throw new IllegalStateException("malformed SRV record (" + c.readableBytes() + " bytes)");
                    }
                    int priority = c.readUnsignedShort();
                    int weight = c.readUnsignedShort();
                    int port = c.readUnsignedShort();
                    String target = normalize(DefaultDnsRecordDecoder.decodeName(c));
                    srvs.add(new Srv(priority, weight, port, target));
                    ttl = Math.min(ttl, r.timeToLive());
                }
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(new IllegalStateException("malformed SRV answer: "
                        + describe(e), e));
            } finally {
                release(records);
            }
            if (srvs.isEmpty()) {
                return CompletableFuture.failedFuture(new Miss("no SRV record"));
            }
            long srvTtl = ttl;
            List<String> types = addressTypes();
            List<CompletableFuture<Answer>> targets = new ArrayList<>();
            for (Srv s : srvs) {
                targets.add(tryTypes(s.target(), types, 0, null).handle((a, e) -> {
                    if (e != null) {
                        // APISIX: a target that does not resolve fails the whole SRV resolution
                        throw new IllegalStateException("failed to resolve SRV target " + s.target() + ": "
                                + describe(e));
                    }
                    return a;
                }));
            }
            return CompletableFuture.allOf(targets.toArray(CompletableFuture[]::new)).thenApply(v -> {
                List<Target> ts = new ArrayList<>();
                long t = srvTtl;
                int lcm = 1;
                for (int i = 0; i < srvs.size(); i++) {
                    Srv s = srvs.get(i);
                    Answer a = targets.get(i).join();
                    t = Math.min(t, a.ttlSeconds());
                    int count = a.targets().size();
                    lcm = lcm(lcm, count);
                    for (Target x : a.targets()) {
                        ts.add(new Target(x.address(), s.target(), true, s.port(), s.weight(), s.priority(), count));
                    }
                }
                return new Answer("SRV", ts, t, lcm);
            });
        });
    }

    private static int lcm(int a, int b) {
        int x = a;
        int y = b;
        while (y != 0) {
            int r = x % y;
            x = y;
            y = r;
        }
        long l = (long) a / x * b;
        return l > 1_000_000 ? a : (int) l; // absurd address counts: keep weights bounded, ratios roughly kept
    }

    /** One question through the resolver (CNAMEs followed, every server tried); soft misses become {@link Miss}. */
    private CompletableFuture<List<DnsRecord>> query(String name, DnsRecordType type) {
        CompletableFuture<List<DnsRecord>> out = new CompletableFuture<>();
        if (resolver == null) {
            try {
                resolver = resolverBuilder.build();
                resolverBuilder = null;
            } catch (RuntimeException e) {
                out.completeExceptionally(e); // a failed resolution like any other; the next question tries again
                return out;
            }
        }
        resolver.resolveAll(new DefaultDnsQuestion(name, type)).addListener(f -> {
            if (f.isSuccess()) {
                @SuppressWarnings("unchecked")
                List<DnsRecord> records = (List<DnsRecord>) f.getNow();
                out.complete(records);
            } else {
                Throwable e = f.cause();
                out.completeExceptionally(soft(e) ? new Miss(missText(e)) : e);
            }
        });
        return out;
    }

    private static boolean soft(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DnsNameResolverTimeoutException) {
                return false;
            }
            if (t instanceof DnsErrorCauseException d) {
                return d.getCode() != null && d.getCode().intValue() == 3; // NXDOMAIN
            }
        }
        // no record of the type (NODATA): UnknownHostException without a cause
        return e instanceof UnknownHostException && e.getCause() == null;
    }

    private static String missText(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DnsErrorCauseException) {
                return "NXDOMAIN";
            }
        }
        return "no record";
    }

    private static void release(List<DnsRecord> records) {
        for (DnsRecord r : records) {
            ReferenceCountUtil.release(r);
        }
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof MissException) {
            return new Miss(t.getMessage());
        }
        return t;
    }

    /** A short reason: timeout, the server's response code, or the exception's message. */
    static String describe(Throwable e) {
        Throwable t = unwrap(e);
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof DnsNameResolverTimeoutException) {
                return "timeout: " + String.valueOf(c.getMessage()).replace(" (no stack trace available)", "");
            }
            if (c instanceof DnsErrorCauseException d) {
                return "server answered " + d.getCode();
            }
        }
        String m = t.getMessage();
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String cls = t.getClass().getSimpleName();
        return (m == null ? cls : m) + (root != t && root.getMessage() != null ? " (" + root.getMessage() + ")" : "");
    }

    // ------------------------------------------------------------------ resolv.conf

    /** The {@code search}/{@code domain} and {@code options ndots:N} lines of a resolv.conf. */
    private record ResolvConf(List<String> search, int ndots) {
        static ResolvConf read(Path f) throws IOException {
            List<String> search = new ArrayList<>();
            int ndots = 1;
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                String[] w = line.trim().split("\\s+");
                if (w.length < 2 || w[0].startsWith("#") || w[0].startsWith(";")) {
                    continue;
                }
                switch (w[0]) {
                    case "search", "domain" -> {
                        search.clear();
                        for (int i = 1; i < w.length; i++) {
                            search.add(w[i]);
                        }
                    }
                    case "options" -> {
                        for (int i = 1; i < w.length; i++) {
                            if (w[i].startsWith("ndots:")) {
                                try {
                                    ndots = Math.min(15, Integer.parseInt(w[i].substring(6)));
                                } catch (NumberFormatException ignored) {
                                    // resolv.conf(5): a bad option is ignored
                                }
                            }
                        }
                    }
                    default -> {
                    }
                }
            }
            return new ResolvConf(search, ndots);
        }
    }
}
