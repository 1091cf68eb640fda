/**
 * Turnpike's own zero-allocation HTTP/1.1 codec: {@link io.turnpike.engine.codec.RequestHeadParser} and
 * {@link io.turnpike.engine.codec.ResponseHeadParser} record the spans of a message head (absolute indexes into the
 * received {@link io.netty.buffer.ByteBuf}) in a reused {@link io.turnpike.engine.codec.RequestHead} /
 * {@link io.turnpike.engine.codec.ResponseHead}; {@link io.turnpike.engine.codec.BodyFramer} streams a body
 * (Content-Length, chunked with validated but untouched framing, or until close) without buffering it.
 *
 * <p>Nothing here allocates per message in the steady state, and nothing moves a buffer's reader or writer index.
 * Every object is meant to be owned by one connection and used only on that connection's event loop; none is
 * thread-safe. The parsers are strict (a gateway sits in front of other parsers): they reject at least everything
 * llhttp's strict mode rejects, checked by the llhttp conformance corpus test. Rules, limits and the deliberate
 * deviations from llhttp are documented in {@code docs/codec.md}.
 */
package io.turnpike.engine.codec;
