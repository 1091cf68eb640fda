package io.turnpike.config.model;

import java.util.Set;

/**
 * What changed between two configurations delivered by the same source, so that a consumer holding the compiled form
 * of the older one can update it in proportion to the change instead of recompiling everything.
 *
 * <p>Meaning: the new configuration equals the configuration of version {@code fromVersion} except for the routes
 * named in {@code routeIds} (each added, replaced or removed), the upstreams named in {@code upstreamIds} (each
 * added or replaced, never removed; a route's validity does not change because of them) and the consumers named in
 * {@code consumerIds} (with their credentials; no route refers to a consumer); every other resource is
 * unchanged, and unchanged entries are the same objects. Sources deliver a delta only when that holds; otherwise they deliver the
 * configuration alone (consumers then recompile it whole).
 *
 * @param fromVersion the {@link ConfigSet#version()} this delta applies to
 * @param routeIds    ids of the routes added, replaced or removed
 * @param upstreamIds ids of the upstreams added or replaced
 * @param consumerIds usernames of the consumers added, replaced or removed (a credential change names its consumer)
 * @param pluginConfigIds plugin_configs added or replaced (the routes naming them are recompiled)
 * @param globalRuleIds global_rules added, replaced or removed
 */
public record ConfigDelta(long fromVersion, Set<String> routeIds, Set<String> upstreamIds, Set<String> consumerIds,
                          Set<String> pluginConfigIds, Set<String> globalRuleIds) {
    public ConfigDelta {
        routeIds = Set.copyOf(routeIds);
        upstreamIds = Set.copyOf(upstreamIds);
        consumerIds = Set.copyOf(consumerIds);
        pluginConfigIds = Set.copyOf(pluginConfigIds);
        globalRuleIds = Set.copyOf(globalRuleIds);
    }

    /** Routes and upstreams. */
    public ConfigDelta(long fromVersion, Set<String> routeIds, Set<String> upstreamIds) {
        this(fromVersion, routeIds, upstreamIds, Set.of(), Set.of(), Set.of());
    }

    /** Routes, upstreams and consumers. */
    public ConfigDelta(long fromVersion, Set<String> routeIds, Set<String> upstreamIds, Set<String> consumerIds) {
        this(fromVersion, routeIds, upstreamIds, consumerIds, Set.of(), Set.of());
    }

    /** Routes only. */
    public ConfigDelta(long fromVersion, Set<String> routeIds) {
        this(fromVersion, routeIds, Set.of());
    }
}
