package io.turnpike.engine.snapshot;

import io.turnpike.config.ConfigProblem;
import io.turnpike.config.model.ConfigDelta;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.source.ConfigListener;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Turns configurations delivered by a config source into published snapshots: compile (on the source's thread, off
 * the request path), publish to every loop, wait for the barrier. A rejected configuration is reported and the last
 * good snapshot keeps serving.
 *
 * <p>Called only on the config-sync thread (or main at startup), never concurrently.
 */
public final class SnapshotUpdater implements ConfigListener {
    private final SnapshotCompiler compiler;
    private final SnapshotPublisher publisher;
    private final PrintStream log;
    private volatile long applied;
    private volatile long rejected;
    private volatile ConfigSet current;
    private volatile long firstCompileNs;
    private volatile long firstPublishNs;
    private volatile long startupGcNs;
    private final long startupGcHeapBytes;

    public SnapshotUpdater(SnapshotCompiler compiler, SnapshotPublisher publisher, PrintStream log) {
        this(compiler, publisher, log, STARTUP_GC_HEAP_BYTES);
    }

    /** {@code startupGcHeapBytes}: the heap in use after the first compile above which the start-up collection runs. */
    SnapshotUpdater(SnapshotCompiler compiler, SnapshotPublisher publisher, PrintStream log, long startupGcHeapBytes) {
        this.compiler = compiler;
        this.publisher = publisher;
        this.log = log;
        this.startupGcHeapBytes = startupGcHeapBytes;
    }

    @Override
    public void onConfig(ConfigSet config) {
        onConfig(config, null);
    }

    @Override
    public void onConfig(ConfigSet config, ConfigDelta delta) {
        long t0 = System.nanoTime();
        List<String> warnings = new ArrayList<>();
        Snapshot snapshot = compiler.compile(config, delta, warnings);
        long compiledNs = System.nanoTime() - t0;
        for (String w : warnings) {
            log.println("warning: " + w);
        }
        if (applied == 0) {
            collectStartupGarbage();
        }
        try {
            publisher.publish(snapshot).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.println("error: snapshot " + snapshot.version + " not applied on every loop: " + e);
            return;
        }
        current = config;
        if (applied == 0) {
            firstCompileNs = compiledNs;
            firstPublishNs = System.nanoTime() - t0 - compiledNs - startupGcNs;
        }
        applied++;
        if (applied > 1) {
            log.printf("turnpike: snapshot %d (%d routes) compiled%s in %.1f ms, applied on all loops in %.1f ms%n",
                    snapshot.version, snapshot.routes.size(), snapshot.baseVersion >= 0 ? " (incremental)" : "",
                    compiledNs / 1e6, (System.nanoTime() - t0) / 1e6);
        }
        log.flush();
    }

    /**
     * Before the first snapshot is published (the loops still answer 503 / 404, /status/ready is 503): when decoding
     * and compiling a large configuration left more than {@link #STARTUP_GC_HEAP_BYTES} (by default) on the heap, one full
     * collection returns that garbage now. Otherwise it is promoted, and G1 collects it later in mixed collections on
     * the loops' cores while they serve: 5-54 ms pauses with 50,000 routes, docs/tail-latency.md.
     */
    private void collectStartupGarbage() {
        Runtime rt = Runtime.getRuntime();
        long used = rt.totalMemory() - rt.freeMemory();
        if (used < startupGcHeapBytes) {
            return;
        }
        long t0 = System.nanoTime();
        System.gc();
        startupGcNs = System.nanoTime() - t0;
        log.printf("turnpike: start-up collection before serving: heap %d -> %d MB in %d ms%n", used >> 20,
                (rt.totalMemory() - rt.freeMemory()) >> 20, startupGcNs / 1_000_000);
    }

    /**
     * Heap in use after the first compile above which {@link #collectStartupGarbage} runs (a 50,000-route file:
     * ~260 MB, of which ~75 MB live).
     */
    static final long STARTUP_GC_HEAP_BYTES = 128L << 20;

    /** How long the start-up collection took (0 when none ran). */
    long startupGcNs() {
        return startupGcNs;
    }

    @Override
    public void onRejected(List<ConfigProblem> problems) {
        rejected++;
        for (ConfigProblem p : problems) {
            log.println("error: " + p.render());
        }
        log.println("error: configuration refused (" + problems.size() + " problem(s)); the last good snapshot"
                + (publisher.latest() == null ? " (none yet)" : " (version " + publisher.latest().version + ")")
                + " keeps serving");
        log.flush();
    }

    /** The configuration of the last published snapshot (for read-only Admin API views); null before the first. */
    public ConfigSet current() {
        return current;
    }

    /** The first applied snapshot's compile time (0 before it), for the start-up report. */
    public long firstCompileNs() {
        return firstCompileNs;
    }

    /** How long the first applied snapshot took to reach every event loop (0 before it). */
    public long firstPublishNs() {
        return firstPublishNs;
    }

    public long appliedCount() {
        return applied;
    }

    public long rejectedCount() {
        return rejected;
    }
}
