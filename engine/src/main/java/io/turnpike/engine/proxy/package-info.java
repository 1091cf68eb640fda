/**
 * The proxy path, confined to one event loop per connection: {@link io.turnpike.engine.proxy.Http1ServerConnection}
 * (one per client connection: codec, pipelining, back-pressure, deadlines) feeds its {@code Exchange} (one request in
 * flight: route, balancer pick, pool, retries, response relay), which drives an {@code UpstreamConnection} (one per
 * pooled upstream socket). The upstream side sees the exchange only as an {@code ExchangeSink}; the exchange sees the
 * client connection only as a {@code ServerStream}. See docs/proxy.md.
 */
package io.turnpike.engine.proxy;
