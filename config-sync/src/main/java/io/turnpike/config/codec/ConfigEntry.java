package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One raw entry handed to the {@link ConfigCompiler}.
 *
 * @param resource APISIX resource name ({@code routes}, ...)
 * @param id       the entry's id (for etcd: from the key; for a file: the {@code id} / {@code username} field), or
 *                 null when missing
 * @param index    position in the file's list, or -1
 * @param value    the entry's JSON
 * @param file     file name or etcd key, for messages; nullable
 * @param line     1-based line of the entry, or 0
 * @param lines    lines of the entry's fields
 */
public record ConfigEntry(String resource, String id, int index, JsonNode value, String file, int line,
                          FieldLines lines) {

    public ConfigEntry {
        lines = lines == null ? FieldLines.NONE : lines;
    }

    /** An entry without position information (etcd, Admin API). */
    public static ConfigEntry of(String resource, String id, JsonNode value) {
        return new ConfigEntry(resource, id, -1, value, null, 0, FieldLines.NONE);
    }
}
