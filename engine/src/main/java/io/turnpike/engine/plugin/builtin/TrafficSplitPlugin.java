package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;
import io.turnpike.engine.plugin.TargetResolver;
import io.turnpike.engine.router.MatchScratch;
import io.turnpike.engine.router.VarsCondition;
import io.turnpike.engine.upstream.UpstreamTarget;

import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * APISIX {@code traffic-split} (apisix/plugins/traffic-split.lua) in the access phase: the first rule whose
 * {@code match} passes (entries OR'ed, the {@code vars} of one entry AND'ed, the router's compiled expressions; a rule
 * without {@code match} always passes) picks one of its {@code weighted_upstreams} by weight, and the exchange goes to
 * that upstream instead of the route's ({@link PluginContext#upstream(UpstreamTarget)}). A weighted upstream with
 * neither {@code upstream_id} nor {@code upstream} is the route's own upstream; no rule passing leaves the route's.
 *
 * <p>The upstreams are {@link UpstreamTarget}s of the snapshot, compiled by the snapshot compiler
 * ({@link TargetResolver}) like any route's: their own balancer, pools, timeouts, TLS, {@code pass_host}. The pick is
 * smooth weighted round-robin (nginx's), with its current weights per loop: over every {@code sum(weights)}
 * consecutive picks of a loop each upstream gets exactly its weight. Weight 0 is never picked; all weights 0 leave
 * the route's upstream.
 *
 * <p>Immutable but for the per-loop pick state (each loop writes only its own array). No allocation per request in
 * the steady state (a loop's state is created on its first pick), unless a {@code vars} uses a regex operator.
 */
public final class TrafficSplitPlugin extends PluginSpec {
    static final String NAME = "traffic-split";
    static final int PRIORITY = 966;

    private final Rule[] rules;

    TrafficSplitPlugin(Rule[] rules) {
        super(NAME, PRIORITY);
        this.rules = rules;
    }

    @Override
    public int phases() {
        return PHASE_ACCESS;
    }

    @Override
    public int access(PluginContext x) {
        ByteBuf src = x.source();
        RequestHead head = x.head();
        MatchScratch scratch = x.match();
        for (Rule r : rules) {
            if (!r.matches(src, head, scratch)) {
                continue;
            }
            int i = r.pick(x.loopId());
            if (i >= 0 && r.targets[i] != null) {
                x.upstream(r.targets[i]);
            }
            return CONTINUE;
        }
        return CONTINUE;
    }

    /** The targets of every rule (the route's own upstream as null), for tests and the snapshot's bookkeeping. */
    public UpstreamTarget[][] targets() {
        UpstreamTarget[][] out = new UpstreamTarget[rules.length][];
        for (int i = 0; i < rules.length; i++) {
            out[i] = rules[i].targets.clone();
        }
        return out;
    }

    /** One rule: its match (null: always passes; empty: never) and its weighted upstreams. */
    static final class Rule {
        private final VarsCondition[] match;
        final UpstreamTarget[] targets;
        private final int[] weights;
        private final long total;
        /** Per loop id, that loop's current weights (copy-on-write array of per-loop arrays). */
        private final AtomicReference<long[][]> byLoop = new AtomicReference<>(new long[0][]);

        Rule(VarsCondition[] match, UpstreamTarget[] targets, int[] weights) {
            this.match = match;
            this.targets = targets;
            this.weights = weights;
            long t = 0;
            for (int w : weights) {
                t += w;
            }
            this.total = t;
        }

        boolean matches(ByteBuf src, RequestHead head, MatchScratch scratch) {
            if (match == null) {
                return true;
            }
            for (VarsCondition c : match) {
                if (c.matches(src, head, scratch)) {
                    return true;
                }
            }
            return false;
        }

        /** Smooth weighted round-robin on this loop's state: the index picked, or -1 when every weight is 0. */
        int pick(int loopId) {
            if (total == 0) {
                return -1;
            }
            long[] cur = current(loopId);
            int best = -1;
            long bestWeight = Long.MIN_VALUE;
            for (int i = 0; i < weights.length; i++) {
                int w = weights[i];
                if (w == 0) {
                    continue;
                }
                long c = cur[i] + w;
                cur[i] = c;
                if (c > bestWeight) {
                    bestWeight = c;
                    best = i;
                }
            }
            cur[best] -= total;
            return best;
        }

        private long[] current(int loopId) {
            long[][] all = byLoop.get();
            if (loopId < all.length) {
                long[] mine = all[loopId];
                if (mine != null) {
                    return mine;
                }
            }
            return create(loopId);
        }

        /** A loop's first pick: publishes its state (lock-free; concurrent first picks of other loops are kept). */
        private long[] create(int loopId) {
            long[] mine = new long[weights.length];
            while (true) {
                long[][] old = byLoop.get();
                if (loopId < old.length && old[loopId] != null) {
                    return old[loopId];
                }
                long[][] next = Arrays.copyOf(old, Math.max(old.length, loopId + 1));
                next[loopId] = mine;
                if (byLoop.compareAndSet(old, next)) {
                    return mine;
                }
            }
        }
    }

    public static final class Factory implements PluginFactory {
        private static final Set<String> FIELDS = Set.of("rules", "_meta");

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return PRIORITY;
        }

        @Override
        public boolean resolvesTargets() {
            return true;
        }

        @Override
        public PluginSpec compile(ObjectNode conf) {
            return compile(conf, null);
        }

        @Override
        public PluginSpec compile(ObjectNode c, TargetResolver resolver) {
            if (resolver == null) {
                throw new IllegalArgumentException("runs only from a route's chain (a route, its service or its"
                        + " plugin_config), not from global rules or consumer groups");
            }
            Conf.only(NAME, c, FIELDS);
            JsonNode rs = c.get("rules");
            int n = rs == null ? 0 : rs.size();
            Rule[] rules = new Rule[n];
            int kept = 0;
            for (int i = 0; i < n; i++) {
                JsonNode r = rs.get(i);
                String where = "rules[" + i + "]";
                VarsCondition[] match = null;
                JsonNode m = r.get("match");
                if (m != null) {
                    if (m.isEmpty()) {
                        // APISIX's loop over an empty match leaves match_passed as it was: true before any rule was
                        // evaluated, false after a rule that did not pass. So an empty match passes as the first rule
                        // only, and a later one never does.
                        if (i > 0) {
                            continue;
                        }
                    } else {
                        match = new VarsCondition[m.size()];
                        for (int j = 0; j < m.size(); j++) {
                            try {
                                match[j] = VarsCondition.compile(m.get(j).get("vars"));
                            } catch (IllegalArgumentException e) {
                                throw new IllegalArgumentException(
                                        "failed to validate the 'vars' expression: " + e.getMessage());
                            }
                        }
                    }
                }
                JsonNode wus = r.get("weighted_upstreams");
                UpstreamTarget[] targets;
                int[] weights;
                if (wus == null) {
                    targets = new UpstreamTarget[1]; // APISIX's default: [{weight: 1}], the route's upstream
                    weights = new int[]{1};
                } else {
                    targets = new UpstreamTarget[wus.size()];
                    weights = new int[wus.size()];
                    for (int k = 0; k < wus.size(); k++) {
                        JsonNode wu = wus.get(k);
                        weights[k] = wu.has("weight") ? wu.get("weight").asInt() : 1;
                        if (weights[k] < 0) {
                            throw new IllegalArgumentException(where + ".weighted_upstreams[" + k
                                    + "].weight must be at least 0");
                        }
                        JsonNode id = wu.get("upstream_id");
                        if (id != null) {
                            targets[k] = resolver.byId(id.asText());
                        } else if (wu.get("upstream") instanceof ObjectNode inline) {
                            targets[k] = resolver.inline(inline, where + ".weighted_upstreams[" + k + "].upstream");
                        }
                    }
                }
                rules[kept++] = new Rule(match, targets, weights);
            }
            return new TrafficSplitPlugin(Arrays.copyOf(rules, kept));
        }
    }
}
