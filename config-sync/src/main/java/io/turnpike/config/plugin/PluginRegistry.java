package io.turnpike.config.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The plugins Turnpike implements, by APISIX name, each with the validator of its configuration. It is the single
 * place a {@code plugins} object is checked against, wherever one appears (routes, services, plugin_configs,
 * global_rules, consumers and their credentials, consumer_groups; plugin_metadata by its id): a name that is not
 * registered is refused with APISIX's {@code unknown plugin [NAME]}, never ignored, so a configuration written for
 * APISIX cannot silently lose its authentication or limits.
 *
 * <p>Adding a plugin is one registration in {@link #builtin()} (the plugin framework does it with the plugin's schema
 * check). Immutable and thread-safe.
 */
public final class PluginRegistry {

    /** APISIX checks a plugin's configuration against a different schema in a consumer (or credential). */
    public enum SchemaType {
        /** routes, services, plugin_configs, global_rules, consumer_groups */
        ROUTE,
        /** consumers and their credentials ({@code core.schema.TYPE_CONSUMER}) */
        CONSUMER,
        /** plugin_metadata ({@code metadata_schema}) */
        METADATA
    }

    /** A plugin's configuration check. */
    @FunctionalInterface
    public interface SchemaValidator {
        /**
         * @param conf the plugin's configuration object
         * @return null when valid, else the APISIX-style reason (e.g. {@code property "key" is required})
         */
        String check(ObjectNode conf, SchemaType type);
    }

    private static final PluginRegistry EMPTY = new PluginRegistry(Map.of());

    /**
     * The plugins this build implements ({@link BuiltinPluginSchemas}); every other name is unknown and refused. The
     * engine's {@code Plugins} registry holds the matching implementations ({@code PluginRegistryConsistencyTest}).
     */
    private static final PluginRegistry BUILTIN = BuiltinPluginSchemas.register(EMPTY);

    private final Map<String, SchemaValidator> plugins;

    private PluginRegistry(Map<String, SchemaValidator> plugins) {
        this.plugins = plugins;
    }

    /** The plugins this build implements. */
    public static PluginRegistry builtin() {
        return BUILTIN;
    }

    /** No plugin at all. */
    public static PluginRegistry empty() {
        return EMPTY;
    }

    /** A registry with {@code name} added (or replaced). */
    public PluginRegistry with(String name, SchemaValidator validator) {
        Map<String, SchemaValidator> m = new LinkedHashMap<>(plugins);
        m.put(name, validator);
        return new PluginRegistry(Collections.unmodifiableMap(m));
    }

    public boolean known(String name) {
        return plugins.containsKey(name);
    }

    /** The registered names, in registration order. */
    public Set<String> names() {
        return plugins.keySet();
    }

    /**
     * Checks a {@code plugins} object as APISIX's {@code plugin.check_schema} does, in document order: each member must
     * be an object and name a registered plugin whose validator accepts it.
     *
     * @return null when every plugin is valid, else the problem: {@code name} is the offending plugin (for the
     *         error's location), {@code message} APISIX's wording ({@code unknown plugin [key-auth]})
     */
    public Problem check(ObjectNode pluginsConf, SchemaType type) {
        for (Map.Entry<String, JsonNode> e : pluginsConf.properties()) {
            String name = e.getKey();
            JsonNode conf = e.getValue();
            if (!conf.isObject()) {
                return new Problem(name, "invalid plugin conf " + conf + " for plugin [" + name + "]");
            }
            SchemaValidator v = plugins.get(name);
            if (v == null) {
                return new Problem(name, "unknown plugin [" + name + "]");
            }
            String err = v.check((ObjectNode) conf, type);
            if (err != null) {
                return new Problem(name, "failed to check the configuration of plugin " + name + " err: " + err);
            }
        }
        return null;
    }

    /** One refused plugin: its name and APISIX's message. */
    public record Problem(String plugin, String message) {
    }
}
