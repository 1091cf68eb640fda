package io.turnpike.tls;

import java.security.SecureRandom;
import java.util.List;

/**
 * Process-wide TLS settings applied to every server context.
 *
 * @param protocols        when an ssl object sets no {@code ssl_protocols}
 * @param ciphers          TLS 1.2 cipher suites (OpenSSL names; TLS 1.3 suites are BoringSSL's fixed set)
 * @param alpn             protocols advertised by ALPN, in preference order ({@code http/1.1}, or {@code h2} first when the HTTPS
 *                         listeners take HTTP/2)
 * @param sessionCacheSize server-side session cache entries per context (0 = BoringSSL's default)
 * @param sessionTimeoutS  session lifetime for the cache and tickets, seconds
 * @param ticketKeys       48-byte session ticket keys used by ssl objects without their own; the first encrypts. Random
 *                         per process by default, so a context rebuilt by a rotation still resumes this process'
 *                         sessions; set the same keys on several processes (or put keys on the ssl objects) to
 *                         resume across a fleet.
 */
public record TlsDefaults(List<String> protocols, List<String> ciphers, List<String> alpn, int sessionCacheSize,
                          int sessionTimeoutS, List<byte[]> ticketKeys) {

    /**
     * Mozilla's "intermediate" TLS 1.2 suites (ECDHE with AES-GCM / ChaCha20-Poly1305), ECDSA first. TLS 1.3 suites
     * are not configurable in BoringSSL.
     */
    public static final List<String> INTERMEDIATE_CIPHERS = List.of(
            "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
            // TLS 1.3 suites, as netty names them (kept so netty does not filter TLS 1.3 out).
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

    public TlsDefaults {
        protocols = List.copyOf(protocols);
        ciphers = List.copyOf(ciphers);
        alpn = List.copyOf(alpn);
        ticketKeys = List.copyOf(ticketKeys);
    }

    /** TLS 1.2 + 1.3, intermediate ciphers, ALPN http/1.1, 20480 cached sessions, 300 s, random ticket keys. */
    public static TlsDefaults defaults() {
        return withTicketKeys(List.of(randomTicketKey()));
    }

    public static TlsDefaults withTicketKeys(List<byte[]> keys) {
        return new TlsDefaults(List.of("TLSv1.2", "TLSv1.3"), INTERMEDIATE_CIPHERS, List.of("http/1.1"), 20480, 300,
                keys);
    }

    /** These defaults with ALPN offering {@code protocols} (preference order), e.g. {@code h2, http/1.1}. */
    public TlsDefaults withAlpn(List<String> protocols) {
        return new TlsDefaults(this.protocols, ciphers, protocols, sessionCacheSize, sessionTimeoutS, ticketKeys);
    }

    public static byte[] randomTicketKey() {
        byte[] k = new byte[SessionTicketKeys.KEY_BYTES];
        new SecureRandom().nextBytes(k);
        return k;
    }
}
