/**
 * TLS toward upstreams: BoringSSL client contexts built from an upstream's {@code tls} (verification, extra CAs,
 * client certificate). See docs/tls.md, "Upstream TLS".
 */
package io.turnpike.tls.client;
