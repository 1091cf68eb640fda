package io.turnpike.config.model;

/** APISIX {@code keepalive_pool}: pool size, idle timeout in seconds, requests per connection. */
public record KeepalivePool(int size, double idleTimeout, int requests) {
    public static final int DEFAULT_SIZE = 320;
    public static final double DEFAULT_IDLE_TIMEOUT = 60;
    public static final int DEFAULT_REQUESTS = 1000;
    public static final KeepalivePool DEFAULT = new KeepalivePool(DEFAULT_SIZE, DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUESTS);
}
