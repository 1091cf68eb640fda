package io.turnpike.engine.plugin;

import java.nio.charset.StandardCharsets;

/**
 * A consumer as the data plane knows it, compiled from the {@code consumers} resource: its name (bytes for
 * {@code hash_on: consumer} and the upstream headers auth plugins add) and its group. Immutable; shared by all loops.
 */
public final class Consumer {
    public final String username;
    public final byte[] nameBytes;
    public final String groupId;
    /**
     * The consumer's own plugins other than its credentials (APISIX merges them into the route: a consumer's plugin
     * replaces the route's plugin of the same name); {@link PluginChain#EMPTY} when none.
     */
    public final PluginChain plugins;

    public Consumer(String username, String groupId) {
        this(username, groupId, PluginChain.EMPTY);
    }

    public Consumer(String username, String groupId, PluginChain plugins) {
        this.plugins = plugins;
        this.username = username;
        this.nameBytes = username.getBytes(StandardCharsets.UTF_8);
        this.groupId = groupId;
    }

    @Override
    public String toString() {
        return "Consumer[" + username + "]";
    }
}
