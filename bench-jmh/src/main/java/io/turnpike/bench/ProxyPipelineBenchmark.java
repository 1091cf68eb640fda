package io.turnpike.bench;

import io.netty.buffer.ByteBuf;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.Upstream;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.metrics.GatewayError;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.proxy.EmbeddedProxy;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One full proxied exchange through the gateway's own code, <b>with the network excluded</b>: the real
 * {@code Http1ServerConnection} and a pooled keep-alive {@code UpstreamConnection} on two {@code EmbeddedChannel}s
 * ({@link EmbeddedProxy}). Per op: the client's request arrives in a pooled direct buffer, is parsed, routed and
 * forwarded (head rewritten with the X-Forwarded-* set, body streamed as slices); the forwarded bytes are read from the
 * upstream channel and released; the upstream's response arrives in a pooled direct buffer, is parsed and relayed; the
 * relayed bytes are read from the downstream channel and released.
 *
 * <p>No syscalls, no socket buffers, no epoll, no TLS, no timer ticks and no second thread are in this number, and the
 * EmbeddedChannel's own bookkeeping is. So {@code proxyThroughput} (ops/s) is the <b>upper bound of one core</b> for
 * Turnpike's per-request code, the "a million requests per second per core" check: a real core also pays for the
 * kernel's TCP work (read/write/epoll for two sockets), which usually costs more than this. The live figure is CPU per
 * request in {@code scripts/bench.sh}. {@code gc.alloc.rate.norm} ({@code -prof gc}) is the bytes allocated per proxied
 * request; the design target is 0. The benchmark thread is a {@code FastThreadLocalThread}, as an event loop is
 * ({@link EventLoopThreads}): on a plain thread Netty 4.2 recycles nothing and ~700 B/op of pooled-buffer wrappers
 * would be counted that the gateway never allocates.
 *
 * <p>{@code exchange}: {@code get} a curl-like GET (93 B) answered by a 100-byte JSON body (286 B in all);
 * {@code post1k} a JSON POST with a 1 KiB body (1186 B in all), answered the same way.
 */
@State(Scope.Thread)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {BenchJvm.ADD_EXPORTS, BenchJvm.EXPORTS_MISC, BenchJvm.NO_LEAK_DETECTION,
        BenchJvm.POOLED, BenchJvm.EXECUTOR, BenchJvm.EXECUTOR_CLASS})
public class ProxyPipelineBenchmark {
    @Param({"get", "post1k"})
    public String exchange;

    private EmbeddedProxy proxy;
    private byte[] request;
    private byte[] response;
    private int expectedBytes;

    private static final String POST_1K_HEAD = "POST /api/v1/orders HTTP/1.1\r\n"
            + "Host: api.example.com\r\n"
            + "User-Agent: okhttp/4.12.0\r\n"
            + "Accept: application/json\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: 1024\r\n"
            + "\r\n";

    /** What the proxy adds to every forwarded head on an EmbeddedChannel (no InetSocketAddress: "unknown", port 0). */
    private static final String PROXY_HEADERS = "X-Forwarded-For: unknown\r\n"
            + "X-Real-IP: unknown\r\n"
            + "X-Forwarded-Proto: http\r\n"
            + "X-Forwarded-Host: api.example.com\r\n"
            + "X-Forwarded-Port: 0\r\n"
            + "\r\n";

    static ConfigSet config() {
        Upstream u = Configs.upstream("u1");
        Map<String, Route> routes = new LinkedHashMap<>();
        routes.put("users", Configs.route("users", List.of("/api/v1/users/*"), List.of(), u));
        routes.put("orders", Configs.route("orders", List.of("/api/v1/orders"), List.of("api.example.com"), u));
        routes.put("health", Configs.route("health", List.of("/healthz"), List.of(), u));
        return new ConfigSet(1, routes, Map.of(), Map.of("u1", u), Map.of());
    }

    @Setup(Level.Trial)
    public void setup() {
        String head;
        String body;
        switch (exchange) {
            case "get" -> {
                head = Messages.SMALL_GET;
                body = "";
            }
            case "post1k" -> {
                head = POST_1K_HEAD;
                body = Messages.jsonBody(1024);
            }
            default -> throw new IllegalArgumentException(exchange);
        }
        request = Bytes.ascii(head + body);
        String resp = Messages.responseHead(100) + Messages.jsonBody(100);
        response = Bytes.ascii(resp);
        String forwarded = head.substring(0, head.length() - 2) + PROXY_HEADERS + body;

        proxy = new EmbeddedProxy(config(), EngineSettings.defaults(),
                io.netty.util.concurrent.Ticker.newMockTicker()); // no harness clock reads: EmbeddedProxy

        // One checked exchange, byte for byte, then the cheap byte-count check for the rest of the warm-up.
        proxy.clientWrites(Bytes.pooledDirect(request));
        check("forwarded request", forwarded, Bytes.outboundText(proxy.upstream()));
        proxy.upstreamWrites(Bytes.pooledDirect(response));
        check("relayed response", resp, Bytes.outboundText(proxy.downstream()));
        expectedBytes = forwarded.length() + resp.length();
        for (int i = 0; i < 10_000; i++) {
            int n = exchange();
            if (n != expectedBytes) {
                throw new IllegalStateException("exchange " + i + " moved " + n + " bytes, expected " + expectedBytes);
            }
        }
    }

    private static void check(String what, String expected, String actual) {
        if (!expected.equals(actual)) {
            throw new IllegalStateException(what + " differs.\n--- expected\n" + expected + "\n--- actual\n" + actual);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        LoopCounters c = proxy.loop().counters;
        long requests = c.get(LoopCounters.REQUESTS);
        long errors = 0;
        for (GatewayError e : GatewayError.values()) {
            errors += c.get(LoopCounters.ERROR_BASE + e.ordinal());
        }
        boolean ok = requests == c.get(LoopCounters.RESPONSES)
                && requests == c.get(LoopCounters.UPSTREAM_CONNECTIONS_REUSED)
                && errors == 0
                && proxy.upstream().isActive() && proxy.downstream().isActive()
                && proxy.upstream().outboundMessages().isEmpty() && proxy.downstream().outboundMessages().isEmpty();
        proxy.close();
        if (!ok) {
            throw new IllegalStateException("proxy went off the expected path: requests " + requests + ", responses "
                    + c.get(LoopCounters.RESPONSES) + ", reused upstream " + c.get(LoopCounters.UPSTREAM_CONNECTIONS_REUSED)
                    + ", gateway errors " + errors);
        }
    }

    /** One request in, forwarded out, one response in, relayed out; returns the bytes that came out. */
    private int exchange() {
        proxy.clientWrites(Bytes.pooledDirect(request));
        int up = Bytes.drainOutbound(proxy.upstream());
        proxy.upstreamWrites(Bytes.pooledDirect(response));
        return up + Bytes.drainOutbound(proxy.downstream());
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public int proxy() {
        return exchange();
    }

    /** The same op; ops/s is the one-core upper bound (network excluded). */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public int proxyThroughput() {
        return exchange();
    }
}
