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

    public Consumer(String username, String groupId) {
        this.username = username;
        this.nameBytes = username.getBytes(StandardCharsets.UTF_8);
        this.groupId = groupId;
    }

    @Override
    public String toString() {
        return "Consumer[" + username + "]";
    }
}
