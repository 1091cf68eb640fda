package io.turnpike.tls;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * One server certificate configuration, as the TLS module needs it (built by the engine from a validated
 * {@code ssls} entry).
 *
 * @param snis              lower-case names, exact or {@code *.suffix}
 * @param keys              one or more certificate types (e.g. ECDSA and RSA); BoringSSL picks per handshake
 * @param clientCa          trusted client CAs; empty = no client certificate asked for
 * @param clientDepth       nginx's {@code ssl_verify_depth}
 * @param protocols         empty = {@link TlsDefaults#protocols()}
 * @param ocspResponse      stapled when the client asks (status_request), or null
 * @param sessionTicketKeys empty = the process' keys ({@link TlsDefaults#ticketKeys()})
 * @param fingerprint       identifies the source (e.g. the raw JSON): an unchanged fingerprint reuses the context
 */
public record SslSpec(String id, List<String> snis, List<CertifiedKey> keys, List<X509Certificate> clientCa,
                      int clientDepth, List<String> protocols, byte[] ocspResponse, List<byte[]> sessionTicketKeys,
                      String fingerprint) {
    public SslSpec {
        snis = List.copyOf(snis);
        keys = List.copyOf(keys);
        clientCa = List.copyOf(clientCa);
        protocols = List.copyOf(protocols);
        sessionTicketKeys = List.copyOf(sessionTicketKeys);
    }
}
