package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.plugin.AuthPluginSchemas;
import io.turnpike.engine.plugin.Consumer;
import io.turnpike.engine.plugin.JwtCredential;

import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * jwt-auth's consumer credentials, compiled off the loops: HS* with the secret (optionally base64), RS* and ES* with a
 * PEM public key ({@code -----BEGIN PUBLIC KEY-----}, SubjectPublicKeyInfo; for RSA also PKCS#1
 * {@code -----BEGIN RSA PUBLIC KEY-----}, as OpenSSL reads both).
 *
 * <p>HMAC is computed on a per-thread {@link MessageDigest} with the pads precomputed per credential, so a
 * verification allocates nothing (JDK {@code Mac.doFinal} allocates its result). RSA and ECDSA use a per-thread,
 * per-credential {@link Signature} initialised once; the JDK's big-number arithmetic allocates per verification
 * (measured in {@code AuthAllocationIT}). ES* signatures are JOSE's raw {@code r || s}, verified with the JDK's
 * P1363 format (no DER conversion).
 */
public final class JwtKeys {
    private JwtKeys() {
    }

    /**
     * @param conf the consumer's jwt-auth configuration
     * @throws IllegalArgumentException with the reason the credential cannot be used
     */
    public static JwtCredential credential(Consumer consumer, ObjectNode conf) {
        String err = AuthPluginSchemas.jwtAuth(conf, true);
        if (err != null) {
            throw new IllegalArgumentException(err);
        }
        byte[] key = conf.get("key").asText().getBytes(StandardCharsets.UTF_8);
        String alg = conf.path("algorithm").asText("HS256");
        long leeway = conf.path("lifetime_grace_period").asLong(0);
        byte[] algBytes = alg.getBytes(StandardCharsets.US_ASCII);
        if (alg.startsWith("HS")) {
            String secret = conf.get("secret").asText();
            byte[] s = conf.path("base64_secret").asBoolean(false) ? Base64.getDecoder().decode(secret)
                    : secret.getBytes(StandardCharsets.UTF_8);
            String digest = switch (alg) {
                case "HS256" -> "SHA-256";
                case "HS384" -> "SHA-384";
                default -> "SHA-512";
            };
            return new Hmac(consumer, key, algBytes, leeway, digest, s);
        }
        PublicKey pk = publicKey(conf.get("public_key").asText(), alg.startsWith("RS") ? "RSA" : "EC");
        String jca;
        int sigLen = -1;
        switch (alg) {
            case "RS256" -> jca = "SHA256withRSA";
            case "RS384" -> jca = "SHA384withRSA";
            case "RS512" -> jca = "SHA512withRSA";
            case "ES256" -> {
                jca = "SHA256withECDSAinP1363Format";
                sigLen = 64;
            }
            case "ES384" -> {
                jca = "SHA384withECDSAinP1363Format";
                sigLen = 96;
            }
            case "ES512" -> {
                jca = "SHA512withECDSAinP1363Format";
                sigLen = 132;
            }
            default -> throw new IllegalArgumentException("algorithm " + alg + " is not supported");
        }
        return new Signed(consumer, key, algBytes, leeway, jca, pk, sigLen);
    }

    static PublicKey publicKey(String pem, String type) {
        String t = pem.trim();
        boolean pkcs1 = type.equals("RSA") && t.startsWith("-----BEGIN RSA PUBLIC KEY-----");
        String begin = pkcs1 ? "-----BEGIN RSA PUBLIC KEY-----" : "-----BEGIN PUBLIC KEY-----";
        String end = pkcs1 ? "-----END RSA PUBLIC KEY-----" : "-----END PUBLIC KEY-----";
        if (!t.startsWith(begin) || !t.endsWith(end)) {
            throw new IllegalArgumentException("public_key: a PEM \"-----BEGIN PUBLIC KEY-----\" key"
                    + (type.equals("RSA") ? " (or \"-----BEGIN RSA PUBLIC KEY-----\")" : "") + " is required");
        }
        try {
            byte[] der = Base64.getMimeDecoder().decode(t.substring(begin.length(), t.length() - end.length()));
            if (pkcs1) {
                der = spkiOfPkcs1(der);
            }
            PublicKey k = KeyFactory.getInstance(type).generatePublic(new X509EncodedKeySpec(der));
            if (type.equals("RSA") ? !(k instanceof RSAPublicKey) : !(k instanceof ECPublicKey)) {
                throw new IllegalArgumentException("public_key: not an " + type + " key");
            }
            return k;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("public_key: not a valid " + type + " public key ("
                    + e.getMessage() + ")");
        }
    }

