package io.turnpike.config;

/**
 * One problem found in configuration, located as precisely as the source allows.
 *
 * @param resource APISIX resource name ({@code routes}, ...) or null for file-level and process-config problems
 * @param id       the entry's id, or null when unknown
 * @param index    0-based position of the entry in its list in a file, or -1
 * @param field    dotted path of the offending field inside the entry (or the process-config key), or "" for the
 *                 whole entry
 * @param message  the message, APISIX wording where APISIX has one
 * @param file     the file (or etcd key) the entry came from, or null
 * @param line     1-based line in {@code file}, or 0 when unknown
 */
public record ConfigProblem(String resource, String id, int index, String field, String message, String file,
                            int line) {

    public ConfigProblem {
        field = field == null ? "" : field;
    }

    /** A problem about a whole file (no entry), such as a syntax error. */
    public static ConfigProblem ofFile(String file, int line, String message) {
        return new ConfigProblem(null, null, -1, "", message, file, line);
    }

    /**
     * {@code conf/apisix.yaml:12: routes[3] (id "7"): property "uri" validation failed: ...}; parts that are unknown
     * are left out.
     */
    public String render() {
        StringBuilder sb = new StringBuilder();
        if (file != null) {
            sb.append(file);
            if (line > 0) {
                sb.append(':').append(line);
            }
            sb.append(": ");
        }
        if (resource != null) {
            sb.append(resource);
            if (index >= 0) {
                sb.append('[').append(index).append(']');
            }
            if (id != null) {
                sb.append(" (id \"").append(id).append("\")");
            }
            sb.append(": ");
        } else if (!field.isEmpty() && !message.startsWith(field)) {
            sb.append(field).append(": ");
        }
        sb.append(message);
        return sb.toString();
    }

    @Override
    public String toString() {
        return render();
    }
}
