package io.turnpike.tls;

import java.security.PrivateKey;

/**
 * Where the private key of one certificate lives: the seam between the context builder and the private-key
 * operation. {@link InMemory}: the PEM key of the ssl object, parsed into the JDK; {@link Remote}: a reference to a
 * remote key server (keyless), which {@link ServerContextFactory} wires as netty's async private key method (see
 * docs/keyless.md).
 */
public sealed interface KeySource permits KeySource.InMemory, KeySource.Remote {

    /** A short description for logs: the key type, never key material. */
    String describe();

    /** The private key held by this process. */
    record InMemory(PrivateKey key) implements KeySource {
        @Override
        public String describe() {
            return "in-memory " + key.getAlgorithm() + " key";
        }
    }

    /**
     * A key held by a remote key server (keyless).
     *
     * @param keyServer the key server's name ({@code turnpike.keyless.<name>}, a {@code KeylessClients} entry)
     * @param keyId     hex SHA-256 of the certificate's SubjectPublicKeyInfo (checked against the chain), or null
     */
    record Remote(String keyServer, String keyId) implements KeySource {
        @Override
        public String describe() {
            return "remote key " + keyId + " at " + keyServer;
        }
    }
}
