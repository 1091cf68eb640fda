package io.turnpike.engine.tls;

import java.net.InetSocketAddress;

/** One HTTPS listener: where it binds, and the name whose certificate clients without SNI get (nullable). */
public record HttpsListen(InetSocketAddress address, String fallbackSni) {
}
