/**
 * DNS discovery (docs/discovery.md): {@link io.turnpike.engine.discovery.DnsDiscovery} resolves APISIX's
 * {@code discovery_type: dns} service names (SRV, A, AAAA in {@code discovery.dns.order}) and node host names with
 * Netty's DNS resolver, re-resolves them on their TTL (clamped by {@code turnpike.dns}), keeps the last good node set
 * when DNS fails, and hands node-set changes to {@link io.turnpike.engine.discovery.DnsListener}s, which publish them to
 * the event loops. {@link io.turnpike.engine.discovery.DnsControlEndpoints} is the control API's refresh and dump.
 *
 * <p>Threads: one {@code turnpike-dns} event loop per process owns every resolution, timer and watch; nothing here
 * runs on a data-plane loop or on the config-sync thread.
 */
package io.turnpike.engine.discovery;
