package io.turnpike.engine.plugin;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Compiles one plugin's validated configuration (already checked against its schema in config-sync, with APISIX's
 * wording) into a {@link PluginSpec}. Runs off the event loops, on the thread that compiles snapshots.
 */
public interface PluginFactory {
    String name();

    /** APISIX's priority for this plugin: higher runs first within a phase. */
    int priority();

    /** @throws IllegalArgumentException with a message naming the field, for a value the engine cannot act on */
    PluginSpec compile(ObjectNode conf);

    /**
     * Compiles a route's plugin that may route to other upstreams: {@code targets} resolves them (null where the
     * chain is not a route's: global rules, consumers). Plugins that do not route use {@link #compile(ObjectNode)}.
     */
    default PluginSpec compile(ObjectNode conf, TargetResolver targets) {
        return compile(conf);
    }

    /** True when {@link #compile(ObjectNode, TargetResolver)} resolves upstreams: its chains are compiled per route. */
    default boolean resolvesTargets() {
        return false;
    }
}
