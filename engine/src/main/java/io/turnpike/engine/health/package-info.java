/**
 * Upstream health checks (APISIX's {@code checks}): one {@link io.turnpike.engine.health.HealthChecker} per process
 * probes nodes from its own thread ({@code turnpike-health}) and keeps one lock-free state word per node, which the
 * event loops feed with passive reports through {@link io.turnpike.engine.health.PassiveReporter} without allocating
 * or locking. See docs/health.md.
 */
package io.turnpike.engine.health;
