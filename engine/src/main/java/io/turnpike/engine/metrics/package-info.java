/**
 * Per-loop counters ({@link io.turnpike.engine.metrics.LoopCounters}) written without synchronisation by their loop
 * and merged on scrape, and the catalogue of gateway errors ({@link io.turnpike.engine.metrics.GatewayError}).
 */
package io.turnpike.engine.metrics;
