package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.model.Ssl;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decodes and validates an APISIX {@code ssls} entry, JDK only: the field set of APISIX's {@code ssl} schema plus
 * Turnpike's extensions ({@code ocsp_response}, {@code session_ticket_keys}, and {@code key_server} in place of
 * {@code key} for keyless certificates; see docs/tls.md, docs/keyless.md), PEM certificate chains
 * and private keys (PKCS#8, PKCS#1 {@code RSA PRIVATE KEY}, SEC1 {@code EC PRIVATE KEY}; encrypted keys are refused),
 * an expired leaf certificate, and a private key that does not belong to its certificate (checked by signing and
 * verifying a probe). Errors name the field ({@code keys[1]}), the config problem names the ssl id.
 *
 * <p>Stateless and thread-safe. The clock is a parameter so tests can pin it.
 */
public final class SslCodec {
    static final Set<String> FIELDS = Check.set("id", "create_time", "update_time", "name", "desc", "labels",
            "type", "cert", "key", "certs", "keys", "sni", "snis", "client", "ssl_protocols", "status",
            "validity_start", "validity_end", "ocsp_response", "session_ticket_keys", "key_server");
    static final Set<String> CLIENT_FIELDS = Check.set("ca", "depth", "skip_mtls_uri_regex");
    public static final Set<String> PROTOCOLS = Check.set("TLSv1.1", "TLSv1.2", "TLSv1.3");
    private static final String SNI_PATTERN_TEXT = "^\\*?[0-9a-zA-Z-._]+$";
    private static final Pattern SNI_PATTERN = Pattern.compile("^\\*?[0-9a-zA-Z._-]+$");
    private static final Pattern PEM_BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s:,-]*?)-----END \\1-----");
    private static final byte[] PROBE = "turnpike key/certificate match probe".getBytes();
    private static final int TICKET_KEY_BYTES = 48;

    private final Clock clock;

    /** The wall clock, in epoch milliseconds. */
    public interface Clock {
        long nowMillis();
    }

    public SslCodec() {
        this(System::currentTimeMillis);
    }

    public SslCodec(Clock clock) {
        this.clock = clock;
    }

    public Decoded<Ssl> decode(String keyId, JsonNode value) {
        Check c = Check.root();
        if (value == null || !value.isObject()) {
            c.fail("wrong type: expected object, got " + (value == null ? "null" : Check.jsonType(value)));
            return Decoded.failed(c.errors);
        }
        ObjectNode o = (ObjectNode) value;
        c.noAdditional(o, FIELDS);
        String id = keyId != null ? keyId : o.path("id").asText(null);
        c.string(o, "name", 1, 100);
        c.string(o, "desc", 0, 256);
        c.integer(o, "create_time", null, null);
        c.integer(o, "update_time", null, null);
        c.integer(o, "validity_start", null, null);
        c.integer(o, "validity_end", null, null);
        c.object(o, "labels");
        String type = o.has("type") ? c.enumString(o, "type", Check.set("server", "client")) : "server";
        boolean server = !"client".equals(type);
        boolean enabled = true;
        if (o.has("status")) {
            Long status = c.integer(o, "status", null, null);
            if (status != null && status != 0 && status != 1) {
                c.child("status").fail("matches none of the enum values");
            }
            enabled = status == null || status == 1;
        }

        List<String> snis = new ArrayList<>();
        if (o.has("sni") && o.has("snis")) {
            c.fail("value should match only one schema, but matches both \"sni\" and \"snis\"");
        } else if (o.has("sni")) {
            String s = c.string(o, "sni", 1, 0);
            if (s != null && c.child("sni").matches(s, SNI_PATTERN, SNI_PATTERN_TEXT)) {
                snis.add(s.toLowerCase(java.util.Locale.ROOT));
            }
        } else if (o.has("snis")) {
            ArrayNode a = c.array(o, "snis", 1, false);
            if (a != null) {
                Check ac = c.child("snis");
                for (int i = 0; i < a.size(); i++) {
                    String s = ac.item(i).stringValue(a.get(i), 1, 0);
                    if (s != null && ac.item(i).matches(s, SNI_PATTERN, SNI_PATTERN_TEXT)) {
                        snis.add(s.toLowerCase(java.util.Locale.ROOT));
                    }
                }
            }
        } else if (server) {
            c.required("snis");
        }
        for (String s : snis) {
            if (s.indexOf('*') > 0 || (s.startsWith("*") && !s.startsWith("*."))) {
                c.child("snis").fail("wildcard SNI must start with \"*.\": " + Check.quote(s));
            }
        }

        List<Ssl.CertKeyPair> pairs = new ArrayList<>();
        if (!o.has("cert")) {
            c.required("cert");
        }
        if (o.has("key_server")) {
            // Turnpike's keyless extension: the key of "cert" is held by a key server of turnpike.keyless.
            String ks = c.string(o, "key_server", 1, 64);
            if (o.has("key")) {
                c.fail("value should match only one schema, but matches both \"key\" and \"key_server\"");
            } else if (!server) {
                c.child("key_server").fail("only server certificates can be keyless (type is \"client\")");
            } else if (ks != null && !ks.matches("^[A-Za-z0-9._-]+$")) {
                c.child("key_server").fail("expected a key server name of letters, digits, \".\", \"_\" or \"-\", got "
                        + Check.quote(ks));
            } else if (ks != null && o.has("cert")) {
                Ssl.CertKeyPair p = keylessPair(c, o.get("cert"), ks);
                if (p != null) {
                    pairs.add(p);
                }
            }
        } else if (!o.has("key")) {
            c.required("key");
        }
        if (o.has("cert") && o.has("key")) {
            Ssl.CertKeyPair p = pair(c, o.get("cert"), o.get("key"), "cert", "key");
            if (p != null) {
                pairs.add(p);
            }
        }
        if (o.has("certs") || o.has("keys")) {
            ArrayNode certs = o.has("certs") ? c.array(o, "certs", 0, false) : null;
            ArrayNode keys = o.has("keys") ? c.array(o, "keys", 0, false) : null;
            int nc = certs == null ? 0 : certs.size();
            int nk = keys == null ? 0 : keys.size();
            if (nc != nk) {
                c.fail("mismatched number of certs and keys: " + nc + " certs, " + nk + " keys");
            } else {
                for (int i = 0; i < nc; i++) {
                    Ssl.CertKeyPair p = pair(c, certs.get(i), keys.get(i), "certs[" + i + "]", "keys[" + i + "]");
                    if (p != null) {
                        pairs.add(p);
                    }
                }
            }
        }

        List<X509Certificate> clientCa = List.of();
        int depth = 1;
        ObjectNode client = c.object(o, "client");
        if (client != null) {
            Check cc = c.child("client");
            cc.noAdditional(client, CLIENT_FIELDS);
            if (!client.has("ca")) {
                cc.required("ca");
            } else {
                String ca = cc.string(client, "ca", 128, 0);
                if (ca != null) {
                    try {
                        clientCa = certificates(ca);
                    } catch (IllegalArgumentException e) {
                        cc.child("ca").fail(e.getMessage());
                    }
                }
            }
            Long d = cc.integer(client, "depth", 0L, null);
            if (d != null) {
                depth = (int) Math.min(d, 100);
            }
            ArrayNode skip = cc.array(client, "skip_mtls_uri_regex", 1, true);
            if (skip != null) {
                cc.child("skip_mtls_uri_regex").fail("not supported by Turnpike (client certificates are verified in"
                        + " the handshake, before the URI is known)");
            }
        }

        List<String> protocols = new ArrayList<>();
        ArrayNode protos = c.array(o, "ssl_protocols", 1, true);
        if (protos != null) {
            Check pc = c.child("ssl_protocols");
            for (int i = 0; i < protos.size(); i++) {
                String p = pc.item(i).stringValue(protos.get(i), 1, 0);
                if (p != null && !PROTOCOLS.contains(p)) {
                    pc.item(i).fail("matches none of the enum values");
                } else if (p != null) {
                    protocols.add(p);
                }
            }
        }

        byte[] ocsp = null;
        String ocspText = c.string(o, "ocsp_response", 1, 0);
        if (ocspText != null) {
            try {
                ocsp = Base64.getMimeDecoder().decode(ocspText);
            } catch (IllegalArgumentException e) {
                c.child("ocsp_response").fail("not base64: " + e.getMessage());
            }
        }
        List<byte[]> ticketKeys = new ArrayList<>();
        ArrayNode tk = c.array(o, "session_ticket_keys", 1, true);
        if (tk != null) {
            Check tc = c.child("session_ticket_keys");
            for (int i = 0; i < tk.size(); i++) {
                String s = tc.item(i).stringValue(tk.get(i), 1, 0);
                if (s == null) {
                    continue;
                }
                try {
                    byte[] k = Base64.getDecoder().decode(s.trim());
                    if (k.length != TICKET_KEY_BYTES) {
                        tc.item(i).fail("a session ticket key is " + TICKET_KEY_BYTES + " bytes (base64), got "
                                + k.length);
                    } else {
                        ticketKeys.add(k);
                    }
                } catch (IllegalArgumentException e) {
                    tc.item(i).fail("not base64: " + e.getMessage());
                }
            }
        }
        if (!c.errors.isEmpty()) {
            return Decoded.failed(c.errors);
        }
        return Decoded.ok(new Ssl(id, type, snis, pairs, clientCa, depth, protocols, ocsp, ticketKeys, enabled));
    }

    /** One certificate chain and its key: parsed, leaf not expired, key matching the leaf. */
    private Ssl.CertKeyPair pair(Check c, JsonNode certNode, JsonNode keyNode, String certField, String keyField) {
        Check cc = c.child(certField);
        Check kc = c.child(keyField);
        String certPem = cc.stringValue(certNode, 128, 0);
        String keyPem = kc.stringValue(keyNode, 128, 0);
        if (certPem == null || keyPem == null) {
            return null;
        }
        List<X509Certificate> chain;
        try {
            chain = certificates(certPem);
        } catch (IllegalArgumentException e) {
            cc.fail(e.getMessage());
            return null;
        }
        X509Certificate leaf = chain.get(0);
        long now = clock.nowMillis();
        if (leaf.getNotAfter().getTime() < now) {
            cc.fail("certificate expired on " + leaf.getNotAfter().toInstant() + " (subject "
                    + leaf.getSubjectX500Principal().getName() + ", now " + Instant.ofEpochMilli(now) + ")");
            return null;
        }
        PrivateKey key;
        try {
            key = privateKey(keyPem);
        } catch (IllegalArgumentException e) {
            kc.fail(e.getMessage());
            return null;
        }
        if (!matches(key, leaf.getPublicKey())) {
            kc.fail("private key does not match the certificate in \"" + certField + "\" (subject "
                    + leaf.getSubjectX500Principal().getName() + ")");
            return null;
        }
        return new Ssl.CertKeyPair(chain, key);
    }

    /** A certificate chain whose key a key server holds: parsed, leaf not expired (the key is checked at handshake). */
    private Ssl.CertKeyPair keylessPair(Check c, JsonNode certNode, String keyServer) {
        List<X509Certificate> chain = chain(c.child("cert"), certNode);
        return chain == null ? null : new Ssl.CertKeyPair(chain, null, keyServer);
    }

    /** A PEM chain with a leaf that has not expired, or null after reporting on {@code cc}. */
    private List<X509Certificate> chain(Check cc, JsonNode certNode) {
        String certPem = cc.stringValue(certNode, 128, 0);
        if (certPem == null) {
            return null;
        }
        List<X509Certificate> chain;
        try {
            chain = certificates(certPem);
        } catch (IllegalArgumentException e) {
            cc.fail(e.getMessage());
            return null;
        }
        X509Certificate leaf = chain.get(0);
        long now = clock.nowMillis();
        if (leaf.getNotAfter().getTime() < now) {
            cc.fail("certificate expired on " + leaf.getNotAfter().toInstant() + " (subject "
                    + leaf.getSubjectX500Principal().getName() + ", now " + Instant.ofEpochMilli(now) + ")");
            return null;
        }
        return chain;
    }

    /** Every CERTIFICATE block of a PEM text, in order; at least one. */
    public static List<X509Certificate> certificates(String pem) {
        List<X509Certificate> out = new ArrayList<>();
        Matcher m = PEM_BLOCK.matcher(pem);
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            while (m.find()) {
                if (!m.group(1).equals("CERTIFICATE")) {
                    continue;
                }
                byte[] der = Base64.getMimeDecoder().decode(m.group(2).replaceAll("\\s", ""));
                Collection<? extends java.security.cert.Certificate> certs =
                        cf.generateCertificates(new ByteArrayInputStream(der));
                for (java.security.cert.Certificate cert : certs) {
                    out.add((X509Certificate) cert);
                }
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid PEM certificate: " + e.getMessage());
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no PEM certificate (-----BEGIN CERTIFICATE-----) found");
        }
        return out;
    }

    /** A PEM private key: PKCS#8, PKCS#1 RSA or SEC1 EC. */
    public static PrivateKey privateKey(String pem) {
        Matcher m = PEM_BLOCK.matcher(pem);
        while (m.find()) {
            String label = m.group(1);
            if (!label.endsWith("PRIVATE KEY")) {
                continue;
            }
            if (label.startsWith("ENCRYPTED") || m.group(2).contains("Proc-Type")) {
                throw new IllegalArgumentException("encrypted private keys are not supported");
            }
            byte[] der;
            try {
                der = Base64.getMimeDecoder().decode(m.group(2).replaceAll("\\s", ""));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid PEM private key: " + e.getMessage());
            }
            try {
                switch (label) {
                    case "PRIVATE KEY":
                        return pkcs8(der);
                    case "RSA PRIVATE KEY":
                        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(
                                wrapPkcs8(RSA_ALG_ID, der)));
                    case "EC PRIVATE KEY":
                        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(
                                wrapPkcs8(ecAlgId(der), der)));
                    default:
                        throw new IllegalArgumentException("unsupported private key type " + Check.quote(label));
                }
            } catch (GeneralSecurityException | IndexOutOfBoundsException e) {
                throw new IllegalArgumentException("invalid " + label.toLowerCase(java.util.Locale.ROOT) + ": "
                        + e.getMessage());
            }
        }
        throw new IllegalArgumentException("no PEM private key (-----BEGIN PRIVATE KEY-----) found");
    }

    private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String alg : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }

    /**
     * True when {@code key} is the private half of {@code pub}. RSA (with CRT parameters, as every PEM key has) and EC
     * keys that carry their public point (SEC1's optional {@code publicKey}, which OpenSSL always writes) are compared
     * by their public halves, the check nginx's {@code X509_check_private_key} makes: no signature, which in the JDK's
     * own EC code costs ~1.5 ms per pair (most of decoding an ssl object; thousands at a cold start) and, during the
     * start, a C2 compilation of its field arithmetic. Other keys sign a probe that {@code pub} must verify. As with
     * nginx, an EC key file whose scalar does not give the point it carries (no tool writes one; it takes crafting)
     * passes for the certificate of that point, and its handshakes then fail at the client.
     */
    public static boolean matches(PrivateKey key, PublicKey pub) {
        if (key instanceof RSAPrivateCrtKey k && pub instanceof RSAPublicKey p) {
            return k.getModulus().equals(p.getModulus()) && k.getPublicExponent().equals(p.getPublicExponent());
        }
        if (key instanceof ECPrivateKey && pub instanceof ECPublicKey p) {
            byte[] point = ecPublicPoint(key.getEncoded());
            if (point != null && point.length > 0 && point[0] == 0x04) {
                return java.util.Arrays.equals(point, uncompressed(p));
            }
        }
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> null;
        };
        if (alg == null || !pub.getAlgorithm().equals(key.getAlgorithm())
                && !("EdDSA".equals(pub.getAlgorithm()) || "EdDSA".equals(key.getAlgorithm()))) {
            return false;
        }
        try {
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(PROBE);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(PROBE);
            return v.verify(sig);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- DER: PKCS#1 / SEC1 → PKCS#8

    /** SEQUENCE { OID rsaEncryption, NULL }. */
    private static final byte[] RSA_ALG_ID = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7,
            0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    /** SEQUENCE { OID id-ecPublicKey, namedCurve OID taken from the SEC1 key's [0] parameters }. */
    private static byte[] ecAlgId(byte[] sec1) {
        // ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING, [0] parameters, [1] publicKey }
        int[] seq = header(sec1, 0);
        int p = seq[0];
        int end = seq[0] + seq[1];
        while (p < end) {
            int tag = sec1[p] & 0xff;
            int[] h = header(sec1, p);
            if (tag == 0xa0) {
                byte[] curve = java.util.Arrays.copyOfRange(sec1, h[0], h[0] + h[1]);
                return tlv(0x30, concat(EC_PUBLIC_KEY_OID, curve));
            }
            p = h[0] + h[1];
        }
        throw new IndexOutOfBoundsException("EC private key without named curve parameters");
    }

    /**
     * The public point a PKCS#8 EC key carries ({@code ECPrivateKey}'s {@code [1] publicKey} BIT STRING, without its
     * unused-bits byte), or null when it has none or the encoding is not understood.
     */
    static byte[] ecPublicPoint(byte[] pkcs8) {
        try {
            // PrivateKeyInfo ::= SEQUENCE { version INTEGER, algorithm SEQUENCE, privateKey OCTET STRING, ... }
            int[] info = header(pkcs8, 0);
            int p = skip(pkcs8, skip(pkcs8, info[0]));
            if ((pkcs8[p] & 0xff) != 0x04) {
                return null;
            }
            int[] octets = header(pkcs8, p);
            // ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING, [0] parameters, [1] publicKey }
            int[] ec = header(pkcs8, octets[0]);
            int end = ec[0] + ec[1];
            for (p = ec[0]; p < end; p = skip(pkcs8, p)) {
                if ((pkcs8[p] & 0xff) == 0xa1) {
                    int at = header(pkcs8, p)[0];
                    if (pkcs8[at] != 0x03) {
                        return null;
                    }
                    int[] bits = header(pkcs8, at);
                    if (bits[1] < 2 || pkcs8[bits[0]] != 0) {
                        return null;
                    }
                    return java.util.Arrays.copyOfRange(pkcs8, bits[0] + 1, bits[0] + bits[1]);
                }
            }
            return null;
        } catch (IndexOutOfBoundsException e) {
            return null;
        }
    }

    /** The offset just past the TLV at {@code p}. */
    private static int skip(byte[] der, int p) {
        int[] h = header(der, p);
        return h[0] + h[1];
    }

    /** SEC1's uncompressed encoding of {@code pub}'s point: 0x04, X and Y, each as long as the field. */
    private static byte[] uncompressed(ECPublicKey pub) {
        int n = (pub.getParams().getCurve().getField().getFieldSize() + 7) / 8;
        byte[] out = new byte[1 + 2 * n];
        out[0] = 0x04;
        if (!fixed(pub.getW().getAffineX(), out, 1, n) || !fixed(pub.getW().getAffineY(), out, 1 + n, n)) {
            return new byte[0];
        }
        return out;
    }

    private static boolean fixed(java.math.BigInteger v, byte[] out, int at, int n) {
        byte[] b = v.toByteArray();
        int from = b.length > n && b[0] == 0 ? b.length - n : 0;
        int len = b.length - from;
        if (len > n) {
            return false;
        }
        System.arraycopy(b, from, out, at + n - len, len);
        return true;
    }

    private static byte[] wrapPkcs8(byte[] algId, byte[] inner) {
        byte[] version = {0x02, 0x01, 0x00};
        return tlv(0x30, concat(version, algId, tlv(0x04, inner)));
    }

    /**
     * {content offset, content length} of the TLV at {@code p}. The length is DER's: short form, or 1-3 length bytes
     * (a key or certificate is far below 16 MB); anything else is refused, so the offset past a TLV always moves
     * forward and the callers' loops over operator-supplied bytes end.
     */
    private static int[] header(byte[] der, int p) {
        int len = der[p + 1] & 0xff;
        int off = p + 2;
        if (len == 0x80 || len > 0x83) {
            throw new IndexOutOfBoundsException("unsupported DER length at offset " + (p + 1));
        }
        if (len > 0x80) {
            int n = len & 0x7f;
            len = 0;
            for (int i = 0; i < n; i++) {
                len = (len << 8) | (der[off++] & 0xff);
            }
        }
        if (off + len > der.length) {
            throw new IndexOutOfBoundsException("truncated DER");
        }
        return new int[] {off, len};
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else if (n < 0x10000) {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        } else {
            out.write(0x83);
            out.write(n >> 16);
            out.write(n >> 8);
            out.write(n);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

}
