package io.turnpike.config.admin;

import io.turnpike.config.store.ConfigStore;
import io.turnpike.config.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory {@link ConfigStore} with etcd-like revisions, used only for fault injection (forced compare-and-set
 * failures, an unreachable store); the Admin API suite itself runs against a real etcd.
 */
final class MemoryStore implements ConfigStore {
    private final TreeMap<String, Entry> data = new TreeMap<>();
    private long revision;
    /** putIf / deleteIf calls that fail as if someone else had written first. */
    final AtomicInteger casFailures = new AtomicInteger();
    volatile boolean down;
    /** Names of the threads that called the store. */
    final java.util.Set<String> callers = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private void check() throws StoreException {
        callers.add(Thread.currentThread().getName());
        if (down) {
            throw new StoreException("etcd unreachable: connection refused");
        }
    }

    @Override
    public synchronized Entry get(String key) throws StoreException {
        check();
        return data.get(key);
    }

    @Override
    public synchronized Listing list(String prefix) throws StoreException {
        check();
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, Entry> e : data.tailMap(prefix, true).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                break;
            }
            out.add(e.getValue());
        }
        return new Listing(out, revision);
    }

    @Override
    public synchronized Entry put(String key, byte[] value) throws StoreException {
        check();
        Entry old = data.get(key);
        long rev = ++revision;
        Entry e = new Entry(key, value.clone(), old == null ? rev : old.createRevision(), rev);
        data.put(key, e);
        return e;
    }

    @Override
    public synchronized Entry putIf(String key, byte[] value, long expected) throws StoreException {
        check();
        if (casFailures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return null;
        }
        Entry old = data.get(key);
        if ((old == null ? 0 : old.modRevision()) != expected) {
            return null;
        }
        return put(key, value);
    }

    @Override
    public synchronized Entry delete(String key) throws StoreException {
        check();
        Entry old = data.remove(key);
        if (old != null) {
            revision++;
        }
        return old;
    }

    @Override
    public synchronized boolean deleteIf(String key, long expected) throws StoreException {
        check();
        if (casFailures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return false;
        }
        Entry old = data.get(key);
        if (old == null || old.modRevision() != expected) {
            return false;
        }
        delete(key);
        return true;
    }

    @Override
    public void close() {
    }
}
