package io.turnpike.tls;

import java.security.PrivateKey;

/**
 * Where the private key of one certificate lives: the seam between the context builder and the private-key
 * operation. Today the only kind is {@link InMemory} (the PEM key of the ssl object, parsed into the JDK); keyless
 * signing adds a kind that holds a reference to a remote key server instead, which {@link ServerContextFactory} then
 * wires as netty's async private key method (see docs/tls.md, "Keyless").
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
     * A key held by a remote key server (keyless). Placeholder for the keyless work: building a context with it fails
     * with a clear message until the private key method is implemented.
     */
    record Remote(String keyServer, String keyId) implements KeySource {
        @Override
        public String describe() {
            return "remote key " + keyId + " at " + keyServer;
        }
    }
}
