package io.turnpike.engine.plugin;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.ResponseHead;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The plugins of one route (global rules are a chain of their own, run first), split per phase and ordered by
 * descending priority, so running a phase walks one array and an empty phase costs a length check. Immutable; shared
 * by all loops and by every route whose merged plugin configuration is the same.
 */
public final class PluginChain {
    public static final PluginChain EMPTY = new PluginChain(List.of());

    private final PluginSpec[] all;
    private final PluginSpec[] rewrite;
    private final PluginSpec[] access;
    private final PluginSpec[] headerFilter;
    private final PluginSpec[] log;
    /** Union of the plugins' phases. */
    public final int phases;
    /** The most header edits one exchange of this chain can record. */
    public final int maxHeaderEdits;
    /** The plugins' {@link PluginSpec#nameBit}s. */
    public final long names;

    public PluginChain(List<PluginSpec> plugins) {
        List<PluginSpec> sorted = new ArrayList<>(plugins);
        sorted.sort(Comparator.comparingInt((PluginSpec p) -> p.priority).reversed());
        this.all = sorted.toArray(new PluginSpec[0]);
        this.rewrite = phase(sorted, PluginSpec.PHASE_REWRITE);
        this.access = phase(sorted, PluginSpec.PHASE_ACCESS);
        this.headerFilter = phase(sorted, PluginSpec.PHASE_HEADER_FILTER);
        this.log = phase(sorted, PluginSpec.PHASE_LOG);
        int p = 0;
        int edits = 0;
        long n = 0;
        for (PluginSpec s : sorted) {
            p |= s.phases();
            edits += s.maxHeaderEdits();
            n |= s.nameBit;
        }
        this.phases = p;
        this.maxHeaderEdits = edits;
        this.names = n;
    }

    private static PluginSpec[] phase(List<PluginSpec> sorted, int phase) {
        return sorted.stream().filter(s -> (s.phases() & phase) != 0).toArray(PluginSpec[]::new);
    }

    /** The plugin with {@code nameBit} in this chain, or null (walks the chain: no allocation). */
    public PluginSpec find(long nameBit) {
        if ((names & nameBit) == 0) {
            return null;
        }
        for (PluginSpec p : all) {
            if (p.nameBit == nameBit) {
                return p;
            }
        }
        return null;
    }

    public boolean isEmpty() {
        return all.length == 0;
    }

    /** The plugins by descending priority (for the Admin API and tests). */
    public List<PluginSpec> plugins() {
        return Arrays.asList(all.clone());
    }

    /** Runs the rewrite then the access phase; {@link PluginSpec#STOP} when a plugin answered locally. */
    public int runRequest(PluginContext x) {
        return runRequest(x, 0, 0);
    }

    /**
     * Runs the request phases from plugin {@code from} of phase {@code phase} (0 rewrite, 1 access). On
     * {@link PluginSpec#PAUSE} the pausing plugin's position is recorded in {@code x} ({@link PluginContext#pausedPhase},
     * {@link PluginContext#pausedIndex}) so that the exchange resumes after it.
     */
    public int runRequest(PluginContext x, int phase, int from) {
        if (phase == 0) {
            int r = runPhase(x, 0, from, 0);
            if (r != PluginSpec.CONTINUE) {
                return r;
            }
            from = 0;
        }
        return runPhase(x, 1, from, 0);
    }

    /**
     * Runs one request phase (0 rewrite, 1 access) from plugin {@code from}, skipping the plugins whose name bit is in
     * {@code skip} (a consumer's plugin of the same name replaces the route's).
     */
    public int runPhase(PluginContext x, int phase, int from, long skip) {
        PluginSpec[] ps = phase == 0 ? rewrite : access;
        for (int i = from; i < ps.length; i++) {
            PluginSpec p = ps[i];
            if ((p.nameBit & skip) != 0) {
                continue;
            }
            int res = phase == 0 ? p.rewrite(x) : p.access(x);
            if (res != PluginSpec.CONTINUE) {
                x.pausedAt(phase, i);
                return res;
            }
        }
        return PluginSpec.CONTINUE;
    }

    public void runHeaderFilter(PluginContext x, ByteBuf src, ResponseHead rh, long skip) {
        for (PluginSpec p : headerFilter) {
            if ((p.nameBit & skip) == 0) {
                p.headerFilter(x, src, rh);
            }
        }
    }

    public void runLog(PluginContext x, long skip) {
        for (PluginSpec p : log) {
            if ((p.nameBit & skip) == 0) {
                p.log(x);
            }
        }
    }

    public void runHeaderFilter(PluginContext x, ByteBuf src, ResponseHead rh) {
        for (PluginSpec p : headerFilter) {
            p.headerFilter(x, src, rh);
        }
    }

    public void runLog(PluginContext x) {
        for (PluginSpec p : log) {
            p.log(x);
        }
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("PluginChain[");
        for (PluginSpec p : all) {
            b.append(p.name).append(' ');
        }
        return b.append(']').toString();
    }
}
