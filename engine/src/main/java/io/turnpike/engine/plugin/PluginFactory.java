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
}
