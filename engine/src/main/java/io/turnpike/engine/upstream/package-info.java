/**
 * Upstream targets of a snapshot ({@link io.turnpike.engine.upstream.UpstreamTarget},
 * {@link io.turnpike.engine.upstream.NodeAddress}), per-loop balancers ({@link io.turnpike.engine.upstream.Balancer},
 * compiled per snapshot by {@link io.turnpike.engine.upstream.Balancers} into a
 * {@link io.turnpike.engine.upstream.BalancerSpec}; see docs/balancers.md) and per-loop keep-alive pools
 * ({@link io.turnpike.engine.upstream.NodePool}). Everything mutable here is confined to one event loop.
 */
package io.turnpike.engine.upstream;
