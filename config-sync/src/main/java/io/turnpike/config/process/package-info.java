/**
 * The process configuration, {@code conf/config.yaml}: APISIX's keys Turnpike implements (listeners, deployment
 * role and config provider, etcd, Admin API, Prometheus address) plus Turnpike's own {@code turnpike:} section
 * ({@link io.turnpike.config.process.TurnpikeSettings}). Every key in the file is either used or reported.
 */
package io.turnpike.config.process;
