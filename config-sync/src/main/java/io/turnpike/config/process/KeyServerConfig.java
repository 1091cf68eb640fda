package io.turnpike.config.process;

import java.nio.file.Path;

/**
 * One keyless key server ({@code turnpike.keyless.<name>}): where it listens and the PEM files of the gateway's mutual
 * TLS identity toward it. An ssl object names it with {@code key_server: "<name>"} instead of carrying a {@code key}
 * (see docs/keyless.md).
 *
 * @param name       the key server's name, as ssl objects refer to it
 * @param host       host name or IP of {@code address}
 * @param port       port of {@code address}
 * @param cert       the gateway's client certificate chain (PEM file)
 * @param key        the gateway's client private key (PEM file)
 * @param ca         the CA the key server's certificate must chain to (PEM file)
 * @param serverName the name the key server's certificate must carry; null = {@code host}
 */
public record KeyServerConfig(String name, String host, int port, Path cert, Path key, Path ca, String serverName) {
}
