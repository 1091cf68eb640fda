package io.turnpike.engine.upstream;

import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.metrics.LoopCounters;
import io.turnpike.engine.testing.GatewayFixture;

/** Sums a loop counter over all loops of a test gateway. */
final class ProxyCounters {
    private ProxyCounters() {
    }

    static long retries(GatewayFixture gw) {
        long s = 0;
        for (LoopContext l : gw.running.server.loops()) {
            s += l.counters.get(LoopCounters.UPSTREAM_RETRIES);
        }
        return s;
    }
}
