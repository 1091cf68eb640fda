package io.turnpike.config.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * An APISIX upstream, standalone ({@code id} set) or inline in a route or service ({@code id} null).
 *
 * <p>{@code raw} is the validated APISIX JSON the record was decoded from (kept for round-tripping through the
 * Admin API); treat it as read-only.
 *
 * @param type         {@code roundrobin | chash | ewma | least_conn}
 * @param hashOn       {@code vars | header | cookie | consumer | vars_combinations} (only used by chash)
 * @param key          chash key, null when not set
 * @param retries      {@link #DEFAULT_RETRIES} (-1) = APISIX default: number of nodes - 1
 * @param retryTimeout seconds, 0 = no limit
 * @param timeout      nullable: route, service, then process defaults apply
 * @param passHost     {@code pass | node | rewrite}
 * @param upstreamHost Host header when {@code passHost} is rewrite, else null
 * @param scheme       {@code http | https | grpc | grpcs}
 * @param keepalivePool nullable: process defaults apply
 * @param serviceName  {@code service_name} of a discovered upstream ({@code "name"} or {@code "name:port"}), null
 *                     when the upstream lists {@code nodes} (then {@code nodes} is empty: the engine's DNS discovery
 *                     supplies them, docs/discovery.md)
 * @param discoveryType {@code discovery_type}: {@code "dns"} (the only one accepted) with {@code serviceName}, else
 *                     null
 * @param checks       health checks ({@code checks}); null: none
 */
public record Upstream(String id, String name, String type, List<UpstreamNode> nodes, String hashOn, String key,
                       int retries, double retryTimeout, Timeout timeout, String passHost, String upstreamHost,
                       String scheme, KeepalivePool keepalivePool, ObjectNode raw, String serviceName,
                       String discoveryType, HealthChecks checks) {

    public static final int DEFAULT_RETRIES = -1;

    public Upstream {
        nodes = List.copyOf(nodes);
    }

    /** Retries for this upstream with APISIX's default applied. */
    public int effectiveRetries() {
        return retries >= 0 ? retries : Math.max(0, nodes.size() - 1);
    }

    /** This upstream under another id (an inline upstream named after its place, e.g. in traffic-split). */
    public Upstream withId(String newId) {
        return new Upstream(newId, name, type, nodes, hashOn, key, retries, retryTimeout, timeout, passHost,
                upstreamHost, scheme, keepalivePool, raw, serviceName, discoveryType, checks);
    }
}
