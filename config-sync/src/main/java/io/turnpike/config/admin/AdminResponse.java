package io.turnpike.config.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/**
 * One Admin API answer: a status and a JSON body (empty for APISIX's bodiless answers, e.g. a passing
 * {@code schema/validate}).
 */
public record AdminResponse(int status, byte[] body) {

    static final ObjectMapper JSON = new ObjectMapper();

    static AdminResponse json(int status, JsonNode node) {
        try {
            return new AdminResponse(status, JSON.writeValueAsBytes(node));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code {"error_msg": message}}. */
    static AdminResponse error(int status, String message) {
        ObjectNode o = JSON.createObjectNode();
        o.put("error_msg", message);
        return json(status, o);
    }

    static AdminResponse empty(int status) {
        return new AdminResponse(status, new byte[0]);
    }

    /** The body as text (tests, logs). */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
