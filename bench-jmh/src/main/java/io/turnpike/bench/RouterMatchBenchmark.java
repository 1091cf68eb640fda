package io.turnpike.bench;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.RequestHeadParser;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.router.MatchScratch;
import io.turnpike.engine.router.RouteTable;
import io.turnpike.engine.snapshot.SnapshotCompiler;
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

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@link RouteTable#match} on a parsed request head, for a table compiled by {@link SnapshotCompiler} from a generated
 * configuration of {@code routes} routes (a third exact paths, a third prefixes, a third exact paths with a Host; see
 * {@link Configs}).
 *
 * <p>The router (docs/router.md): hosts in a hash of reversed names, per host a URI tree (exact paths hashed, prefixes
 * and {@code :param} patterns in a compressed byte trie), a host-less fallback tree. Every case should be flat in the
 * route count; target: under 200 ns at 50,000 routes with zero allocation. {@code paramHit} matches
 * {@code /users/:id/profile}; {@code varsHit} a route guarded by a header condition. Matching goes through the
 * production entry point with a per-connection {@link MatchScratch}.
 *
 * <p>Baseline {@code stringHashMapExact}: the obvious approach for the exact hit, decoding the path to a String and
 * looking it up in a {@link HashMap}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {BenchJvm.ADD_EXPORTS, BenchJvm.EXPORTS_MISC, BenchJvm.NO_LEAK_DETECTION,
        BenchJvm.POOLED, BenchJvm.EXECUTOR, BenchJvm.EXECUTOR_CLASS})
public class RouterMatchBenchmark {
    @Param({"1000", "10000", "50000"})
    public int routes;

    private RouteTable table;
    private Parsed exact;
    private Parsed prefix;
    private Parsed host;
    private Parsed miss;
    private Parsed param;
    private Parsed vars;
    private final MatchScratch scratch = new MatchScratch();
    private Map<String, Object> byString;

    /** A request in a pooled direct buffer and its parsed head, as the router sees them. */
    static final class Parsed {
        final ByteBuf buf;
        final RequestHead head;

        Parsed(String request) {
            EngineSettings s = EngineSettings.defaults();
            buf = Bytes.pooledDirect(Bytes.ascii(request));
            head = new RequestHead(s.maxHeaders());
            RequestHeadParser p = new RequestHeadParser(s.maxRequestLineBytes(), s.maxHeaderBytes(), s.maxHeaders(),
                    true);
            if (p.parse(buf, head) <= 0) {
                throw new IllegalStateException("cannot parse " + request + ": " + head.error);
            }
        }
    }

    private static String get(String path, String hostName) {
        return "GET " + path + " HTTP/1.1\r\nHost: " + hostName + "\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";
    }

    /** The route index in the middle of the table with {@code i % 3 == kind}. */
    private int middle(int kind) {
        int m = routes / 2;
        return m - m % Configs.KINDS + kind;
    }

    @Setup(Level.Trial)
    public void setup() {
        ArrayList<String> warnings = new ArrayList<>();
        table = new SnapshotCompiler(EngineSettings.defaults()).compile(Configs.routesWithParamAndVars(routes), warnings)
                .routes;
        if (!warnings.isEmpty() || table.size() != routes + 2) {
            throw new IllegalStateException("compiled " + table.size() + " routes, warnings " + warnings);
        }
        int e = middle(0);
        int p = middle(1);
        int h = middle(2);
        exact = new Parsed(get(Configs.exactPath(e), "api.example.com"));
        prefix = new Parsed(get(Configs.prefix(p) + "orders/42?expand=items", "api.example.com"));
        host = new Parsed(get(Configs.hostPath(h), Configs.host(h) + ":8080"));
        miss = new Parsed(get("/nowhere/at/all", "api.example.com"));
        param = new Parsed(get("/users/12345/profile", "api.example.com"));
        vars = new Parsed("GET /canary/check HTTP/1.1\r\nHost: api.example.com\r\nX-Canary: yes\r\n\r\n");
        expect(paramHit(), "param");
        expect(varsHit(), "vars");
        expect(exactHit(), "r" + e);
        expect(prefixHit(), "r" + p);
        expect(hostHit(), "r" + h);
        if (miss() != null) {
            throw new IllegalStateException("miss matched " + miss().id);
        }
        byString = new HashMap<>();
        for (int i = 0; i < routes; i += Configs.KINDS) {
            byString.put(Configs.exactPath(i), "r" + i);
        }
        if (!("r" + e).equals(stringHashMapExact())) {
            throw new IllegalStateException("baseline lookup failed");
        }
    }

    private static void expect(CompiledRoute r, String id) {
        if (r == null || !r.id.equals(id)) {
            throw new IllegalStateException("expected route " + id + ", matched " + (r == null ? null : r.id));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        exact.buf.release();
        prefix.buf.release();
        host.buf.release();
        miss.buf.release();
        param.buf.release();
        vars.buf.release();
    }

    @Benchmark
    public CompiledRoute exactHit() {
        return table.match(exact.buf, exact.head, scratch);
    }

    @Benchmark
    public CompiledRoute hostHit() {
        return table.match(host.buf, host.head, scratch);
    }

    @Benchmark
    public CompiledRoute prefixHit() {
        return table.match(prefix.buf, prefix.head, scratch);
    }

    @Benchmark
    public CompiledRoute miss() {
        return table.match(miss.buf, miss.head, scratch);
    }

    @Benchmark
    public CompiledRoute paramHit() {
        return table.match(param.buf, param.head, scratch);
    }

    @Benchmark
    public CompiledRoute varsHit() {
        return table.match(vars.buf, vars.head, scratch);
    }

    /** Baseline: path decoded to a String (allocates), then a HashMap lookup. */
    @Benchmark
    public Object stringHashMapExact() {
        RequestHead h = exact.head;
        String path = exact.buf.toString(h.targetStart, h.pathEnd - h.targetStart, StandardCharsets.US_ASCII);
        return byString.get(path);
    }
}
