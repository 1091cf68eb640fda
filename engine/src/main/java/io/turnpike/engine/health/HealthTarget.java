package io.turnpike.engine.health;

import java.net.InetSocketAddress;

/**
 * One node of an upstream as the checker sees it: its resolved address and the host it was configured with. Two
 * targets are the same node when both are equal (state is kept across {@link HealthChecker#watch} calls by this
 * identity). Immutable.
 *
 * @param address the node's resolved address (the probe connects to it, on {@code checks.active.port} when set)
 * @param host    the node's host as configured (a name or an IP literal): Host header and SNI of the probes unless
 *                {@code checks.active.host} is set
 */
public record HealthTarget(InetSocketAddress address, String host) {
}
