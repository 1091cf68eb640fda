package io.turnpike.config.etcd;

import com.fasterxml.jackson.databind.JsonNode;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.DeleteResponse;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.PutResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.turnpike.config.process.EtcdConfig;
import io.turnpike.config.store.ConfigStore;
import io.turnpike.config.store.StoreException;
import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import io.turnpike.config.threads.ControlPlaneThreads;
import java.util.concurrent.TimeoutException;

/**
 * {@link ConfigStore} over etcd v3: the process's ONE jetcd {@link Client}, shared by the config-sync agent
 * ({@link EtcdConfigSource}: list and watch) and the Admin API (reads and CAS writes).
 *
 * <p>One TCP connection whatever the number of endpoints: the gRPC channel uses the {@code pick_first} policy, which
 * connects to the first reachable endpoint of {@code deployment.etcd.host} and moves to the next only when that one
 * fails (proved by {@code EtcdConnectionCountIT}, which counts this JVM's sockets in {@code /proc}).
 *
 * <p>Values and responses up to {@link #DEFAULT_MAX_INBOUND_MESSAGE_BYTES} (64 MiB) are accepted; gRPC's own default
 * is 4 MiB. The server must be started with a matching {@code --max-request-bytes} to accept large writes (its
 * default is 1.5 MiB).
 *
 * <p>Thread-safe; every call blocks up to {@code deployment.etcd.timeout} and must never run on an event loop.
 */
public final class EtcdConfigStore implements ConfigStore {

    /** Client inbound message limit: a list page or value up to 64 MiB loads. */
    public static final int DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 64 * 1024 * 1024;
    /** Keys per page of {@link #list}: bounds each response (and the memory of one gRPC message). */
    public static final int DEFAULT_LIST_PAGE_KEYS = 1000;

    private final EtcdConfig config;
    private final Client client;
    private final long timeoutMs;
    private final int pageKeys;
    private final int maxInboundMessageBytes;

    /** Opens the client (lazily connecting) with the default inbound limit. */
    public EtcdConfigStore(EtcdConfig config) {
        this(config, DEFAULT_MAX_INBOUND_MESSAGE_BYTES, DEFAULT_LIST_PAGE_KEYS);
    }

