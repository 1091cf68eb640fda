package io.turnpike.engine.endpoint;

import io.turnpike.config.model.Upstream;

/**
 * What watches an upstream's endpoints besides the loops: the health checker and the DNS resolver. The snapshot
 * compiler calls it on the config-sync thread, before the snapshot that uses the slot is published, so a watcher can
 * seed the slot (known health, resolved names) before any loop balances over it.
 */
public interface EndpointHooks {
    /**
     * {@code slot} now serves the upstream {@code slot.upstreamKey} (a new upstream, or a new version of it that
     * recompiled its target); it replaces any earlier slot of that key.
     */
    void attached(EndpointSlot slot, Upstream upstream);

    /** The upstream {@code upstreamKey} is gone (no route uses it any more); {@code slot} was its last slot. */
    void detached(String upstreamKey, EndpointSlot slot);

    /** Nothing watches (tests, tools). */
    EndpointHooks NONE = new EndpointHooks() {
        @Override
        public void attached(EndpointSlot slot, Upstream upstream) {
        }

        @Override
        public void detached(String upstreamKey, EndpointSlot slot) {
        }
    };
}
