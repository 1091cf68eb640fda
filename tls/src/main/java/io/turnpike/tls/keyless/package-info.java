/**
 * Keyless TLS: the gateway terminates TLS with a certificate whose private key it never holds. BoringSSL's
 * private-key operation (the handshake signature) is handed to netty's {@link
 * io.netty.handler.ssl.OpenSslAsyncPrivateKeyMethod}, which {@link io.turnpike.tls.keyless.KeylessPrivateKeyMethod}
 * forwards over a pipelined, mutually authenticated TLS connection ({@link io.turnpike.tls.keyless.KeylessClient}) to
 * a {@link io.turnpike.tls.keyless.KeyServer} that holds the keys. The wire format is in {@link
 * io.turnpike.tls.keyless.KeylessProtocol} and {@code docs/keyless.md}; the hook for the TLS core is {@link
 * io.turnpike.tls.keyless.KeylessContexts}.
 */
package io.turnpike.tls.keyless;
