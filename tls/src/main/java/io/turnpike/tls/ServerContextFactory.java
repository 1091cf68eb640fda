package io.turnpike.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.OpenSslCredential;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslCredentialBuilder;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.SimpleTrustManagerFactory;
import io.turnpike.tls.keyless.KeylessClients;
import io.turnpike.tls.keyless.KeylessContexts;

import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds one BoringSSL server context ({@link ReferenceCountedOpenSslContext}) per ssl object: its certificate types,
 * protocols, ciphers, ALPN, session cache and ticket keys, OCSP stapling, client verification.
 *
 * <p>Several certificate types for one name (ECDSA and RSA): BoringSSL holds one legacy certificate per context, so
 * the first pair is the context's key material and every further pair is added as a BoringSSL credential
 * ({@code SSL_CTX_add1_credential}); BoringSSL then picks, per handshake, the first credential the client can use
 * (its signature algorithms, and for TLS 1.2 its cipher suites), trying the added credentials before the legacy one.
 * The pairs are therefore ordered ECDSA first, so that a client supporting both gets the cheaper ECDSA handshake.
 *
 * <p>Keyless: a certificate whose key is a {@link KeySource.Remote} becomes the context's legacy certificate, with
 * the chain only ({@link KeylessContexts#keyManagerFactory}) and netty's async private key method bound to the key
 * server's {@link io.turnpike.tls.keyless.KeylessClient} ({@link KeylessContexts#applyKeyless}). BoringSSL applies the
 * private key method to the legacy certificate only, so a context holds at most one keyless certificate; its other
 * certificate types must be in memory.
 *
 * <p>Thread-safe (stateless); runs on the config-sync thread, never on an event loop.
 */
public final class ServerContextFactory {
    private final TlsDefaults defaults;
    private final KeylessClients keyless;

    public ServerContextFactory(TlsDefaults defaults) {
        this(defaults, null);
    }

    /** {@code keyless}: the process's key server clients by name; null = none (remote keys are refused). */
    public ServerContextFactory(TlsDefaults defaults, KeylessClients keyless) {
        this.defaults = defaults;
        this.keyless = keyless;
    }

    public TlsDefaults defaults() {
        return defaults;
    }

    /**
     * The in-memory key store netty puts a key and chain given as objects in on its way to BoringSSL (it stores the
     * key, then reads it back). netty's default, PKCS12, encrypts and decrypts the key with PBKDF2 (10,000
     * iterations each way): 8-9 ms of the ~20 ms one context costs, per ssl object and per rebuild, and a C2
     * compilation of the JDK's HMAC loop during the start. JKS protects the entry with a single SHA-1 pass; the store
     * never leaves the process (the key is in memory here anyway), so its protection buys nothing.
     */
    public static final String KEY_HANDOVER_STORE = "JKS";

    /** A new context with one reference owned by the caller. */
    public ReferenceCountedOpenSslContext build(SslSpec spec) throws SSLException {
        List<CertifiedKey> keys = new ArrayList<>(spec.keys());
        // ECDSA (and EdDSA) first: see the class comment.
        keys.sort((a, b) -> Boolean.compare("RSA".equals(a.keyType()), "RSA".equals(b.keyType())));
        // A keyless certificate must be the legacy one (the private key method applies to it only): last.
        keys.sort((a, b) -> Boolean.compare(a.key() instanceof KeySource.Remote, b.key() instanceof KeySource.Remote));
        List<CertifiedKey> credentials = keys.subList(0, keys.size() - 1);
        CertifiedKey legacy = keys.get(keys.size() - 1);
        X509Certificate[] legacyChain = legacy.chain().toArray(new X509Certificate[0]);
        KeySource.Remote remote = legacy.key() instanceof KeySource.Remote r ? r : null;
        SslContextBuilder b = (remote != null
                ? SslContextBuilder.forServer(KeylessContexts.keyManagerFactory(legacyChain))
                : SslContextBuilder.forServer(inMemory(legacy, spec), legacy.chain()))
                .sslProvider(SslProvider.OPENSSL_REFCNT)
                .keyStoreType(KEY_HANDOVER_STORE)
                .protocols(spec.protocols().isEmpty() ? defaults.protocols() : spec.protocols())
                .ciphers(defaults.ciphers(), IdentityCipherSuiteFilter.INSTANCE_DEFAULTING_TO_SUPPORTED_CIPHERS)
                .sessionCacheSize(defaults.sessionCacheSize())
                .sessionTimeout(defaults.sessionTimeoutS())
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, defaults.alpn()))
                .enableOcsp(spec.ocspResponse() != null)
                // The certificate (key material) and client-verification callbacks run inline in SSL_do_handshake
                // rather than as a delegated task, which costs an extra SSL_do_handshake round trip through JNI and a
                // task object per handshake. Keyless keeps tasks: its private key operation is asynchronous.
                .option(OpenSslContextOption.USE_TASKS, remote != null);
        List<OpenSslCredential> built = new ArrayList<>();
        try {
            for (CertifiedKey k : credentials) {
                OpenSslCredential c = OpenSslCredentialBuilder.forX509(inMemory(k, spec),
                        k.chain().toArray(new X509Certificate[0])).build();
                built.add(c);
                b.addCredential(c);
            }
            if (!spec.clientCa().isEmpty()) {
                b.trustManager(clientTrust(spec)).clientAuth(ClientAuth.REQUIRE);
            } else {
                b.trustManager(NoClientCertificates.FACTORY);
            }
            if (remote != null) {
                if (keyless == null) {
                    throw new SSLException("ssl " + spec.id() + ": " + remote.describe()
                            + ", but no key servers are configured (turnpike.keyless)");
                }
                KeylessContexts.applyKeyless(b, legacyChain, keyless.get(remote.keyServer()), remote.keyId());
            }
            SslContext ctx = b.build();
            ReferenceCountedOpenSslContext rc = (ReferenceCountedOpenSslContext) ctx;
            rc.sessionContext().setTicketKeys(SessionTicketKeys.toNetty(
                    spec.sessionTicketKeys().isEmpty() ? defaults.ticketKeys() : spec.sessionTicketKeys()));
            return rc;
        } finally {
            // The context holds its own reference on each credential it was given.
            for (OpenSslCredential c : built) {
                c.release();
            }
        }
    }

    private static java.security.PrivateKey inMemory(CertifiedKey k, SslSpec spec) throws SSLException {
        if (k.key() instanceof KeySource.InMemory m) {
            return m.key();
        }
        // Only the legacy certificate can be keyless (see the class comment); build() handles that one.
        throw new SSLException("ssl " + spec.id() + ": " + k.key().describe() + ": only one keyless certificate per"
                + " ssl object is supported (its other certificates need their key)");
    }

    /**
     * The trust of a context that asks for no client certificate. Without one, netty takes the JVM's default trust
     * store and hands its ~150 CA names to BoringSSL as the issuers a client certificate may come from (PEM-encoded
     * in Java, parsed natively): ~10 ms per context, most of building one, for a list that is only sent with a
     * certificate request, which such a context never makes. This trust lists no issuers and, should it ever be asked,
     * trusts no client certificate.
     */
    static final class NoClientCertificates extends X509ExtendedTrustManager {
        static final TrustManagerFactory FACTORY = new SimpleTrustManagerFactory() {
            private final TrustManager[] managers = {new NoClientCertificates()};

            @Override
            protected void engineInit(KeyStore keyStore) {
            }

            @Override
            protected void engineInit(ManagerFactoryParameters params) {
            }

            @Override
            protected TrustManager[] engineGetTrustManagers() {
                return managers.clone();
            }
        };
        private static final X509Certificate[] NONE = new X509Certificate[0];

        private static CertificateException refused() {
            return new CertificateException("this ssl object has no client.ca: client certificates"
                    + " are not accepted");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType)
                throws CertificateException {
            throw refused();
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw refused();
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw refused();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType)
                throws CertificateException {
            throw refused();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw refused();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw refused();
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return NONE;
        }
    }

    /**
     * PKIX verification of client certificates against {@code client.ca}, at most {@code client.depth - 1}
     * intermediates (nginx's {@code ssl_verify_depth} counts the client certificate; PKIX's max path length does not).
     */
    private static TrustManagerFactory clientTrust(SslSpec spec) throws SSLException {
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (X509Certificate ca : spec.clientCa()) {
                ks.setCertificateEntry("ca-" + i++, ca);
            }
            PKIXBuilderParameters p = new PKIXBuilderParameters(ks, new X509CertSelector());
            p.setRevocationEnabled(false);
            p.setMaxPathLength(Math.max(0, spec.clientDepth() - 1));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(new CertPathTrustManagerParameters(p));
            return tmf;
        } catch (Exception e) {
            throw new SSLException("ssl " + spec.id() + ": client.ca: " + e.getMessage(), e);
        }
    }
}
