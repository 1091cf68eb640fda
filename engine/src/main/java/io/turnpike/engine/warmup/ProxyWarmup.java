package io.turnpike.engine.warmup;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.Route;
import io.turnpike.config.model.Upstream;
import io.turnpike.config.model.UpstreamNode;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.proxy.EmbeddedProxy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The built-in JIT warm-up of {@code turnpike start} (docs/startup.md): the data plane's own per-request code (the
 * request and response parsers, the router, {@code Exchange}, the head writers, {@code UpstreamConnection}, the pooled
 * buffers) runs a few thousand proxied exchanges through an {@link EmbeddedProxy} (no sockets) on its own thread,
 * {@code turnpike-warmup}, while the process loads its configuration and binds its listeners. The JIT then compiles
 * the hot path before the first client request instead of during the first seconds of traffic, when the compiler
 * threads would take CPU from the event loops on their cores.
 *
 * <p>The thread runs at the control plane's priority ({@code ControlPlaneThreads}: nice +4 under the launcher), so that
 * it yields a shared core to the event loops once traffic arrives. It touches nothing the gateway serves with: its own {@code LoopContext}, a synthetic one-route configuration
 * and embedded channels, all dropped when it ends. It stops after {@code exchanges} exchanges or {@code maxMillis},
 * whichever comes first; a failure is reported on stderr and does not stop the start.
 *
 * <p>Off by default: on the 2-core development VM, quiet, it did not bring the settled second forward (CPU per
 * request within 10 % of steady from second 8 and 9 after launch with it, 7 and 7 without, interleaved starts; its own
 * CPU counts in the process's, and its compilations queue ahead of the loop's). It is there for hosts with idle cores
 * to try ({@code TURNPIKE_WARMUP_EXCHANGES=30000}) and measure with {@code scripts/bench.sh --warmup-curve}.
 */
public final class ProxyWarmup {
    /**
     * Exchanges to ask for when it is turned on: above C2's compile thresholds for every method on the path, ~0.3 s
     * once compiled.
     */
    public static final int SUGGESTED_EXCHANGES = 30_000;
    private static final long DEFAULT_MAX_MILLIS = 10_000;

    private ProxyWarmup() {
    }

    private static final String GET = "GET /api/v1/users/42?fields=name HTTP/1.1\r\n"
            + "Host: api.example.com\r\n"
            + "User-Agent: curl/8.5.0\r\n"
            + "Accept: */*\r\n"
            + "\r\n";
    private static final String POST_HEAD = "POST /api/v1/orders HTTP/1.1\r\n"
            + "Host: api.example.com\r\n"
            + "User-Agent: okhttp/4.12.0\r\n"
            + "Accept: application/json\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: 512\r\n"
            + "\r\n";
    private static final String RESPONSE_BODY = "{\"id\":42,\"name\":\"warm-up\",\"items\":[1,2,3,4,5,6,7,8]}";
    private static final String RESPONSE = "HTTP/1.1 200 OK\r\n"
            + "Server: nginx\r\n"
            + "Date: Mon, 07 Dec 2026 00:00:00 GMT\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: " + RESPONSE_BODY.length() + "\r\n"
            + "Connection: keep-alive\r\n"
            + "\r\n" + RESPONSE_BODY;
    private static final String CHUNKED_RESPONSE = "HTTP/1.1 200 OK\r\n"
            + "Content-Type: text/plain\r\n"
            + "Transfer-Encoding: chunked\r\n"
            + "\r\n"
            + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";

    /**
     * Starts the warm-up thread with the exchange count of {@code TURNPIKE_WARMUP_EXCHANGES} (unset or 0: off, then
     * null is returned; {@value #SUGGESTED_EXCHANGES} is the count to try).
     */
    public static Thread startFromEnvironment(EngineSettings settings, java.io.PrintStream err) {
        String v = System.getenv("TURNPIKE_WARMUP_EXCHANGES");
        int exchanges = 0;
        if (v != null && !v.isBlank()) {
            try {
                exchanges = Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("TURNPIKE_WARMUP_EXCHANGES: expected a whole number, got '" + v + "'");
            }
            if (exchanges < 0) {
                throw new IllegalArgumentException("TURNPIKE_WARMUP_EXCHANGES: must be 0 (off) or more, got " + v);
            }
        }
        return exchanges == 0 ? null : start(settings, exchanges, DEFAULT_MAX_MILLIS, err);
    }

    /** Starts the warm-up on a daemon {@code turnpike-warmup} thread (a FastThreadLocalThread, as a loop is). */
    public static Thread start(EngineSettings settings, int exchanges, long maxMillis, java.io.PrintStream err) {
        Thread t = new FastThreadLocalThread(() -> {
            try {
                run(settings, exchanges, maxMillis);
            } catch (RuntimeException | Error e) {
                err.println("turnpike: warm-up stopped early (the start goes on): " + e);
            }
        }, "turnpike-warmup");
        t.setDaemon(true);
        // The control plane's priority: it yields a shared core to the event loops once traffic arrives.
        io.turnpike.config.threads.ControlPlaneThreads.lower(t);
        t.start();
        return t;
    }

    /** Runs the exchanges on the calling thread; returns how many ran. */
    public static int run(EngineSettings settings, int exchanges, long maxMillis) {
        byte[] get = GET.getBytes(StandardCharsets.US_ASCII);
        byte[] post = (POST_HEAD + "x".repeat(512)).getBytes(StandardCharsets.US_ASCII);
        byte[] response = RESPONSE.getBytes(StandardCharsets.US_ASCII);
        byte[] chunked = CHUNKED_RESPONSE.getBytes(StandardCharsets.US_ASCII);
        int done = 0;
        try (EmbeddedProxy proxy = new EmbeddedProxy(config(), settings)) {
            long deadline = System.nanoTime() + maxMillis * 1_000_000L;
            for (; done < exchanges; done++) {
                if ((done & 255) == 255 && System.nanoTime() > deadline) {
                    break;
                }
                proxy.clientWrites(direct(done % 4 == 3 ? post : get));
                drain(proxy.upstream());
                proxy.upstreamWrites(direct(done % 8 == 7 ? chunked : response));
                drain(proxy.downstream());
                if (!proxy.downstream().isActive() || !proxy.upstream().isActive()) {
                    throw new IllegalStateException("warm-up exchange " + done + " closed a connection");
                }
            }
        }
        return done;
    }

    private static ByteBuf direct(byte[] bytes) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
        b.writeBytes(bytes);
        return b;
    }

    private static void drain(io.netty.channel.embedded.EmbeddedChannel ch) {
        Object m;
        while ((m = ch.readOutbound()) != null) {
            io.netty.util.ReferenceCountUtil.release(m);
        }
    }

    private static ConfigSet config() {
        Upstream u = new Upstream("warmup", null, "roundrobin", List.of(new UpstreamNode("127.0.0.1", 9, 1, 0)), null,
                null, Upstream.DEFAULT_RETRIES, 0, null, "pass", null, "http", null, null, null, null, null);
        Route users = new Route("users", null, List.of("/api/v1/users/*"), List.of(), List.of(), 0, List.of(), null, u,
                null, null, null, null, null, false, 1, null);
        Route orders = new Route("orders", null, List.of("/api/v1/orders"), List.of("api.example.com"), List.of(), 0,
                List.of(), null, u, null, null, null, null, null, false, 1, null);
        return new ConfigSet(1, Map.of("users", users, "orders", orders), Map.of(), Map.of("warmup", u), Map.of());
    }
}
