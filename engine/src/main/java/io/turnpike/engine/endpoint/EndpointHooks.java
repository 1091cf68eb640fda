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

    /**
     * Called once per compile after the slots were announced: a watcher may wait (bounded) for first results of what
     * it started, so that the snapshot about to be published has them.
     */
    default void compiled() {
    }

    /**
     * True when node host names ({@code nodes} given as DNS names) are resolved by the watcher (asynchronously, off
     * the config-sync thread, re-resolved on TTL); false: the compiler resolves them once, itself.
     */
    default boolean resolvesHostNames() {
        return false;
    }

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