    /** Wraps a PKCS#1 RSAPublicKey in a SubjectPublicKeyInfo (rsaEncryption, NULL parameters). */
    static byte[] spkiOfPkcs1(byte[] pkcs1) {
        byte[] algId = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01,
                0x01, 0x05, 0x00};
        java.io.ByteArrayOutputStream bits = new java.io.ByteArrayOutputStream();
        bits.write(0x03);
        derLength(bits, pkcs1.length + 1);
        bits.write(0x00);
        bits.writeBytes(pkcs1);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(0x30);
        derLength(out, algId.length + bits.size());
        out.writeBytes(algId);
        out.writeBytes(bits.toByteArray());
        return out.toByteArray();
    }

    private static void derLength(java.io.ByteArrayOutputStream out, int n) {
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
    }

    /** Constant-time comparison of two spans (the length is not secret). */
    static boolean equal(byte[] a, int aOff, int aLen, byte[] b, int bOff, int bLen) {
        if (aLen != bLen) {
            return false;
        }
        int diff = 0;
        for (int i = 0; i < aLen; i++) {
            diff |= a[aOff + i] ^ b[bOff + i];
        }
        return diff == 0;
    }

    /** HMAC (RFC 2104) over a per-thread digest: H((K ^ opad) || H((K ^ ipad) || m)). */
    static final class Hmac extends JwtCredential {
        /** One digest of each kind per thread, and the inner hash (at most 64 bytes). */
        private static final ThreadLocal<Digests> DIGESTS = ThreadLocal.withInitial(Digests::new);

        private final int kind;
        private final int outLen;
        private final byte[] ipad;
        private final byte[] opad;

        Hmac(Consumer consumer, byte[] key, byte[] algorithm, long leeway, String digest, byte[] secret) {
            super(consumer, key, algorithm, leeway);
            this.kind = digest.equals("SHA-256") ? 0 : digest.equals("SHA-384") ? 1 : 2;
            int block = kind == 0 ? 64 : 128;
            this.outLen = kind == 0 ? 32 : kind == 1 ? 48 : 64;
            byte[] k = secret;
            if (k.length > block) {
                try {
                    k = MessageDigest.getInstance(digest).digest(k);
                } catch (NoSuchAlgorithmException e) {
                    throw new IllegalStateException(e);
                }
            }
            ipad = new byte[block];
            opad = new byte[block];
            for (int i = 0; i < block; i++) {
                byte b = i < k.length ? k[i] : 0;
                ipad[i] = (byte) (b ^ 0x36);
                opad[i] = (byte) (b ^ 0x5c);
            }
        }

        @Override
        public boolean verify(byte[] input, int off, int len, byte[] sig, int sigOff, int sigLen) {
            Digests d = DIGESTS.get();
            MessageDigest md = d.md[kind];
            byte[] h = d.out;
            try {
                md.reset();
                md.update(ipad);
                md.update(input, off, len);
                md.digest(h, 0, outLen);
                md.update(opad);
                md.update(h, 0, outLen);
                md.digest(h, 0, outLen);
            } catch (DigestException e) {
                return false;
            }
            return equal(h, 0, outLen, sig, sigOff, sigLen);
        }

        /** The MAC of {@code input} (tests). */
        byte[] mac(byte[] input) {
            byte[] out = new byte[outLen];
            Digests d = DIGESTS.get();
            try {
                MessageDigest md = d.md[kind];
                md.reset();
                md.update(ipad);
                md.update(input);
                md.digest(out, 0, outLen);
                md.update(opad);
                md.update(out, 0, outLen);
                md.digest(out, 0, outLen);
            } catch (DigestException e) {
                throw new IllegalStateException(e);
            }
            return out;
        }

        private static final class Digests {
            final MessageDigest[] md = new MessageDigest[3];
            final byte[] out = new byte[64];

            Digests() {
                try {
                    md[0] = MessageDigest.getInstance("SHA-256");
                    md[1] = MessageDigest.getInstance("SHA-384");
                    md[2] = MessageDigest.getInstance("SHA-512");
                } catch (NoSuchAlgorithmException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** RS* and ES*: a {@link Signature} per thread initialised once with the key (verify() resets it). */
    static final class Signed extends JwtCredential {
        private final String jca;
        private final PublicKey publicKey;
        private final int sigLen;
        private final ThreadLocal<Signature> verifier;

        Signed(Consumer consumer, byte[] key, byte[] algorithm, long leeway, String jca, PublicKey publicKey,
               int sigLen) {
            super(consumer, key, algorithm, leeway);
            this.jca = jca;
            this.publicKey = publicKey;
            this.sigLen = sigLen;
            this.verifier = ThreadLocal.withInitial(this::newVerifier);
            newVerifier(); // fail at compile time, not on a loop
        }

        private Signature newVerifier() {
            try {
                Signature s = Signature.getInstance(jca);
                s.initVerify(publicKey);
                return s;
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("public_key: " + e.getMessage(), e);
            }
        }

        @Override
        public boolean verify(byte[] input, int off, int len, byte[] sig, int sigOff, int sigLen) {
            if (this.sigLen >= 0 && sigLen != this.sigLen) {
                return false; // APISIX: "Signature must be 64 bytes." (ES256)
            }
            Signature s = verifier.get();
            try {
                s.update(input, off, len);
                return s.verify(sig, sigOff, sigLen);
            } catch (SignatureException | RuntimeException e) {
                verifier.remove(); // its state is unknown after a failure: a fresh one next time
                return false;
            }
        }
    }
}
