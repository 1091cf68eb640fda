/**
 * The proxy path: {@link io.turnpike.engine.proxy.DownstreamHandler} (one per client connection) and
 * {@code UpstreamConnection} (one per pooled upstream connection), both confined to the same event loop, streaming
 * heads and bodies between them with back-pressure. See docs/proxy.md.
 */
package io.turnpike.engine.proxy;
