package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.util.Set;

/**
 * APISIX's {@code prometheus} plugin: where it is enabled (a route, its service or plugin_config, or a global rule),
 * the exchanges are counted in the {@code apisix_*} metrics. It runs in no phase of the chain (a route with only this
 * plugin costs nothing there): the loop's {@code io.turnpike.engine.prometheus.PrometheusRecorder}, an exchange
 * observer, records every completed exchange whose route chain or global rules hold this plugin, including those the
 * gateway refused before routing (404) when a global rule holds it, as APISIX does. Immutable, shared by all loops.
 */
public final class PrometheusPlugin extends PluginSpec {
    public static final String NAME = "prometheus";
    /** APISIX's priority. */
    public static final int PRIORITY = 500;

    /** {@code prefer_name}: label route and service by their names (the id when a name is empty). */
    public final boolean preferName;

    public PrometheusPlugin(boolean preferName) {
        super(NAME, PRIORITY);
        this.preferName = preferName;
    }

    @Override
    public int phases() {
        return 0;
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return PRIORITY;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("prefer_name", "_meta"));
            return new PrometheusPlugin(Conf.bool(c, "prefer_name", false));
        }
    }
}
