package io.turnpike.tls.keyless;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslX509KeyManagerFactory;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProtocols;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;

import javax.net.ssl.SSLException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Consumer;

/**
 * The integration hook for the TLS core: server {@link SslContext}s for certificates whose private key lives on a key
 * server. The context holds only the certificate chain (netty's {@link OpenSslX509KeyManagerFactory#newKeyless}: no
 * key, not even a placeholder) and the {@link KeylessPrivateKeyMethod} as {@link
 * OpenSslContextOption#ASYNC_PRIVATE_KEY_METHOD}; the provider must be {@link SslProvider#OPENSSL} (BoringSSL).
 *
 * <pre>{@code
 * KeylessClient ks = KeylessClient.builder().remote("10.0.0.5", 9300).tls(gwCert, gwKey, ksCa).start(); // once
 * SslContext ctx = KeylessContexts.serverContext(chain, ks, b -> b.applicationProtocolConfig(alpn));
 * }</pre>
 *
 * Customisers may set ALPN, session options, OCSP, client auth and protocols; they should not widen the cipher list to
 * {@code TLS_RSA_*} suites (RSA key exchange needs {@code decrypt}, which keyless does not offer: such handshakes fail).
 */
public final class KeylessContexts {
    private KeylessContexts() {
    }

    /** TLS 1.2 ECDHE suites (ECDSA and RSA certificates) and the TLS 1.3 suites; no static-RSA key exchange. */
    public static final List<String> CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    /**
     * A builder preconfigured for a keyless certificate: {@code chain[0]} is the leaf whose key the key server holds,
     * followed by its intermediates. OPENSSL provider, TLS 1.3 + 1.2, {@link #CIPHERS}. Further options may be set on
     * the builder before {@code build()}.
     */
    public static SslContextBuilder serverContextBuilder(X509Certificate[] chain, KeylessClient client)
            throws SSLException {
        if (chain == null || chain.length == 0) {
            throw new IllegalArgumentException("keyless context needs a certificate chain");
        }
        if (!OpenSsl.isAvailable()) {
            throw new SSLException("keyless TLS needs BoringSSL (netty-tcnative)", OpenSsl.unavailabilityCause());
        }
        return SslContextBuilder.forServer(keyManagerFactory(chain))
                .sslProvider(SslProvider.OPENSSL)
                .protocols(SslProtocols.TLS_v1_3, SslProtocols.TLS_v1_2)
                .ciphers(CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .option(OpenSslContextOption.ASYNC_PRIVATE_KEY_METHOD, new KeylessPrivateKeyMethod(client, chain[0]));
    }

    /**
     * The key manager for a keyless certificate: the chain only (netty's {@code newKeyless}), no private key. For a
     * builder made elsewhere: {@code SslContextBuilder.forServer(KeylessContexts.keyManagerFactory(chain))}.
     */
    public static OpenSslX509KeyManagerFactory keyManagerFactory(X509Certificate[] chain) throws SSLException {
        if (chain == null || chain.length == 0) {
            throw new IllegalArgumentException("keyless context needs a certificate chain");
        }
        try {
            return OpenSslX509KeyManagerFactory.newKeyless(chain.clone());
        } catch (Exception e) {
            throw new SSLException("cannot build keyless key manager: " + e.getMessage(), e);
        }
    }

    /**
     * Turns a server builder the TLS core already configured (protocols, ciphers, ALPN, session cache, OCSP, client
     * auth, extra in-memory credentials) into a keyless one: its key material becomes {@code chain} without a key, and
     * the async private key method goes to {@code client}. Provider must be OPENSSL or OPENSSL_REFCNT.
     *
     * <p>BoringSSL applies a context's private key method to the context's own (legacy) certificate only; credentials
     * added with {@code addCredential} carry their own in-memory keys and keep signing locally. So one keyless
     * certificate per context, which may be combined with in-memory credentials of other key types.
     *
     * @param expectedKeyId the hex key id the ssl object names (SHA-256 of the SPKI), checked against {@code chain[0]};
     *                      null to skip the check
     */
    public static SslContextBuilder applyKeyless(SslContextBuilder builder, X509Certificate[] chain,
                                                 KeylessClient client, String expectedKeyId) throws SSLException {
        if (expectedKeyId != null && !expectedKeyId.isEmpty()) {
            String actual = KeyId.of(chain[0]).hex();
            if (!actual.equalsIgnoreCase(expectedKeyId)) {
                throw new SSLException("keyless key id " + expectedKeyId + " does not match the certificate "
                        + chain[0].getSubjectX500Principal() + " (its SPKI SHA-256 is " + actual + ")");
            }
        }
        return builder.keyManager(keyManagerFactory(chain))
                .option(OpenSslContextOption.ASYNC_PRIVATE_KEY_METHOD, new KeylessPrivateKeyMethod(client, chain[0]));
    }

    /** {@link #serverContextBuilder} built as is. */
    public static SslContext serverContext(X509Certificate[] chain, KeylessClient client) throws SSLException {
        return serverContextBuilder(chain, client).build();
    }

    /** {@link #serverContextBuilder}, then {@code customizer} (ALPN, OCSP, protocols...), then built. */
    public static SslContext serverContext(X509Certificate[] chain, KeylessClient client,
                                           Consumer<SslContextBuilder> customizer) throws SSLException {
        SslContextBuilder b = serverContextBuilder(chain, client);
        customizer.accept(b);
        return b.build();
    }
}
