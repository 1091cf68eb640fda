package io.turnpike.config.model;

import java.util.List;

/**
 * An upstream's health checks ({@code checks}), APISIX 3.x's {@code health_checker} schema with its defaults applied.
 * Immutable; value equality (two upstreams with equal checks probe the same way).
 *
 * @param active  always present (APISIX refuses passive checks alone: only active checks bring a node back)
 * @param passive null when the upstream has no passive checks
 */
public record HealthChecks(Active active, Passive passive) {

    /** APISIX's default lists. */
    public static final List<Integer> ACTIVE_HEALTHY_STATUSES = List.of(200, 302);
    public static final List<Integer> ACTIVE_UNHEALTHY_STATUSES = List.of(429, 404, 500, 501, 502, 503, 504, 505);
    public static final List<Integer> PASSIVE_HEALTHY_STATUSES = List.of(200, 201, 202, 203, 204, 205, 206, 207,
            208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308);
    public static final List<Integer> PASSIVE_UNHEALTHY_STATUSES = List.of(429, 500, 503);

    /**
     * {@code checks.active}.
     *
     * @param type                   {@code http | https | tcp}
     * @param timeout                seconds, per probe (connect, then TLS handshake + request + status line)
     * @param concurrency            probes in flight at once for this upstream
     * @param host                   Host header and SNI of the probes; null: the node's host
     * @param port                   the port probed; 0: the node's port
     * @param httpMethod             request method (APISIX's method enum)
     * @param httpPath               request target
     * @param httpReqBody            request body; empty: none (and no Content-Length)
     * @param httpsVerifyCertificate {@code https}: verify the certificate chain and the host name
     * @param reqHeaders             extra request header lines, {@code "Name: value"}
     */
    public record Active(String type, double timeout, int concurrency, String host, int port, String httpMethod,
                         String httpPath, String httpReqBody, boolean httpsVerifyCertificate, List<String> reqHeaders,
                         Healthy healthy, Unhealthy unhealthy) {
        public Active {
            reqHeaders = List.copyOf(reqHeaders);
        }

        public static Active defaults() {
            return new Active("http", 1, 10, null, 0, "GET", "/", "", true, List.of(), Healthy.activeDefaults(),
                    Unhealthy.activeDefaults());
        }
    }

    /**
     * {@code checks.passive}.
     *
     * @param type {@code http | https}: statuses, TCP failures and timeouts count; {@code tcp}: only TCP failures and
     *             timeouts count (HTTP statuses are not judged)
     */
    public record Passive(String type, Healthy healthy, Unhealthy unhealthy) {
        public static Passive defaults() {
            return new Passive("http", Healthy.passiveDefaults(), Unhealthy.passiveDefaults());
        }
    }

    /**
     * The way back to healthy.
     *
     * @param interval     active: seconds between probes of a healthy node; passive: 0 (not used)
     * @param httpStatuses statuses that count as a success
     * @param successes    consecutive successes that make a node healthy (passive: 0 disables counting them)
     */
    public record Healthy(int interval, List<Integer> httpStatuses, int successes) {
        public Healthy {
            httpStatuses = List.copyOf(httpStatuses);
        }

        public static Healthy activeDefaults() {
            return new Healthy(1, ACTIVE_HEALTHY_STATUSES, 2);
        }

        public static Healthy passiveDefaults() {
            return new Healthy(0, PASSIVE_HEALTHY_STATUSES, 5);
        }
    }

    /**
     * The way to unhealthy; each counter has its own threshold (passive: 0 disables that counter).
     *
     * @param interval     active: seconds between probes of an unhealthy node; passive: 0 (not used)
     * @param httpStatuses statuses that count as an HTTP failure
     */
    public record Unhealthy(int interval, List<Integer> httpStatuses, int httpFailures, int tcpFailures,
                            int timeouts) {
        public Unhealthy {
            httpStatuses = List.copyOf(httpStatuses);
        }

        public static Unhealthy activeDefaults() {
            return new Unhealthy(1, ACTIVE_UNHEALTHY_STATUSES, 5, 2, 3);
        }

        public static Unhealthy passiveDefaults() {
            return new Unhealthy(0, PASSIVE_UNHEALTHY_STATUSES, 5, 2, 7);
        }
    }
}
