package io.turnpike.config.process;

/**
 * One HTTPS listener ({@code apisix.ssl.listen[]}); {@code fallbackSni} overrides the global one, nullable;
 * {@code http2}: ALPN offers {@code h2} before {@code http/1.1} (the same on every listener: see
 * {@link SslConfig#http2()}).
 */
public record SslListen(String ip, int port, String fallbackSni, boolean http2) {
    public SslListen(String ip, int port, String fallbackSni) {
        this(ip, port, fallbackSni, false);
    }
}
