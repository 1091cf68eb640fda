/**
 * TLS on BoringSSL (netty-tcnative). Today: availability and version probing for the CLI. The TLS milestone adds
 * SNI contexts with per-port fallback, keyless signing, ticket keys and upstream TLS here.
 */
package io.turnpike.tls;
