package io.turnpike.tls.keyless;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;

/**
 * TLS SignatureScheme code points (RFC 8446 4.2.3; BoringSSL's {@code SSL_SIGN_*}, which netty exposes as
 * {@code OpenSslAsyncPrivateKeyMethod.SSL_SIGN_*} but reads from the native library) and their JCA equivalents. The
 * input BoringSSL hands to the private-key method is the message to be signed (the TLS 1.3 CertificateVerify content or
 * the TLS 1.2 ServerKeyExchange params), not a digest, so every scheme maps to a "hash-then-sign" JCA algorithm.
 */
public final class SignatureSchemes {
    private SignatureSchemes() {
    }

    public static final int RSA_PKCS1_SHA1 = 0x0201;
    public static final int RSA_PKCS1_SHA256 = 0x0401;
    public static final int RSA_PKCS1_SHA384 = 0x0501;
    public static final int RSA_PKCS1_SHA512 = 0x0601;
    public static final int ECDSA_SHA1 = 0x0203;
    public static final int ECDSA_SECP256R1_SHA256 = 0x0403;
    public static final int ECDSA_SECP384R1_SHA384 = 0x0503;
    public static final int ECDSA_SECP521R1_SHA512 = 0x0603;
    public static final int RSA_PSS_RSAE_SHA256 = 0x0804;
    public static final int RSA_PSS_RSAE_SHA384 = 0x0805;
    public static final int RSA_PSS_RSAE_SHA512 = 0x0806;
    public static final int ED25519 = 0x0807;
    public static final int RSA_PKCS1_MD5_SHA1 = 0xff01;

    /** Thrown for a scheme the key server does not implement or that does not fit the key. */
    public static final class UnsupportedSchemeException extends GeneralSecurityException {
        public UnsupportedSchemeException(String message) {
            super(message);
        }
    }

    public static String name(int scheme) {
        if (scheme == RSA_PKCS1_SHA1) {
            return "rsa_pkcs1_sha1";
        } else if (scheme == RSA_PKCS1_SHA256) {
            return "rsa_pkcs1_sha256";
        } else if (scheme == RSA_PKCS1_SHA384) {
            return "rsa_pkcs1_sha384";
        } else if (scheme == RSA_PKCS1_SHA512) {
            return "rsa_pkcs1_sha512";
        } else if (scheme == ECDSA_SHA1) {
            return "ecdsa_sha1";
        } else if (scheme == ECDSA_SECP256R1_SHA256) {
            return "ecdsa_secp256r1_sha256";
        } else if (scheme == ECDSA_SECP384R1_SHA384) {
            return "ecdsa_secp384r1_sha384";
        } else if (scheme == ECDSA_SECP521R1_SHA512) {
            return "ecdsa_secp521r1_sha512";
        } else if (scheme == RSA_PSS_RSAE_SHA256) {
            return "rsa_pss_rsae_sha256";
        } else if (scheme == RSA_PSS_RSAE_SHA384) {
            return "rsa_pss_rsae_sha384";
        } else if (scheme == RSA_PSS_RSAE_SHA512) {
            return "rsa_pss_rsae_sha512";
        } else if (scheme == ED25519) {
            return "ed25519";
        } else if (scheme == RSA_PKCS1_MD5_SHA1) {
            return "rsa_pkcs1_md5_sha1";
        }
        return String.format("0x%04x", scheme);
    }

    /**
     * A {@link Signature} initialised for signing with {@code key} under {@code scheme}: RSA PKCS#1 v1.5 with
     * SHA-1/256/384/512, RSA-PSS (MGF1 with the same hash, salt length = hash length) and ECDSA (DER output, the TLS
     * encoding). Ed25519 and the TLS 1.0 MD5+SHA1 scheme are not supported.
     */
    public static Signature newSigner(int scheme, PrivateKey key) throws GeneralSecurityException {
        Signature sig;
        boolean rsa;
        if (scheme == RSA_PKCS1_SHA1) {
            sig = Signature.getInstance("SHA1withRSA");
            rsa = true;
        } else if (scheme == RSA_PKCS1_SHA256) {
            sig = Signature.getInstance("SHA256withRSA");
            rsa = true;
        } else if (scheme == RSA_PKCS1_SHA384) {
            sig = Signature.getInstance("SHA384withRSA");
            rsa = true;
        } else if (scheme == RSA_PKCS1_SHA512) {
            sig = Signature.getInstance("SHA512withRSA");
            rsa = true;
        } else if (scheme == RSA_PSS_RSAE_SHA256) {
            sig = pss("SHA-256", MGF1ParameterSpec.SHA256, 32);
            rsa = true;
        } else if (scheme == RSA_PSS_RSAE_SHA384) {
            sig = pss("SHA-384", MGF1ParameterSpec.SHA384, 48);
            rsa = true;
        } else if (scheme == RSA_PSS_RSAE_SHA512) {
            sig = pss("SHA-512", MGF1ParameterSpec.SHA512, 64);
            rsa = true;
        } else if (scheme == ECDSA_SHA1) {
            sig = Signature.getInstance("SHA1withECDSA");
            rsa = false;
        } else if (scheme == ECDSA_SECP256R1_SHA256) {
            sig = Signature.getInstance("SHA256withECDSA");
            rsa = false;
        } else if (scheme == ECDSA_SECP384R1_SHA384) {
            sig = Signature.getInstance("SHA384withECDSA");
            rsa = false;
        } else if (scheme == ECDSA_SECP521R1_SHA512) {
            sig = Signature.getInstance("SHA512withECDSA");
            rsa = false;
        } else {
            throw new UnsupportedSchemeException("unsupported signature scheme " + name(scheme));
        }
        if (rsa && !(key instanceof RSAKey)) {
            throw new UnsupportedSchemeException(name(scheme) + " needs an RSA key, key is " + key.getAlgorithm());
        }
        if (!rsa && !(key instanceof ECKey)) {
            throw new UnsupportedSchemeException(name(scheme) + " needs an EC key, key is " + key.getAlgorithm());
        }
        sig.initSign(key);
        return sig;
    }

    /** Signs {@code data} (the message, not a digest) with {@code key} under {@code scheme}. */
    public static byte[] sign(int scheme, PrivateKey key, byte[] data) throws GeneralSecurityException {
        Signature sig = newSigner(scheme, key);
        sig.update(data);
        return sig.sign();
    }

    private static Signature pss(String hash, MGF1ParameterSpec mgf, int saltLength) throws GeneralSecurityException {
        Signature sig = Signature.getInstance("RSASSA-PSS");
        sig.setParameter(new PSSParameterSpec(hash, "MGF1", mgf, saltLength, PSSParameterSpec.TRAILER_FIELD_BC));
        return sig;
    }
}
