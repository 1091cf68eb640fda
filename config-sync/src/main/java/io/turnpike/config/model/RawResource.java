package io.turnpike.config.model;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A resource not typed yet (ssls, consumers, plugin_configs, ...): its id and its APISIX JSON (read-only). */
public record RawResource(String id, ObjectNode value) {
}
