package io.turnpike.config.process;

/** One Admin API key: {@code role} is {@code admin} (read-write) or {@code viewer} (read-only). */
public record AdminKey(String name, String key, String role) {
    @Override
    public String toString() {
        return "AdminKey[name=" + name + ", role=" + role + "]";
    }
}
