package io.turnpike.engine.endpoint;

/**
 * Where an event loop reports one node's outcome for passive health checks ({@code checks.passive}). Called on event
 * loops once per proxied request: implementations take no lock, never block and allocate nothing; the health checker
 * aggregates the reports off the loops.
 */
public interface PassiveSink {
    /** A response head arrived from the node with this status. */
    void httpStatus(int status);

    /** The connection failed (connect refused/reset, closed before a complete response). */
    void tcpFailure();

    /** The node did not answer in time (connect or read timeout). */
    void timeout();
}
