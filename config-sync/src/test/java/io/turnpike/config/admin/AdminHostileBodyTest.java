package io.turnpike.config.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Admin API bodies go through DecodeLimits' JSON reader: nesting, duplicate keys, huge numbers answer 400. */
class AdminHostileBodyTest {
    private static final String UP = "\"upstream\":{\"nodes\":{\"127.0.0.1:1980\":1}}";

    private static AdminResponse put(String body) {
        return new AdminService(new MemoryStore(), "/apisix", false).handle("PUT", "/apisix/admin/routes/1",
                body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void deepNestingIs400() {
        AdminResponse r = put("{\"uri\":\"/a\"," + UP + ",\"plugins\":{\"x\":" + "[".repeat(100_000)
                + "]".repeat(100_000) + "}}");
        assertEquals(400, r.status());
        assertTrue(r.bodyText().contains("nesting depth") && r.bodyText().contains("error_msg"), r.bodyText());
    }

    @Test
    void duplicateKeyIs400() {
        AdminResponse r = put("{\"uri\":\"/a\",\"uri\":\"/b\"," + UP + "}");
        assertEquals(400, r.status());
        assertTrue(r.bodyText().contains("Duplicate field 'uri'"), r.bodyText());
    }

    @Test
    void hugeNumbersAre400() {
        assertEquals(400, put("{\"uri\":\"/a\",\"priority\":" + "9".repeat(5000) + "," + UP + "}").status());
        AdminResponse r = put("{\"uri\":\"/a\",\"priority\":1180591620717411303424," + UP + "}");
        assertEquals(400, r.status());
        assertTrue(r.bodyText().contains("out of range"), r.bodyText());
        r = put("{\"uri\":\"/a\",\"timeout\":{\"connect\":1e999999,\"send\":1,\"read\":1}," + UP + "}");
        assertEquals(400, r.status());
        assertTrue(r.bodyText().contains("finite"), r.bodyText());
        r = put("{\"id\":18446744073709551617,\"uri\":\"/a\"," + UP + "}");
        assertEquals(400, r.status(), "an id of 2^64 + 1 must not wrap around to 1: " + r.bodyText());
    }
}
