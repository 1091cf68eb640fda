package io.turnpike.engine.upstream;

/**
 * What a balancer needs about a request beyond its head bytes, held without allocation: one instance per downstream
 * connection (HTTP/1.1 has one request in flight per connection), confined to its event loop.
 *
 * <p>The connection sets {@link #remoteAddr(byte[])} once (the client IP as ASCII text, what APISIX's
 * {@code remote_addr} is); chash records the key hash of the first pick here so that retries walk the ring from the
 * same point without re-reading the request.
 */
public final class BalancerInput {
    private static final byte[] EMPTY = new byte[0];

    private byte[] remoteAddr = EMPTY;
    private byte[] consumer;
    long keyHash;
    boolean keyHashValid;
    /**
     * Set by a composite balancer while it asks a lower priority group during a retry: that group's first pick must
     * place the request by the key recorded at the first pick (the request bytes may be gone).
     */
    public boolean reuseKeyHash;

    /** The client address as ASCII text (e.g. {@code "192.0.2.7"}); per connection. */
    public BalancerInput remoteAddr(byte[] ascii) {
        this.remoteAddr = ascii == null ? EMPTY : ascii;
        return this;
    }

    public byte[] remoteAddr() {
        return remoteAddr;
    }

    /**
     * The authenticated consumer's name for {@code hash_on: consumer} (null when none: chash falls back to
     * remote_addr). Set per request by the auth plugins once consumers exist; the array must be a stable, shared one
     * (e.g. the consumer's precomputed name bytes), not a per-request copy.
     */
    public BalancerInput consumer(byte[] name) {
        this.consumer = name;
        return this;
    }

    public byte[] consumer() {
        return consumer;
    }

    /** Clears per-request state (consumer, recorded key hash); the remote address stays. */
    public void resetRequest() {
        consumer = null;
        keyHashValid = false;
        keyHash = 0;
    }
}
