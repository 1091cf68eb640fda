package io.turnpike.config.process;

/** An address to listen on (or to reach): IP literal and port. */
public record ListenAddress(String ip, int port) {
    @Override
    public String toString() {
        return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + port;
    }
}
