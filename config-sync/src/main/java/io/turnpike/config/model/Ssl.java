package io.turnpike.config.model;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A decoded, validated {@code ssls} entry (see {@link io.turnpike.config.codec.SslCodec}): parsed certificate chains
 * and private keys, the SNI names, client verification, protocols, and Turnpike's extensions (OCSP response, session
 * ticket keys). Certificates and keys are JDK objects; the TLS module turns them into BoringSSL contexts.
 *
 * @param pairs             {@code cert}/{@code key} first, then {@code certs[i]}/{@code keys[i]}
 * @param clientCa          trusted client CAs ({@code client.ca}); empty when client certificates are not asked for
 * @param clientDepth       {@code client.depth} (nginx's {@code ssl_verify_depth}: 1 = the client certificate is issued
 *                          directly by a CA of {@code client.ca})
 * @param protocols         {@code ssl_protocols}; empty = the gateway's default (TLSv1.2, TLSv1.3)
 * @param ocspResponse      DER OCSP response stapled to handshakes, or null
 * @param sessionTicketKeys 48-byte keys (name 16 | HMAC 16 | AES 16); the first encrypts, all decrypt; empty = the
 *                          process' own keys
 */
public record Ssl(String id, String type, List<String> snis, List<CertKeyPair> pairs, List<X509Certificate> clientCa,
                  int clientDepth, List<String> protocols, byte[] ocspResponse, List<byte[]> sessionTicketKeys,
                  boolean enabled) {

    public Ssl {
        snis = List.copyOf(snis);
        pairs = List.copyOf(pairs);
        clientCa = List.copyOf(clientCa);
        protocols = List.copyOf(protocols);
        sessionTicketKeys = List.copyOf(sessionTicketKeys);
    }

    /**
     * One certificate chain (leaf first) with its private key, or (keyless, Turnpike's {@code key_server} extension)
     * with the name of the key server that holds it.
     *
     * @param key       the private key; null when {@code keyServer} is set
     * @param keyServer a key server of {@code turnpike.keyless} (config.yaml); null when the key is in {@code key}
     */
    public record CertKeyPair(List<X509Certificate> chain, PrivateKey key, String keyServer) {
        public CertKeyPair {
            chain = List.copyOf(chain);
            if ((key == null) == (keyServer == null)) {
                throw new IllegalArgumentException("a certificate needs exactly one of a private key and a key server");
            }
        }

        public CertKeyPair(List<X509Certificate> chain, PrivateKey key) {
            this(chain, key, null);
        }

        /** True when the private key is held by a remote key server. */
        public boolean keyless() {
            return keyServer != null;
        }
    }
}
