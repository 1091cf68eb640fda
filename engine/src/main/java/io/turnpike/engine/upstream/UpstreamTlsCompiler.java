package io.turnpike.engine.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.turnpike.config.codec.Decoded;
import io.turnpike.config.codec.SslCodec;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.RawResource;
import io.turnpike.config.model.Resource;
import io.turnpike.config.model.Ssl;
import io.turnpike.config.model.Upstream;
import io.turnpike.tls.CertifiedKey;
import io.turnpike.tls.KeySource;
import io.turnpike.tls.TlsDefaults;
import io.turnpike.tls.client.ClientContextFactory;
import io.turnpike.tls.client.ClientTlsSpec;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Resolves the {@code tls} of {@code scheme: https} upstreams into {@link UpstreamTls} client contexts, one per
 * distinct configuration per snapshot. A configuration unchanged since the previous compile reuses its context (and
 * so its client session cache, and the pools keyed by its id).
 *
 * <p>Fields of an upstream's {@code tls}: {@code verify} (default false, as in APISIX), {@code ca} (PEM, Turnpike
 * extension: trusted besides the JVM default trust store), {@code client_cert} + {@code client_key} (inline PEM), or
 * {@code client_cert_id} (an {@code ssls} entry, normally {@code type: client}, whose {@code cert}/{@code key} are
 * presented).
 *
 * <p>Stateful; called only on the config-sync thread (or main at startup): {@link #begin}, then {@link #resolve} per
 * upstream, then {@link #finish}. Contract, as for the server table: the previous compile's contexts are still alive
 * (not released) when the next compile runs.
 */
public final class UpstreamTlsCompiler {
    private final TlsDefaults defaults;
    private ClientContextFactory factory;
    private Map<String, UpstreamTls> previous = Map.of();
    private Map<String, UpstreamTls> current = new LinkedHashMap<>();
    private Map<String, RawResource> ssls = Map.of();
    private final Map<String, Ssl> decodedSsls = new HashMap<>();

    public UpstreamTlsCompiler(TlsDefaults defaults) {
        this.defaults = defaults;
    }

    public void begin(ConfigSet config) {
        current = new LinkedHashMap<>();
        ssls = config.others(Resource.SSLS.key());
        decodedSsls.clear();
    }

    /**
     * The upstream's TLS, or null when it is not {@code scheme: https}.
     *
     * @throws IllegalArgumentException with a message naming the field, when the configuration cannot be used (the
     *                                  upstream is then left out)
     */
    public UpstreamTls resolve(Upstream u) {
        boolean h2 = "grpcs".equals(u.scheme());
        if (!"https".equals(u.scheme()) && !h2) {
            return null;
        }
        JsonNode tls = u.raw() == null ? null : u.raw().get("tls");
        boolean verify = tls != null && tls.path("verify").asBoolean(false);
        String caPem = text(tls, "ca");
        String certPem = text(tls, "client_cert");
        String keyPem = text(tls, "client_key");
        String certId = text(tls, "client_cert_id");
        if ((certPem == null) != (keyPem == null)) {
            throw new IllegalArgumentException("tls: \"client_cert\" and \"client_key\" must be set together");
        }
        if (certId != null && certPem != null) {
            throw new IllegalArgumentException("tls: \"client_cert_id\" and \"client_cert\" are mutually exclusive");
        }
        StringBuilder fp = new StringBuilder(h2 ? "alpn=h2\u0000verify=" : "verify=").append(verify);
        fp.append("\u0000ca=").append(caPem == null ? "" : caPem);
        RawResource ref = null;
        if (certId != null) {
            ref = ssls.get(certId);
            if (ref == null) {
                throw new IllegalArgumentException("tls.client_cert_id: ssl id [" + certId + "] not found");
            }
            fp.append("\u0000ref=").append(certId).append('\u0000')
                    .append(io.turnpike.config.codec.CanonicalJson.write(ref.value()));
        } else if (certPem != null) {
            fp.append("\u0000cert=").append(certPem).append("\u0000key=").append(keyPem);
        }
        String fingerprint = fp.toString();
        UpstreamTls t = current.get(fingerprint);
        if (t != null) {
            return t;
        }
        t = previous.get(fingerprint);
        if (t != null && t.context.refCnt() > 0) {
            t.context.retain();
            current.put(fingerprint, t);
            return t;
        }
        List<X509Certificate> ca = List.of();
        if (caPem != null) {
            try {
                ca = SslCodec.certificates(caPem);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tls.ca: " + e.getMessage());
            }
        }
        CertifiedKey client = null;
        if (certId != null) {
            Ssl ssl = decodedSsls.get(certId);
            if (ssl == null) {
                Decoded<Ssl> d = new SslCodec().decode(certId, ref.value());
                if (!d.ok()) {
                    throw new IllegalArgumentException("tls.client_cert_id: ssl " + certId + " is invalid: "
                            + d.errors().get(0).message());
                }
                ssl = d.value();
                decodedSsls.put(certId, ssl);
            }
            Ssl.CertKeyPair p = ssl.pairs().get(0);
            if (p.keyless()) {
                throw new IllegalArgumentException("tls.client_cert_id: ssl " + certId + " is keyless (key_server "
                        + p.keyServer() + "): an upstream client certificate needs its private key");
            }
            client = new CertifiedKey(p.chain(), new KeySource.InMemory(p.key()));
        } else if (certPem != null) {
            List<X509Certificate> chain;
            PrivateKey key;
            try {
                chain = SslCodec.certificates(certPem);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tls.client_cert: " + e.getMessage());
            }
            try {
                key = SslCodec.privateKey(keyPem);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tls.client_key: " + e.getMessage());
            }
            if (!SslCodec.matches(key, chain.get(0).getPublicKey())) {
                throw new IllegalArgumentException("tls.client_key: private key does not match the certificate in"
                        + " \"tls.client_cert\"");
            }
            client = new CertifiedKey(chain, new KeySource.InMemory(key));
        }
        ReferenceCountedOpenSslContext ctx;
        try {
            if (factory == null) {
                factory = new ClientContextFactory(defaults);
            }
            ctx = factory.build(new ClientTlsSpec(verify, ca, client, fingerprint, h2));
        } catch (Exception | LinkageError e) {
            throw new IllegalArgumentException("tls: client TLS context not built (" + e.getMessage() + ")");
        }
        t = new UpstreamTls(id(fingerprint), verify, ctx, fingerprint);
        current.put(fingerprint, t);
        return t;
    }

    /** The contexts of the snapshot just compiled (one reference each, owned by the snapshot). */
    public UpstreamTls.Contexts finish() {
        previous = current;
        current = new LinkedHashMap<>();
        ssls = Map.of();
        decodedSsls.clear();
        return previous.isEmpty() ? UpstreamTls.Contexts.EMPTY : new UpstreamTls.Contexts(new ArrayList<>(
                previous.values()));
    }

    private static String text(JsonNode o, String field) {
        if (o == null) {
            return null;
        }
        JsonNode n = o.get(field);
        return n == null || !n.isTextual() ? null : n.asText();
    }

    private static String id(String fingerprint) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(fingerprint.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
