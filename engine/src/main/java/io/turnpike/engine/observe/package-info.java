/**
 * What the loops tell observers about every exchange: the {@link io.turnpike.engine.observe.ExchangeRecord} (one per
 * exchange object, reused), filled by the connection and the exchange on the loop, and the
 * {@link io.turnpike.engine.observe.ExchangeObserver}s (access log, metrics, tracing) installed per loop at start-up.
 * Observers run on the loop: they copy what they need into per-loop slots or rings and never block, lock or allocate
 * in the steady state. See docs/observability.md.
 */
package io.turnpike.engine.observe;
