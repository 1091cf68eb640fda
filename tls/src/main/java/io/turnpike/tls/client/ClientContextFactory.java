package io.turnpike.tls.client;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.turnpike.tls.KeySource;
import io.turnpike.tls.ServerContextFactory;
import io.turnpike.tls.TlsDefaults;

import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Builds BoringSSL client contexts ({@link ReferenceCountedOpenSslContext}) for TLS to upstreams: the gateway's
 * protocols and TLS 1.2 ciphers ({@link TlsDefaults}), ALPN {@code http/1.1} only (the proxy speaks HTTP/1.1
 * upstream, whatever the listeners advertise), an optional client certificate, and either no verification (APISIX's
 * default) or PKIX verification against the JVM's default trust store plus the configured CAs with the host name
 * checked ({@code HTTPS} endpoint identification: the name is the SNI the engine was created for).
 *
 * <p>Thread-safe (stateless); runs on the config-sync thread, never on an event loop. BoringSSL's client session cache
 * (keyed by peer host and port) gives resumption when a pooled connection is replaced.
 */
public final class ClientContextFactory {
    private static final List<String> ALPN = List.of("http/1.1");
    private static final List<String> ALPN_H2 = List.of("h2");

    private final TlsDefaults defaults;

    public ClientContextFactory(TlsDefaults defaults) {
        this.defaults = defaults;
    }

    /** A new context with one reference owned by the caller. */
    public ReferenceCountedOpenSslContext build(ClientTlsSpec spec) throws SSLException {
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(SslProvider.OPENSSL_REFCNT)
                .protocols(defaults.protocols())
                .ciphers(defaults.ciphers(), IdentityCipherSuiteFilter.INSTANCE_DEFAULTING_TO_SUPPORTED_CIPHERS)
                .sessionTimeout(defaults.sessionTimeoutS())
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        spec.h2() ? ALPN_H2 : ALPN));
        if (spec.verify()) {
            b.trustManager(trust(spec.ca())).endpointIdentificationAlgorithm("HTTPS");
        } else {
            b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
        }
        if (spec.clientCert() != null) {
            if (!(spec.clientCert().key() instanceof KeySource.InMemory m)) {
                throw new SSLException("client certificate: " + spec.clientCert().key().describe()
                        + " is not supported for upstream TLS");
            }
            b.keyManager(m.key(), spec.clientCert().chain())
                    .keyStoreType(ServerContextFactory.KEY_HANDOVER_STORE);
        }
        return (ReferenceCountedOpenSslContext) b.build();
    }

    /** The JVM's default trust store, plus {@code extra} when given. */
    static TrustManagerFactory trust(List<X509Certificate> extra) throws SSLException {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init((KeyStore) null);
            if (extra.isEmpty()) {
                return tmf;
            }
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    for (X509Certificate c : x.getAcceptedIssuers()) {
                        ks.setCertificateEntry("default-" + i++, c);
                    }
                }
            }
            for (X509Certificate c : extra) {
                ks.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory combined =
                    TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            combined.init(ks);
            return combined;
        } catch (Exception e) {
            throw new SSLException("tls.ca: " + e.getMessage(), e);
        }
    }
}
