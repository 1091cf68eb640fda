package io.turnpike.tls;

import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.turnpike.tls.keyless.KeylessException;

import java.nio.channels.ClosedChannelException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.Locale;

/**
 * Why a downstream TLS handshake did not complete, as counted per event loop ({@link TlsHandshakeCounters}) and shown
 * by {@code GET /status} under {@code tls.handshake_failures}.
 */
public enum HandshakeFailure {
    /** The ClientHello named a server name that no ssl object serves: alert {@code unrecognized_name}. */
    UNKNOWN_SNI,
    /** No SNI (or an IP literal) and no {@code fallback_sni}, or no ssl object serves it: {@code handshake_failure}. */
    NO_SNI,
    /** No protocol version, cipher suite, group or signature algorithm in common with the client. */
    PROTOCOL,
    /** mTLS: the client sent no certificate, or one that does not verify against {@code client.ca}. */
    CLIENT_CERTIFICATE,
    /**
     * The client aborted the handshake with an alert (e.g. it does not trust the certificate it was sent). In TLS 1.3,
     * OpenSSL's client sends that alert unencrypted, which BoringSSL reports as a malformed record: {@link #OTHER}.
     */
    PEER_ALERT,
    /** The key server could not sign (down, timed out, refused): the handshake on a keyless certificate failed. */
    KEYLESS,
    /** The bytes on the HTTPS port were not TLS (e.g. plain HTTP). */
    NOT_TLS,
    /**
     * The connection closed before the handshake completed: the client went away, or the gateway closed it when
     * {@code header_timeout_ms} passed without a complete handshake and request head.
     */
    CLOSED,
    /** Anything else (a malformed handshake message, an internal error). */
    OTHER;

    /** The name in the status JSON: {@code unknown_sni}, {@code no_sni}, ... */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Classifies the cause of a failed handshake future (netty's {@code SslHandler.handshakeFuture()}). Runs on failures
     * only, so it may look at messages: BoringSSL's reasons appear in netty's exceptions as
     * {@code error:...:SSL routines:OPENSSL_internal:REASON}.
     */
    public static HandshakeFailure classify(Throwable cause) {
        int depth = 0;
        for (Throwable t = cause; t != null && depth < 8; t = t.getCause(), depth++) {
            if (t instanceof KeylessException) {
                return KEYLESS;
            }
            if (t instanceof NotSslRecordException) {
                return NOT_TLS;
            }
            if (t instanceof ClosedChannelException || t instanceof SslHandshakeTimeoutException) {
                return CLOSED;
            }
            if (t instanceof CertificateException || t instanceof CertPathValidatorException) {
                return CLIENT_CERTIFICATE;
            }
            HandshakeFailure byMessage = byMessage(t.getMessage());
            if (byMessage != null) {
                return byMessage;
            }
        }
        return OTHER;
    }

    private static HandshakeFailure byMessage(String m) {
        if (m == null) {
            return null;
        }
        if (m.contains("PRIVATE_KEY_OPERATION_FAILED")) {
            return KEYLESS;
        }
        if (m.contains("UNSUPPORTED_PROTOCOL") || m.contains("WRONG_VERSION_NUMBER") || m.contains("UNKNOWN_PROTOCOL")
                || m.contains("NO_SHARED_") || m.contains("WRONG_CURVE")
                || m.contains("NO_COMMON_SIGNATURE_ALGORITHMS") || m.contains("ALERT_PROTOCOL_VERSION")
                || m.contains("INAPPROPRIATE_FALLBACK") || m.contains("ALERT_INSUFFICIENT_SECURITY")) {
            return PROTOCOL;
        }
        if (m.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") || m.contains("CERTIFICATE_VERIFY_FAILED")) {
            return CLIENT_CERTIFICATE;
        }
        if (m.contains("_ALERT_")) {
            return PEER_ALERT;
        }
        return null;
    }
}
