package io.turnpike.engine.plugin;

import io.turnpike.engine.plugin.builtin.BasicAuthPlugin;
import io.turnpike.engine.plugin.builtin.ConsumerRestrictionPlugin;
import io.turnpike.engine.plugin.builtin.CorsPlugin;
import io.turnpike.engine.plugin.builtin.FileLoggerPlugin;
import io.turnpike.engine.plugin.builtin.ForwardAuthPlugin;
import io.turnpike.engine.plugin.builtin.HttpLoggerPlugin;
import io.turnpike.engine.plugin.builtin.IpRestrictionPlugin;
import io.turnpike.engine.plugin.builtin.JwtAuthPlugin;
import io.turnpike.engine.plugin.builtin.KeyAuthPlugin;
import io.turnpike.engine.plugin.builtin.OpenTelemetryPlugin;
import io.turnpike.engine.plugin.builtin.PrometheusPlugin;
import io.turnpike.engine.plugin.builtin.ProxyRewritePlugin;
import io.turnpike.engine.plugin.builtin.RedirectPlugin;
import io.turnpike.engine.plugin.builtin.RequestIdPlugin;
import io.turnpike.engine.plugin.builtin.ResponseRewritePlugin;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The plugins the engine implements, by APISIX name. Config-sync validates plugin configurations against its own
 * schema registry ({@code io.turnpike.config.plugin}); {@code PluginRegistryConsistencyTest} keeps the two in step, so a
 * plugin is accepted in configuration exactly when the engine acts on it.
 */
public final class Plugins {
    private static final Map<String, PluginFactory> FACTORIES;

    static {
        Map<String, PluginFactory> m = new LinkedHashMap<>();
        for (PluginFactory f : new PluginFactory[]{
                new RequestIdPlugin.Factory(),
                new OpenTelemetryPlugin.Factory(),
                new ForwardAuthPlugin.Factory(),
                new CorsPlugin.Factory(),
                new IpRestrictionPlugin.Factory(),
                new BasicAuthPlugin.Factory(),
                new JwtAuthPlugin.Factory(),
                new KeyAuthPlugin.Factory(),
                new ConsumerRestrictionPlugin.Factory(),
                new ProxyRewritePlugin.Factory(),
                new RedirectPlugin.Factory(),
                new ResponseRewritePlugin.Factory(),
                new io.turnpike.engine.plugin.builtin.LimitConnPlugin.Factory(),
                new io.turnpike.engine.plugin.builtin.LimitCountPlugin.Factory(),
                new io.turnpike.engine.plugin.builtin.LimitReqPlugin.Factory(),
                new HttpLoggerPlugin.Factory(),
                new FileLoggerPlugin.Factory(),
                new PrometheusPlugin.Factory(),
                new io.turnpike.engine.plugin.builtin.ApiBreakerPlugin.Factory(),
                new io.turnpike.engine.plugin.builtin.TrafficSplitPlugin.Factory()}) {
            m.put(f.name(), f);
        }
        FACTORIES = Collections.unmodifiableMap(m);
    }

    private Plugins() {
    }

    public static PluginFactory factory(String name) {
        return FACTORIES.get(name);
    }

    public static Map<String, PluginFactory> all() {
        return FACTORIES;
    }

    private static final java.util.List<String> ORDER = java.util.List.copyOf(FACTORIES.keySet());

    /** A bit per implemented plugin (at most 64), for the consumer-over-route merge; 0 for an unknown name. */
    public static long bit(String name) {
        int i = ORDER.indexOf(name);
        return i < 0 || i >= 64 ? 0 : 1L << i;
    }
}
