package io.turnpike.config.process;

import java.util.List;

/**
 * {@code apisix.ssl}: whether HTTPS listeners are opened (APISIX default true), on which ports (default
 * 0.0.0.0:9443), and the SNI to use when a client sends none (nullable).
 */
public record SslConfig(boolean enable, List<SslListen> listen, String fallbackSni) {
    public static final int DEFAULT_PORT = 9443;
    public static final SslConfig DEFAULT = new SslConfig(true, List.of(new SslListen("0.0.0.0", DEFAULT_PORT, null)),
            null);

    public SslConfig {
        listen = List.copyOf(listen);
    }

    /**
     * The HTTPS listeners offer HTTP/2 by ALPN. The certificates' TLS contexts are shared by every listener, so this is
     * one setting for all of them (the loader refuses listeners that disagree).
     */
    public boolean http2() {
        return !listen.isEmpty() && listen.get(0).http2();
    }
}
