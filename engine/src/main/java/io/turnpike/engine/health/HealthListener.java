package io.turnpike.engine.health;

/**
 * Told when a watched node changes between healthy and unhealthy (never for counter changes that leave it on the same
 * side, never twice for the same side). Called on the checker's thread ({@code turnpike-health}): it must not block
 * long; handing the change to the event loops is the listener's business.
 */
@FunctionalInterface
public interface HealthListener {
    void onHealthChange(String upstreamKey, HealthTarget target, boolean healthy);
}
