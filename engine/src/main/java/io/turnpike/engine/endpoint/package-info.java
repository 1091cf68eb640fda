/**
 * Endpoints: an upstream's nodes, their health and priority, published to the event loops per upstream apart from the
 * route snapshot. Threads: {@link io.turnpike.engine.endpoint.EndpointSlot}'s inputs come from background threads
 * (config-sync, the health checker, the DNS resolver), serialised by the slot; the loops read the slot's immutable
 * {@link io.turnpike.engine.endpoint.Endpoints} with one volatile read per pick and rebuild their own balancer when it
 * changed. See docs/health.md and docs/discovery.md.
 */
package io.turnpike.engine.endpoint;
