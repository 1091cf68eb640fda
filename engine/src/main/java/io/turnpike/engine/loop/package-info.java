/**
 * Per-event-loop state: {@link io.turnpike.engine.loop.LoopContext} (snapshot, pools, balancers, counters, upstream
 * bootstrap) and the {@link io.turnpike.engine.loop.ConnectionSweeper} that enforces timeouts with one periodic task
 * per loop instead of a timer per request. Everything here is confined to its loop.
 */
package io.turnpike.engine.loop;
