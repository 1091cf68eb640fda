package io.turnpike.tls;

import io.netty.handler.ssl.ReferenceCountedOpenSslContext;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles ssl specs into a {@link TlsTable}, reusing the context of every spec whose fingerprint is unchanged since
 * the previous compile (a route change must not rebuild every context, nor drop their session caches). A spec that
 * fails to build is left out and reported; the others are kept.
 *
 * <p>Stateful (remembers the previous table); called only on the config-sync thread. Contract: the previous table
 * is still alive (not released) when the next compile runs, which holds because the publisher releases a table only
 * once its successor has been applied.
 */
public final class TlsTableCompiler {
    private final ServerContextFactory factory;
    private Map<String, TlsTable.Entry> previous = Map.of();

    public TlsTableCompiler(ServerContextFactory factory) {
        this.factory = factory;
    }

    public synchronized TlsTable compile(List<SslSpec> specs, List<String> warnings) {
        TlsTable.Builder b = new TlsTable.Builder();
        List<TlsTable.Entry> entries = new ArrayList<>();
        Map<String, TlsTable.Entry> next = new HashMap<>();
        for (SslSpec spec : specs) {
            TlsTable.Entry e = previous.get(spec.fingerprint());
            if (e != null && e.context.refCnt() > 0) {
                e.context.retain();
            } else {
                ReferenceCountedOpenSslContext ctx;
                try {
                    ctx = factory.build(spec);
                } catch (Exception | LinkageError ex) {
                    warnings.add("ssl " + spec.id() + ": TLS context not built (" + ex.getMessage() + "), left out");
                    continue;
                }
                e = new TlsTable.Entry(spec.id(), ctx, spec.ocspResponse(), spec.fingerprint());
            }
            entries.add(e);
            next.put(spec.fingerprint(), e);
            for (String sni : spec.snis()) {
                String prior = b.add(sni, e);
                if (prior != null) {
                    warnings.add("ssl " + spec.id() + ": sni " + sni + " already served by ssl " + prior
                            + ", ignored here");
                }
            }
        }
        previous = next;
        return b.build(entries);
    }
}
