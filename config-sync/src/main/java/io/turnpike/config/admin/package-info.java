/**
 * The APISIX-compatible Admin API (port 9180): {@link io.turnpike.config.admin.AdminApiServer} (Netty HTTP/1.1 on its
 * own event loop), {@link io.turnpike.config.admin.AdminApiHandler} (transport, auth, allow-list),
 * {@link io.turnpike.config.admin.AdminService} (paths, validation, compare-and-set writes against a
 * {@link io.turnpike.config.store.ConfigStore}). See docs/admin-api.md.
 */
package io.turnpike.config.admin;
