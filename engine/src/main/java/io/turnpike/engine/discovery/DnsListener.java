package io.turnpike.engine.discovery;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Receives a watched name's node set. */
@FunctionalInterface
public interface DnsListener {

    /**
     * Called on the {@code turnpike-dns} thread with the first node set of a watch and then whenever it changes
     * (never with an empty set: a failed or empty resolution keeps the last good set). Must not block.
     *
     * @return completes when every event loop applied {@code nodes}; {@link DnsDiscovery#refresh} answers only then
     */
    CompletableFuture<?> onNodes(String name, List<ResolvedNode> nodes);
}
