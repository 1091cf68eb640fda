package io.turnpike.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.turnpike.config.codec.CompileResult;
import io.turnpike.config.codec.ConfigCompiler;
import io.turnpike.config.codec.ConfigEntry;
import io.turnpike.config.codec.ResourceCodec;
import io.turnpike.config.model.ConfigDelta;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What the config-sync thread does for one etcd change at {@code routes} routes, after the value is parsed: the
 * incremental configuration ({@link ConfigCompiler#applyChanges}) plus the incremental snapshot
 * ({@link SnapshotCompiler#compile(io.turnpike.config.model.ConfigSet, ConfigDelta, List)}), publication excluded.
 * {@code routeChange}: one route (inline upstream) replaced. {@code upstreamChange}: upstream {@code u1}, which every
 * 20th route names by {@code upstream_id} (2,500 routes at 50,000), gets new nodes: only its endpoints change (no route
 * is recompiled; the endpoint commit SnapshotPublisher runs after the loops applied the snapshot is included).
 * {@code upstreamSettingsChange}: u1's {@code retries} changes: its 2,500 routes are recompiled (what a node change
 * cost before endpoints were published apart).
 * {@code consumerChange}: one of {@code consumers} consumers gets a new key-auth key: the consumer map is persistent and
 * the snapshot re-indexes the consumers without recompiling a route.
 * Each invocation alternates between two prepared values, so the state stays the same size. Compare with
 * {@code SnapshotCompileBenchmark} (a full compile, what every change cost before).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {BenchJvm.ADD_EXPORTS, BenchJvm.EXPORTS_MISC, BenchJvm.NO_LEAK_DETECTION, "-Xmx2g"})
public class IncrementalCompileBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Param({"50000"})
    public int routes;

    @Param({"10000"})
    public int consumers;

    private ConfigCompiler configs;
    private SnapshotCompiler snapshots;
    private CompileResult result;
    private Snapshot snapshot;
    private long version;
    private final ConfigEntry[] routeValues = new ConfigEntry[2];
    private final ConfigEntry[] upstreamValues = new ConfigEntry[2];
    private final ConfigEntry[] consumerValues = new ConfigEntry[2];
    private final ConfigEntry[] upstreamSettingValues = new ConfigEntry[2];
    private int flip;

    private static ConfigEntry entry(String resource, String id, String json) throws Exception {
        JsonNode v = JSON.readTree(json);
        return new ConfigEntry(resource, id, -1, v, "/apisix/" + resource + "/" + id, 0, null);
    }

    private static String route(int i, String tag) {
        String up = i % 20 == 0 ? "\"upstream_id\":\"u1\""
                : "\"upstream\":{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:1980\":1}}";
        return "{\"uri\":\"/r/" + i + "\",\"desc\":\"" + tag + "\"," + up + "}";
    }

    private static String consumer(String name, String key) {
        return "{\"username\":\"" + name + "\",\"plugins\":{\"key-auth\":{\"key\":\"" + key + "\"}}}";
    }

    @Setup(Level.Trial)
    public void setup() throws Exception {
        configs = new ConfigCompiler(new ResourceCodec(), true);
        snapshots = new SnapshotCompiler(EngineSettings.defaults());
        List<ConfigEntry> entries = new ArrayList<>();
        entries.add(entry("upstreams", "u1", "{\"nodes\":{\"127.0.0.1:1981\":1,\"127.0.0.1:1982\":1}}"));
        for (int i = 0; i < routes; i++) {
            entries.add(entry("routes", String.format("r%06d", i), route(i, "v0")));
        }
        for (int i = 0; i < consumers; i++) {
            String name = String.format("c%06d", i);
            entries.add(entry("consumers", name, consumer(name, "key-" + i)));
        }
        version = 1;
        result = configs.compile(version, entries);
        snapshot = snapshots.compile(result.config(), null, new ArrayList<>());
        if (snapshot.routes.size() != routes) {
            throw new IllegalStateException("compiled " + snapshot.routes.size());
        }
        String id = String.format("r%06d", 4243);
        routeValues[0] = entry("routes", id, route(4243, "a"));
        routeValues[1] = entry("routes", id, route(4243, "b"));
        String c = String.format("c%06d", 4242);
        consumerValues[0] = entry("consumers", c, consumer(c, "rotated-a"));
        consumerValues[1] = entry("consumers", c, consumer(c, "rotated-b"));
        upstreamValues[0] = entry("upstreams", "u1", "{\"nodes\":{\"127.0.0.1:1983\":1}}");
        upstreamValues[1] = entry("upstreams", "u1", "{\"nodes\":{\"127.0.0.1:1984\":2}}");
        upstreamSettingValues[0] = entry("upstreams", "u1", "{\"retries\":1,\"nodes\":{\"127.0.0.1:1983\":1}}");
        upstreamSettingValues[1] = entry("upstreams", "u1", "{\"retries\":2,\"nodes\":{\"127.0.0.1:1983\":1}}");
    }

    private Snapshot apply(Map<String, ConfigEntry> routeChanges, Map<String, ConfigEntry> upstreamChanges) {
        long from = version;
        CompileResult next = configs.applyChanges(result, ++version, routeChanges, upstreamChanges);
        Snapshot s = snapshots.compile(next.config(), new ConfigDelta(from, routeChanges.keySet(),
                upstreamChanges.keySet()), new ArrayList<>());
        if (s.baseVersion != from) {
            throw new IllegalStateException("not incremental");
        }
        result = next;
        snapshot = s;
        return s;
    }

    @Benchmark
    public Snapshot routeChange() {
        ConfigEntry e = routeValues[flip ^= 1];
        return apply(Map.of(e.id(), e), Map.of());
    }

    @Benchmark
    public Snapshot consumerChange() {
        ConfigEntry e = consumerValues[flip ^= 1];
        long from = version;
        CompileResult next = configs.applyChanges(result, ++version, Map.of(), Map.of(),
                Map.of("consumers", Map.of(e.id(), e)));
        Snapshot s = snapshots.compile(next.config(), new ConfigDelta(from, java.util.Set.of(), java.util.Set.of(),
                java.util.Set.of(e.id())), new ArrayList<>());
        if (s.baseVersion != from || s.consumers.size() != consumers) {
            throw new IllegalStateException("not incremental, or consumers lost: " + s.consumers.size());
        }
        result = next;
        snapshot = s;
        return s;
    }

    @Benchmark
    public Snapshot upstreamChange() {
        ConfigEntry e = upstreamValues[flip ^= 1];
        Snapshot s = apply(Map.of(), Map.of("u1", e));
        if (s.endpointUpdates.isEmpty()) {
            throw new IllegalStateException("the node-only edit recompiled routes");
        }
        s.endpointUpdates.forEach(u -> u.get().join());
        return s;
    }

    @Benchmark
    public Snapshot upstreamSettingsChange() {
        ConfigEntry e = upstreamSettingValues[flip ^= 1];
        return apply(Map.of(), Map.of("u1", e));
    }
}
