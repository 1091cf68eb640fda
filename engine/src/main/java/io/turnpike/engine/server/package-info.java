/**
 * Transports (epoll with SO_REUSEPORT, NIO fallback), listeners and the data plane lifecycle
 * ({@link io.turnpike.engine.server.GatewayServer}: start, drain, close).
 */
package io.turnpike.engine.server;
