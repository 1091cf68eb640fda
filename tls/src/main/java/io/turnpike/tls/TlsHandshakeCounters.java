package io.turnpike.tls;

/**
 * Downstream TLS handshake outcomes of one event loop: completed handshakes and failures by {@link HandshakeFailure}.
 * Written only by its loop (plain stores into a padded array, no locks, no allocation), read racily by the status
 * thread, like the engine's loop counters.
 */
public final class TlsHandshakeCounters implements TlsSniHandler.TlsEvents {
    private static final int COMPLETED = 0;
    private static final int FAILURE_BASE = 1;
    private static final int SLOTS = FAILURE_BASE + HandshakeFailure.values().length;
    private static final int PAD = 16; // 128 bytes each side against false sharing with other loops' counters

    private final long[] slots = new long[SLOTS + 2 * PAD];

    @Override
    public void completed() {
        slots[PAD + COMPLETED]++;
    }

    @Override
    public void failed(HandshakeFailure reason, Throwable cause) {
        slots[PAD + FAILURE_BASE + reason.ordinal()]++;
    }

    /** Handshakes completed (full or resumed). Any thread. */
    public long completedCount() {
        return slots[PAD + COMPLETED];
    }

    /** Handshakes that failed for {@code reason}, refusals before the handshake included. Any thread. */
    public long failures(HandshakeFailure reason) {
        return slots[PAD + FAILURE_BASE + reason.ordinal()];
    }
}
