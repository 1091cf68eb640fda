/**
 * Upstream targets of a snapshot ({@link io.turnpike.engine.upstream.UpstreamTarget},
 * {@link io.turnpike.engine.upstream.NodeAddress}), per-loop balancers and per-loop keep-alive pools
 * ({@link io.turnpike.engine.upstream.NodePool}). Everything mutable here is confined to one event loop.
 */
package io.turnpike.engine.upstream;
