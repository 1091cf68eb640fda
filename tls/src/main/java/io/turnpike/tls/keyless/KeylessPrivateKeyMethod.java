package io.turnpike.tls.keyless;

import io.netty.handler.ssl.OpenSslAsyncPrivateKeyMethod;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * BoringSSL's private-key operation for keyless certificates: {@link #sign} sends the data to be signed to the key
 * server through a {@link KeylessClient} and returns its future at once, so the handshake is suspended (netty reports
 * NEED_TASK and resumes it on the channel's event loop when the future completes) and the event loop is never blocked.
 *
 * <p>The key is chosen by the SHA-256 of the SubjectPublicKeyInfo of the certificate BoringSSL selected for the
 * engine; a method built for one certificate uses that certificate's key id directly. {@link #decrypt} (RSA key
 * exchange, {@code TLS_RSA_*} suites) is not supported: keyless contexts offer ECDHE suites and TLS 1.3 only.
 */
public final class KeylessPrivateKeyMethod implements OpenSslAsyncPrivateKeyMethod {
    private final KeylessClient client;
    private final Map<PublicKey, KeyId> keyIds;
    private final KeyId only;

    /** A method for the given certificates (each a leaf whose key the key server holds). */
    public KeylessPrivateKeyMethod(KeylessClient client, X509Certificate... leaves) {
        if (leaves.length == 0) {
            throw new IllegalArgumentException("at least one certificate is needed");
        }
        this.client = client;
        Map<PublicKey, KeyId> ids = new LinkedHashMap<>();
        for (X509Certificate c : leaves) {
            ids.put(c.getPublicKey(), KeyId.of(c));
        }
        this.keyIds = Map.copyOf(ids);
        this.only = ids.size() == 1 ? ids.values().iterator().next() : null;
    }

    public KeylessClient client() {
        return client;
    }

    @Override
    public Future<byte[]> sign(SSLEngine engine, int signatureAlgorithm, byte[] input) {
        try {
            KeyId id = only != null ? only : keyIdFor(engine);
            return client.sign(id, signatureAlgorithm, input);
        } catch (Throwable t) {
            // never throw into netty/native code: a failed future fails the handshake cleanly
            return ImmediateEventExecutor.INSTANCE.newFailedFuture(t instanceof KeylessException ke ? ke
                    : new KeylessException(KeylessException.Reason.INTERNAL, -1, String.valueOf(t), t));
        }
    }

    @Override
    public Future<byte[]> decrypt(SSLEngine engine, byte[] input) {
        return ImmediateEventExecutor.INSTANCE.newFailedFuture(new KeylessException(
                KeylessException.Reason.UNSUPPORTED,
                "RSA key exchange (decrypt) is not supported for keyless certificates; use ECDHE suites or TLS 1.3"));
    }

    private KeyId keyIdFor(SSLEngine engine) throws KeylessException {
        SSLSession session = engine.getHandshakeSession();
        if (session == null) {
            session = engine.getSession();
        }
        Certificate[] local = session == null ? null : session.getLocalCertificates();
        if (local == null || local.length == 0) {
            throw new KeylessException(KeylessException.Reason.INTERNAL, "no local certificate on the engine");
        }
        PublicKey pk = local[0].getPublicKey();
        KeyId id = keyIds.get(pk);
        return id != null ? id : KeyId.of(pk);
    }
}
