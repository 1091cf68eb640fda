package io.turnpike.engine.health;

import io.turnpike.config.model.HealthChecks;
import io.turnpike.config.model.Upstream;
import io.turnpike.engine.endpoint.EndpointSlot;
import io.turnpike.engine.endpoint.UpstreamWatchers;
import io.turnpike.engine.upstream.NodeAddress;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Connects the process's {@link HealthChecker} to the upstreams' endpoint slots: an upstream with {@code checks} is
 * watched with its slot's members (configured and discovered nodes, following their changes); each verdict goes to
 * the slot serving that upstream now (a node held down leaves the loops' balancers; APISIX's fallback to every node
 * when none is healthy is the slot's, see docs/endpoints.md); each node gets its passive reporter. A new slot of the
 * same upstream (a recompile) is seeded with the checker's state, which is kept per address and host.
 *
 * <p>Threads: {@link #attached}/{@link #detached} on the config-sync thread; member changes on config-sync or
 * {@code turnpike-dns}; verdicts on {@code turnpike-health}. Never on an event loop.
 */
public final class HealthWiring implements UpstreamWatchers.HealthWatch, HealthListener, AutoCloseable {
    private final HealthChecker checker;
    private final Map<String, EndpointSlot> slots = new ConcurrentHashMap<>();
    private final Map<String, HealthChecks> checks = new ConcurrentHashMap<>();

    public HealthWiring() {
        this.checker = new HealthChecker(this);
    }

    public HealthChecker checker() {
        return checker;
    }

    @Override
    public void attached(EndpointSlot slot, Upstream upstream) {
        String key = slot.upstreamKey;
        if (upstream.checks() == null || upstream.checks().active() == null) {
            if (slots.remove(key) != null) {
                checks.remove(key);
                checker.unwatch(key);
            }
            return;
        }
        slots.put(key, slot);
        checks.put(key, upstream.checks());
        slot.membersListener(s -> watch(key, s));
        watch(key, slot);
    }

    @Override
    public void detached(String upstreamKey) {
        if (slots.remove(upstreamKey) != null) {
            checks.remove(upstreamKey);
            checker.unwatch(upstreamKey);
        }
    }

    /** (Re)watches the slot's members and seeds the slot with their known health and passive reporters. */
    private void watch(String key, EndpointSlot slot) {
        HealthChecks c = checks.get(key);
        if (c == null || slots.get(key) != slot) {
            return; // replaced or gone meanwhile
        }
        LinkedHashSet<HealthTarget> set = new LinkedHashSet<>();
        for (NodeAddress n : slot.current().nodes) {
            set.add(target(n));
        }
        List<HealthTarget> targets = new ArrayList<>(set);
        checker.watch(key, c, targets);
        for (HealthTarget t : targets) {
            slot.health(t.address(), t.host(), checker.isHealthy(key, t));
        }
        slot.passive(n -> checker.passive(key, target(n)));
    }

    private static HealthTarget target(NodeAddress n) {
        return new HealthTarget(n.address, EndpointSlot.hostOf(n));
    }

    @Override
    public void onHealthChange(String upstreamKey, HealthTarget target, boolean healthy) {
        EndpointSlot s = slots.get(upstreamKey);
        if (s != null) {
            s.health(target.address(), target.host(), healthy);
        }
    }

    @Override
    public void close() {
        checker.close();
    }
}
