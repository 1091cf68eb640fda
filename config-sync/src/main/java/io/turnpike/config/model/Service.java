package io.turnpike.config.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * An APISIX service: an upstream (inline or by id), hosts and plugins shared by the routes that name it.
 *
 * @param upstream inline upstream, nullable
 * @param upstreamId nullable
 * @param plugins nullable
 * @param raw the validated APISIX JSON, read-only
 */
public record Service(String id, String name, Upstream upstream, String upstreamId, List<String> hosts,
                      ObjectNode plugins, boolean enableWebsocket, ObjectNode raw) {
    public Service {
        hosts = List.copyOf(hosts);
    }
}
