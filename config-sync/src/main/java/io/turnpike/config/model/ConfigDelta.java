package io.turnpike.config.model;

import java.util.Set;

/**
 * What changed between two configurations delivered by the same source, so that a consumer holding the compiled form
 * of the older one can update it in proportion to the change instead of recompiling everything.
 *
 * <p>Meaning: the new configuration equals the configuration of version {@code fromVersion} except for the routes
 * named in {@code routeIds} (each added, replaced or removed); every other resource is unchanged, and the unchanged
 * routes are the same {@link Route} objects. Sources deliver a delta only when that holds; otherwise they deliver the
 * configuration alone (consumers then recompile it whole).
 *
 * @param fromVersion the {@link ConfigSet#version()} this delta applies to
 * @param routeIds    ids of the routes added, replaced or removed
 */
public record ConfigDelta(long fromVersion, Set<String> routeIds) {
    public ConfigDelta {
        routeIds = Set.copyOf(routeIds);
    }
}
