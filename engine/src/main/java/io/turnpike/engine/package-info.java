/**
 * The Turnpike engine: the data plane and its CLI ({@link io.turnpike.engine.TurnpikeMain}).
 *
 * <p>Thread map: N event loops ({@code turnpike-loop-*}, one per core) own every connection, pool and counter of the
 * request path; {@code turnpike-status} serves the status listener; {@code main} compiles the configuration and
 * publishes snapshots (the config-sync thread takes this role when the etcd source lands); {@code turnpike-drain}
 * runs the SIGTERM drain.
 */
package io.turnpike.engine;
