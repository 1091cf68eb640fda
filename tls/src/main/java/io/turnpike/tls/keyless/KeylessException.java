package io.turnpike.tls.keyless;

import javax.net.ssl.SSLException;

/** Why a keyless private-key operation failed; it becomes the cause of the failed TLS handshake. */
public final class KeylessException extends SSLException {
    private static final long serialVersionUID = 1L;

    /** Failure classes, as counted by {@link KeylessClient#snapshot()}. */
    public enum Reason {
        /** No answer within the request timeout. */
        TIMEOUT,
        /** No connection to the key server (down, refusing us, or the last connect failed and we are backing off). */
        UNAVAILABLE,
        /** The connection carrying the request closed before the answer came. */
        CONNECTION_LOST,
        /** The key server answered with an error status (see {@link #status()}). */
        KEY_SERVER_ERROR,
        /** Too many requests waiting for a connection. */
        OVERLOADED,
        /** The operation is not supported (RSA decryption). */
        UNSUPPORTED,
        /** The client is closed. */
        CLOSED,
        /** A local failure (bad input, no certificate on the engine). */
        INTERNAL
    }

    private final Reason reason;
    private final int status;

    public KeylessException(Reason reason, String message) {
        this(reason, -1, message, null);
    }

    public KeylessException(Reason reason, int status, String message, Throwable cause) {
        super("keyless " + reason + (status >= 0 ? " (" + KeylessProtocol.statusName(status) + ")" : "")
                + ": " + message, cause);
        this.reason = reason;
        this.status = status;
    }

    public Reason reason() {
        return reason;
    }

    /** The key server's status for {@link Reason#KEY_SERVER_ERROR}, else -1. */
    public int status() {
        return status;
    }
}
