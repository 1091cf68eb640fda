package io.turnpike.engine.plugin;

import io.turnpike.config.plugin.PluginRegistry;
import org.junit.jupiter.api.Test;

import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Configuration accepts a plugin exactly when the engine implements it: the config-side schema registry and the
 * engine's factories name the same plugins (a plugin validated but not run would fail open; one run but not
 * validated could never be configured).
 */
class PluginRegistryConsistencyTest {
    @Test
    void configAndEngineKnowTheSamePlugins() {
        assertEquals(new TreeSet<>(PluginRegistry.builtin().names()), new TreeSet<>(Plugins.all().keySet()));
    }

    @Test
    void factoriesCarryApisixPriorities() {
        assertEquals(2500, Plugins.factory("key-auth").priority());
        assertEquals(1008, Plugins.factory("proxy-rewrite").priority());
        assertEquals(899, Plugins.factory("response-rewrite").priority());
        assertEquals(4000, Plugins.factory("cors").priority());
        assertEquals(12015, Plugins.factory("request-id").priority());
        assertEquals(900, Plugins.factory("redirect").priority());
        assertEquals(3000, Plugins.factory("ip-restriction").priority());
        assertEquals(2002, Plugins.factory("forward-auth").priority());
        assertEquals(2520, Plugins.factory("basic-auth").priority());
        assertEquals(2510, Plugins.factory("jwt-auth").priority());
        assertEquals(2400, Plugins.factory("consumer-restriction").priority());
    }
}
