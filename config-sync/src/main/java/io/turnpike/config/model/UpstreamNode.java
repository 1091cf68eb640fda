package io.turnpike.config.model;

/** One upstream node. {@code host} is an IP literal (IPv6 without brackets) or a DNS name. */
public record UpstreamNode(String host, int port, int weight, int priority) {
    public UpstreamNode {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("host is empty");
        }
    }
}
