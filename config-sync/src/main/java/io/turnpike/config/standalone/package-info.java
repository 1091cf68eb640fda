/**
 * APISIX's standalone configuration file ({@code conf/apisix.yaml}, or {@code apisix.json}): loading, the
 * {@code #END} completeness marker, and line-accurate problems. All or nothing: one bad entry refuses the file.
 */
package io.turnpike.config.standalone;
