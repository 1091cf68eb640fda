package io.turnpike.tls.client;

import io.turnpike.tls.CertifiedKey;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * One upstream TLS configuration (an upstream's {@code tls}), as the client context factory needs it.
 *
 * @param verify      verify the upstream's certificate chain and host name ({@code tls.verify}; APISIX's default is
 *                    false, and so is ours)
 * @param ca          extra trusted CAs ({@code tls.ca}, a Turnpike extension), trusted besides the JVM's default trust
 *                    store; only used with {@code verify}
 * @param clientCert  the client certificate and key to present when the upstream asks for one, or null
 * @param fingerprint identifies the source configuration: an unchanged fingerprint reuses the context
 * @param h2          ALPN offers {@code h2} only (a {@code grpcs} upstream); else {@code http/1.1}
 */
public record ClientTlsSpec(boolean verify, List<X509Certificate> ca, CertifiedKey clientCert, String fingerprint,
                            boolean h2) {
    public ClientTlsSpec {
        ca = List.copyOf(ca);
    }

    public ClientTlsSpec(boolean verify, List<X509Certificate> ca, CertifiedKey clientCert, String fingerprint) {
        this(verify, ca, clientCert, fingerprint, false);
    }
}
