package io.turnpike.tls.keyless;

import java.nio.charset.StandardCharsets;

/**
 * One response on the wire.
 *
 * @param id      the request's id
 * @param status  {@link KeylessProtocol#STATUS_OK} or an error status
 * @param payload the signature when OK, else a UTF-8 error text
 */
public record KeylessResponse(long id, int status, byte[] payload) {
    public KeylessResponse {
        if (status < 0 || status > 0xFF) {
            throw new IllegalArgumentException("status out of range: " + status);
        }
        if (payload.length > KeylessProtocol.MAX_FRAME_LENGTH - KeylessProtocol.RESPONSE_HEADER_SIZE) {
            throw new IllegalArgumentException("payload too large: " + payload.length);
        }
    }

    public static KeylessResponse ok(long id, byte[] signature) {
        return new KeylessResponse(id, KeylessProtocol.STATUS_OK, signature);
    }

    public static KeylessResponse error(long id, int status, String message) {
        byte[] text = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        if (text.length > 1024) {
            text = java.util.Arrays.copyOf(text, 1024);
        }
        return new KeylessResponse(id, status, text);
    }

    public boolean isOk() {
        return status == KeylessProtocol.STATUS_OK;
    }

    public String errorText() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "KeylessResponse{id=" + id + ", status=" + KeylessProtocol.statusName(status)
                + (isOk() ? ", payload=" + payload.length + "B" : ", error=" + errorText()) + "}";
    }
}
