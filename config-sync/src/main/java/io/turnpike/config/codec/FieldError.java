package io.turnpike.config.codec;

/**
 * A validation error inside one entry.
 *
 * @param field   path of the offending field, built with {@link FieldPath}: {@code upstream.nodes[0].port}; "" for the
 *                entry itself
 * @param message full APISIX-style message, e.g. {@code property "uri" validation failed: wrong type: expected
 *                string, got number}
 */
public record FieldError(String field, String message) {
}
