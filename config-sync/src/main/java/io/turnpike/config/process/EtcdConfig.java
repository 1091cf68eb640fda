package io.turnpike.config.process;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * {@code deployment.etcd}.
 *
 * @param hosts          endpoint URLs, default {@code http://127.0.0.1:2379}
 * @param prefix         key prefix, default {@code /apisix}
 * @param timeoutSeconds request timeout, default 30
 * @param user           nullable
 * @param password       nullable
 * @param tls            the raw {@code tls} map (cert, key, verify, sni), nullable; typed in the etcd issue
 */
public record EtcdConfig(List<String> hosts, String prefix, int timeoutSeconds, String user, String password,
                         ObjectNode tls) {
    public static final String DEFAULT_HOST = "http://127.0.0.1:2379";
    public static final String DEFAULT_PREFIX = "/apisix";
    public static final int DEFAULT_TIMEOUT_SECONDS = 30;
    public static final EtcdConfig DEFAULT = new EtcdConfig(List.of(DEFAULT_HOST), DEFAULT_PREFIX,
            DEFAULT_TIMEOUT_SECONDS, null, null, null);

    public EtcdConfig {
        hosts = List.copyOf(hosts);
    }

    @Override
    public String toString() {
        return "EtcdConfig[hosts=" + hosts + ", prefix=" + prefix + ", timeoutSeconds=" + timeoutSeconds + ", user="
                + user + ", password=" + (password == null ? "null" : "***") + "]";
    }
}
