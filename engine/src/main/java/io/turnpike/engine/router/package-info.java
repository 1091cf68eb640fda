/**
 * Route matching on bytes with APISIX's {@code radixtree_host_uri} semantics. {@link io.turnpike.engine.router.RouteTable}
 * is compiled once (host table of reversed-name hashes, per-host URI trees, host-less fallback tree; exact paths in
 * sharded hashes, prefixes and parameters in a byte trie), then derived per change with {@code RouteTable.with}, which
 * shares all unchanged structure, and matched on every request without allocation, using a
 * per-connection {@link io.turnpike.engine.router.MatchScratch}. Conditions: methods, remote_addrs (IPv4/IPv6 CIDR),
 * vars (lua-resty-expr operators). Paths are matched normalised. See docs/router.md.
 */
package io.turnpike.engine.router;
