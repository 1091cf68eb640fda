package io.turnpike.config.model;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * An APISIX route. {@code uri} and {@code uris} are folded into {@code uris}, {@code host}/{@code hosts} into
 * {@code hosts} (lowercased), {@code remote_addr}/{@code remote_addrs} into {@code remoteAddrs}. Empty
 * {@code methods} means any method; empty {@code hosts} any host.
 *
 * @param vars     the raw {@code vars} expression, nullable
 * @param upstream inline upstream, nullable
 * @param status   1 enabled, 0 disabled
 * @param raw      the validated APISIX JSON, read-only
 */
public record Route(String id, String name, List<String> uris, List<String> hosts, List<String> methods, int priority,
                    List<String> remoteAddrs, ArrayNode vars, Upstream upstream, String upstreamId, String serviceId,
                    String pluginConfigId, ObjectNode plugins, Timeout timeout, boolean enableWebsocket, int status,
                    ObjectNode raw) {

    public Route {
        uris = List.copyOf(uris);
        hosts = List.copyOf(hosts);
        methods = List.copyOf(methods);
        remoteAddrs = List.copyOf(remoteAddrs);
    }

    public boolean enabled() {
        return status == 1;
    }
}
