package io.turnpike.tls;

import io.netty.handler.ssl.OpenSsl;

/**
 * Availability of netty-tcnative's BoringSSL, the only TLS engine Turnpike terminates with. The TLS listeners, SNI
 * table, keyless signing and ticket keys of the TLS issue are built on top of it in this module.
 */
public final class BoringSsl {
    private BoringSsl() {
    }

    public static boolean isAvailable() {
        return OpenSsl.isAvailable() && OpenSsl.versionString() != null
                && OpenSsl.versionString().contains("BoringSSL");
    }

    /** One line for {@code turnpike version}: the library version or why it did not load. */
    public static String describe() {
        if (!OpenSsl.isAvailable()) {
            Throwable cause = OpenSsl.unavailabilityCause();
            return "BoringSSL unavailable (" + (cause == null ? "unknown" : cause.getMessage()) + ")";
        }
        return OpenSsl.versionString() + (isAvailable() ? "" : " (not BoringSSL)")
                + ", protocols " + OpenSsl.availableJavaCipherSuites().size() + " cipher suites"
                + ", TLSv1.3 " + (io.netty.handler.ssl.SslProvider.isTlsv13Supported(io.netty.handler.ssl.SslProvider.OPENSSL)
                ? "supported" : "unsupported");
    }
}
