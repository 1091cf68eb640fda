package io.turnpike.engine.tls;

import io.turnpike.config.codec.Decoded;
import io.turnpike.config.codec.SslCodec;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.RawResource;
import io.turnpike.config.model.Resource;
import io.turnpike.config.model.Ssl;
import io.turnpike.tls.CertifiedKey;
import io.turnpike.tls.KeySource;
import io.turnpike.tls.ServerContextFactory;
import io.turnpike.tls.SslSpec;
import io.turnpike.tls.TlsDefaults;
import io.turnpike.tls.TlsTable;
import io.turnpike.tls.TlsTableCompiler;
import io.turnpike.tls.keyless.KeyId;
import io.turnpike.tls.keyless.KeylessClients;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the snapshot's {@link TlsTable} from the configuration's {@code ssls}: server-type, enabled entries only
 * (client-type ones are for upstream TLS). An entry whose JSON is unchanged since the previous compile is neither
 * decoded again nor rebuilt: its context is reused.
 *
 * <p>Keyless: an ssl object whose {@code cert} names a {@code key_server} gets a {@link KeySource.Remote}; a name that
 * is not a key server of {@code turnpike.keyless} is a problem of that ssl object, reported here (a warning on the
 * config update, the ssl object left out of the table; the rest of the configuration applies).
 *
 * <p>Called only on the config-sync thread (or main at startup).
 */
public final class TlsCompiler {
    private final SslCodec codec = new SslCodec();
    private final TlsTableCompiler tables;
    private final Set<String> keyServers;
    private Map<String, SslSpec> previous = Map.of();

    public TlsCompiler(TlsDefaults defaults) {
        this(defaults, null, Set.of());
    }

    /**
     * @param keyless    the process's key server clients (null = none)
     * @param keyServers the names configured under {@code turnpike.keyless}
     */
    public TlsCompiler(TlsDefaults defaults, KeylessClients keyless, Set<String> keyServers) {
        this.tables = new TlsTableCompiler(new ServerContextFactory(defaults, keyless));
        this.keyServers = Set.copyOf(keyServers);
    }

    public TlsTable compile(ConfigSet config, List<String> warnings) {
        List<SslSpec> specs = new ArrayList<>();
        Map<String, SslSpec> next = new HashMap<>();
        for (RawResource r : config.others(Resource.SSLS.key()).values()) {
            // by content, sorted (not JsonNode.toString(): that loads Jackson's serializer stack on the start's path)
            String fingerprint = r.id() + '\u0000' + io.turnpike.config.codec.CanonicalJson.write(r.value());
            SslSpec spec = previous.get(fingerprint);
            if (spec == null) {
                Decoded<Ssl> d = codec.decode(r.id(), r.value());
                if (!d.ok()) {
                    // Validation normally left it out already (ConfigCompiler); e.g. a certificate expired since.
                    warnings.add("ssl " + r.id() + ": " + d.errors().get(0).message() + ", left out");
                    continue;
                }
                Ssl ssl = d.value();
                if (!ssl.enabled() || "client".equals(ssl.type())) {
                    continue;
                }
                String unknown = unknownKeyServer(ssl);
                if (unknown != null) {
                    warnings.add("ssl " + r.id() + ": key_server \"" + unknown + "\" is not a key server of"
                            + " turnpike.keyless in config.yaml (configured: " + keyServers.stream().sorted().toList()
                            + "), left out");
                    continue;
                }
                spec = toSpec(ssl, fingerprint);
            }
            next.put(fingerprint, spec);
            specs.add(spec);
        }
        previous = next;
        return tables.compile(specs, warnings);
    }

    private String unknownKeyServer(Ssl ssl) {
        for (Ssl.CertKeyPair p : ssl.pairs()) {
            if (p.keyless() && !keyServers.contains(p.keyServer())) {
                return p.keyServer();
            }
        }
        return null;
    }

    static SslSpec toSpec(Ssl ssl, String fingerprint) {
        List<CertifiedKey> keys = new ArrayList<>();
        for (Ssl.CertKeyPair p : ssl.pairs()) {
            KeySource key = p.keyless()
                    ? new KeySource.Remote(p.keyServer(), KeyId.of(p.chain().get(0)).hex())
                    : new KeySource.InMemory(p.key());
            keys.add(new CertifiedKey(p.chain(), key));
        }
        return new SslSpec(ssl.id(), ssl.snis(), keys, ssl.clientCa(), ssl.clientDepth(), ssl.protocols(),
                ssl.ocspResponse(), ssl.sessionTicketKeys(), fingerprint);
    }
}
