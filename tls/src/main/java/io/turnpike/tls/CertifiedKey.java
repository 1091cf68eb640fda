package io.turnpike.tls;

import java.security.cert.X509Certificate;
import java.util.List;

/** A certificate chain (leaf first) and where its private key is. */
public record CertifiedKey(List<X509Certificate> chain, KeySource key) {
    public CertifiedKey {
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("empty certificate chain");
        }
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    /** "RSA", "EC", "Ed25519", ... (the leaf's public key algorithm). */
    public String keyType() {
        return leaf().getPublicKey().getAlgorithm();
    }
}
