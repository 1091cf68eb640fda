package io.turnpike.config.process;

/**
 * An address to listen on (or to reach): IP literal and port. {@code http2}: an {@code apisix.node_listen} port that
 * also takes HTTP/2 with prior knowledge (h2c) beside HTTP/1.1 ({@code enable_http2: true}); false elsewhere.
 */
public record ListenAddress(String ip, int port, boolean http2) {
    public ListenAddress(String ip, int port) {
        this(ip, port, false);
    }

    @Override
    public String toString() {
        return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + port;
    }
}
