package io.turnpike.config.source;

/** Where configuration comes from: the standalone file, or etcd (later). */
public interface ConfigSource extends AutoCloseable {

    /** Starts delivering to {@code listener}; the first delivery may happen before this returns. */
    void start(ConfigListener listener) throws Exception;

    @Override
    void close();
}
