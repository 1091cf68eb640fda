package io.turnpike.config.model;

/**
 * APISIX {@code timeout} object, in seconds. A field set to {@link #UNSET} (-1) means "use the process default";
 * the codec itself never produces it because APISIX requires all three fields.
 */
public record Timeout(double connect, double send, double read) {
    public static final double UNSET = -1;
}
