package io.turnpike.engine.discovery;

import java.net.InetSocketAddress;

/**
 * One node found by DNS. Immutable.
 *
 * @param address  the resolved address and the port (the watch's port, else the SRV record's, else the default port)
 * @param host     the name it came from: the watched name for A/AAAA, the SRV record's target for SRV
 * @param weight   the watch's weight for A/AAAA; for SRV APISIX's: the record's weight (0 counts as 1) shared evenly by
 *                 the target's addresses, scaled by the least common multiple of the address counts so it stays whole
 * @param priority the watch's priority for A/AAAA; minus the record's priority for SRV (APISIX: a lower SRV priority is
 *                 chosen first, a higher node priority is chosen first)
 */
public record ResolvedNode(InetSocketAddress address, String host, int weight, int priority) {

    /** {@code ip:port} ({@code [v6]:port}). */
    public String key() {
        String ip = address.getAddress().getHostAddress();
        return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + address.getPort();
    }
}
