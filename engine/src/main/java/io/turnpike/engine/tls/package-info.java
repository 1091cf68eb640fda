/**
 * Engine-side glue of downstream TLS: {@code ssls} entries of a configuration → {@link io.turnpike.tls.SslSpec}s →
 * the snapshot's {@link io.turnpike.tls.TlsTable}, and the HTTPS listener description. The TLS machinery itself
 * (contexts, SNI selection, ticket keys) lives in the {@code tls} module; see docs/tls.md.
 */
package io.turnpike.engine.tls;
