package io.turnpike.bench;

import io.turnpike.config.model.ConfigSet;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.snapshot.Snapshot;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A full {@link SnapshotCompiler#compile} of a generated configuration ({@link Configs}) of {@code routes} routes: what
 * the config-sync thread does for every change today (the goal: 50,000 routes well under a second).
 *
 * <p>{@code upstreams}: {@code shared} all routes name one upstream (one compiled target); {@code inline} every route
 * carries its own inline upstream object (one target per route, the same node), as many APISIX configurations do.
 * Node addresses are IP literals, so no DNS is involved.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {BenchJvm.ADD_EXPORTS, BenchJvm.EXPORTS_MISC, BenchJvm.NO_LEAK_DETECTION,
        BenchJvm.POOLED, BenchJvm.EXECUTOR, BenchJvm.EXECUTOR_CLASS, "-Xmx2g"})
public class SnapshotCompileBenchmark {
    @Param({"1000", "10000", "50000"})
    public int routes;

    @Param({"shared", "inline"})
    public String upstreams;

    private ConfigSet config;
    private SnapshotCompiler compiler;

    @Setup(Level.Trial)
    public void setup() {
        config = Configs.routes(routes, upstreams.equals("inline"));
        compiler = new SnapshotCompiler(EngineSettings.defaults());
        ArrayList<String> warnings = new ArrayList<>();
        Snapshot s = compiler.compile(config, warnings);
        if (!warnings.isEmpty() || s.routes.size() != routes) {
            throw new IllegalStateException("compiled " + s.routes.size() + " routes, warnings " + warnings);
        }
    }

    @Benchmark
    public Snapshot compile() {
        return compiler.compile(config, new ArrayList<>());
    }
}
