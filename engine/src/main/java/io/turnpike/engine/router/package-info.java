/**
 * Route matching on bytes: {@link io.turnpike.engine.router.RouteTable} is compiled once per snapshot and matched on
 * every request without allocation. Today: exact paths (hash of the path bytes), prefix paths (longest first), hosts
 * (exact and {@code *.wildcard}), methods and priority. The APISIX radix tree, {@code :param} segments, vars and
 * remote_addrs build on this in the router milestone.
 */
package io.turnpike.engine.router;
