package io.turnpike.tls.keyless;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The process's keyless clients by key-server reference (the name an ssl object's remote key points at, e.g.
 * {@code KeySource.Remote.keyServer()}): one persistent {@link KeylessClient} per key server, shared by every context
 * that uses it. Thread-safe.
 */
public final class KeylessClients implements AutoCloseable {
    private final Map<String, KeylessClient> clients = new ConcurrentHashMap<>();

    /** Registers (or replaces, closing the old one) the client for {@code name}. */
    public void register(String name, KeylessClient client) {
        KeylessClient old = clients.put(name, client);
        if (old != null && old != client) {
            old.close();
        }
    }

    /** The client for {@code name}, or a clear error naming the known key servers. */
    public KeylessClient get(String name) throws KeylessException {
        KeylessClient c = clients.get(name);
        if (c == null) {
            throw new KeylessException(KeylessException.Reason.UNAVAILABLE,
                    "no key server named '" + name + "' is configured (known: " + clients.keySet() + ")");
        }
        return c;
    }

    /** Counters of every client, for the status endpoint. */
    public Map<String, Map<String, Object>> snapshot() {
        Map<String, Map<String, Object>> m = new LinkedHashMap<>();
        clients.forEach((name, c) -> m.put(name, c.snapshot().toMap()));
        return m;
    }

    @Override
    public void close() {
        clients.values().forEach(KeylessClient::close);
        clients.clear();
    }
}
