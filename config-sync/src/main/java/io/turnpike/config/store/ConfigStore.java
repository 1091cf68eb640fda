package io.turnpike.config.store;

import java.util.List;

/**
 * The key-value store behind the configuration: etcd in production ({@code EtcdConfigStore}), with APISIX's layout
 * ({@code <prefix>/<resource>/<id>}, JSON values). One instance per process, shared by the config-sync thread (list
 * and watch) and the Admin API (reads and writes), over one client connection.
 *
 * <p>Thread-safe. Calls block and must never be made on an event loop.
 */
public interface ConfigStore extends AutoCloseable {

    /** One stored key. {@code createRevision}/{@code modRevision} are etcd's (APISIX's createdIndex/modifiedIndex). */
    record Entry(String key, byte[] value, long createRevision, long modRevision) {
    }

    /** The entries under a prefix and the store revision they were read at. */
    record Listing(List<Entry> entries, long revision) {
    }

    /** The entry, or null when absent. */
    Entry get(String key) throws StoreException;

    /** Every entry whose key starts with {@code prefix}, read at one revision (paged internally when large). */
    Listing list(String prefix) throws StoreException;

    /** Unconditional write; returns the entry as stored (new modRevision). */
    Entry put(String key, byte[] value) throws StoreException;

    /**
     * Compare-and-set on the key's modRevision: writes only if the key's current modRevision equals
     * {@code expectedModRevision} (0 = the key must not exist). Returns the stored entry, or null when the comparison
     * failed (someone else wrote first).
     */
    Entry putIf(String key, byte[] value, long expectedModRevision) throws StoreException;

    /** Deletes the key; returns the deleted entry, or null when it did not exist. */
    Entry delete(String key) throws StoreException;

    /** Deletes the key only if its modRevision is still {@code expectedModRevision}; false when it changed. */
    boolean deleteIf(String key, long expectedModRevision) throws StoreException;

    @Override
    void close();
}
