package io.turnpike.engine.loop;

/** A connection whose deadlines the loop's {@link ConnectionSweeper} checks. Confined to its event loop. */
public interface Swept {
    /** Called on every sweep tick; the connection compares its own deadline with {@code nowNs}. */
    void sweep(long nowNs);

    int sweepIndex();

    void sweepIndex(int index);
}
