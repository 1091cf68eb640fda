package io.turnpike.engine.plugin;

/** A consumer's basic-auth credential: its username (the index key) and password bytes (UTF-8). Immutable. */
public final class BasicAuthCredential {
    public final Consumer consumer;
    public final byte[] username;
    public final byte[] password;

    public BasicAuthCredential(Consumer consumer, byte[] username, byte[] password) {
        this.consumer = consumer;
        this.username = username;
        this.password = password;
    }
}
