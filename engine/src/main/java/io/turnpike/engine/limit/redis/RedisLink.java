package io.turnpike.engine.limit.redis;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.turnpike.engine.limit.LimitClock;
import io.turnpike.engine.limit.RemotePolicy;
import org.jctools.queues.MpscArrayQueue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One Redis (or Redis Cluster) connection per {@link RemotePolicy} per process, shared by every limit naming that
 * policy, and its lease pump: a daemon thread that drains the queue of keys needing a lease (or giving quota back),
 * writes all their script calls, and flushes them once, pipelined, on Lettuce's own single I/O thread (never a
 * gateway event loop). Replies come back on that I/O thread, update the entries by compare-and-set and ask the pump to
 * run the waiting exchanges' wake tasks.
 *
 * <p>Threads: {@link #submit}, {@link #await}, {@link #up} are called on event loops (no lock, no allocation, no
 * blocking: bounded JCTools queues and {@link LockSupport#unpark}); everything else runs on the pump or Lettuce's
 * threads. A failure (Redis down, restarted, slower than {@code redis_timeout}) marks the link down for
 * {@link #RETRY_MS}: keys without quota then answer {@link io.turnpike.engine.limit.Decision#ERROR} at once (the plugin
 * applies {@code allow_degradation}); after it one request probes again, so the limiter recovers by itself once
 * Lettuce has reconnected.
 */
public final class RedisLink {
    /** How long a failure keeps a link down before a request probes it again. */
    static final long RETRY_MS = 200;
    static final int QUEUE_CAPACITY = 1 << 16;

    final RemotePolicy policy;
    final byte[] gatewayId;
    private final ClientResources resources;
    private final MpscArrayQueue<LeaseEntry> queue = new MpscArrayQueue<>(QUEUE_CAPACITY);
    private final MpscArrayQueue<Runnable> waiters = new MpscArrayQueue<>(QUEUE_CAPACITY);
    private final Thread pump;
    private volatile int wakeAll;
    private volatile boolean closed;
    private volatile long downUntilMs;
    private volatile boolean evalMode;
    /** The last failure, for /status. */
    private volatile String lastError;

    private AbstractRedisClient client;
    private volatile StatefulConnection<byte[], byte[]> connection;
    private volatile RedisScriptingAsyncCommands<byte[], byte[]> commands;

    // Counters for /status (monotonic).
    final AtomicLong scriptCalls = new AtomicLong();
    final AtomicLong leases = new AtomicLong();
    final AtomicLong granted = new AtomicLong();
    final AtomicLong denied = new AtomicLong();
    final AtomicLong givenBack = new AtomicLong();
    final AtomicLong failures = new AtomicLong();
    final AtomicLong timeouts = new AtomicLong();
    final AtomicLong waits = new AtomicLong();
    final AtomicLong degraded = new AtomicLong();
    final AtomicLong flushes = new AtomicLong();
    final AtomicLong connects = new AtomicLong();

    RedisLink(RemotePolicy policy, byte[] gatewayId, ClientResources resources, int n) {
        this.policy = policy;
        this.gatewayId = gatewayId;
        this.resources = resources;
        this.pump = new Thread(this::runPump, "turnpike-redis-lease-" + n);
        this.pump.setDaemon(true);
        this.pump.start();
    }

    /**
     * Whether lease requests may go out now: no failure in the last {@link #RETRY_MS} (before the first connection,
     * requests queue for it and wait; a failed connection attempt counts as a failure). Any thread.
     */
    boolean up(long nowMs) {
        return nowMs >= downUntilMs;
    }

    /** Queues {@code e} for the pump (once). False if the queue is full. Any thread, allocation-free. */
    boolean submit(LeaseEntry e) {
        if (e.markQueued()) {
            if (!queue.offer(e)) {
                e.unmarkQueued();
                return false;
            }
            LockSupport.unpark(pump);
        }
        return true;
    }

    /** Parks a waiting exchange's wake task until the next reply. False if too many wait. Event loop. */
    boolean await(Runnable wake) {
        if (!waiters.offer(wake)) {
            return false;
        }
        waits.incrementAndGet();
        return true;
    }

    /** Asks the pump to run every parked wake task (a reply arrived, or a loop saw one arrive). Any thread. */
    void wakeWaiters() {
        wakeAll = 1;
        LockSupport.unpark(pump);
    }

    /** Counts a decision left to allow_degradation. */
    void degraded() {
        degraded.incrementAndGet();
    }

    // ---- pump side ------------------------------------------------------------------------------------------------

    /** Sends one script call (pump thread, not flushed). */
    RedisFuture<List<Object>> call(String sha, String script, byte[][] keys, byte[]... args) {
        scriptCalls.incrementAndGet();
        RedisScriptingAsyncCommands<byte[], byte[]> c = commands;
        if (evalMode) {
            return c.eval(script, ScriptOutputType.MULTI, keys, args);
        }
        return c.evalsha(sha, ScriptOutputType.MULTI, keys, args);
    }

    /**
     * Books a failed call (Lettuce I/O thread). Returns true when the call should simply be sent again (the script was
     * not cached: Redis restarted or a cluster node is new; it is then sent with EVAL, which caches it).
     */
    boolean failed(Throwable t) {
        Throwable c = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        if (c instanceof RedisNoScriptException) {
            evalMode = true;
            return true;
        }
        failures.incrementAndGet();
        lastError = String.valueOf(c);
        if (c instanceof RedisCommandTimeoutException) {
            timeouts.incrementAndGet();
        }
        downUntilMs = LimitClock.nowMs() + RETRY_MS;
        return false;
    }

    /** Books a successful reply (Lettuce I/O thread). */
    void succeeded() {
        if (evalMode) {
            evalMode = false;
        }
    }

    private void runPump() {
        while (!closed) {
            if (commands == null && !connect()) {
                failQueued();
                LockSupport.parkNanos(this, RETRY_MS * 1_000_000L);
                continue;
            }
            boolean sent = false;
            LeaseEntry e;
            while ((e = queue.poll()) != null) {
                e.unmarkQueued();
                try {
                    e.owner.send(e, this);
                } catch (RuntimeException ex) {
                    // A command Lettuce refused synchronously: the entry's reply path was not armed.
                    failed(ex);
                    e.owner.fail(e, this);
                }
                sent = true;
            }
            if (sent) {
                connection.flushCommands();
                flushes.incrementAndGet();
            }
            if (wakeAll != 0) {
                wakeAll = 0;
                Runnable w;
                while ((w = waiters.poll()) != null) {
                    w.run();
                }
            }
            if (!sent && queue.isEmpty() && wakeAll == 0) {
                LockSupport.parkNanos(this, 100_000_000L);
            }
        }
    }

    /** While there is no connection: every queued entry fails (its waiters then answer ERROR). */
    private void failQueued() {
        LeaseEntry e;
        boolean any = false;
        while ((e = queue.poll()) != null) {
            e.unmarkQueued();
            e.owner.fail(e, this);
            any = true;
        }
        Runnable w;
        while ((w = waiters.poll()) != null) {
            w.run();
            any = true;
        }
        if (any) {
            downUntilMs = LimitClock.nowMs() + RETRY_MS;
        }
    }

    private boolean connect() {
        try {
            Duration timeout = Duration.ofMillis(Math.max(1, policy.timeoutMs()));
            SocketOptions socket = SocketOptions.builder().connectTimeout(Duration.ofMillis(Math.max(200,
                    policy.timeoutMs()))).keepAlive(true).tcpNoDelay(true).build();
            if (policy.cluster()) {
                List<RedisURI> seeds = new ArrayList<>();
                for (String n : policy.nodes()) {
                    seeds.add(uri(n));
                }
                RedisClusterClient c = client instanceof RedisClusterClient rc ? rc
                        : RedisClusterClient.create(resources, seeds);
                // Node connections open lazily: commands queue while one connects (bounded by the command
                // timeout, redis_timeout), instead of being rejected as on a standalone link.
                c.setOptions(ClusterClientOptions.builder()
                        .autoReconnect(true)
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                        .timeoutOptions(TimeoutOptions.enabled(timeout))
                        .socketOptions(socket)
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                                .enableAllAdaptiveRefreshTriggers().build())
                        .build());
                client = c;
                StatefulRedisClusterConnection<byte[], byte[]> conn = c.connect(ByteArrayCodec.INSTANCE);
                conn.setAutoFlushCommands(false);
                connection = conn;
                commands = conn.async();
            } else {
                RedisClient c = client instanceof RedisClient rc ? rc
                        : RedisClient.create(resources, uri(policy.nodes().get(0)));
                c.setOptions(ClientOptions.builder()
                        .autoReconnect(true)
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .timeoutOptions(TimeoutOptions.enabled(timeout))
                        .socketOptions(socket)
                        .build());
                client = c;
                StatefulRedisConnection<byte[], byte[]> conn = c.connect(ByteArrayCodec.INSTANCE);
                conn.setAutoFlushCommands(false);
                connection = conn;
                commands = conn.async();
            }
            connects.incrementAndGet();
            return true;
        } catch (RuntimeException e) {
            failures.incrementAndGet();
            lastError = String.valueOf(e);
            downUntilMs = LimitClock.nowMs() + RETRY_MS;
            return false;
        }
    }

    private RedisURI uri(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        String host = colon < 0 ? hostPort : hostPort.substring(0, colon);
        int port = colon < 0 ? 6379 : Integer.parseInt(hostPort.substring(colon + 1));
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        RedisURI.Builder b = RedisURI.builder().withHost(host).withPort(port)
                .withTimeout(Duration.ofMillis(Math.max(1, policy.timeoutMs())))
                .withSsl(policy.ssl()).withVerifyPeer(policy.ssl() && policy.sslVerify());
        if (policy.password() != null && !policy.password().isEmpty()) {
            if (policy.username() != null && !policy.username().isEmpty()) {
                b.withAuthentication(policy.username(), policy.password());
            } else {
                b.withPassword(policy.password().toCharArray());
            }
        }
        if (!policy.cluster() && policy.database() > 0) {
            b.withDatabase(policy.database());
        }
        return b.build();
    }

    /** Stops the pump and closes the connection (tests, process end). */
    void close() {
        closed = true;
        LockSupport.unpark(pump);
        try {
            pump.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        StatefulConnection<byte[], byte[]> c = connection;
        if (c != null) {
            c.close();
        }
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
    }

    String name() {
        return (policy.cluster() ? "redis-cluster:" : "redis:") + String.join(",", policy.nodes());
    }

    /** This link's figures as a JSON object (status thread). */
    String json() {
        StringBuilder b = new StringBuilder(256);
        b.append("{\"policy\":\"").append(policy.cluster() ? "redis-cluster" : "redis")
                .append("\",\"nodes\":\"").append(String.join(",", policy.nodes()).replace("\"", ""))
                .append(policy.clusterName() == null ? "" : "\",\"cluster_name\":\"" + policy.clusterName()
                        .replace("\\", "").replace("\"", ""))
                .append("\",\"connected\":").append(commands != null && connection.isOpen())
                .append(",\"up\":").append(up(LimitClock.nowMs()))
                .append(",\"script_calls\":").append(scriptCalls.get())
                .append(",\"flushes\":").append(flushes.get())
                .append(",\"leases\":").append(leases.get())
                .append(",\"granted\":").append(granted.get())
                .append(",\"denied\":").append(denied.get())
                .append(",\"given_back\":").append(givenBack.get())
                .append(",\"waits\":").append(waits.get())
                .append(",\"failures\":").append(failures.get())
                .append(",\"timeouts\":").append(timeouts.get())
                .append(",\"degraded\":").append(degraded.get());
        String err = lastError;
        if (err != null) {
            b.append(",\"last_error\":\"").append(err.replace("\\", "\\\\").replace("\"", "\\\"")
                    .replace('\n', ' ')).append('"');
        }
        b.append('}');
        return b.toString();
    }

    static byte[] ascii(long v) {
        return Long.toString(v).getBytes(StandardCharsets.US_ASCII);
    }
}