    public EtcdConfigStore(EtcdConfig config, int maxInboundMessageBytes, int listPageKeys) {
        this.config = Objects.requireNonNull(config, "config");
        if (config.hosts().isEmpty()) {
            throw new IllegalArgumentException("deployment.etcd.host: at least one endpoint is required");
        }
        if (listPageKeys < 1) {
            throw new IllegalArgumentException("listPageKeys must be >= 1");
        }
        this.timeoutMs = TimeUnit.SECONDS.toMillis(Math.max(1, config.timeoutSeconds()));
        this.pageKeys = listPageKeys;
        this.maxInboundMessageBytes = maxInboundMessageBytes;
        // The client's transport (one Vert.x event loop: one connection) and its executor run at the control-plane
        // priority: etcd traffic yields the core to the event loops (see ControlPlaneThreads). The transport is
        // lowered at the first call other than a paged list (lowerTransport): the start-up list, which nothing is
        // served before, reads its pages at the normal priority.
        this.vertx = io.vertx.core.Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(1)
                .setWorkerPoolSize(1).setInternalBlockingPoolSize(1));
        this.executor = java.util.concurrent.Executors.newCachedThreadPool(ControlPlaneThreads.factory("turnpike-etcd"));
        this.client = buildClient(config, maxInboundMessageBytes).vertx(vertx).executorService(executor).build();
    }

    private final io.vertx.core.Vertx vertx;
    private final java.util.concurrent.atomic.AtomicBoolean transportLowered =
            new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Moves the client's transport thread to the control-plane priority (once; lowering needs no privilege, raising
     * back would). Every call but {@link #list(String, long, PageSink)} does it first; the config-sync agent calls it
     * after its first delivery.
     */
    public void lowerTransport() {
        if (transportLowered.compareAndSet(false, true)) {
            vertx.runOnContext(v -> ControlPlaneThreads.lower(Thread.currentThread()));
        }
    }
    private final java.util.concurrent.ExecutorService executor;

    static ClientBuilder buildClient(EtcdConfig config, int maxInboundMessageBytes) {
        List<URI> endpoints = new ArrayList<>();
        boolean tls = false;
        for (String h : config.hosts()) {
            URI u = URI.create(h.contains("://") ? h : "http://" + h);
            tls |= "https".equalsIgnoreCase(u.getScheme());
            endpoints.add(u);
        }
        ClientBuilder b = Client.builder()
                .endpoints(endpoints)
                // One subchannel, one TCP connection: the first endpoint that answers, the next only on failure.
                .loadBalancerPolicy("pick_first")
                .maxInboundMessageSize(maxInboundMessageBytes)
                .connectTimeout(Duration.ofMillis(Math.min(5_000, TimeUnit.SECONDS.toMillis(
                        Math.max(1, config.timeoutSeconds())))))
                .keepaliveTime(Duration.ofSeconds(30))
                .keepaliveTimeout(Duration.ofSeconds(10))
                // Fail fast while etcd is unreachable: the agent retries with its own backoff and the Admin API
                // answers an error instead of hanging until the timeout.
                .waitForReady(false)
                .retryMaxAttempts(2)
                .retryDelay(100)
                .retryMaxDelay(1000);
        if (config.user() != null && !config.user().isEmpty()) {
            b.user(bytes(config.user())).password(bytes(config.password() == null ? "" : config.password()));
        }
        if (tls) {
            JsonNode t = config.tls();
            try {
                b.sslContext(ssl -> {
                    if (t != null && t.path("verify").isBoolean() && !t.path("verify").asBoolean()) {
                        ssl.trustManager(InsecureTrustManagerFactory.INSTANCE);
                    }
                    if (t != null && t.hasNonNull("cert") && t.hasNonNull("key")) {
                        ssl.keyManager(new File(t.get("cert").asText()), new File(t.get("key").asText()));
                    }
                });
            } catch (javax.net.ssl.SSLException e) {
                throw new IllegalArgumentException("deployment.etcd.tls: " + e.getMessage(), e);
            }
            if (t != null && t.hasNonNull("sni")) {
                b.authority(t.get("sni").asText());
            }
        }
        return b;
    }

    /** The one jetcd client of this process (the agent opens its watch on it). */
    public Client client() {
        return client;
    }

    public EtcdConfig config() {
        return config;
    }

    /** Per-request timeout ({@code deployment.etcd.timeout}). */
    public long timeoutMs() {
        return timeoutMs;
    }

    @Override
    public Entry get(String key) throws StoreException {
        lowerTransport();
        GetResponse r = await(client.getKVClient().get(bytes(key)), "get " + key);
        return r.getKvs().isEmpty() ? null : entry(r.getKvs().get(0));
    }

    @Override
    public Listing list(String prefix) throws StoreException {
        return list(prefix, 0);
    }

    /**
     * Lists {@code prefix} at {@code revision} (0 = the current one), {@link #DEFAULT_LIST_PAGE_KEYS} keys per
     * request, every page at the revision of the first so the result is one consistent cut.
     */
    public Listing list(String prefix, long revision) throws StoreException {
        lowerTransport();
        List<Entry> out = new ArrayList<>();
        long rev = list(prefix, revision, out::addAll);
        return new Listing(List.copyOf(out), rev);
    }

    /** Receives the pages of {@link #list(String, long, PageSink)}, in key order, on the listing thread. */
    @FunctionalInterface
    public interface PageSink {
        void accept(List<Entry> page) throws StoreException;
    }

    /**
     * Lists {@code prefix} at {@code revision} (0 = the current one) page by page, handing each page to {@code sink}
     * on the calling thread while the next page is already being read (one request ahead: etcd serves page n+1 while
     * the caller parses page n). Every page is at the revision of the first: one consistent cut. A failure of a later
     * page throws after earlier pages were handed over: the caller must treat the pages as one unit.
     *
     * @return the revision of the listing
     */
    public long list(String prefix, long revision, PageSink sink) throws StoreException {
        return list(prefix, revision, sink, false);
    }

    /**
     * Stands for a value larger than the inbound message limit in a list made with {@code tooLargeMarked}: the
     * entry keeps its key and revisions, its value is this empty array (compare by identity).
     */
    public static final byte[] VALUE_LARGER_THAN_MESSAGE_LIMIT = new byte[0];

    /** This client's inbound message limit, in bytes: no single value larger than it can be read. */
    public int maxInboundMessageBytes() {
        return maxInboundMessageBytes;
    }

    /**
     * {@link #list(String, long, PageSink)}; with {@code tooLargeMarked}, a single value larger than the inbound
     * message limit does not fail the list: its entry comes with {@link #VALUE_LARGER_THAN_MESSAGE_LIMIT} as its
     * value (the config-sync agent reports it and loads the rest).
     */
    public long list(String prefix, long revision, PageSink sink, boolean tooLargeMarked) throws StoreException {
        ByteSequence end = prefixEnd(bytes(prefix));
        long rev = revision;
        // Keys per page: a page whose values together exceed the inbound message limit (RESOURCE_EXHAUSTED: e.g. 50
        // values of 1.5 MiB in 1,000 keys) is asked for again with an eighth of the keys, down to one; each page that
        // loads doubles the size again, up to pageKeys. Only a single value above the limit cannot be read: it fails
        // the list, or, with tooLargeMarked, comes as a marked entry (its key and revisions read keys-only).
        int limit = pageKeys;
        ByteSequence from = bytes(prefix);
        CompletableFuture<GetResponse> next = client.getKVClient().get(from, pageOption(end, rev, limit));
        while (true) {
            GetResponse r;
            try {
                r = await(next, "list " + prefix);
            } catch (StoreException e) {
                if (!tooLarge(e)) {
                    throw e;
                }
                if (limit > 1) {
                    limit = Math.max(1, limit / 8);
                    next = client.getKVClient().get(from, pageOption(end, rev, limit));
                    continue;
                }
                GetResponse keys = firstKey(from, end, rev);
                KeyValue big = keys == null || keys.getKvs().isEmpty() ? null : keys.getKvs().get(0);
                String name = big == null ? "a key" : big.getKey().toString(StandardCharsets.UTF_8);
                if (!tooLargeMarked || big == null) {
                    throw new StoreException("etcd list " + prefix + ": the value of " + name
                            + " is larger than this client's inbound message limit of " + maxInboundMessageBytes
                            + " bytes, so the list cannot load it", e);
                }
                if (rev <= 0) {
                    rev = keys.getHeader().getRevision(); // the first page: the cut is taken here
                }
                sink.accept(List.of(new Entry(name, VALUE_LARGER_THAN_MESSAGE_LIMIT, big.getCreateRevision(),
                        big.getModRevision())));
                byte[] key = big.getKey().getBytes();
                from = ByteSequence.from(Arrays.copyOf(key, key.length + 1));
                next = client.getKVClient().get(from, pageOption(end, rev, limit));
                continue;
            }
            next = null;
            if (rev <= 0) {
                rev = r.getHeader().getRevision();
            }
            List<KeyValue> kvs = r.getKvs();
            if (r.isMore() && !kvs.isEmpty()) {
                // Next page starts just after the last key: key + "\0". Asked for now, read while this page is parsed.
                byte[] last = kvs.get(kvs.size() - 1).getKey().getBytes();
                from = ByteSequence.from(Arrays.copyOf(last, last.length + 1));
                limit = Math.min(pageKeys, limit * 2);
                next = client.getKVClient().get(from, pageOption(end, rev, limit));
            }
            List<Entry> page = new ArrayList<>(kvs.size());
            for (KeyValue kv : kvs) {
                page.add(entry(kv));
            }
            try {
                sink.accept(page);
            } catch (RuntimeException | StoreException e) {
                if (next != null) {
                    next.cancel(true);
                }
                throw e;
            }
            if (next == null) {
                return rev;
            }
        }
    }

    /**
     * Whether a call or a watch failed because an answer was larger than the inbound message limit: gRPC's
     * RESOURCE_EXHAUSTED, which jetcd hands over as a status or, for a watch, as its message only.
     */
    static boolean tooLarge(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            if (io.grpc.Status.fromThrowable(t).getCode() == io.grpc.Status.Code.RESOURCE_EXHAUSTED
                    || m.contains("RESOURCE_EXHAUSTED") || m.contains("message exceeds maximum size")) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** The first key in [from, end) at rev (keys and revisions only); null when that fails. */
    private GetResponse firstKey(ByteSequence from, ByteSequence end, long rev) {
        GetOption.Builder o = GetOption.builder().withRange(end).withLimit(1).withKeysOnly(true);
        if (rev > 0) {
            o.withRevision(rev);
        }
        try {
            return await(client.getKVClient().get(from, o.build()), "list keys");
        } catch (StoreException e) {
            return null;
        }
    }

    /**
     * One page: no sort option: etcd answers a range in key order already (its index is a B-tree on the key), and an
     * explicit sort (even ascending by key) makes etcd 3.4 read every key to the end of the range and sort before
     * applying the limit: O(n) per page, O(n^2) per list (50,000 keys: seconds).
     */
    private GetOption pageOption(ByteSequence end, long rev, int limit) {
        GetOption.Builder o = GetOption.builder().withRange(end).withLimit(limit);
        if (rev > 0) {
            o.withRevision(rev);
        }
        return o.build();
    }

    @Override
    public Entry put(String key, byte[] value) throws StoreException {
        lowerTransport();
        PutResponse r = await(client.getKVClient().put(bytes(key), ByteSequence.from(value),
                PutOption.builder().withPrevKV().build()), "put " + key);
        long rev = r.getHeader().getRevision();
        long created = r.hasPrevKv() ? r.getPrevKv().getCreateRevision() : rev;
        return new Entry(key, value, created, rev);
    }

    @Override
    public Entry putIf(String key, byte[] value, long expectedModRevision) throws StoreException {
        lowerTransport();
        ByteSequence k = bytes(key);
        TxnResponse r = await(client.getKVClient().txn()
                .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(expectedModRevision)))
                .Then(Op.put(k, ByteSequence.from(value), PutOption.builder().withPrevKV().build()))
                .commit(), "put " + key);
        if (!r.isSucceeded()) {
            return null;
        }
        long rev = r.getHeader().getRevision();
        PutResponse p = r.getPutResponses().isEmpty() ? null : r.getPutResponses().get(0);
        long created = p != null && p.hasPrevKv() ? p.getPrevKv().getCreateRevision() : rev;
        return new Entry(key, value, created, rev);
    }

    @Override
    public Entry delete(String key) throws StoreException {
        lowerTransport();
        DeleteResponse r = await(client.getKVClient().delete(bytes(key),
                DeleteOption.builder().withPrevKV(true).build()), "delete " + key);
        return r.getPrevKvs().isEmpty() ? null : entry(r.getPrevKvs().get(0));
    }

    @Override
    public boolean deleteIf(String key, long expectedModRevision) throws StoreException {
        lowerTransport();
        ByteSequence k = bytes(key);
        TxnResponse r = await(client.getKVClient().txn()
                .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(expectedModRevision)))
                .Then(Op.delete(k, DeleteOption.DEFAULT))
                .commit(), "delete " + key);
        return r.isSucceeded();
    }

    /** The store's current revision (a cheap count-only range on one key). */
    public long revision() throws StoreException {
        lowerTransport();
        return await(client.getKVClient().get(bytes("\0"), GetOption.builder().withCountOnly(true).build()),
                "revision").getHeader().getRevision();
    }

    /** Compacts history up to {@code revision} (operators and tests; the gateway never compacts on its own). */
    public void compact(long revision) throws StoreException {
        lowerTransport();
        await(client.getKVClient().compact(revision), "compact " + revision);
    }

    @Override
    public void close() {
        try {
            client.close();
        } finally {
            executor.shutdown();
            vertx.close();
        }
    }

    /** Waits for an etcd call, bounded by the configured timeout; maps failures to a {@link StoreException}. */
    <T> T await(CompletableFuture<T> f, String what) throws StoreException {
        try {
            return f.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new StoreException("etcd " + what + ": interrupted", e);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new StoreException("etcd " + what + ": no answer within " + timeoutMs + " ms from "
                    + config.hosts(), e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw new StoreException("etcd " + what + " failed (" + config.hosts() + "): " + c.getMessage(), c);
        }
    }

    static Entry entry(KeyValue kv) {
        return new Entry(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().getBytes(),
                kv.getCreateRevision(), kv.getModRevision());
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    /** The smallest key greater than every key with this prefix (etcd's range_end for a prefix). */
    static ByteSequence prefixEnd(ByteSequence prefix) {
        byte[] p = prefix.getBytes();
        for (int i = p.length - 1; i >= 0; i--) {
            if (p[i] != (byte) 0xff) {
                byte[] end = new byte[i + 1];
                System.arraycopy(p, 0, end, 0, i + 1);
                end[i]++;
                return ByteSequence.from(end);
            }
        }
        return ByteSequence.from(new byte[] {0}); // all keys
    }
}
