/**
 * The HTTP/2 upstream side of {@code scheme: grpc} / {@code grpcs} upstreams: {@link io.turnpike.engine.grpc.H2UpstreamPool}
 * (one per node per event loop) multiplexes {@link io.turnpike.engine.grpc.H2UpstreamStream}s over few connections
 * with Netty's connection-level HTTP/2 codec, reporting to an {@link io.turnpike.engine.grpc.H2UpstreamListener}.
 * Everything here is confined to its event loop. See docs/grpc-upstream.md.
 */
package io.turnpike.engine.grpc;
