package io.turnpike.engine.plugin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.engine.upstream.UpstreamTarget;

/**
 * How a plugin that routes to other upstreams (traffic-split) gets their {@link UpstreamTarget}s: compiled by the
 * snapshot compiler like a route's own upstream (pools, balancer, timeouts, TLS), deduplicated with every route and
 * plugin using the same upstream, reference-counted per route and freed with it. Given to
 * {@link PluginFactory#compile(ObjectNode, TargetResolver)} while one route's chain is compiled, on the snapshot
 * compiler's thread; never used on a loop.
 */
public interface TargetResolver {
    /**
     * The target of the upstream with this id.
     *
     * @throws IllegalArgumentException naming the id when there is no such upstream, or it cannot be compiled
     */
    UpstreamTarget byId(String upstreamId);

    /**
     * The target of an inline upstream (validated like a route's upstream).
     *
     * @param label where it was configured, for messages and the target's id (e.g. {@code traffic-split rule 1
     *              upstream 2})
     * @throws IllegalArgumentException with the validation error or why it cannot be compiled
     */
    UpstreamTarget inline(ObjectNode upstream, String label);
}
