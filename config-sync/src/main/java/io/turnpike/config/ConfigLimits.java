package io.turnpike.config;

/**
 * Size limits on configuration, in one place (docs/config.md, "Configuration size limits"). Each is a
 * {@code *_PROP_NAME} / {@code *_DEFAULT} pair: a system property ({@code -D...}, e.g. through
 * {@code TURNPIKE_JVM_OPTS}) overrides the default.
 *
 * <p>Why a byte limit on one value: every stored value is parsed into a tree, validated, decoded and compiled, and
 * the Admin API holds request bodies in memory while they wait for a worker; a value of many MiB costs tens of
 * MiB of short-lived objects at each of those steps and lengthens the GC pauses that every event loop shares. A
 * route, service or upstream that needs more than 1.5 MiB is better split (an upstream with its own id, plugin
 * configs).
 */
public final class ConfigLimits {

    /** Largest stored value (one etcd value: a route, upstream, ...) the Admin API writes and the gateway decodes. */
    public static final String MAX_VALUE_BYTES_PROP_NAME = "turnpike.max_config_value_bytes";
    /** 1.5 MiB: etcd's own default {@code --max-request-bytes}, so whatever a default etcd accepts is accepted. */
    public static final int MAX_VALUE_BYTES_DEFAULT = 1536 * 1024;

    /** Largest Admin API request body; beyond it 413 before the body is read further. */
    public static final String ADMIN_MAX_BODY_BYTES_PROP_NAME = "turnpike.admin_max_body_bytes";
    /** The value limit: a body is one value (the Admin API adds only {@code id} and the timestamps). */
    public static final int ADMIN_MAX_BODY_BYTES_DEFAULT = MAX_VALUE_BYTES_DEFAULT;

    private ConfigLimits() {
    }

    /** {@link #MAX_VALUE_BYTES_PROP_NAME}, else {@link #MAX_VALUE_BYTES_DEFAULT}. */
    public static int maxValueBytes() {
        return positive(MAX_VALUE_BYTES_PROP_NAME, MAX_VALUE_BYTES_DEFAULT);
    }

    /** {@link #ADMIN_MAX_BODY_BYTES_PROP_NAME}, else {@link #ADMIN_MAX_BODY_BYTES_DEFAULT}. */
    public static int adminMaxBodyBytes() {
        return positive(ADMIN_MAX_BODY_BYTES_PROP_NAME, ADMIN_MAX_BODY_BYTES_DEFAULT);
    }

    /** The message for a value over the limit (the Admin API's 413 and the gateway's rejection). */
    public static String valueTooLarge(long bytes, int limit) {
        return "value of " + bytes + " bytes is larger than the limit of " + limit + " bytes ("
                + MAX_VALUE_BYTES_PROP_NAME + ")";
    }

    private static int positive(String name, int dflt) {
        String s = System.getProperty(name);
        if (s == null || s.isBlank()) {
            return dflt;
        }
        try {
            int v = Integer.parseInt(s.trim());
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new IllegalArgumentException("-D" + name + "=" + s + ": expected a positive number of bytes");
    }
}
