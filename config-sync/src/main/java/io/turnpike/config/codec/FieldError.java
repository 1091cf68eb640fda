package io.turnpike.config.codec;

/**
 * A validation error inside one entry.
 *
 * @param field       path of the offending field, built with {@link FieldPath}: {@code upstream.nodes[0].port}; ""
 *                    for the entry itself
 * @param message     full APISIX-style message, e.g. {@code property "uri" validation failed: wrong type: expected
 *                    string, got number}
 * @param afterSchema true for the checks APISIX runs after the JSON schema (a {@code plugins} object: {@code unknown
 *                    plugin [key-auth]}): the Admin API answers their message as is, without the {@code invalid
 *                    configuration: } prefix it puts before schema errors
 */
public record FieldError(String field, String message, boolean afterSchema) {

    public FieldError(String field, String message) {
        this(field, message, false);
    }
}
