/**
 * The configuration model: immutable records mirroring APISIX v3 resources (routes, services, upstreams), raw
 * holders for the resources typed in later issues, and {@link io.turnpike.config.model.ConfigSet}, one complete
 * validated configuration handed from a source to the engine. Nothing here validates; see
 * {@link io.turnpike.config.codec}.
 */
package io.turnpike.config.model;
