package io.turnpike.config.process;

/** One HTTPS listener ({@code apisix.ssl.listen[]}); {@code fallbackSni} overrides the global one, nullable. */
public record SslListen(String ip, int port, String fallbackSni) {
}
