/**
 * JSON decoding and validation of APISIX resources ({@link io.turnpike.config.codec.ResourceCodec}), and
 * compilation of decoded entries into a {@link io.turnpike.config.model.ConfigSet} with every reference resolved
 * ({@link io.turnpike.config.codec.ConfigCompiler}). Sources (etcd, the standalone file, the Admin API) all go
 * through here, so they accept and reject exactly the same things with the same messages.
 */
package io.turnpike.config.codec;
