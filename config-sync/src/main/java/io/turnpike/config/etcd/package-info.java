/**
 * The etcd side of configuration: {@link io.turnpike.config.etcd.EtcdConfigStore} (the process's one jetcd client,
 * one TCP connection; list, get and CAS writes) and {@link io.turnpike.config.etcd.EtcdConfigSource} (the config-sync
 * agent: list at revision R, watch from R+1, coalesce, compile, deliver on the {@code turnpike-config-sync} thread).
 * See {@code docs/config-sync.md}.
 */
package io.turnpike.config.etcd;
