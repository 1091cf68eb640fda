package io.turnpike.config.admin;

import io.turnpike.config.process.AdminKey;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code X-API-KEY} check of {@code deployment.admin.admin_key}. A presented key is hashed (SHA-256) and compared
 * with every configured key's digest by {@link MessageDigest#isEqual} over fixed-length digests, always scanning the
 * whole list: neither the position of the first differing byte, nor the key's length, nor which entry matched shows
 * in the timing. Role {@code admin} may do anything, {@code viewer} only GET (APISIX answers a viewer's write with 401
 * "failed to check token", and so do we).
 *
 * <p>An empty key list with {@code admin_key_required: true} is refused at construction (APISIX refuses to start, or
 * generates a key, rather than serve an open Admin API); with {@code admin_key_required: false} every request passes,
 * as in APISIX.
 *
 * <p>Immutable and thread-safe.
 */
public final class AdminAuth {

    /** The outcome of one check; {@link #description()} is APISIX's {@code description} text. */
    public enum Outcome {
        OK(null), MISSING_KEY("missing apikey"), WRONG_KEY("wrong apikey"),
        VIEWER_WRITE("invalid method for role viewer");

        private final String description;

        Outcome(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    private record Entry(byte[] digest, boolean admin) {
    }

    private final List<Entry> keys;
    private final boolean required;

    public AdminAuth(List<AdminKey> adminKeys, boolean required) {
        List<Entry> out = new ArrayList<>();
        for (AdminKey k : adminKeys) {
            if (k.key() == null || k.key().isEmpty()) {
                throw new IllegalArgumentException("deployment.admin.admin_key: key " + k.name() + " is empty");
            }
            String role = k.role() == null ? "admin" : k.role();
            if (!role.equals("admin") && !role.equals("viewer")) {
                throw new IllegalArgumentException("deployment.admin.admin_key: key " + k.name()
                        + ": role must be admin or viewer, got " + role);
            }
            out.add(new Entry(digest(k.key()), role.equals("admin")));
        }
        if (required && out.isEmpty()) {
            throw new IllegalArgumentException("deployment.admin.admin_key is empty: set at least one key, or set"
                    + " deployment.admin.admin_key_required: false to run the Admin API without authentication");
        }
        this.keys = List.copyOf(out);
        this.required = required;
    }

    /** True when requests are checked at all ({@code admin_key_required}). */
    public boolean required() {
        return required;
    }

    /**
     * Checks a presented key (null when the request carried none) for an HTTP method.
     */
    public Outcome check(String presented, String method) {
        if (!required) {
            return Outcome.OK;
        }
        if (presented == null) {
            return Outcome.MISSING_KEY;
        }
        byte[] d = digest(presented);
        boolean matched = false;
        boolean admin = false;
        for (Entry e : keys) {
            // no early exit: every entry is compared whatever the outcome
            boolean eq = MessageDigest.isEqual(d, e.digest);
            admin |= eq & e.admin;
            matched |= eq;
        }
        if (!matched) {
            return Outcome.WRONG_KEY;
        }
        if (!admin && !"GET".equals(method)) {
            return Outcome.VIEWER_WRITE;
        }
        return Outcome.OK;
    }

    /** Constant-time equality of two secrets: SHA-256 of each (fixed length), then {@link MessageDigest#isEqual}. */
    public static boolean secretEquals(String a, String b) {
        return MessageDigest.isEqual(digest(a), digest(b));
    }

    static byte[] digest(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
