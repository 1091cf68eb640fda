package io.turnpike.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.RawResource;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.Upstream;
import io.turnpike.engine.loop.EngineSettings;
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

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The cost of a plugin chain on the full proxied exchange, network excluded (as {@link ProxyPipelineBenchmark}: the
 * real connection, exchange and upstream connection on {@code EmbeddedChannel}s), with a baseline in the same class:
 * {@code none} is the route without plugins; {@code keyauth_rewrites} the same route with key-auth (consumer lookup
 * by the key's bytes), proxy-rewrite header edits and response-rewrite header edits; {@code jwt_hs256} with jwt-auth
 * (HS256) instead of key-auth. Compare the ops/s of the same run; {@code -prof gc} gives the bytes per exchange.
 */
@State(Scope.Thread)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {BenchJvm.ADD_EXPORTS, BenchJvm.EXPORTS_MISC, BenchJvm.NO_LEAK_DETECTION,
        BenchJvm.POOLED, BenchJvm.EXECUTOR, BenchJvm.EXECUTOR_CLASS})
public class PluginPipelineBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** HS256 over {"key":"bench"} with the secret "bench-secret-0123456789abcdef". */
    private static final String JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJrZXkiOiJiZW5jaCJ9."
            + "tr8sKfyuOqgWbXuiSzhT7Ry-fhgpS8FWaNrVk7oWI-w";

    @Param({"none", "keyauth_rewrites", "jwt_hs256"})
    public String plugins;

    private EmbeddedProxy proxy;
    private byte[] request;
    private byte[] response;
    private int expectedBytes;

    private ConfigSet config() throws Exception {
        Upstream u = Configs.upstream("u1");
        String p = switch (plugins) {
            case "none" -> "{}";
            case "keyauth_rewrites" -> "{\"key-auth\":{},"
                    + "\"proxy-rewrite\":{\"headers\":{\"set\":{\"X-Api-Version\":\"v2\"},\"remove\":[\"User-Agent\"]}},"
                    + "\"response-rewrite\":{\"headers\":{\"set\":{\"X-Served-By\":\"turnpike\"}}}}";
            case "jwt_hs256" -> "{\"jwt-auth\":{},"
                    + "\"proxy-rewrite\":{\"headers\":{\"set\":{\"X-Api-Version\":\"v2\"},\"remove\":[\"User-Agent\"]}},"
                    + "\"response-rewrite\":{\"headers\":{\"set\":{\"X-Served-By\":\"turnpike\"}}}}";
            default -> throw new IllegalArgumentException(plugins);
        };
        ObjectNode pluginConf = (ObjectNode) JSON.readTree(p);
        Route r = new Route("users", null, List.of("/api/v1/users/*"), List.of(), List.of(), 0, List.of(), null, u,
                null, null, null, pluginConf.isEmpty() ? null : pluginConf, null, false, 1, null);
        ObjectNode consumer = (ObjectNode) JSON.readTree("{\"username\":\"bench\",\"plugins\":{"
                + "\"key-auth\":{\"key\":\"bench-key-0123456789\"},"
                + "\"jwt-auth\":{\"key\":\"bench\",\"secret\":\"bench-secret-0123456789abcdef\"}}}");
        return new ConfigSet(1, Map.of("users", r), Map.of(), Map.of("u1", u),
                Map.of("consumers", Map.of("bench", new RawResource("bench", consumer))));
    }

    @Setup(Level.Trial)
    public void setup() throws Exception {
        String head = "GET /api/v1/users/42 HTTP/1.1\r\n"
                + "Host: api.example.com\r\n"
                + "User-Agent: curl/8.5.0\r\n"
                + "Accept: */*\r\n"
                + (plugins.equals("jwt_hs256") ? "Authorization: Bearer " + JWT + "\r\n"
                : "apikey: bench-key-0123456789\r\n")
                + "\r\n";
        request = Bytes.ascii(head);
        response = Bytes.ascii(Messages.responseHead(100) + Messages.jsonBody(100));
        proxy = new EmbeddedProxy(config(), EngineSettings.defaults(),
                io.netty.util.concurrent.Ticker.newMockTicker()); // no harness clock reads: EmbeddedProxy
        proxy.clientWrites(Bytes.pooledDirect(request));
        String forwarded = Bytes.outboundText(proxy.upstream());
        proxy.upstreamWrites(Bytes.pooledDirect(response));
        String relayed = Bytes.outboundText(proxy.downstream());
        if (!relayed.startsWith("HTTP/1.1 200")) {
            throw new IllegalStateException("not proxied: " + relayed);
        }
        if (!plugins.equals("none") && (!forwarded.contains("X-Api-Version: v2") || forwarded.contains("User-Agent")
                || !relayed.contains("X-Served-By: turnpike"))) {
            throw new IllegalStateException("the chain did not run:\n" + forwarded + "\n" + relayed);
        }
        expectedBytes = forwarded.length() + relayed.length();
        for (int i = 0; i < 10_000; i++) {
            int n = exchange();
            if (n != expectedBytes) {
                throw new IllegalStateException("exchange " + i + " moved " + n + " bytes, expected " + expectedBytes);
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        LoopCounters c = proxy.loop().counters;
        boolean ok = c.get(LoopCounters.REQUESTS) == c.get(LoopCounters.RESPONSES)
                && c.get(LoopCounters.PLUGIN_REPLIES) == 0;
        proxy.close();
        if (!ok) {
            throw new IllegalStateException("proxy went off the expected path");
        }
    }

    private int exchange() {
        proxy.clientWrites(Bytes.pooledDirect(request));
        int up = Bytes.drainOutbound(proxy.upstream());
        proxy.upstreamWrites(Bytes.pooledDirect(response));
        return up + Bytes.drainOutbound(proxy.downstream());
    }

    /** ops/s: the one-core upper bound (network excluded), with and without the chain, same run. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public int proxyThroughput() {
        return exchange();
    }
}
