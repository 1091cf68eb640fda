package io.turnpike.bench;

import io.turnpike.engine.router.CompiledRoute;
import io.turnpike.engine.router.RouteConditions;
import io.turnpike.engine.router.RouteTable;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Router updates: a full {@link RouteTable.Builder} build of {@code routes} routes, against {@link RouteTable#with} of
 * one route replaced (1 removed, 1 added) in a table of that size. Routes are of five kinds, i % 5: exact, prefix
 * {@code /svcN/*}, param {@code /usersN/:id/orders}, host-bound {@code /api/*} on {@code hN.example.com}, exact with a
 * method (as docs/router.md's figures). The replacement routes are compiled in setup, so {@code replaceOne} measures the
 * table update alone; each invocation replaces the next route (cycling), alternating between two objects per route.
 *
 * <p>{@code java -jar bench-jmh/target/benchmarks.jar RouterUpdate -prof gc} shows the garbage per update.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {BenchJvm.ADD_EXPORTS, BenchJvm.EXPORTS_MISC, BenchJvm.NO_LEAK_DETECTION, "-Xmx2g"})
public class RouterUpdateBenchmark {
    @Param({"1000", "50000"})
    public int routes;

    private List<CompiledRoute> all;
    private CompiledRoute[] current;
    private CompiledRoute[] spare;
    private RouteTable table;
    private int next;

    static CompiledRoute route(int i, int order) {
        List<String> uris;
        List<String> hosts = List.of();
        List<String> methods = List.of();
        switch (i % 5) {
            case 0 -> uris = List.of("/api/v1/resource" + i);
            case 1 -> uris = List.of("/svc" + i + "/*");
            case 2 -> uris = List.of("/users" + i + "/:id/orders");
            case 3 -> {
                uris = List.of("/api/*");
                hosts = List.of("h" + i + ".example.com");
            }
            default -> {
                uris = List.of("/v/" + i);
                methods = List.of("GET");
            }
        }
        return new CompiledRoute("r" + i, RouteConditions.compile(uris, hosts, methods, List.of(), null), 0, null,
                order);
    }

    @Setup(Level.Trial)
    public void setup() {
        all = new ArrayList<>(routes);
        current = new CompiledRoute[routes];
        spare = new CompiledRoute[routes];
        for (int i = 0; i < routes; i++) {
            current[i] = route(i, i);
            spare[i] = route(i, i);
            all.add(current[i]);
        }
        table = fullBuild();
        if (table.size() != routes) {
            throw new IllegalStateException("size " + table.size());
        }
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public RouteTable fullBuild() {
        RouteTable.Builder b = new RouteTable.Builder();
        for (CompiledRoute r : all) {
            b.add(r);
        }
        return b.build();
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public RouteTable replaceOne() {
        int i = next;
        next = i + 1 == routes ? 0 : i + 1;
        CompiledRoute old = current[i];
        CompiledRoute repl = spare[i];
        current[i] = repl;
        spare[i] = old;
        table = table.with(List.of(old), List.of(repl));
        return table;
    }
}
