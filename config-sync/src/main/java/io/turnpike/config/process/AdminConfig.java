package io.turnpike.config.process;

import java.util.List;

/**
 * The Admin API: {@code apisix.enable_admin} (default true), {@code deployment.admin.admin_key},
 * {@code .admin_key_required} (default true), {@code .admin_listen} (default 0.0.0.0:9180) and
 * {@code .allow_admin} (CIDRs; empty = APISIX's default, 127.0.0.0/24).
 */
public record AdminConfig(boolean enabled, List<AdminKey> adminKeys, boolean adminKeyRequired,
                          ListenAddress adminListen, List<String> allowAdmin) {
    public static final ListenAddress DEFAULT_LISTEN = new ListenAddress("0.0.0.0", 9180);
    public static final List<String> DEFAULT_ALLOW_ADMIN = List.of("127.0.0.0/24");
    public static final AdminConfig DEFAULT = new AdminConfig(true, List.of(), true, DEFAULT_LISTEN,
            DEFAULT_ALLOW_ADMIN);

    public AdminConfig {
        adminKeys = List.copyOf(adminKeys);
        allowAdmin = List.copyOf(allowAdmin);
    }
}
