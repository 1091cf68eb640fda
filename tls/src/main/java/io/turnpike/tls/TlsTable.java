package io.turnpike.tls;

import io.netty.handler.ssl.ReferenceCountedOpenSslContext;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The TLS part of a snapshot: SNI name → server context. Exact names first, then {@code *.suffix} wildcards, the
 * longest suffix winning (APISIX's rule: {@code *.example.com} also covers {@code a.b.example.com}).
 *
 * <p>Immutable once built; read by every event loop without locks. Reference counting: the table owns one reference
 * on each of its contexts, given back by {@link #release()} once a newer table has been applied on every loop (the
 * snapshot publisher calls it after the barrier). Every connection's engine holds its own reference (netty's
 * {@code ReferenceCountedOpenSslEngine} retains its context when created and releases it when freed), so a context
 * replaced by a rotation lives on exactly as long as the connections that use it.
 */
public final class TlsTable {
    public static final TlsTable EMPTY = new TlsTable(Map.of(), Map.of(), List.of());

    private final Map<String, Entry> exact;
    private final Map<String, Entry> wildcard;
    private final List<Entry> entries;
    private final AtomicBoolean released = new AtomicBoolean();

    TlsTable(Map<String, Entry> exact, Map<String, Entry> wildcard, List<Entry> entries) {
        this.exact = exact;
        this.wildcard = wildcard;
        this.entries = List.copyOf(entries);
    }

    /** One ssl object's context. */
    public static final class Entry {
        public final String id;
        public final ReferenceCountedOpenSslContext context;
        /** Stapled to every handshake of this context whose client asks; null when none. */
        public final byte[] ocspResponse;
        final String fingerprint;

        Entry(String id, ReferenceCountedOpenSslContext context, byte[] ocspResponse, String fingerprint) {
            this.id = id;
            this.context = context;
            this.ocspResponse = ocspResponse;
            this.fingerprint = fingerprint;
        }
    }

    /** The entry for a host name (exact, then wildcard), or null. */
    public Entry lookup(String host) {
        if (host == null || host.isEmpty()) {
            return null;
        }
        String h = host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        Entry e = exact.get(h);
        if (e != null || wildcard.isEmpty()) {
            return e;
        }
        for (int dot = h.indexOf('.'); dot >= 0 && dot < h.length() - 1; dot = h.indexOf('.', dot + 1)) {
            e = wildcard.get(h.substring(dot + 1));
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    public List<Entry> entries() {
        return entries;
    }

    public int size() {
        return entries.size();
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Gives back this table's reference on each context; idempotent. */
    public void release() {
        if (released.compareAndSet(false, true)) {
            for (Entry e : entries) {
                e.context.release();
            }
        }
    }

    static final class Builder {
        private final Map<String, Entry> exact = new HashMap<>();
        private final Map<String, Entry> wildcard = new HashMap<>();

        /** Adds a name; returns the id of the entry that already had it, or null. */
        String add(String sni, Entry e) {
            String s = sni.toLowerCase(Locale.ROOT);
            Map<String, Entry> m = s.startsWith("*.") ? wildcard : exact;
            String key = s.startsWith("*.") ? s.substring(2) : s;
            Entry prior = m.putIfAbsent(key, e);
            return prior == null ? null : prior.id;
        }

        TlsTable build(List<Entry> entries) {
            return new TlsTable(Map.copyOf(exact), Map.copyOf(wildcard), entries);
        }
    }
}
