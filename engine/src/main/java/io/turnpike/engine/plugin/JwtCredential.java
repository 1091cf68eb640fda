package io.turnpike.engine.plugin;

/**
 * A consumer's jwt-auth credential: its key (the index key, matched against the token's key claim), the algorithm
 * the token's header must name, the clock leeway, and the verification of a signature with the consumer's secret or
 * public key. Immutable and shared by all loops; {@link #verify} is called on event loops (implementations keep their
 * mutable crypto state per thread).
 */
public abstract class JwtCredential {
    public final Consumer consumer;
    public final byte[] key;
    /** The algorithm name as the token's {@code alg} must spell it (ASCII). */
    public final byte[] algorithm;
    /** {@code lifetime_grace_period}, seconds. */
    public final long leeway;

    protected JwtCredential(Consumer consumer, byte[] key, byte[] algorithm, long leeway) {
        this.consumer = consumer;
        this.key = key;
        this.algorithm = algorithm;
        this.leeway = leeway;
    }

    /** Whether {@code sig[sigOff, sigOff + sigLen)} signs {@code input[off, off + len)} (the token's header.payload). */
    public abstract boolean verify(byte[] input, int off, int len, byte[] sig, int sigOff, int sigLen);
}
