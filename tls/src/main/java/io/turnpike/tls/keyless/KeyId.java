package io.turnpike.tls.keyless;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HexFormat;

/** A key's identity on the wire: SHA-256 of the DER SubjectPublicKeyInfo of its public key (32 bytes). */
public final class KeyId {
    public static final int LENGTH = 32;

    private final byte[] bytes;
    private final int hash;

    private KeyId(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    public static KeyId of(byte[] sha256) {
        if (sha256.length != LENGTH) {
            throw new IllegalArgumentException("key id must be " + LENGTH + " bytes, got " + sha256.length);
        }
        return new KeyId(sha256.clone());
    }

    public static KeyId ofSpki(byte[] subjectPublicKeyInfo) {
        try {
            return new KeyId(MessageDigest.getInstance("SHA-256").digest(subjectPublicKeyInfo));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static KeyId of(PublicKey key) {
        byte[] spki = key.getEncoded();
        if (spki == null || !"X.509".equals(key.getFormat())) {
            throw new IllegalArgumentException("public key has no X.509 SubjectPublicKeyInfo encoding: " + key);
        }
        return ofSpki(spki);
    }

    public static KeyId of(X509Certificate cert) {
        return of(cert.getPublicKey());
    }

    public static KeyId parse(String hex) {
        return of(HexFormat.of().parseHex(hex));
    }

    /** A copy of the 32 bytes. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    byte[] unsafeBytes() {
        return bytes;
    }

    public String hex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyId other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return hex();
    }
}
